import type { Account, Channel, Conversation, Inbox, Prisma, Ticket } from "../generated/prisma/client.js";
import { findDefaultPipeline } from "./pipelines.js";
import { closedAtFor, type Tx } from "./ticket-status.js";

/** Accounts created on or after this instant create tickets only from the help desk. */
export const INBOX_TICKETS_CUTOFF = new Date("2024-04-01T00:00:00.000Z");

/** True when channels of an account created at `createdAt` may still create tickets from an inbox. */
export function mayCreateInboxTickets(account: Pick<Account, "createdAt">): boolean {
  return account.createdAt < INBOX_TICKETS_CUTOFF;
}

export interface AutomaticTicketInput {
  accountId: string;
  conversation: Pick<Conversation, "id" | "inboxId" | "contactId" | "assigneeId"> &
    Partial<Pick<Conversation, "subject" | "visitorName" | "ticketId" | "lastActivityAt">>;
  channel: Pick<Channel, "createTickets" | "ticketPipelineId" | "ticketStatusId" | "ticketPriority" | "ticketOwnerId">;
  account: Pick<Account, "createdAt" | "contactAssociationLimit">;
  /** The conversation's inbox when the caller has already read it (else it is read here). */
  inbox?: Pick<Inbox, "kind">;
}

/**
 * The automatic-ticket rule for a conversation that just arrived, run inside the intake
 * transaction (pass its `tx`):
 * - in the help desk, every conversation gets a ticket;
 * - in an inbox, only when the channel's `createTickets` is on AND the account was created before
 *   2024-04-01;
 * - a contact already associated with `account.contactAssociationLimit` tickets gets none (the
 *   conversation still arrives);
 * - a conversation that already has a ticket gets no second one.
 * The ticket takes the channel's ticket defaults: pipeline (else the default pipeline), status (if
 * it belongs to that pipeline and needs no properties, else the pipeline's first status), priority
 * (else MEDIUM) and owner (else the conversation's assignee). The conversation is linked to it.
 *
 * @returns the created ticket, or null when the rule creates none
 */
export async function createTicketForConversation(tx: Tx, input: AutomaticTicketInput): Promise<Ticket | null> {
  const { accountId, conversation, channel, account } = input;
  if (conversation.ticketId) return null;
  const inbox = input.inbox ?? (await tx.inbox.findFirst({ where: { accountId, id: conversation.inboxId }, select: { kind: true } }));
  if (!inbox || !mayCreateAutomaticTicket({ ...input, inbox })) return null;

  if (conversation.contactId) {
    const associated = await tx.ticket.count({ where: { accountId, contactId: conversation.contactId } });
    if (associated >= account.contactAssociationLimit) return null;
  }

  const status = await defaultStatus(tx, accountId, channel);
  const ownerId = (channel.ticketOwnerId && (await activeUser(tx, accountId, channel.ticketOwnerId))) || conversation.assigneeId || null;
  const now = new Date();
  const ticket = await tx.ticket.create({
    data: {
      accountId,
      name: automaticName(conversation),
      pipelineId: status.pipelineId,
      statusId: status.id,
      priority: channel.ticketPriority ?? "MEDIUM",
      ownerId,
      contactId: conversation.contactId,
      properties: {} as Prisma.InputJsonObject,
      closedAt: closedAtFor(status, null, now),
      lastActivityAt: conversation.lastActivityAt ?? now,
    },
  });
  await tx.conversation.update({ where: { id: conversation.id }, data: { ticketId: ticket.id } });
  return ticket;
}

/**
 * The part of the rule above that needs no more reading: false when no ticket can be created
 * (already linked; an inbox whose channel does not create tickets or whose account is too new).
 * True means the contact's association limit still decides.
 */
export function mayCreateAutomaticTicket(input: Pick<AutomaticTicketInput, "conversation" | "channel" | "account"> & { inbox: Pick<Inbox, "kind"> }): boolean {
  if (input.conversation.ticketId) return false;
  return input.inbox.kind === "HELP_DESK" || (input.channel.createTickets && mayCreateInboxTickets(input.account));
}

/**
 * A ticket's name derived from its conversation: the subject, else "Conversation with <visitor>",
 * else "New conversation" (at most 200 characters). Also the default of createTicket.
 */
export function automaticName(conversation: Partial<Pick<Conversation, "subject" | "visitorName">>): string {
  const subject = conversation.subject?.trim();
  if (subject) return subject.slice(0, 200);
  return conversation.visitorName ? `Conversation with ${conversation.visitorName}`.slice(0, 200) : "New conversation";
}

async function activeUser(tx: Tx, accountId: string, userId: string): Promise<string | null> {
  const user = await tx.user.findFirst({ where: { accountId, id: userId, removedAt: null }, select: { id: true } });
  return user?.id ?? null;
}

/** The channel's default status when it fits its default pipeline, else that pipeline's first status. */
async function defaultStatus(tx: Tx, accountId: string, channel: AutomaticTicketInput["channel"]) {
  const pipeline =
    (channel.ticketPipelineId &&
      (await tx.pipeline.findFirst({ where: { accountId, id: channel.ticketPipelineId }, include: { statuses: { orderBy: { position: "asc" } } } }))) ||
    (await findDefaultPipeline(tx, accountId));
  // A conditional default could never be entered without properties, which intake does not have.
  const chosen = pipeline.statuses.find((s) => s.id === channel.ticketStatusId && s.requiredProperties.length === 0);
  const status = chosen ?? pipeline.statuses[0];
  if (!status) throw new Error(`Pipeline ${pipeline.id} has no status`);
  return status;
}

/**
 * Reassigning a conversation moves its ticket's owner along when the ticket was owned by the
 * previous assignee (an unowned ticket of an unassigned conversation counts as the same owner).
 * Call it in the transaction that reassigns the conversation.
 *
 * @returns the updated ticket, or null when there is no ticket or its owner was someone else
 */
export async function followConversationOwner(
  tx: Tx,
  input: { accountId: string; conversationId: string; previousAssigneeId: string | null; newAssigneeId: string | null },
): Promise<Ticket | null> {
  if (input.previousAssigneeId === input.newAssigneeId) return null;
  const conversation = await tx.conversation.findFirst({ where: { accountId: input.accountId, id: input.conversationId }, select: { ticketId: true } });
  if (!conversation?.ticketId) return null;
  const moved = await tx.ticket.updateMany({
    where: { accountId: input.accountId, id: conversation.ticketId, ownerId: input.previousAssigneeId },
    data: { ownerId: input.newAssigneeId },
  });
  if (moved.count === 0) return null;
  return tx.ticket.findFirst({ where: { accountId: input.accountId, id: conversation.ticketId } });
}
