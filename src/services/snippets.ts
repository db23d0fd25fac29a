import { z } from "zod";
import type { Prisma, Snippet, SnippetKind } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { hasRole } from "./access.js";
import { findVisibleConversation } from "./conversations.js";
import { ForbiddenError, NotFoundError, ValidationError } from "./errors.js";
import { validateOutboundUrl } from "./outbound-url.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { htmlToPlainText, sanitizeRichText } from "./rich-text.js";
import { name, parseInput } from "./validation.js";

/**
 * Snippets: canned replies (TEXT) and insertable links (DOCUMENT, MEETING_LINK, KNOWLEDGE_BASE)
 * that agents pick by shortcut in the reply editor. Shared snippets (no owner) are seen by the
 * whole account and managed by admins; personal ones are seen and edited by their owner only
 * (an admin cannot read another user's personal snippets: they behave as missing).
 */

type SnippetQuery = { include?: Prisma.SnippetInclude; select?: Prisma.SnippetSelect };

const LINK_KINDS: readonly SnippetKind[] = ["DOCUMENT", "MEETING_LINK", "KNOWLEDGE_BASE"];

const fields = z.object({
  kind: z.enum(["TEXT", "DOCUMENT", "MEETING_LINK", "KNOWLEDGE_BASE"]),
  name: name(120),
  shortcut: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, "1-40 letters, digits, '.', '_' or '-', starting with a letter or digit"),
  body: z.string().max(50_000, "At most 50000 characters"),
  url: z.string().trim().max(2048, "At most 2048 characters").nullish(),
});

export interface SnippetInput {
  kind?: SnippetKind | null;
  name?: string | null;
  shortcut?: string | null;
  body?: string | null;
  url?: string | null;
  /** Create only: true makes a shared snippet (ADMIN+); default a personal one. */
  shared?: boolean | null;
}

/** Snippets the caller may see: the account's shared ones and the caller's own. */
function visibleSnippetWhere(ctx: AgentContext): Prisma.SnippetWhereInput {
  return { accountId: ctx.accountId, OR: [{ ownerId: null }, { ownerId: ctx.user.id }] };
}

/** The where of Snippet's node lookup (a foreign or someone else's personal snippet is not found). */
export function snippetNodeWhere(ctx: AgentContext, id: string): Prisma.SnippetWhereUniqueInput {
  return { id, accountId: ctx.accountId, OR: [{ ownerId: null }, { ownerId: ctx.user.id }] };
}

/** Merges `input` over `current`, validates the whole snippet and sanitizes its body. */
async function parseSnippet(ctx: AgentContext, input: SnippetInput, current: Snippet | null) {
  const merged = parseInput(fields, {
    kind: input.kind ?? current?.kind ?? "TEXT",
    name: input.name ?? current?.name,
    shortcut: input.shortcut ?? current?.shortcut,
    body: input.body ?? current?.body ?? "",
    url: input.url === undefined ? current?.url : input.url,
  });
  const isLink = LINK_KINDS.includes(merged.kind);
  if (isLink && !merged.url) throw ValidationError.field(["input", "url"], `A ${merged.kind} snippet needs a URL`);
  if (!isLink && merged.url) throw ValidationError.field(["input", "url"], "Only link snippets (DOCUMENT, MEETING_LINK, KNOWLEDGE_BASE) have a URL");
  if (merged.url && merged.url !== current?.url) await validateOutboundUrl(merged.url, ctx.config.outbound, ["input", "url"]);
  const body = merged.body.trim() ? sanitizeRichText(merged.body) : null;
  // A link snippet may have no text of its own (the link is what is inserted); a TEXT one may not.
  if (!body && !isLink) throw ValidationError.field(["input", "body"], "Must not be empty");
  return { kind: merged.kind, name: merged.name, shortcut: merged.shortcut, body: body ?? "", url: isLink ? merged.url! : null };
}

/** Shared snippets are the admins'; personal ones their owner's. */
function requireManage(ctx: AgentContext, snippet: Pick<Snippet, "ownerId">) {
  if (snippet.ownerId === null && !hasRole(ctx.user.role, "ADMIN")) throw new ForbiddenError("Only an admin can change shared snippets");
}

async function loadVisible(ctx: AgentContext, id: string): Promise<Snippet> {
  const snippet = await ctx.prisma.snippet.findFirst({ where: { id, ...visibleSnippetWhere(ctx) } });
  if (!snippet) throw new NotFoundError("Snippet", id);
  return snippet;
}

function shortcutTaken(err: unknown): never {
  if (isUniqueViolation(err)) throw ValidationError.field(["input", "shortcut"], "A snippet with this shortcut already exists (shortcuts are unique among shared snippets, and among each user's own)");
  throw err;
}

/** Creates a personal snippet, or a shared one (`shared: true`, ADMIN+). */
export async function createSnippet(ctx: AgentContext, input: SnippetInput, query: SnippetQuery = {}) {
  const shared = input.shared === true;
  if (shared && !hasRole(ctx.user.role, "ADMIN")) throw new ForbiddenError("Only an admin can create shared snippets");
  const data = await parseSnippet(ctx, input, null);
  const ownerId = shared ? null : ctx.user.id;
  return ctx.prisma.snippet.create({ ...query, data: { ...data, accountId: ctx.accountId, ownerId, ownerKey: ownerId ?? "" } }).catch(shortcutTaken);
}

