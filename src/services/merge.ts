import { Prisma, type Contact, type Conversation, type Ticket } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import type { SqlTx } from "../db/sql.js";
import { recordEvents, transactionWithEvents, type OutboxEvent } from "../realtime/events.js";
import { visibleInboxWhere } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { recordTicketEvent } from "./ticket-events.js";

/**
 * Merging duplicates: conversations (the sources' messages move into the target, the sources stay
 * as tombstones that threading follows), tickets (the sources' conversations move to the target
 * ticket, the sources are deleted) and contacts (everything that references a source moves to the
 * target, the sources are deleted). Each merge is one transaction: it fully happens or not at all.
 */

/** Most sources one merge takes. */
export const MAX_MERGE_SOURCES = 20;

export interface MergeInput {
  targetId: string;
  /** 1..MAX_MERGE_SOURCES ids merged into the target (duplicates ignored). */
  sourceIds: string[];
}

/** The distinct source ids; ValidationError on input.sourceIds when empty, too many or naming the target. */
function sourceIdsOf(input: MergeInput, noun: string): string[] {
  const ids = [...new Set(input.sourceIds)];
  if (ids.length === 0) throw ValidationError.field("input.sourceIds", `Give at least one ${noun} to merge`);
  if (ids.length > MAX_MERGE_SOURCES) throw ValidationError.field("input.sourceIds", `At most ${MAX_MERGE_SOURCES} at once`);
  if (ids.includes(input.targetId)) throw ValidationError.field("input.sourceIds", `A ${noun} cannot be merged into itself`);
  return ids;
}

/** Locks the rows of `table` in id order (two merges over overlapping rows queue, never deadlock). */
async function lockRows(tx: SqlTx, table: "Conversation" | "Ticket" | "Contact", accountId: string, ids: string[]) {
  await tx.$queryRaw`SELECT id FROM ${Prisma.raw(`"${table}"`)} WHERE "accountId" = ${accountId} AND id = ANY(${[...ids].sort()}::text[]) ORDER BY id FOR UPDATE`;
}

const earliest = (dates: (Date | null)[]) => dates.reduce<Date | null>((a, d) => (d && (!a || d < a) ? d : a), null);
const latest = (dates: (Date | null)[]) => dates.reduce<Date | null>((a, d) => (d && (!a || d > a) ? d : a), null);

export interface MergeConversationsResult {
  conversationId: string;
  mergedConversationIds: string[];
  /** The internal comment in the target that says what was merged. */
  auditMessageId: string;
}

/**
 * Merges conversations into `targetId`, all of them in inboxes the caller sees (NotFoundError
 * otherwise; an already merged one is a ValidationError). The sources' messages move into the
 * target with their createdAt, channel and externalId unchanged: the message list keeps its order,
 * and a transport retrying a source's external id still gets the duplicate answer (the unique key
 * is (account, channel, externalId), untouched). Each source stays as a CLOSED tombstone (mergedIntoId):
 * hidden from lists and writes, and followed by intake, so a later customer message on a source's
 * thread key (or email References) lands in the target. The target takes the earliest first
 * inbound/response times, the latest activity, the sources' search words and labels, and a contact or ticket
 * when it had none; a source's other ticket loses its link to the source. One internal comment in
 * the target names what was merged; conversation.updated events go out for the target and each source.
 */
