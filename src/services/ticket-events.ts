import type { Prisma } from "../generated/prisma/client.js";
import { recordEvents } from "../realtime/events.js";

/**
 * Records a ticket.created / ticket.updated event inside the caller's transaction. Tickets have no
 * inbox of their own: the event is filed under the inbox of the ticket's oldest conversation, or
 * under the help desk when it has none, and reaches the members of that inbox.
 */
export async function recordTicketEvent(tx: Prisma.TransactionClient, accountId: string, ticketId: string, type: "ticket.created" | "ticket.updated", reason?: string) {
  const conversation = await tx.conversation.findFirst({ where: { accountId, ticketId }, orderBy: { createdAt: "asc" }, select: { inboxId: true } });
  const inboxId = conversation?.inboxId ?? (await tx.inbox.findFirst({ where: { accountId, kind: "HELP_DESK" }, select: { id: true } }))?.id ?? null;
  await recordEvents(tx, accountId, [{ type, inboxId, payload: { ticketId, ...(reason ? { reason } : {}) } }]);
}
