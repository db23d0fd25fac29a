import { randomUUID } from "node:crypto";
import { contactMatchSql, MAX_CONTACT_MATCHES, searchTerm } from "./search.js";
import { z } from "zod";
import { Prisma, type Contact } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { visibleInboxWhere } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { email, parseInput } from "./validation.js";
import { storable } from "./storable.js";
import { isUniqueViolation } from "./prisma-errors.js";
import type { SqlTx } from "../db/sql.js";
import { readMany } from "../db/read-sql.js";

/** Who sent an inbound message, as the transport knows them. Every field is optional. */
export interface SenderIdentity {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  /** The sender's id on the channel (Messenger PSID, a partner's user id...). */
  handle?: string | null;
}

const normEmail = (v?: string | null) => (v ? v.trim().toLowerCase() || null : null);
const normPhone = (v?: string | null) => (v ? v.replace(/[\s().-]/g, "") || null : null);

const CONTACT_COLUMNS = Prisma.sql`c.id, c."accountId", c.name, c.email, c.phone, c."ownerId", c.tracked, c."createdAt", c."updatedAt"`;

interface Identity {
  mail: string | null;
  phone: string | null;
  handle: string | null;
}

/** The contact with the strongest matching identity (handle, then email, then phone) and its `rank` (1, 2, 3). */
function findContactSql(accountId: string, channelId: string, id: Identity): Prisma.Sql {
  return Prisma.sql`
    SELECT ${CONTACT_COLUMNS}, m.rank FROM (
      SELECT "contactId" AS id, 1 AS rank FROM "ContactHandle" WHERE "accountId" = ${accountId} AND "channelId" = ${channelId} AND handle = ${id.handle}
      UNION ALL SELECT id, 2 FROM "Contact" WHERE "accountId" = ${accountId} AND email = ${id.mail}
      UNION ALL SELECT id, 3 FROM "Contact" WHERE "accountId" = ${accountId} AND phone = ${id.phone}
    ) m JOIN "Contact" c ON c."accountId" = ${accountId} AND c.id = m.id
    ORDER BY m.rank LIMIT 1`;
}

/**
 * Finds the contact an inbound message belongs to, or creates it, inside the intake transaction.
 *
 * Matching order: the channel handle (ContactHandle on this channel), then email, then phone, all
 * within the account. An unknown sender with an email, phone or handle becomes a new contact; a
 * sender with none of them is an unknown visitor and gets no contact (null). A known contact seen
 * with a new handle gets that handle attached.
 *
 * Concurrency: inserts use ON CONFLICT DO NOTHING, which waits for a competing transaction and
 * then yields, so two first messages from the same address end on one contact without aborting
 * either transaction.
 */
export async function matchOrCreateContact(
  tx: SqlTx,
  accountId: string,
  channelId: string,
  sender: SenderIdentity,
): Promise<{ contact: Contact | null; created: boolean }> {
  const identity = { mail: normEmail(sender.email), phone: normPhone(sender.phone), handle: sender.handle?.trim() || null };
  const { mail, phone, handle } = identity;
  if (!mail && !phone && !handle) return { contact: null, created: false };

  // One statement: find the contact; create it if none matched; attach the handle if the contact
  // does not have it. When a concurrent intake created a contact with this email or phone first,
  // the insert waits for it and yields no row: the next run finds that contact.
  for (let run = 0; run < 2; run++) {
    const now = new Date();
    const [row] = await tx.$queryRaw<(Contact & { rank: number; attached: boolean })[]>`
      WITH found AS (${findContactSql(accountId, channelId, identity)}),
      new_contact AS (
        INSERT INTO "Contact" AS c (id, "accountId", name, email, phone, "createdAt", "updatedAt")
        SELECT ${randomUUID()}::text, ${accountId}::text, ${sender.name?.trim() ?? ""}::text, ${mail}::text, ${phone}::text, ${now}::timestamp(3), ${now}::timestamp(3)
         WHERE NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT DO NOTHING RETURNING ${CONTACT_COLUMNS}, 0 AS rank),
      chosen AS (SELECT * FROM found UNION ALL SELECT * FROM new_contact),
      attached AS (
        INSERT INTO "ContactHandle" (id, "accountId", "contactId", "channelId", handle)
        SELECT ${randomUUID()}::text, ${accountId}::text, chosen.id, ${channelId}::text, ${handle}::text FROM chosen WHERE ${handle}::text IS NOT NULL AND chosen.rank <> 1
        ON CONFLICT DO NOTHING RETURNING 1)
      SELECT chosen.*, EXISTS (SELECT 1 FROM attached) AS attached FROM chosen`;
    if (!row) continue;
    // rank 1: found by this handle; 2, 3: by email or phone (a handle is unique on its channel, so
    // such a contact does not have it); 0: created here.
    const { rank, attached, ...contact } = row;
    const created = rank === 0;
    if (!handle || rank === 1 || attached) return { contact, created };
    // A concurrent intake attached this handle to its own new contact first: use that one.
    return useHandleOwner(tx, accountId, channelId, handle, created ? contact : null);
  }
  throw new Error("Contact vanished while matching an inbound sender");
}

