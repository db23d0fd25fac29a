import { z } from "zod";
import type { Label, Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { requireRole } from "./access.js";
import { findVisibleConversation } from "./conversations.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { storable } from "./storable.js";
import { recordTicketEvent } from "./ticket-events.js";
import { name, parseInput } from "./validation.js";

type Tx = Prisma.TransactionClient;

/** Most labels one add/remove call (or one bulk action) may name. */
export const MAX_LABELS_PER_CALL = 50;

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
const labelName = storable(name(60));
const color = z.string().regex(HEX_COLOR, "Must be a hex colour like #1a2b3c").transform((c) => c.toLowerCase());
const description = storable(z.string().trim().max(500, "At most 500 characters")).nullish();

/** The key names are unique by, per account: case does not make two labels. */
export const labelNameKey = (n: string) => n.trim().toLowerCase();

/**
 * The account's labels sorted by name (case-insensitively); with `search`, those whose name
 * contains it, whatever its case. Every agent sees every label: they are account-wide.
 */
export function listLabels(ctx: AgentContext, search?: string | null, query: Omit<Prisma.LabelFindManyArgs, "where" | "orderBy"> = {}) {
  const term = search?.trim().toLowerCase();
  return ctx.prisma.label.findMany({
    ...query,
    where: { accountId: ctx.accountId, ...(term ? { nameKey: { contains: term } } : {}) },
    orderBy: [{ nameKey: "asc" }, { id: "asc" }],
  });
}

function duplicateName(err: unknown): never {
  if (isUniqueViolation(err, ["nameKey"])) throw new ConflictError("A label with this name already exists", ["input", "name"]);
  throw err;
}

/**
 * Admins: creates a label. The name (1 to 60 characters, trimmed) must be new to the account
 * whatever its case (ConflictError on input.name otherwise); the colour is "#rrggbb", stored lowercase.
 */
export async function createLabel(ctx: AgentContext, input: { name: string; color: string; description?: string | null }): Promise<Label> {
  requireRole(ctx, "ADMIN", "manage labels");
  const data = parseInput(z.object({ name: labelName, color, description }), input);
  return ctx.prisma.label
    .create({ data: { accountId: ctx.accountId, name: data.name, nameKey: labelNameKey(data.name), color: data.color, description: data.description || null } })
    .catch(duplicateName);
}

/**
 * Admins: renames, recolours or re-describes a label; omitted fields keep their value, a null
 * description clears it. A new name or colour pushes `conversationUpdated` (reason "labels") for
 * every conversation carrying the label, recorded in the same transaction.
 */
export async function updateLabel(ctx: AgentContext, input: { labelId: string; name?: string | null; color?: string | null; description?: string | null }): Promise<Label> {
  requireRole(ctx, "ADMIN", "manage labels");
  const data = parseInput(z.object({ name: labelName.nullish(), color: color.nullish(), description }), { name: input.name, color: input.color, description: input.description });
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const existing = await tx.label.findFirst({ where: { accountId: ctx.accountId, id: input.labelId } });
    if (!existing) throw new NotFoundError("Label", input.labelId);
    const updated = await tx.label
      .update({
        where: { id: existing.id },
        data: {
          ...(data.name ? { name: data.name, nameKey: labelNameKey(data.name) } : {}),
          ...(data.color ? { color: data.color } : {}),
          ...(input.description !== undefined ? { description: data.description || null } : {}),
        },
      })
      .catch(duplicateName);
    if (updated.name !== existing.name || updated.color !== existing.color) await recordCarriersUpdated(tx, ctx, existing.id);
    return updated;
  });
}

/** A `conversation.updated` event (reason "labels") for every conversation carrying the label. */
async function recordCarriersUpdated(tx: Tx, ctx: AgentContext, labelId: string) {
  const carriers = await tx.conversationLabel.findMany({ where: { accountId: ctx.accountId, labelId }, select: { conversation: { select: { id: true, inboxId: true } } } });
  await recordEvents(
    tx,
    ctx.accountId,
    carriers.map(({ conversation: c }) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, reason: "labels" } })),
  );
}

/**
 * Admins: deletes a label; it leaves every conversation and ticket that carried it, and each of
 * those conversations gets a `conversation.updated` event (reason "labels") in the same transaction.
 */
