import type { AgentContext } from "../context.js";
import { transactionWithEvents } from "../realtime/events.js";
import { ValidationError } from "./errors.js";
import { sendReply, type ReplyInput } from "./replies.js";
import { recordTicketEvent } from "./ticket-events.js";
import { applyTicketStatus } from "./ticket-status.js";

export interface ReplyAndUpdateTicketStatusInput extends ReplyInput {
  ticketStatusId: string;
  /** Merged into the ticket's properties (a conditional status needs its required ones). */
  ticketProperties?: Record<string, unknown> | null;
}

/**
 * Replies and moves the conversation's ticket to a status, in one transaction: both happen or
 * neither. A refused reply (MessagingWindowClosedError, ChannelOffError, ValidationError...) leaves
 * the ticket unchanged; a refused status (ConditionalStatusError listing the missing properties,
 * a status of another pipeline) leaves no reply behind. The thrown error says which was refused.
 */
export async function replyAndUpdateTicketStatus(ctx: AgentContext, input: ReplyAndUpdateTicketStatusInput) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await tx.conversation.findFirst({ where: { accountId: ctx.accountId, id: input.conversationId }, select: { ticketId: true } });
    const message = await sendReply(tx, ctx, input);
    if (!conversation?.ticketId) throw ValidationError.field("input.conversationId", "This conversation has no ticket: create one first");
    const ticket = await applyTicketStatus(tx, {
      accountId: ctx.accountId,
      ticketId: conversation.ticketId,
      statusId: input.ticketStatusId,
      properties: input.ticketProperties,
      field: "input.ticketStatusId",
    });
    await recordTicketEvent(tx, ctx.accountId, ticket.id, "ticket.updated", "status changed with a reply");
    return { message, ticket };
  });
}
