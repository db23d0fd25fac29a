-- CreateEnum
CREATE TYPE "ChatflowKind" AS ENUM ('LIVE_CHAT', 'BOT');

-- CreateEnum
CREATE TYPE "ChatflowTrigger" AS ENUM ('PAGE_LOAD', 'AFTER_SECONDS', 'SCROLL_PERCENT', 'EXIT_INTENT');

-- CreateEnum
CREATE TYPE "BotAvailability" AS ENUM ('ALWAYS', 'BUSINESS_HOURS');

-- CreateEnum
CREATE TYPE "ChatflowSessionStatus" AS ENUM ('ACTIVE', 'COMPLETED', 'HANDED_OFF', 'TAKEN_OVER');

-- CreateTable
CREATE TABLE "Chatflow" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "ChatflowKind" NOT NULL,
    "language" TEXT NOT NULL DEFAULT 'en',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "targeting" JSONB NOT NULL DEFAULT '{}',
    "trigger" "ChatflowTrigger" NOT NULL DEFAULT 'PAGE_LOAD',
    "triggerValue" INTEGER,
    "botAvailability" "BotAvailability" NOT NULL DEFAULT 'ALWAYS',
    "greeting" TEXT,
    "instantReply" TEXT,
    "actions" JSONB NOT NULL DEFAULT '[]',
    "startActionId" TEXT,
    "handoffActionId" TEXT,
    "awayActionId" TEXT,
    "webhookSecret" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Chatflow_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChatflowSession" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "chatflowId" TEXT NOT NULL,
    "status" "ChatflowSessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "currentActionId" TEXT,
    "retries" INTEGER NOT NULL DEFAULT 0,
    "answers" JSONB NOT NULL DEFAULT '{}',
    "steps" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ChatflowSession_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Chatflow_accountId_channelId_priority_idx" ON "Chatflow"("accountId", "channelId", "priority");

-- CreateIndex
CREATE UNIQUE INDEX "Chatflow_accountId_id_key" ON "Chatflow"("accountId", "id");

-- CreateIndex
CREATE INDEX "ChatflowSession_accountId_chatflowId_status_idx" ON "ChatflowSession"("accountId", "chatflowId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "ChatflowSession_accountId_conversationId_key" ON "ChatflowSession"("accountId", "conversationId");

-- AddForeignKey
ALTER TABLE "Chatflow" ADD CONSTRAINT "Chatflow_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Chatflow" ADD CONSTRAINT "Chatflow_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChatflowSession" ADD CONSTRAINT "ChatflowSession_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChatflowSession" ADD CONSTRAINT "ChatflowSession_accountId_conversationId_fkey" FOREIGN KEY ("accountId", "conversationId") REFERENCES "Conversation"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChatflowSession" ADD CONSTRAINT "ChatflowSession_accountId_chatflowId_fkey" FOREIGN KEY ("accountId", "chatflowId") REFERENCES "Chatflow"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