export async function deleteLabel(ctx: AgentContext, labelId: string): Promise<{ id: string }> {
  requireRole(ctx, "ADMIN", "manage labels");
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const label = await tx.label.findFirst({ where: { accountId: ctx.accountId, id: labelId }, select: { id: true } });
    if (!label) throw new NotFoundError("Label", labelId);
    // Recorded before the delete takes the links away: subscribers reload after the commit.
    await recordCarriersUpdated(tx, ctx, label.id);
    await tx.label.delete({ where: { id: label.id } });
    return label;
  });
}

/** Distinct label ids of the account, in the order given; NotFoundError on the first unknown (or foreign) one. */
export async function checkLabels(db: Tx, ctx: AgentContext, labelIds: readonly string[], field = "input.labelIds"): Promise<string[]> {
  const ids = [...new Set(labelIds)];
  if (ids.length > MAX_LABELS_PER_CALL) throw ValidationError.field(field, `At most ${MAX_LABELS_PER_CALL} labels at once`);
  if (!ids.length) return ids;
  const found = new Set((await db.label.findMany({ where: { accountId: ctx.accountId, id: { in: ids } }, select: { id: true } })).map((l) => l.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw new NotFoundError("Label", missing);
  return ids;
}

/**
 * In the caller's transaction: adds and removes labels of a conversation the caller can see
 * (NotFoundError otherwise). Labels must already be checked (checkLabels). Adding a label it
 * has, or removing one it lacks, changes nothing; when something changed, a
 * `conversation.updated` event (reason "labels") is recorded. Returns whether anything changed.
 */
export async function changeConversationLabelsInTx(tx: Tx, ctx: AgentContext, input: { conversationId: string; add?: readonly string[]; remove?: readonly string[] }): Promise<boolean> {
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  let changed = 0;
  if (input.add?.length) {
    const r = await tx.conversationLabel.createMany({ data: input.add.map((labelId) => ({ accountId: ctx.accountId, conversationId: conversation.id, labelId })), skipDuplicates: true });
    changed += r.count;
  }
  if (input.remove?.length) {
    const r = await tx.conversationLabel.deleteMany({ where: { accountId: ctx.accountId, conversationId: conversation.id, labelId: { in: [...input.remove] } } });
    changed += r.count;
  }
  if (changed) await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, reason: "labels" } }]);
  return changed > 0;
}

/** Adds (or removes) account labels to a conversation the caller can see, in one transaction; see changeConversationLabelsInTx. */
export async function changeConversationLabels(ctx: AgentContext, input: { conversationId: string; add?: readonly string[]; remove?: readonly string[] }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const add = await checkLabels(tx, ctx, input.add ?? []);
    const remove = await checkLabels(tx, ctx, input.remove ?? []);
    await changeConversationLabelsInTx(tx, ctx, { conversationId: input.conversationId, add, remove });
    return { conversationId: input.conversationId };
  });
}

/**
 * Adds (or removes) account labels to a ticket of the account (every agent sees every ticket),
 * in one transaction; a change records `ticket.updated` (reason "labels").
 */
export async function changeTicketLabels(ctx: AgentContext, input: { ticketId: string; add?: readonly string[]; remove?: readonly string[] }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const ticket = await tx.ticket.findFirst({ where: { accountId: ctx.accountId, id: input.ticketId } });
    if (!ticket) throw new NotFoundError("Ticket", input.ticketId);
    const add = await checkLabels(tx, ctx, input.add ?? []);
    const remove = await checkLabels(tx, ctx, input.remove ?? []);
    let changed = 0;
    if (add.length) changed += (await tx.ticketLabel.createMany({ data: add.map((labelId) => ({ accountId: ctx.accountId, ticketId: ticket.id, labelId })), skipDuplicates: true })).count;
    if (remove.length) changed += (await tx.ticketLabel.deleteMany({ where: { accountId: ctx.accountId, ticketId: ticket.id, labelId: { in: remove } } })).count;
    if (changed) await recordTicketEvent(tx, ctx.accountId, ticket.id, "ticket.updated", "labels");
    return ticket;
  });
}
