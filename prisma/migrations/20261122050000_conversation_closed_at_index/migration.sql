-- CreateIndex
CREATE INDEX "Conversation_accountId_closedAt_idx" ON "Conversation"("accountId", "closedAt");

