import { z } from "zod";
import { Prisma, type ContactNote, type ContactPropertyDefinition, type ContactPropertyType } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { hasRole, requireRole, visibleInboxWhere } from "./access.js";
import { ForbiddenError, NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { storable } from "./storable.js";
import { parseInput } from "./validation.js";

/**
 * What an account keeps about a contact beyond its identity: agents' notes, values of the
 * account's typed custom properties, and the contact's timeline (conversations, tickets, calls and
 * form submissions, newest first). Contacts are shared by the account (any agent may read and edit
 * them, like updateContact); the timeline shows conversations, calls and submissions only from
 * inboxes the caller sees.
 */

async function requireContact(ctx: AgentContext, contactId: string) {
  const contact = await ctx.prisma.contact.findFirst({ where: { accountId: ctx.accountId, id: contactId }, select: { id: true, customProperties: true } });
  if (!contact) throw new NotFoundError("Contact", contactId);
  return contact;
}

// ---- Notes -------------------------------------------------------------------------------------

const noteBody = z.object({ body: storable(z.string().trim().min(1, "Must not be empty").max(10_000, "At most 10000 characters")) });

/** Adds a note by the caller to a contact of the account (any agent). */
export async function addContactNote(ctx: AgentContext, input: { contactId: string; body: string }): Promise<ContactNote> {
  const { body } = parseInput(noteBody, { body: input.body });
  await requireContact(ctx, input.contactId);
  return ctx.prisma.contactNote.create({ data: { accountId: ctx.accountId, contactId: input.contactId, authorId: ctx.user.id, body } });
}

async function requireNote(ctx: AgentContext, noteId: string) {
  const note = await ctx.prisma.contactNote.findFirst({ where: { accountId: ctx.accountId, id: noteId } });
  if (!note) throw new NotFoundError("ContactNote", noteId);
  return note;
}

/** Edits a note: only its author may (ForbiddenError otherwise). */
export async function updateContactNote(ctx: AgentContext, input: { noteId: string; body: string }): Promise<ContactNote> {
  const { body } = parseInput(noteBody, { body: input.body });
  const note = await requireNote(ctx, input.noteId);
  if (note.authorId !== ctx.user.id) throw new ForbiddenError("Only the note's author can edit it");
  return ctx.prisma.contactNote.update({ where: { id: note.id }, data: { body } });
}

/** Deletes a note: its author, or an admin (any note of the account). */
export async function deleteContactNote(ctx: AgentContext, input: { noteId: string }): Promise<{ noteId: string }> {
  const note = await requireNote(ctx, input.noteId);
  if (note.authorId !== ctx.user.id && !hasRole(ctx.user.role, "ADMIN")) throw new ForbiddenError("Only the note's author or an admin can delete it");
  await ctx.prisma.contactNote.delete({ where: { id: note.id } });
  return { noteId: note.id };
}

// ---- Custom properties -------------------------------------------------------------------------

const KEY = /^[a-z][a-z0-9_]{0,63}$/;
const optionList = z.array(storable(z.string().trim().min(1, "Must not be empty").max(100, "At most 100 characters"))).max(100, "At most 100 options")
  .refine((o) => new Set(o).size === o.length, "Options must be distinct");
const definitionSchema = z.object({
  key: z.string().trim().regex(KEY, "Lower-case letters, digits and _, starting with a letter, at most 64"),
  label: storable(z.string().trim().min(1, "Must not be empty").max(120, "At most 120 characters")),
  type: z.enum(["STRING", "NUMBER", "BOOLEAN", "DATE", "SELECT"]),
  options: optionList.optional(),
});

/** The account's contact property definitions, by key. */
export function listContactPropertyDefinitions(ctx: AgentContext): Promise<ContactPropertyDefinition[]> {
  return ctx.prisma.contactPropertyDefinition.findMany({ where: { accountId: ctx.accountId }, orderBy: [{ key: "asc" }] });
}

/**
 * Defines a contact property (ADMIN+). A SELECT needs at least one option; other types take none.
 * The key is unique in the account (ValidationError on input.key) and cannot change later.
 */
export async function createContactPropertyDefinition(
  ctx: AgentContext,
  input: { key: string; label: string; type: ContactPropertyType; options?: string[] | null },
): Promise<ContactPropertyDefinition> {
  requireRole(ctx, "ADMIN", "define contact properties");
  const data = parseInput(definitionSchema, { ...input, options: input.options ?? undefined });
  const options = data.options ?? [];
  if (data.type === "SELECT" && options.length === 0) throw ValidationError.field("input.options", "A SELECT property needs at least one option");
  if (data.type !== "SELECT" && options.length > 0) throw ValidationError.field("input.options", "Only a SELECT property has options");
  try {
    return await ctx.prisma.contactPropertyDefinition.create({ data: { accountId: ctx.accountId, key: data.key, label: data.label, type: data.type, options } });
  } catch (err) {
    if (isUniqueViolation(err, ["key"])) throw ValidationError.field("input.key", "A contact property with this key exists");
    throw err;
  }
}

/**
 * Changes a definition's label or a SELECT's options (ADMIN+). Removing an option does not touch
 * the contacts holding it: they keep the value until it is set again (the next set must be valid).
 */
export async function updateContactPropertyDefinition(ctx: AgentContext, input: { definitionId: string; label?: string | null; options?: string[] | null }) {
  requireRole(ctx, "ADMIN", "define contact properties");
  const def = await ctx.prisma.contactPropertyDefinition.findFirst({ where: { accountId: ctx.accountId, id: input.definitionId } });
  if (!def) throw new NotFoundError("ContactPropertyDefinition", input.definitionId);
  const data = parseInput(z.object({ label: definitionSchema.shape.label.optional(), options: optionList.optional() }), { label: input.label ?? undefined, options: input.options ?? undefined });
  if (data.options && def.type !== "SELECT") throw ValidationError.field("input.options", "Only a SELECT property has options");
  if (data.options && data.options.length === 0) throw ValidationError.field("input.options", "A SELECT property needs at least one option");
  return ctx.prisma.contactPropertyDefinition.update({ where: { id: def.id }, data: { label: data.label ?? def.label, options: data.options ?? def.options } });
}

/** Deletes a definition (ADMIN+) and, in the same transaction, its values on every contact. */
export async function deleteContactPropertyDefinition(ctx: AgentContext, input: { definitionId: string }): Promise<{ definitionId: string }> {
  requireRole(ctx, "ADMIN", "define contact properties");
  return ctx.prisma.$transaction(async (tx) => {
    const def = await tx.contactPropertyDefinition.findFirst({ where: { accountId: ctx.accountId, id: input.definitionId } });
    if (!def) throw new NotFoundError("ContactPropertyDefinition", input.definitionId);
    await tx.contactPropertyDefinition.delete({ where: { id: def.id } });
    await tx.$executeRaw`UPDATE "Contact" SET "customProperties" = "customProperties" - ${def.key}::text WHERE "accountId" = ${ctx.accountId} AND "customProperties" -> ${def.key}::text IS NOT NULL`;
    return { definitionId: def.id };
  });
}

/** A stored value as it goes over the wire (text; numbers and booleans as JSON writes them). */
export function propertyText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Parses `text` as a value of `def` (ValidationError on `path` when it is not one). */
function parseValue(def: ContactPropertyDefinition, text: string, path: string): string | number | boolean {
  const bad = (message: string) => ValidationError.field(path, `${def.label} (${def.key}): ${message}`);
  switch (def.type) {
    case "STRING":
      if (text.length > 2000) throw bad("At most 2000 characters");
      if (!storable(z.string()).safeParse(text).success) throw bad("Contains characters that cannot be stored");
      return text;
    case "NUMBER": {
      const n = Number(text.trim());
      if (text.trim() === "" || !Number.isFinite(n)) throw bad("Must be a number");
      return n;
    }
    case "BOOLEAN":
      if (text !== "true" && text !== "false") throw bad('Must be "true" or "false"');
      return text === "true";
    case "DATE": {
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
      if (!ok) throw bad("Must be a date (YYYY-MM-DD)");
      return text;
    }
    case "SELECT":
      if (!def.options.includes(text)) throw bad(`Must be one of: ${def.options.join(", ")}`);
      return text;
  }
}

/**
 * Sets or clears (value null) custom property values on a contact (any agent). Every key must be
 * a defined property and every value valid for its type: STRING (at most 2000 characters), NUMBER,
 * BOOLEAN ("true"/"false"), DATE (YYYY-MM-DD), SELECT (one of the options). A bad one is a
 * ValidationError on input.properties.<i>.key or .value naming the property; nothing is written then.
 */
export async function setContactProperties(ctx: AgentContext, input: { contactId: string; properties: { key: string; value?: string | null }[] }) {
  if (input.properties.length > 100) throw ValidationError.field("input.properties", "At most 100 at once");
  return ctx.prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ customProperties: Prisma.JsonObject }[]>`
      SELECT "customProperties" FROM "Contact" WHERE "accountId" = ${ctx.accountId} AND id = ${input.contactId} FOR UPDATE`;
    if (!row) throw new NotFoundError("Contact", input.contactId);
    const defs = new Map((await tx.contactPropertyDefinition.findMany({ where: { accountId: ctx.accountId } })).map((d) => [d.key, d]));
    const next: Record<string, unknown> = { ...(row.customProperties ?? {}) };
    input.properties.forEach((p, i) => {
      const def = defs.get(p.key);
      if (!def) throw ValidationError.field(`input.properties.${i}.key`, `No contact property "${p.key}" is defined`);
      if (p.value === null || p.value === undefined) delete next[p.key];
      else next[p.key] = parseValue(def, p.value, `input.properties.${i}.value`);
    });
    await tx.contact.update({ where: { id: input.contactId }, data: { customProperties: next as Prisma.InputJsonObject } });
    return { contactId: input.contactId };
  });
}

