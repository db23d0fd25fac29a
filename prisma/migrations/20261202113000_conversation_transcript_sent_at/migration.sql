-- When a chat transcript was last queued: an agent closing a chat the visitor already ended
-- (with no message since) sends no second copy.
ALTER TABLE "Conversation" ADD COLUMN "transcriptSentAt" TIMESTAMP(3);
