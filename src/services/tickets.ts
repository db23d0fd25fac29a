import { z } from "zod";
import type { Prisma, Ticket, TicketPriority } from "../generated/prisma/client.js";
import { readMany } from "../db/read-sql.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { recordTicketEvent } from "./ticket-events.js";
import { visibleInboxWhere } from "./access.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { findDefaultPipeline } from "./pipelines.js";
import { automaticName } from "./ticket-automation.js";
import {
  checkConditionalStatus,
  closedAtFor,
  findStatus,
  mergeProperties,
  storedProperties,
  type TicketProperties,
  type Tx,
} from "./ticket-status.js";
import { storable, storableJsonObject } from "./storable.js";
import { name as plainName, parseInput } from "./validation.js";

const name = (max?: number) => storable(plainName(max));

export { applyTicketStatus } from "./ticket-status.js";
export { createTicketForConversation, followConversationOwner } from "./ticket-automation.js";

type TicketQuery = Omit<Prisma.TicketFindManyArgs, "where" | "orderBy">;

/** Filters of the `tickets` list; every id is a database id of the caller's account. */
export interface TicketFilter {
  pipelineId?: string | null;
  statusId?: string | null;
  ownerId?: string | null;
  /** Only tickets with no owner (cannot be combined with ownerId). */
  unowned?: boolean | null;
  priority?: TicketPriority | null;
  /** true: tickets in a closed status; false: open ones. */
  closed?: boolean | null;
  contactId?: string | null;
  /** Created at or after. */
  from?: Date | null;
  /** Created before. */
  to?: Date | null;
  /** Only tickets carrying every one of these labels. */
  labelIds?: string[] | null;
}

