-- CreateIndex
CREATE INDEX "Conversation_accountId_lastActivityAt_id_idx" ON "Conversation"("accountId", "lastActivityAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_inboxId_lastActivityAt_id_idx" ON "Conversation"("accountId", "inboxId", "lastActivityAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_status_lastActivityAt_id_idx" ON "Conversation"("accountId", "status", "lastActivityAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_assigneeId_lastActivityAt_id_idx" ON "Conversation"("accountId", "assigneeId", "lastActivityAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_channelId_lastActivityAt_id_idx" ON "Conversation"("accountId", "channelId", "lastActivityAt" DESC, "id" DESC);