export async function mergeConversations(ctx: AgentContext, input: MergeInput): Promise<MergeConversationsResult> {
  const sourceIds = sourceIdsOf(input, "conversation");
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const ids = [input.targetId, ...sourceIds];
    // Intake locks a tombstone before the conversation it leads to (followMergedThread): the
    // sources' tombstones, re-pointed below, are locked first in the same order.
    await tx.$queryRaw`SELECT id FROM "Conversation" WHERE "accountId" = ${ctx.accountId} AND "mergedIntoId" = ANY(${sourceIds}::text[]) ORDER BY id FOR UPDATE`;
    await lockRows(tx, "Conversation", ctx.accountId, ids);
    const rows = await tx.conversation.findMany({ where: { accountId: ctx.accountId, id: { in: ids }, inbox: visibleInboxWhere(ctx) } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const pick = (id: string, field: string) => {
      const row = byId.get(id);
      if (!row) throw new NotFoundError("Conversation", id);
      if (row.mergedIntoId) throw ValidationError.field(field, "This conversation was already merged into another");
      return row;
    };
    const target = pick(input.targetId, "input.targetId");
    const sources = sourceIds.map((id) => pick(id, "input.sourceIds"));
    const all = [target, ...sources];
    const now = new Date();

    await tx.message.updateMany({ where: { accountId: ctx.accountId, conversationId: { in: sourceIds } }, data: { conversationId: target.id } });
    // Mentions in the moved comments belong to the target (its "mentions me" and unread state).
    await tx.messageMention.updateMany({ where: { accountId: ctx.accountId, conversationId: { in: sourceIds } }, data: { conversationId: target.id } });
    // The sources' labels go on the target (each label once).
    await tx.$executeRaw`INSERT INTO "ConversationLabel" ("accountId", "conversationId", "labelId", "createdAt")
      SELECT "accountId", ${target.id}, "labelId", "createdAt" FROM "ConversationLabel" WHERE "accountId" = ${ctx.accountId} AND "conversationId" = ANY(${sourceIds}::text[])
      ON CONFLICT DO NOTHING`;
    // Tombstones of earlier merges into a source now point at the target: threading follows one hop.
    await tx.conversation.updateMany({ where: { accountId: ctx.accountId, mergedIntoId: { in: sourceIds } }, data: { mergedIntoId: target.id } });
    for (const s of sources) {
      await tx.$executeRaw`UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || COALESCE((SELECT search FROM "Conversation" WHERE "accountId" = ${ctx.accountId} AND id = ${s.id}), ''::tsvector)
        WHERE "accountId" = ${ctx.accountId} AND id = ${target.id}`;
    }
    const ticketId = target.ticketId ?? sources.find((s) => s.ticketId)?.ticketId ?? null;
    const unlinkedTickets = [...new Set(sources.map((s) => s.ticketId).filter((id): id is string => !!id && id !== ticketId))];
    // A tombstone is closed (an open one would count against its assignee's chat capacity and the
    // unassigned backlog); one closed before keeps its closing time.
    await tx.$executeRaw`UPDATE "Conversation" SET "mergedIntoId" = ${target.id}, "mergedAt" = ${now}, "ticketId" = NULL, "updatedAt" = ${now},
        status = 'CLOSED', "closedAt" = CASE WHEN status = 'CLOSED' THEN COALESCE("closedAt", ${now}) ELSE ${now} END
      WHERE "accountId" = ${ctx.accountId} AND id = ANY(${sourceIds}::text[])`;
    await tx.conversation.update({
      where: { id: target.id },
      data: {
        contactId: target.contactId ?? sources.find((s) => s.contactId)?.contactId ?? null,
        visitorName: target.visitorName ?? sources.find((s) => s.visitorName)?.visitorName ?? null,
        visitorEmail: target.visitorEmail ?? sources.find((s) => s.visitorEmail)?.visitorEmail ?? null,
        ticketId,
        lastActivityAt: latest(all.map((c) => c.lastActivityAt)) ?? target.lastActivityAt,
        lastInboundAt: latest(all.map((c) => c.lastInboundAt)),
        firstInboundAt: earliest(all.map((c) => c.firstInboundAt)),
        firstResponseAt: earliest(all.map((c) => c.firstResponseAt)),
      },
    });
    const who = [ctx.user.firstName, ctx.user.lastName].filter(Boolean).join(" ");
    const named = sources.map((s) => (s.subject ? `"${s.subject}"` : s.id)).join(", ");
    const audit = await tx.message.create({
      data: {
        accountId: ctx.accountId,
        conversationId: target.id,
        channelId: target.channelId,
        direction: "OUTBOUND",
        kind: "COMMENT",
        senderType: "AGENT",
        authorId: ctx.user.id,
        text: `${who} merged ${sources.length} conversation${sources.length === 1 ? "" : "s"} into this one: ${named}`,
        metadata: { merge: { conversationIds: sourceIds } },
        createdAt: now,
      },
    });
    const events: OutboxEvent[] = [
      { type: "conversation.updated", inboxId: target.inboxId, payload: { conversationId: target.id, reason: "merged" } },
      ...sources.map((s) => ({ type: "conversation.updated", inboxId: s.inboxId, payload: { conversationId: s.id, mergedIntoId: target.id, reason: "merged" } })),
      { type: "message.added", inboxId: target.inboxId, payload: { conversationId: target.id, messageId: audit.id } },
    ];
    await recordEvents(tx, ctx.accountId, events);
    if (ticketId && ticketId !== target.ticketId) await recordTicketEvent(tx, ctx.accountId, ticketId, "ticket.updated", "merged");
    for (const id of unlinkedTickets) await recordTicketEvent(tx, ctx.accountId, id, "ticket.updated", "merged");
    return { conversationId: target.id, mergedConversationIds: sourceIds, auditMessageId: audit.id };
  });
}

