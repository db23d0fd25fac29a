import { Prisma, type View } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { compileWhere, UnsupportedQuery } from "../db/read-sql.js";
import { sqlQuery } from "../db/sql.js";
import { hasRole, requireRole } from "./access.js";
import { conversationFilterWhere, type ConversationFilter } from "./conversation-filter.js";
import { AppError, ForbiddenError, NotFoundError, ValidationError } from "./errors.js";
import { unreadConversationSql } from "./read-state.js";

/**
 * Views: saved conversation filters with live counts. Four built-in views every agent has (not
 * stored: their filters depend on who asks), then the account's shared views (ownerId null; only
 * admins create, edit and delete them; everyone sees them), then the caller's personal views
 * (only their owner sees or edits them; another user's personal view is not found).
 *
 * A view stores the ConversationFilter GraphQL input as given (global ids, ISO dates): it is
 * decoded on every use by the GraphQL layer's decoder (`decode`, src/schema/view.ts) into the one
 * filter of src/services/conversation-filter.ts, so any criterion added there works in views.
 */
export const BUILT_IN_VIEWS = ["ASSIGNED_TO_ME", "UNASSIGNED", "ALL_OPEN", "MENTIONS"] as const;
export type BuiltInView = (typeof BUILT_IN_VIEWS)[number];

const BUILT_IN_NAMES: Record<BuiltInView, string> = { ASSIGNED_TO_ME: "Assigned to me", UNASSIGNED: "Unassigned", ALL_OPEN: "All open", MENTIONS: "Mentions" };

/** A view as the API shows it: a stored row, or a built-in one (id = its key, filter in service terms). */
export interface ViewRecord {
  id: string;
  builtIn: BuiltInView | null;
  name: string;
  ownerId: string | null;
  /** Stored views: the filter input as saved. Built-in views: null (see builtInFilter). */
  storedFilter: unknown;
  position: number;
}

/** Decodes a stored filter (the GraphQL input as given) into the service filter; throws ValidationError when it no longer decodes. */
export type FilterDecoder = (stored: unknown) => ConversationFilter;

/** The filter of a built-in view for the caller. */
export function builtInFilter(ctx: AgentContext, key: BuiltInView): ConversationFilter {
  switch (key) {
    case "ASSIGNED_TO_ME":
      return { assigneeId: ctx.user.id, status: "OPEN" };
    case "UNASSIGNED":
      return { unassigned: true, status: "OPEN" };
    case "ALL_OPEN":
      return { status: "OPEN" };
    case "MENTIONS":
      return { mentionsMe: true };
  }
}

const isBuiltIn = (id: string): id is BuiltInView => (BUILT_IN_VIEWS as readonly string[]).includes(id);

const fromRow = (v: View): ViewRecord => ({ id: v.id, builtIn: null, name: v.name, ownerId: v.ownerId, storedFilter: v.filter, position: v.position });

/** The views the caller sees: built-in, then shared, then their own, each by position then creation. */
export async function listViews(ctx: AgentContext): Promise<ViewRecord[]> {
  const rows = await ctx.prisma.view.findMany({
    where: { accountId: ctx.accountId, OR: [{ ownerId: null }, { ownerId: ctx.user.id }] },
    orderBy: [{ position: "asc" }, { createdAt: "asc" }, { id: "asc" }],
  });
  return [...builtInViews(), ...rows.filter((r) => r.ownerId === null).map(fromRow), ...rows.filter((r) => r.ownerId !== null).map(fromRow)];
}

/** A view the caller sees (a built-in key or a stored id); NotFoundError otherwise (another user's personal view included). */
export async function findView(ctx: AgentContext, id: string): Promise<ViewRecord> {
  if (isBuiltIn(id)) return builtInViews().find((v) => v.id === id)!;
  const row = /^[0-9a-f-]{36}$/i.test(id) ? await ctx.prisma.view.findFirst({ where: { id, accountId: ctx.accountId, OR: [{ ownerId: null }, { ownerId: ctx.user.id }] } }) : null;
  if (!row) throw new NotFoundError("View", id);
  return fromRow(row);
}

function builtInViews(): ViewRecord[] {
  return BUILT_IN_VIEWS.map((key, i) => ({ id: key, builtIn: key, name: BUILT_IN_NAMES[key], ownerId: null, storedFilter: null, position: i }));
}

/** The service filter a view applies for the caller. */
export function viewFilter(ctx: AgentContext, view: ViewRecord, decode: FilterDecoder): ConversationFilter {
  return view.builtIn ? builtInFilter(ctx, view.builtIn) : decode(view.storedFilter ?? {});
}

/**
 * Checks a filter before it is saved: it decodes (ValidationError on input.filter otherwise), the
 * inbox, channel and assignee it names exist in the account, and the read path can count it.
 */