/** Prisma filter for the `tickets` list, always limited to the caller's account. */
export function ticketWhere(ctx: AgentContext, filter: TicketFilter = {}): Prisma.TicketWhereInput {
  if (filter.unowned && filter.ownerId) throw ValidationError.field("filter.unowned", "Use either ownerId or unowned");
  if (filter.from && filter.to && filter.from > filter.to) throw ValidationError.field("filter.to", "Must not be before `from`");
  return {
    accountId: ctx.accountId,
    ...(filter.pipelineId ? { pipelineId: filter.pipelineId } : {}),
    ...(filter.statusId ? { statusId: filter.statusId } : {}),
    ...(filter.ownerId ? { ownerId: filter.ownerId } : filter.unowned ? { ownerId: null } : {}),
    ...(filter.priority ? { priority: filter.priority } : {}),
    ...(filter.closed != null ? { status: { isClosed: filter.closed } } : {}),
    ...(filter.contactId ? { contactId: filter.contactId } : {}),
    ...(filter.from || filter.to ? { createdAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
    ...(filter.labelIds?.length ? { AND: filter.labelIds.map((labelId) => ({ labelLinks: { some: { labelId } } })) } : {}),
  };
}

/**
 * A page of the account's tickets, most recent activity first (id breaks ties so that cursors on
 * id page stably). Every agent of the account sees every ticket: the help desk is shared.
 */
export function listTickets(ctx: AgentContext, filter: TicketFilter | null | undefined, query: TicketQuery = {}) {
  // One statement for the page and every relation it selects (src/db/read-sql.ts).
  return readMany<Ticket>(ctx.prisma, "Ticket", { ...query, where: ticketWhere(ctx, filter ?? {}), orderBy: [{ lastActivityAt: "desc" }, { id: "desc" }] });
}

/** One ticket of the caller's account. */
export async function getTicket(ctx: AgentContext, ticketId: string, query: TicketQuery = {}) {
  const ticket = await ctx.prisma.ticket.findFirst({ ...query, where: { accountId: ctx.accountId, id: ticketId } });
  if (!ticket) throw new NotFoundError("Ticket", ticketId);
  return ticket;
}

const priority = z.enum(["LOW", "MEDIUM", "HIGH", "URGENT"]);
const properties = storableJsonObject()
  .refine((p) => Object.keys(p).every((key) => key.trim().length > 0 && key.length <= 100), "Property names must be 1 to 100 characters")
  .nullish();
const description = storable(z.string().max(10_000, "At most 10000 characters")).nullish();

async function checkOwner(tx: Tx, accountId: string, ownerId: string) {
  const owner = await tx.user.findFirst({ where: { accountId, id: ownerId, removedAt: null }, select: { id: true } });
  if (!owner) throw new NotFoundError("User", ownerId);
}

/**
 * Picks the pipeline and status of a new or moved ticket. A status alone implies its pipeline; a
 * pipeline alone means its first status; both must agree (else ValidationError on input.statusId).
 */
async function resolvePlacement(tx: Tx, accountId: string, input: { pipelineId?: string | null; statusId?: string | null }) {
  if (input.statusId) {
    const status = await findStatus(tx, accountId, input.statusId);
    if (input.pipelineId) {
      const pipeline = await tx.pipeline.findFirst({ where: { accountId, id: input.pipelineId }, select: { id: true } });
      if (!pipeline) throw new NotFoundError("Pipeline", input.pipelineId);
      if (status.pipelineId !== pipeline.id) throw ValidationError.field("input.statusId", "This status belongs to another pipeline");
    }
    return status;
  }
  const pipeline = input.pipelineId
    ? await tx.pipeline.findFirst({ where: { accountId, id: input.pipelineId }, include: { statuses: { orderBy: { position: "asc" } } } })
    : await findDefaultPipeline(tx, accountId);
  if (!pipeline) throw new NotFoundError("Pipeline", input.pipelineId ?? undefined);
  const first = pipeline.statuses[0];
  if (!first) throw ValidationError.field("input.pipelineId", "This pipeline has no status");
  return first;
}

const ticketFields = z.object({ name: name(200).nullish(), description, priority: priority.nullish(), properties });

/** Validates the free fields a ticket create or update carries. */
function parseTicketFields(input: { name?: string | null; description?: string | null; priority?: TicketPriority | null; properties?: TicketProperties | null }) {
  return parseInput(ticketFields, { name: input.name, description: input.description, priority: input.priority, properties: input.properties });
}

export interface CreateTicketInput {
  name?: string | null;
  description?: string | null;
  pipelineId?: string | null;
  statusId?: string | null;
  priority?: TicketPriority | null;
  /** Absent: the conversation's assignee (from a conversation) or nobody; null: nobody. */
  ownerId?: string | null;
  contactId?: string | null;
  conversationId?: string | null;
  properties?: TicketProperties | null;
}

/**
 * Creates a ticket, from scratch or from a conversation (any agent). Defaults: the account's
 * default pipeline, the pipeline's first status, MEDIUM priority. From a conversation the ticket
 * takes the conversation's contact, a name derived as automatic tickets derive theirs when none
 * is given (subject, else "Conversation with <visitor or contact>", else "New conversation"), its assignee as
 * owner unless `ownerId` is given (null: unowned), and the conversation is linked to it
 * (ConflictError when it already has a ticket). A conditional initial status needs its properties
 * (ConditionalStatusError); a closed one stamps closedAt.
 */
export async function createTicket(ctx: AgentContext, input: CreateTicketInput) {
  const data = parseTicketFields(input);
  const { accountId } = ctx;
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = input.conversationId
      ? await tx.conversation.findFirst({ where: { accountId, id: input.conversationId, inbox: visibleInboxWhere(ctx) } })
      : null;
    if (input.conversationId && !conversation) throw new NotFoundError("Conversation", input.conversationId);
    if (conversation?.ticketId) throw new ConflictError("This conversation already has a ticket", ["input", "conversationId"]);
    if (conversation && input.contactId && conversation.contactId && input.contactId !== conversation.contactId) {
      throw ValidationError.field("input.contactId", "The conversation belongs to another contact");
    }
    // From a conversation the name is optional: derived as automatic tickets derive theirs (a
    // conversation without subject or visitor name is named after its contact, if it has one).
    const contactName = conversation?.contactId && !conversation.subject?.trim() && !conversation.visitorName
      ? (await tx.contact.findFirst({ where: { accountId, id: conversation.contactId }, select: { name: true } }))?.name?.trim() || null
      : null;
    const ticketName = data.name ?? (conversation ? automaticName({ subject: conversation.subject, visitorName: conversation.visitorName ?? contactName }) : null);
    if (!ticketName) throw ValidationError.field("input.name", "Must not be empty");

    const contactId = input.contactId ?? conversation?.contactId ?? null;
    if (contactId && !(await tx.contact.findFirst({ where: { accountId, id: contactId }, select: { id: true } }))) {
      throw new NotFoundError("Contact", contactId);
    }
    const ownerId = input.ownerId !== undefined ? input.ownerId : (conversation?.assigneeId ?? null);
    if (input.ownerId) await checkOwner(tx, accountId, input.ownerId);

    const status = await resolvePlacement(tx, accountId, input);
    const props = mergeProperties({}, data.properties);
    checkConditionalStatus({ status, entering: true, merged: props });
    const now = new Date();
    const ticket = await tx.ticket.create({
      data: {
        accountId,
        name: ticketName,
        description: data.description ?? null,
        pipelineId: status.pipelineId,
        statusId: status.id,
        priority: data.priority ?? "MEDIUM",
        ownerId,
        contactId,
        properties: props as Prisma.InputJsonObject,
        closedAt: closedAtFor(status, null, now),
        lastActivityAt: now,
      },
    });
    if (conversation) {
      // Guarded on ticketId still being null: a concurrent link makes this one fail, not overwrite.
      const linked = await tx.conversation.updateMany({ where: { accountId, id: conversation.id, ticketId: null }, data: { ticketId: ticket.id } });
      if (linked.count === 0) throw new ConflictError("This conversation already has a ticket", ["input", "conversationId"]);
      await recordEvents(tx, accountId, [
        { type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, ticketId: ticket.id } },
      ]);
    }
    await recordTicketEvent(tx, accountId, ticket.id, "ticket.created");
    return ticket;
  });
}