type ThreadRow = Pick<Conversation, "id" | "inboxId" | "status" | "contactId" | "ticketId" | "mergedIntoId">;

/**
 * The live conversation a thread lookup found, following merges (intake's findThread): a tombstone
 * leads to the conversation it was merged into, read with FOR UPDATE like the thread itself.
 * Merges keep chains one hop long; a few more are followed in case a merge commits meanwhile.
 */
export async function followMergedThread<T extends ThreadRow>(tx: SqlTx, accountId: string, thread: T): Promise<Omit<T, "mergedIntoId">> {
  let row: ThreadRow = thread;
  for (let hop = 0; row.mergedIntoId && hop < 5; hop++) {
    const [next] = await tx.$queryRaw<ThreadRow[]>`
      SELECT id, "inboxId", status::text AS status, "contactId", "ticketId", "mergedIntoId" FROM "Conversation"
       WHERE "accountId" = ${accountId} AND id = ${row.mergedIntoId} FOR UPDATE`;
    if (!next) break;
    row = next;
  }
  const { mergedIntoId: _merged, ...live } = row;
  return live as Omit<T, "mergedIntoId">;
}

/**
 * The thread key an email joins when the message it answers was moved by a merge into a
 * conversation of another channel: the key of a tombstone on `channelId` merged into the
 * conversation that now holds one of `threadIds` (intake then follows the tombstone). Null: none.
 */
export async function mergedEmailThread(tx: SqlTx, accountId: string, channelId: string, threadIds: string[]): Promise<string | null> {
  if (threadIds.length === 0) return null;
  const [hit] = await tx.$queryRaw<{ threadKey: string }[]>`
    SELECT s."threadKey" FROM unnest(${threadIds.slice(0, 100)}::text[]) WITH ORDINALITY AS t(id, n)
      JOIN "Message" m ON m."accountId" = ${accountId} AND m."channelId" = ${channelId} AND m."externalId" = t.id
      JOIN "Conversation" s ON s."accountId" = m."accountId" AND s."mergedIntoId" = m."conversationId" AND s."channelId" = ${channelId} AND s."threadKey" IS NOT NULL
     ORDER BY t.n LIMIT 1`;
  return hit?.threadKey ?? null;
}

/**
 * Merges tickets into `targetId` (any agent: every agent sees every ticket). The sources'
 * conversations and labels move to the target; the target keeps its fields and takes the sources' properties
 * it lacks, a description and a contact when it had none, and the latest activity. The sources
 * are deleted. Events: ticket.updated for the target, conversation.updated for each moved conversation.
 */
export async function mergeTickets(ctx: AgentContext, input: MergeInput): Promise<{ ticketId: string; mergedTicketIds: string[] }> {
  const sourceIds = sourceIdsOf(input, "ticket");
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await lockRows(tx, "Ticket", ctx.accountId, [input.targetId, ...sourceIds]);
    const rows = await tx.ticket.findMany({ where: { accountId: ctx.accountId, id: { in: [input.targetId, ...sourceIds] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const pick = (id: string): Ticket => {
      const row = byId.get(id);
      if (!row) throw new NotFoundError("Ticket", id);
      return row;
    };
    const target = pick(input.targetId);
    const sources = sourceIds.map(pick);
    const moved = await tx.conversation.findMany({ where: { accountId: ctx.accountId, ticketId: { in: sourceIds } }, select: { id: true, inboxId: true } });
    await tx.conversation.updateMany({ where: { accountId: ctx.accountId, ticketId: { in: sourceIds } }, data: { ticketId: target.id } });
    const properties = Object.assign({}, ...[...sources].reverse().map((s) => s.properties as object), target.properties as object) as Prisma.InputJsonObject;
    await tx.$executeRaw`INSERT INTO "TicketLabel" ("accountId", "ticketId", "labelId", "createdAt")
      SELECT "accountId", ${target.id}, "labelId", "createdAt" FROM "TicketLabel" WHERE "accountId" = ${ctx.accountId} AND "ticketId" = ANY(${sourceIds}::text[])
      ON CONFLICT DO NOTHING`;
    await tx.ticket.deleteMany({ where: { accountId: ctx.accountId, id: { in: sourceIds } } });
    await tx.ticket.update({
      where: { id: target.id },
      data: {
        properties,
        description: target.description ?? sources.find((s) => s.description)?.description ?? null,
        contactId: target.contactId ?? sources.find((s) => s.contactId)?.contactId ?? null,
        lastActivityAt: latest([target, ...sources].map((s) => s.lastActivityAt)) ?? target.lastActivityAt,
      },
    });
    await recordTicketEvent(tx, ctx.accountId, target.id, "ticket.updated", "merged");
    await recordEvents(tx, ctx.accountId, moved.map((c) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, ticketId: target.id, reason: "ticket-merged" } })));
    return { ticketId: target.id, mergedTicketIds: sourceIds };
  });
}