async function validateFilter(ctx: AgentContext, stored: unknown, decode: FilterDecoder): Promise<void> {
  let f: ConversationFilter;
  try {
    f = decode(stored);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw ValidationError.field("input.filter", err instanceof AppError ? err.message : "Not a conversation filter");
  }
  const [inbox, channel, user] = await Promise.all([
    f.inboxId ? ctx.prisma.inbox.findFirst({ where: { id: f.inboxId, accountId: ctx.accountId }, select: { id: true } }) : true,
    f.channelId ? ctx.prisma.channel.findFirst({ where: { id: f.channelId, accountId: ctx.accountId }, select: { id: true } }) : true,
    f.assigneeId ? ctx.prisma.user.findFirst({ where: { id: f.assigneeId, accountId: ctx.accountId }, select: { id: true } }) : true,
  ]);
  if (!inbox) throw ValidationError.field("input.filter.inboxId", "Unknown inbox");
  if (!channel) throw ValidationError.field("input.filter.channelId", "Unknown channel");
  if (!user) throw ValidationError.field("input.filter.assigneeId", "Unknown user");
  try {
    compileWhere("Conversation", conversationFilterWhere(ctx, f), "vc");
  } catch (err) {
    if (err instanceof UnsupportedQuery) throw ValidationError.field("input.filter", "This filter cannot be counted");
    throw err;
  }
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw ValidationError.field("input.name", "Must not be empty");
  if (trimmed.length > 100) throw ValidationError.field("input.name", "At most 100 characters");
  return trimmed;
}

function checkPosition(position: number | null | undefined): number | undefined {
  if (position == null) return undefined;
  if (!Number.isInteger(position) || position < 0 || position > 10_000) throw ValidationError.field("input.position", "A whole number from 0 to 10,000");
  return position;
}

/** A stored view the caller may edit: their own personal view, or (admins) a shared one. */
async function editableView(ctx: AgentContext, id: string): Promise<View> {
  if (isBuiltIn(id)) throw new ForbiddenError("Built-in views cannot be changed");
  const view = await findView(ctx, id);
  if (view.ownerId === null && !hasRole(ctx.user.role, "ADMIN")) throw new ForbiddenError("Only an admin can change shared views");
  return ctx.prisma.view.findUniqueOrThrow({ where: { id } });
}

/** Creates a personal view (default) or, for admins, a shared one (`shared: true`). */
export async function createView(ctx: AgentContext, input: { name: string; filter: unknown; shared?: boolean | null; position?: number | null }, decode: FilterDecoder): Promise<ViewRecord> {
  if (input.shared) requireRole(ctx, "ADMIN", "create shared views");
  const name = checkName(input.name);
  const position = checkPosition(input.position);
  await validateFilter(ctx, input.filter, decode);
  const row = await ctx.prisma.view.create({
    data: { accountId: ctx.accountId, name, ownerId: input.shared ? null : ctx.user.id, filter: input.filter as Prisma.InputJsonValue, position },
  });
  return fromRow(row);
}

/** Renames, refilters or moves a view (absent fields stay); see editableView for who may. */
export async function updateView(ctx: AgentContext, input: { viewId: string; name?: string | null; filter?: unknown; position?: number | null }, decode: FilterDecoder): Promise<ViewRecord> {
  const view = await editableView(ctx, input.viewId);
  const name = input.name != null ? checkName(input.name) : undefined;
  const position = checkPosition(input.position);
  if (input.filter != null) await validateFilter(ctx, input.filter, decode);
  const row = await ctx.prisma.view.update({
    where: { id: view.id },
    data: { name, position, filter: input.filter != null ? (input.filter as Prisma.InputJsonValue) : undefined },
  });
  return fromRow(row);
}

/** Deletes a view; see editableView for who may. Returns its id. */
export async function deleteView(ctx: AgentContext, viewId: string): Promise<string> {
  const view = await editableView(ctx, viewId);
  await ctx.prisma.view.delete({ where: { id: view.id } });
  return view.id;
}

/** One view's live figures for the caller. */
export interface ViewCount {
  view: ViewRecord;
  /** Conversations the view matches (that the caller can see). */
  count: number;
  /** Of those, the ones unread for the caller (src/services/read-state.ts). */
  unreadCount: number;
}

/**
 * `count` and `unreadCount` of every view the caller sees, in ONE statement: each view's filter
 * compiled by the read path (src/db/read-sql.ts compileWhere) into one branch of a UNION ALL
 * (each branch uses the index its filter suits), joined with the caller's read positions. A
 * stored filter that no longer decodes or compiles counts nothing.
 */
export async function viewCounts(ctx: AgentContext, decode: FilterDecoder): Promise<ViewCount[]> {
  const views = await listViews(ctx);
  const unread = unreadConversationSql(ctx.accountId, ctx.user.id, "vc", "vr");
  const branches = views.map((view, i) => {
    let cond: Prisma.Sql;
    try {
      cond = compileWhere("Conversation", conversationFilterWhere(ctx, viewFilter(ctx, view, decode)), "vc");
    } catch (err) {
      if (!(err instanceof UnsupportedQuery || err instanceof AppError)) throw err;
      cond = Prisma.sql`FALSE`;
    }
    return Prisma.sql`SELECT ${i}::int AS n, count(*)::int AS count, (count(*) FILTER (WHERE ${unread}))::int AS unread
      FROM "Conversation" vc LEFT JOIN "ConversationRead" vr ON vr."userId" = ${ctx.user.id} AND vr."conversationId" = vc.id
      WHERE ${cond}`;
  });
  const rows = await sqlQuery<{ n: number; count: number; unread: number }>(ctx.prisma, Prisma.join(branches, " UNION ALL "));
  const byIndex = new Map(rows.map((r) => [Number(r.n), r]));
  return views.map((view, i) => ({ view, count: Number(byIndex.get(i)?.count ?? 0), unreadCount: Number(byIndex.get(i)?.unread ?? 0) }));
}