/**
 * A concurrent intake attached the handle to its own contact first: the message belongs to that
 * contact, and the one this intake just created (if any) is removed again.
 */
async function useHandleOwner(tx: SqlTx, accountId: string, channelId: string, handle: string, createdHere: Contact | null) {
  const [owner] = await tx.$queryRaw<(Contact & { rank: number })[]>(findContactSql(accountId, channelId, { mail: null, phone: null, handle }));
  if (!owner) throw new Error("Contact handle vanished while matching an inbound sender");
  if (createdHere) await tx.$executeRaw`DELETE FROM "Contact" WHERE "accountId" = ${accountId} AND id = ${createdHere.id}`;
  const { rank, ...contact } = owner;
  return { contact, created: false };
}

type ContactQuery = Omit<Prisma.ContactFindManyArgs, "where" | "orderBy">;

/**
 * The account's contacts, newest first (id as tiebreak), optionally narrowed by a search term:
 * the rule of src/services/search.ts (websearch syntax, the last word as a prefix) over name,
 * email (and its parts) and phone, and a phone-like term's digits within the phone; at most the
 * MAX_CONTACT_MATCHES newest matches. `query` carries the caller's selection and pagination
 * (take/skip/cursor from the connection).
 */
export async function listContacts(ctx: AgentContext, args: { search?: string | null }, query: ContactQuery = {}) {
  const term = searchTerm(args.search);
  // The search's matches and the page with its relations: one statement (src/db/read-sql.ts).
  const extra = (a: string) =>
    term
      ? [Prisma.sql`${Prisma.raw(`"${a}"`)}.id = ANY(ARRAY(
          SELECT c.id FROM "Contact" c WHERE c."accountId" = ${ctx.accountId} AND ${contactMatchSql(term)}
           ORDER BY c."createdAt" DESC, c.id DESC LIMIT ${MAX_CONTACT_MATCHES}))`]
      : [];
  return readMany<Contact>(ctx.prisma, "Contact", { ...query, where: { accountId: ctx.accountId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] }, extra);
}

const createFromConversationSchema = z
  .object({
    name: z.string().trim().max(200).optional(),
    email: email().optional(),
    phone: z.string().trim().regex(/^\+?[0-9 ().-]{4,30}$/, "Must be a phone number").optional(),
  })
  .refine((v) => v.name || v.email || v.phone, { message: "Give a name, an email or a phone", path: ["name"] });

/**
 * Creates a contact for a conversation with an unknown visitor (no contact yet) and links it.
 * Name and email default to what the visitor typed (visitorName, visitorEmail). If a contact with
 * that email or phone already exists, the conversation is linked to it instead of duplicating it.
 * A conversation that already has a contact is refused (ValidationError on input.conversationId).
 */
export async function createContactFromConversation(
  ctx: AgentContext,
  input: { conversationId: string; name?: string | null; email?: string | null; phone?: string | null },
) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await tx.conversation.findFirst({ where: { id: input.conversationId, accountId: ctx.accountId, inbox: visibleInboxWhere(ctx) } });
    if (!conversation) throw new NotFoundError("Conversation", input.conversationId);
    if (conversation.contactId) throw ValidationError.field("input.conversationId", "This conversation already has a contact");
    const data = parseInput(createFromConversationSchema, {
      name: input.name ?? conversation.visitorName ?? undefined,
      email: input.email ?? conversation.visitorEmail ?? undefined,
      phone: input.phone ?? undefined,
    });
    const existing = await tx.contact.findFirst({
      where: { accountId: ctx.accountId, OR: [...(data.email ? [{ email: data.email }] : []), ...(data.phone ? [{ phone: normPhone(data.phone) }] : [])] },
    });
    const contact =
      data.email || data.phone
        ? (existing ?? (await tx.contact.create({ data: { accountId: ctx.accountId, name: data.name ?? "", email: data.email ?? null, phone: normPhone(data.phone) } })))
        : await tx.contact.create({ data: { accountId: ctx.accountId, name: data.name ?? "" } });
    await tx.conversation.update({ where: { id: conversation.id }, data: { contactId: contact.id } });
    // The search document gains the contact's name and email.
    await tx.$executeRaw`UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${[contact.name, contact.email ?? ""].join(" ")}) WHERE id = ${conversation.id}`;
    await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, contactId: contact.id } }]);
    return { contact, conversationId: conversation.id };
  });
}