/** The contact's values with their definitions, in key order (values of deleted definitions are gone). */
export async function contactPropertyValues(ctx: AgentContext, customProperties: unknown) {
  const values = (customProperties ?? {}) as Record<string, unknown>;
  const defs = await listContactPropertyDefinitions(ctx);
  return defs.filter((d) => values[d.key] !== undefined && values[d.key] !== null).map((definition) => ({ definition, value: values[definition.key] }));
}

// ---- Timeline ----------------------------------------------------------------------------------

export type TimelineKind = "CONVERSATION" | "TICKET" | "CALL" | "FORM_SUBMISSION";

export interface TimelineEntry {
  kind: TimelineKind;
  id: string;
  at: Date;
}

const TIMELINE_PAGE = { default: 20, max: 100 };

export function encodeTimelineCursor(e: TimelineEntry): string {
  return Buffer.from(JSON.stringify([e.at.toISOString(), e.kind, e.id])).toString("base64url");
}

function decodeTimelineCursor(cursor: string): TimelineEntry {
  try {
    const [at, kind, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, TimelineKind, string];
    const date = new Date(at);
    if (typeof id !== "string" || typeof kind !== "string" || Number.isNaN(date.getTime())) throw new Error("bad cursor");
    return { at: date, kind, id };
  } catch {
    throw ValidationError.field("after", "Not a cursor of this connection");
  }
}

