import type { Prisma } from "../generated/prisma/client.js";
import { recordEvents } from "../realtime/events.js";

/**
 * Records `message.updated` for messages whose delivery status changed, in the caller's
 * transaction, so agents' `messageUpdated` subscriptions show SENT, DELIVERED, READ or FAILED live.
 */
export async function recordMessagesUpdated(tx: Prisma.TransactionClient, accountId: string, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const messages = await tx.message.findMany({
    where: { accountId, id: { in: messageIds } },
    select: { id: true, conversationId: true, conversation: { select: { inboxId: true } } },
    orderBy: { createdAt: "asc" },
  });
  await recordEvents(
    tx,
    accountId,
    messages.map((m) => ({ type: "message.updated", inboxId: m.conversation.inboxId, payload: { conversationId: m.conversationId, messageId: m.id, reason: "delivery" } })),
  );
}
