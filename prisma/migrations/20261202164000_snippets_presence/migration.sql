-- Snippets (canned replies and insertable links) and the user's last-seen time (presence).

-- CreateEnum
CREATE TYPE "SnippetKind" AS ENUM ('TEXT', 'DOCUMENT', 'MEETING_LINK', 'KNOWLEDGE_BASE');

-- AlterTable
ALTER TABLE "User" ADD COLUMN "lastSeenAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "Snippet" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "kind" "SnippetKind" NOT NULL DEFAULT 'TEXT',
    "name" TEXT NOT NULL,
    "shortcut" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "url" TEXT,
    "ownerId" TEXT,
    "ownerKey" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Snippet_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Snippet_accountId_id_key" ON "Snippet"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Snippet_accountId_ownerKey_shortcut_key" ON "Snippet"("accountId", "ownerKey", "shortcut");

-- AddForeignKey
ALTER TABLE "Snippet" ADD CONSTRAINT "Snippet_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Snippet" ADD CONSTRAINT "Snippet_accountId_ownerId_fkey" FOREIGN KEY ("accountId", "ownerId") REFERENCES "User"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;
