-- Conversation states: SNOOZED (until snoozedUntil or the customer's next message), SPAM and TRASH
-- (restorable; purged 30 days after trashedAt), a priority, the account's spam senders, and the
-- raw bytes of inbound emails whose HTML was not kept.
-- PostgreSQL may add enum values inside the migration's transaction as long as nothing here uses
-- them before it commits: no default, index or row below names the new values.
ALTER TYPE "ConversationStatus" ADD VALUE 'SNOOZED' AFTER 'OPEN';
ALTER TYPE "ConversationStatus" ADD VALUE 'SPAM';
ALTER TYPE "ConversationStatus" ADD VALUE 'TRASH';

CREATE TYPE "ConversationPriority" AS ENUM ('LOW', 'NORMAL', 'HIGH', 'URGENT');

ALTER TABLE "Conversation" ADD COLUMN "priority" "ConversationPriority" NOT NULL DEFAULT 'NORMAL',
ADD COLUMN "snoozedUntil" TIMESTAMP(3),
ADD COLUMN "trashedAt" TIMESTAMP(3),
ADD COLUMN "statusBeforeTrash" "ConversationStatus";

-- The wake-up and purge sweeps (across accounts).
CREATE INDEX "Conversation_status_snoozedUntil_idx" ON "Conversation"("status", "snoozedUntil");
CREATE INDEX "Conversation_status_trashedAt_idx" ON "Conversation"("status", "trashedAt");

CREATE TABLE "SpamSender" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "email" TEXT,
    "channelId" TEXT,
    "handle" TEXT,
    "conversationId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SpamSender_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "SpamSender_accountId_email_key" ON "SpamSender"("accountId", "email");
CREATE UNIQUE INDEX "SpamSender_accountId_channelId_handle_key" ON "SpamSender"("accountId", "channelId", "handle");
ALTER TABLE "SpamSender" ADD CONSTRAINT "SpamSender_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "EmailOriginal" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmailOriginal_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "EmailOriginal_accountId_messageId_key" ON "EmailOriginal"("accountId", "messageId");
CREATE INDEX "EmailOriginal_accountId_storageKey_idx" ON "EmailOriginal"("accountId", "storageKey");
ALTER TABLE "EmailOriginal" ADD CONSTRAINT "EmailOriginal_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "EmailOriginal" ADD CONSTRAINT "EmailOriginal_accountId_messageId_fkey" FOREIGN KEY ("accountId", "messageId") REFERENCES "Message"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;