/**
 * Merges duplicate contacts into `targetId` (any agent, like updateContact; e.g. the same person
 * writing from several Messenger pages). Conversations, tickets, channel handles and notes of the
 * sources move to the target, so later messages from any of their identities match the target.
 * The target keeps its fields and takes the sources' name, email, phone and owner where it has
 * none, `tracked` when any is, and the custom properties it lacks; the sources are deleted first,
 * so their email and phone are free to move (one the target cannot take is named in the audit
 * note). One note on the target by the caller says what was merged.
 */
export async function mergeContacts(ctx: AgentContext, input: MergeInput): Promise<{ contactId: string; mergedContactIds: string[] }> {
  const sourceIds = sourceIdsOf(input, "contact");
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await lockRows(tx, "Contact", ctx.accountId, [input.targetId, ...sourceIds]);
    const rows = await tx.contact.findMany({ where: { accountId: ctx.accountId, id: { in: [input.targetId, ...sourceIds] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const pick = (id: string): Contact => {
      const row = byId.get(id);
      if (!row) throw new NotFoundError("Contact", id);
      return row;
    };
    const target = pick(input.targetId);
    const sources = sourceIds.map(pick);
    const where = { accountId: ctx.accountId, contactId: { in: sourceIds } };
    await tx.conversation.updateMany({ where, data: { contactId: target.id } });
    await tx.ticket.updateMany({ where, data: { contactId: target.id } });
    await tx.contactHandle.updateMany({ where, data: { contactId: target.id } });
    await tx.contactNote.updateMany({ where, data: { contactId: target.id } });
    await tx.contact.deleteMany({ where: { accountId: ctx.accountId, id: { in: sourceIds } } });

    const first = <K extends "name" | "email" | "phone" | "ownerId">(key: K) => target[key] || sources.find((s) => s[key])?.[key] || null;
    const next = { name: first("name") ?? "", email: first("email"), phone: first("phone"), ownerId: first("ownerId") };
    const customProperties = Object.assign({}, ...[...sources].reverse().map((s) => s.customProperties as object), target.customProperties as object) as Prisma.InputJsonObject;
    const updated = await tx.contact.update({ where: { id: target.id }, data: { ...next, tracked: target.tracked || sources.some((s) => s.tracked), customProperties } });

    const left = sources.flatMap((s) => [s.email, s.phone].filter((v): v is string => !!v && v !== updated.email && v !== updated.phone));
    const describe = (c: Contact) => [c.name || null, c.email, c.phone].filter(Boolean).join(", ") || c.id;
    await tx.contactNote.create({
      data: {
        accountId: ctx.accountId,
        contactId: target.id,
        authorId: ctx.user.id,
        body: `Merged ${sources.length} contact${sources.length === 1 ? "" : "s"} into this one: ${sources.map(describe).join("; ")}.${left.length ? ` Not kept (the contact has its own): ${left.join(", ")}.` : ""}`,
      },
    });
    // The moved conversations become findable by the target's name and email.
    const words = [updated.name, updated.email ?? ""].filter(Boolean).join(" ");
    const touched = await tx.$queryRaw<{ id: string; inboxId: string }[]>`
      UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${words}), "updatedAt" = ${new Date()}
       WHERE "accountId" = ${ctx.accountId} AND "contactId" = ${target.id} AND "mergedIntoId" IS NULL RETURNING id, "inboxId"`;
    await recordEvents(tx, ctx.accountId, touched.map((c) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, contactId: target.id, reason: "contact-merged" } })));
    return { contactId: target.id, mergedContactIds: sourceIds };
  });
}