const updateSchema = z.object({
  name: storable(z.string().trim().max(200, "At most 200 characters")).nullish(),
  email: email().nullish(),
  phone: z.string().trim().regex(/^\+?[0-9 ().-]{4,30}$/, "Must be a phone number").nullish(),
  tracked: z.boolean().nullish(),
});

export interface UpdateContactInput {
  contactId: string;
  /** Absent or null keeps the name; "" clears it. */
  name?: string | null;
  /** null clears it. */
  email?: string | null;
  /** null clears it. */
  phone?: string | null;
  /** A current user of the account; null: no owner. */
  ownerId?: string | null;
  /** Whether the website's tracking identifies this contact (contact-owner routing needs it). */
  tracked?: boolean | null;
}

/**
 * Edits a contact of the caller's account (any agent: contacts are shared by the account, like
 * the `contacts` list). Only the given fields change. Email is lower-cased and phone normalised
 * as intake matches them, and each stays unique in the account (ValidationError on the field
 * otherwise); the owner must be a current (not removed) user of the account, and contact-owner
 * routing picks them only while `tracked` is on. A contact keeps a name, an email or a phone
 * (ValidationError on input.name when the edit would clear the last one). The contact's
 * conversations become findable by the new name and email.
 */
export async function updateContact(ctx: AgentContext, input: UpdateContactInput): Promise<Contact> {
  const data = parseInput(updateSchema, { name: input.name, email: input.email, phone: input.phone, tracked: input.tracked });
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const contact = await tx.contact.findFirst({ where: { accountId: ctx.accountId, id: input.contactId } });
    if (!contact) throw new NotFoundError("Contact", input.contactId);
    if (input.ownerId) {
      const owner = await tx.user.findFirst({ where: { accountId: ctx.accountId, id: input.ownerId, removedAt: null }, select: { id: true } });
      if (!owner) throw ValidationError.field("input.ownerId", "Unknown user");
    }
    const next = {
      name: data.name ?? contact.name,
      email: input.email !== undefined ? (data.email ?? null) : contact.email,
      phone: input.phone !== undefined ? normPhone(data.phone) : contact.phone,
      ownerId: input.ownerId !== undefined ? input.ownerId : contact.ownerId,
      tracked: data.tracked ?? contact.tracked,
    };
    if (!next.name && !next.email && !next.phone) throw ValidationError.field("input.name", "A contact needs a name, an email or a phone");
    for (const field of ["email", "phone"] as const) {
      const value = next[field];
      if (!value || value === contact[field]) continue;
      const taken = await tx.contact.findFirst({ where: { accountId: ctx.accountId, [field]: value, id: { not: contact.id } }, select: { id: true } });
      if (taken) throw ValidationError.field(["input", field], `Another contact already has this ${field}`);
    }
    let updated: Contact;
    try {
      updated = await tx.contact.update({ where: { id: contact.id }, data: next });
    } catch (err) {
      // A concurrent edit or intake took the address between the check and the write.
      if (isUniqueViolation(err, ["email"])) throw ValidationError.field("input.email", "Another contact already has this email");
      if (isUniqueViolation(err, ["phone"])) throw ValidationError.field("input.phone", "Another contact already has this phone");
      throw err;
    }
    if (updated.name !== contact.name || updated.email !== contact.email) {
      const words = [updated.name, updated.email ?? ""].filter(Boolean).join(" ");
      const touched = await tx.$queryRaw<{ id: string; inboxId: string }[]>`
        UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${words})
         WHERE "accountId" = ${ctx.accountId} AND "contactId" = ${contact.id} RETURNING id, "inboxId"`;
      await recordEvents(
        tx,
        ctx.accountId,
        touched.map((c) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, contactId: contact.id, reason: "contact" } })),
      );
    }
    return updated;
  });
}
