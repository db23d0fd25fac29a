import { coerceInputValue, Kind, type GraphQLInputObjectType, type GraphQLResolveInfo, type GraphQLSchema, type SelectionSetNode } from "graphql";
import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { ConversationObject } from "./conversation.js";
import { ConversationFilter, toConversationFilter } from "./conversation-filter.js";
import { BUILT_IN_VIEWS, type BuiltInView, type FilterDecoder, type ViewCount, type ViewRecord } from "../services/views.js";
import { countUnread } from "../services/read-state.js";
import { ValidationError } from "../services/errors.js";

export const BuiltInViewEnum = builder.enumType("BuiltInView", {
  description: "The views every agent has (not stored; their filters depend on who asks).",
  values: {
    ASSIGNED_TO_ME: { description: "Open conversations assigned to the caller." },
    UNASSIGNED: { description: "Open conversations without an assignee." },
    ALL_OPEN: { description: "Every open conversation the caller can see." },
    MENTIONS: { description: "Conversations with a comment that mentions the caller; their unread count is the ones with unread mentions or activity." },
  } satisfies Record<BuiltInView, { description: string }>,
});

/** A built-in view's filter shown as a ConversationFilter input, as stored views show theirs. */
function builtInFilterInput(key: BuiltInView, userId: string): Record<string, unknown> {
  if (key === "ASSIGNED_TO_ME") return { assigneeId: toGlobalId("User", userId), status: "OPEN" };
  if (key === "UNASSIGNED") return { unassigned: true, status: "OPEN" };
  if (key === "ALL_OPEN") return { status: "OPEN" };
  return { mentionsMe: true };
}

export const ViewObject = builder.objectRef<ViewRecord>("View").implement({
  description: "A saved conversation filter: built-in, shared with the account (admins manage it) or personal (only its owner sees it). Its live figures: viewCounts / viewCountsChanged; its conversations: conversations(viewId:).",
  fields: (t) => ({
    id: t.id({ description: "Global id (built-in views have one too); pass it to conversations(viewId:).", resolve: (v) => toGlobalId("View", v.id) }),
    name: t.exposeString("name", { description: "What the inbox's side bar shows." }),
    builtIn: t.field({ type: BuiltInViewEnum, nullable: true, description: "Which built-in view this is; null for a custom one.", resolve: (v) => v.builtIn }),
    shared: t.boolean({ description: "True for built-in and shared views, false for a personal one.", resolve: (v) => v.ownerId === null }),
    filter: t.field({
      type: "JSONObject",
      description: "The filter as a ConversationFilter input (global ids, ISO dates), as saved.",
      resolve: (v, _a, ctx) => (v.builtIn ? builtInFilterInput(v.builtIn, ctx.kind === "agent" ? ctx.user.id : "") : ((v.storedFilter ?? {}) as Record<string, unknown>)),
    }),
    position: t.exposeInt("position", { description: "Sort position among views of the same kind (built-in, shared, personal); ties by creation." }),
  }),
});

export const ViewCountObject = builder.objectRef<ViewCount>("ViewCount").implement({
  description: "A view's live figures for the caller.",
  fields: (t) => ({
    view: t.field({ type: ViewObject, description: "The view.", resolve: (c) => c.view }),
    count: t.exposeInt("count", { description: "Conversations the view matches that the caller can see." }),
    unreadCount: t.exposeInt("unreadCount", { description: "Of those, the ones unread for the caller: activity (not a comment) after their read position, or an unread mention of them." }),
  }),
});

builder.objectField(ConversationObject, "unreadCount", (t) =>
  t.withAuth({ agent: true }).int({
    description:
      "Messages the caller has not read: added after their read position (markConversationRead; their own replies move it) and not written by them. Comments count only when they mention the caller.",
    // Per caller: a shared subscription execution must not compute it once for everyone.
    extensions: { perCaller: true },
    // The list and node(id:) load it in their one statement (read path); other loads ask here.
    resolve: (c, _a, ctx) => (c as { unreadCount?: number }).unreadCount ?? countUnread(ctx, c.id),
  }),
);