/**
 * The contact's timeline, newest first: its conversations (started at; form conversations show as
 * their submissions instead), tickets (created at), calls and form submissions (the message's
 * time). Conversations, calls and submissions only from inboxes the caller sees; merged
 * conversations are left out. Keyset pages of `first` (default 20, at most 100) after `after`.
 */
export async function contactTimeline(ctx: AgentContext, contactId: string, args: { first?: number | null; after?: string | null }) {
  if (args.first != null && args.first < 0) throw ValidationError.field("first", "Must not be negative");
  const size = Math.min(args.first ?? TIMELINE_PAGE.default, TIMELINE_PAGE.max);
  const after = args.after ? decodeTimelineCursor(args.after) : null;
  const admin = hasRole(ctx.user.role, "ADMIN") && !ctx.visibleInboxIds;
  const inboxIds = admin ? [] : (await ctx.prisma.inbox.findMany({ where: visibleInboxWhere(ctx), select: { id: true } })).map((i) => i.id);
  const visible = admin ? Prisma.sql`TRUE` : Prisma.sql`c."inboxId" = ANY(${inboxIds}::text[])`;
  const a = ctx.accountId;
  const rows = await ctx.prisma.$queryRaw<TimelineEntry[]>`
    SELECT kind, id, at FROM (
      SELECT 'CONVERSATION' AS kind, c.id, c."createdAt" AS at FROM "Conversation" c
        JOIN "Channel" ch ON ch."accountId" = c."accountId" AND ch.id = c."channelId"
       WHERE c."accountId" = ${a} AND c."contactId" = ${contactId} AND c."mergedIntoId" IS NULL AND ch.type <> 'FORM' AND ${visible}
      UNION ALL
      SELECT 'TICKET', t.id, t."createdAt" FROM "Ticket" t WHERE t."accountId" = ${a} AND t."contactId" = ${contactId}
      UNION ALL
      SELECT CASE WHEN m.kind = 'CALL' THEN 'CALL' ELSE 'FORM_SUBMISSION' END, m.id, m."createdAt" FROM "Message" m
        JOIN "Conversation" c ON c."accountId" = m."accountId" AND c.id = m."conversationId"
       WHERE m."accountId" = ${a} AND c."contactId" = ${contactId} AND ${visible}
         AND (m.kind = 'CALL' OR (m.direction = 'INBOUND' AND m.metadata->>'formId' IS NOT NULL))
    ) items
    WHERE ${after ? Prisma.sql`(at, kind, id) < (${after.at}::timestamp(3), ${after.kind}, ${after.id})` : Prisma.sql`TRUE`}
    ORDER BY at DESC, kind DESC, id DESC LIMIT ${size + 1}`;
  return { entries: rows.slice(0, size), hasNextPage: rows.length > size, hasPreviousPage: after != null };
}