export interface UpdateTicketInput {
  ticketId: string;
  name?: string | null;
  /** null clears it. */
  description?: string | null;
  /** Moves the ticket to another pipeline; without statusId it lands in that pipeline's first status. */
  pipelineId?: string | null;
  statusId?: string | null;
  priority?: TicketPriority | null;
  /** null unowns the ticket; absent leaves it. */
  ownerId?: string | null;
  /** Merged into the stored properties; a null value removes that property. */
  properties?: TicketProperties | null;
}

/**
 * Edits a ticket (any agent). A status of another pipeline is refused (ValidationError on
 * input.statusId) unless `pipelineId` names that pipeline. Entering a conditional status without
 * its required properties (after merging `properties`) throws ConditionalStatusError and changes
 * nothing; entering a closed status stamps closedAt and leaving it clears it.
 */
export async function updateTicket(ctx: AgentContext, input: UpdateTicketInput) {
  const data = parseTicketFields(input);
  const { accountId } = ctx;
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const ticket = await tx.ticket.findFirst({ where: { accountId, id: input.ticketId } });
    if (!ticket) throw new NotFoundError("Ticket", input.ticketId);
    if (input.ownerId) await checkOwner(tx, accountId, input.ownerId);

    const moving = (input.pipelineId && input.pipelineId !== ticket.pipelineId) || (input.statusId && input.statusId !== ticket.statusId);
    const status = moving
      ? await resolvePlacement(tx, accountId, { pipelineId: input.pipelineId ?? (input.statusId ? null : ticket.pipelineId), statusId: input.statusId })
      : await findStatus(tx, accountId, ticket.statusId);
    if (moving && !input.pipelineId && status.pipelineId !== ticket.pipelineId) {
      throw ValidationError.field("input.statusId", "This status belongs to another pipeline; pass its pipelineId to move the ticket");
    }
    const merged = mergeProperties(storedProperties(ticket.properties), data.properties);
    checkConditionalStatus({ status, entering: status.id !== ticket.statusId, merged, update: data.properties });

    const updated = await tx.ticket.update({
      where: { id: ticket.id },
      data: {
        ...(data.name ? { name: data.name } : {}),
        ...(input.description !== undefined ? { description: data.description ?? null } : {}),
        ...(data.priority ? { priority: data.priority } : {}),
        ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}),
        pipelineId: status.pipelineId,
        statusId: status.id,
        properties: merged as Prisma.InputJsonObject,
        closedAt: closedAtFor(status, ticket.closedAt),
        lastActivityAt: new Date(),
      },
    });
    await recordTicketEvent(tx, accountId, updated.id, "ticket.updated");
    return updated;
  });
}