export const CreateViewInput = builder.inputType("CreateViewInput", {
  description: "A new custom view: personal by default; shared (admins only) with `shared: true`.",
  fields: (t) => ({
    name: t.string({ required: true, description: "1 to 100 characters." }),
    filter: t.field({ type: ConversationFilter, required: true, description: "What the view shows: any filter `conversations(filter:)` takes; checked on save (ids must exist in the account)." }),
    shared: t.boolean({ description: "True: shared with the whole account (admins only). Default false: personal." }),
    position: t.int({ description: "Sort position (0 to 10,000; default 0)." }),
  }),
});

export const UpdateViewInput = builder.inputType("UpdateViewInput", {
  description: "Changes a custom view (absent fields stay). Personal views: their owner only; shared ones: admins only; built-in ones: nobody.",
  fields: (t) => ({
    viewId: t.id({ required: true, description: "A custom view the caller sees." }),
    name: t.string({ description: "New name (1 to 100 characters)." }),
    filter: t.field({ type: ConversationFilter, description: "New filter, replacing the old one entirely." }),
    position: t.int({ description: "New sort position (0 to 10,000)." }),
  }),
});

export const DeleteViewInput = builder.inputType("DeleteViewInput", {
  description: "Deletes a custom view (same permissions as updateView).",
  fields: (t) => ({ viewId: t.id({ required: true, description: "A custom view the caller sees." }) }),
});

export const MarkConversationReadInput = builder.inputType("MarkConversationReadInput", {
  description: "Moves the caller's read position in a conversation; it never moves backwards.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    messageId: t.id({ description: "Read up to this message or comment of the conversation; default: everything in it now." }),
  }),
});

export const ViewResult = builder.objectRef<{ view: ViewRecord }>("ViewResult").implement({
  description: "A view was created or changed.",
  fields: (t) => ({ view: t.field({ type: ViewObject, description: "The view as it is now.", resolve: (r) => r.view }) }),
});

export const DeleteViewResult = builder.objectRef<{ viewId: string }>("DeleteViewResult").implement({
  description: "A view was deleted.",
  fields: (t) => ({ deletedViewId: t.id({ description: "Global id of the deleted view.", resolve: (r) => toGlobalId("View", r.viewId) }) }),
});

/**
 * True when the operation selects a field named `name` anywhere under this field (fragments
 * included): over-approximate on purpose, as computing a value nobody reads is only a cost.
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): boolean =>
    !!set &&
    set.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === name || visit(s.selectionSet);
      if (s.kind === Kind.INLINE_FRAGMENT) return visit(s.selectionSet);
      if (seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      return visit(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((f) => visit(f.selectionSet));
}

/** A parsed ConversationFilter input as a view stores it: JSON as the client gave it (dates as ISO strings). */
export function storableFilter(filter: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(filter ?? {})) as Record<string, unknown>;
}

/**
 * The decoder of stored view filters: the stored input coerced by the schema's own
 * ConversationFilter type (so every field another feature adds decodes as it does in
 * `conversations(filter:)`), then toConversationFilter. Fields the input no longer has are ignored.
 */
export function filterDecoder(schema: GraphQLSchema): FilterDecoder {
  const type = schema.getType("ConversationFilter") as GraphQLInputObjectType;
  return (stored) => {
    if (!stored || typeof stored !== "object" || Array.isArray(stored)) throw ValidationError.field("input.filter", "Not a filter object");
    const fields = type.getFields();
    const known = Object.fromEntries(Object.entries(stored as Record<string, unknown>).filter(([k]) => k in fields));
    const errors: { path: string[]; message: string }[] = [];
    const value = coerceInputValue(known, type, (path, _v, err) => errors.push({ path: ["input", "filter", ...path.map(String)], message: err.message }));
    if (errors.length) throw new ValidationError(errors);
    return toConversationFilter(value as typeof ConversationFilter.$inferInput);
  };
}

export { BUILT_IN_VIEWS };
