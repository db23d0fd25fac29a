-- Merge and contact records: merged conversations stay as tombstones (mergedIntoId) that threading
-- follows; contact notes; account-defined, typed contact properties (values in Contact.customProperties).

-- CreateEnum
CREATE TYPE "ContactPropertyType" AS ENUM ('STRING', 'NUMBER', 'BOOLEAN', 'DATE', 'SELECT');

-- AlterTable
ALTER TABLE "Contact" ADD COLUMN     "customProperties" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "Conversation" ADD COLUMN     "mergedAt" TIMESTAMP(3),
ADD COLUMN     "mergedIntoId" TEXT;

-- CreateTable
CREATE TABLE "ContactNote" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "contactId" TEXT NOT NULL,
    "authorId" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ContactNote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactPropertyDefinition" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "type" "ContactPropertyType" NOT NULL,
    "options" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ContactPropertyDefinition_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ContactNote_accountId_contactId_createdAt_idx" ON "ContactNote"("accountId", "contactId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ContactNote_accountId_id_key" ON "ContactNote"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "ContactPropertyDefinition_accountId_id_key" ON "ContactPropertyDefinition"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "ContactPropertyDefinition_accountId_key_key" ON "ContactPropertyDefinition"("accountId", "key");

-- CreateIndex
CREATE INDEX "Conversation_accountId_mergedIntoId_idx" ON "Conversation"("accountId", "mergedIntoId");

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_mergedIntoId_fkey" FOREIGN KEY ("accountId", "mergedIntoId") REFERENCES "Conversation"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactNote" ADD CONSTRAINT "ContactNote_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactNote" ADD CONSTRAINT "ContactNote_accountId_contactId_fkey" FOREIGN KEY ("accountId", "contactId") REFERENCES "Contact"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactNote" ADD CONSTRAINT "ContactNote_accountId_authorId_fkey" FOREIGN KEY ("accountId", "authorId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactPropertyDefinition" ADD CONSTRAINT "ContactPropertyDefinition_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
