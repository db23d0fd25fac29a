import type { Availability } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { assignBacklog } from "./routing.js";

/**
 * Sets the caller's availability. Becoming AVAILABLE also assigns them, in the same transaction,
 * the oldest unassigned open conversations of the channels that route to them, up to their chat
 * capacity (the backlog does not wait for the next message). Returns the user and the ids of the
 * conversations assigned.
 */
export async function setAvailability(ctx: AgentContext, availability: Availability) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const user = await tx.user.update({ where: { accountId_id: { accountId: ctx.accountId, id: ctx.user.id } }, data: { availability } });
    const assigned = availability === "AVAILABLE" ? await assignBacklog(tx, ctx.accountId, user.id) : [];
    await recordEvents(
      tx,
      ctx.accountId,
      assigned.map((c) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, reason: "assignment" } })),
    );
    return { user, assignedConversationIds: assigned.map((c) => c.id) };
  });
}