/** Updates a snippet the caller may manage (omitted or null fields keep their value; `url: null` clears it). */
export async function updateSnippet(ctx: AgentContext, id: string, input: SnippetInput, query: SnippetQuery = {}) {
  const current = await loadVisible(ctx, id);
  requireManage(ctx, current);
  const data = await parseSnippet(ctx, input, current);
  return ctx.prisma.snippet.update({ ...query, where: { id: current.id }, data }).catch(shortcutTaken);
}

/** Deletes a snippet the caller may manage; returns its id. */
export async function deleteSnippet(ctx: AgentContext, id: string): Promise<string> {
  const current = await loadVisible(ctx, id);
  requireManage(ctx, current);
  await ctx.prisma.snippet.delete({ where: { id: current.id } });
  return current.id;
}

/**
 * The caller's snippets (shared and own), optionally of one kind. `search` matches a shortcut
 * prefix (what the editor sends after the trigger character, case-insensitive) or the start of a
 * word of the name; shortcut matches come first, then by shortcut.
 */
export async function listSnippets(ctx: AgentContext, args: { search?: string | null; kind?: SnippetKind | null }, query: SnippetQuery = {}) {
  const term = args.search?.trim().toLowerCase() ?? "";
  if (term.length > 120) throw ValidationError.field(["search"], "At most 120 characters");
  const where: Prisma.SnippetWhereInput = {
    AND: [
      visibleSnippetWhere(ctx),
      ...(args.kind ? [{ kind: args.kind }] : []),
      ...(term
        ? [
            {
              OR: [{ shortcut: { startsWith: term } }, { name: { startsWith: term, mode: "insensitive" as const } }, { name: { contains: ` ${term}`, mode: "insensitive" as const } }],
            },
          ]
        : []),
    ],
  };
  const rows = await ctx.prisma.snippet.findMany({ ...query, where, orderBy: [{ shortcut: "asc" }, { ownerKey: "desc" }], take: 200 });
  if (!term) return rows;
  const byShortcut = (s: (typeof rows)[number]) => ((s as unknown as Snippet).shortcut.startsWith(term) ? 0 : 1);
  return [...rows].sort((a, b) => byShortcut(a) - byShortcut(b));
}

export interface RenderedSnippet {
  snippetId: string;
  kind: SnippetKind;
  /** The body with tokens filled (values HTML-escaped); "" for a link snippet without text. */
  richText: string;
  /** The same as plain text. */
  text: string;
  url: string | null;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** `{{ contact.firstName }}`: a token, spaces inside the braces allowed. */
const TOKEN = /\{\{\s*([a-zA-Z]+\.[a-zA-Z]+)\s*\}\}/g;

/**
 * The snippet's body for one conversation the caller can see, tokens filled:
 * - `{{contact.firstName}}` the first word of the contact's name (or, with no contact, the visitor's), `{{contact.lastName}}` the rest,
 *   `{{contact.fullName}}` the whole name. Missing (no contact, or a contact without a name):
 *   firstName and fullName fall back to "there" ("Hi {{contact.firstName}}" reads "Hi there"),
 *   lastName to "".
 * - `{{agent.name}}` the caller's first and last name (first name alone when there is no last).
 * - `{{company.name}}` the account's name (the team's own company, as in email From names).
 * Unknown tokens are left as written, so a typo shows in the editor instead of vanishing.
 * Values are HTML-escaped inside the rich text (a contact named `<b>x</b>` stays text).
 */
export async function renderSnippet(ctx: AgentContext, input: { snippetId: string; conversationId: string }): Promise<RenderedSnippet> {
  const snippet = await loadVisible(ctx, input.snippetId);
  const conversation = await findVisibleConversation(ctx.prisma, ctx, input.conversationId);
  const [contact, account] = await Promise.all([
    conversation.contactId ? ctx.prisma.contact.findFirst({ where: { accountId: ctx.accountId, id: conversation.contactId }, select: { name: true } }) : null,
    ctx.prisma.account.findUniqueOrThrow({ where: { id: ctx.accountId }, select: { name: true } }),
  ]);
  const contactName = (contact?.name || conversation.visitorName || "").trim().replace(/\s+/g, " ");
  const [first, ...rest] = contactName ? contactName.split(" ") : [];
  const values: Record<string, string> = {
    "contact.firstName": first ?? "there",
    "contact.lastName": rest.join(" "),
    "contact.fullName": contactName || "there",
    "agent.name": `${ctx.user.firstName} ${ctx.user.lastName}`.trim(),
    "company.name": account.name,
  };
  const richText = snippet.body.replace(TOKEN, (whole, key: string) => (key in values ? escapeHtml(values[key]) : whole));
  return { snippetId: snippet.id, kind: snippet.kind, richText, text: richText ? (htmlToPlainText(richText) ?? "") : "", url: snippet.url };
}
