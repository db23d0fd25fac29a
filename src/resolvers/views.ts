import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { ConversationResult } from "../schema/conversation.js";
import {
  CreateViewInput,
  DeleteViewInput,
  DeleteViewResult,
  filterDecoder,
  MarkConversationReadInput,
  storableFilter,
  UpdateViewInput,
  ViewCountObject,
  ViewObject,
  ViewResult,
} from "../schema/view.js";
import { createView, deleteView, listViews, updateView, viewCounts } from "../services/views.js";
import { markConversationRead } from "../services/read-state.js";
import { viewCountSignals } from "../services/view-count-events.js";

const INPUT = "The mutation's arguments as one input object (see the input type for each field).";

builder.queryFields((t) => ({
  views: t.withAuth({ agent: true }).field({
    type: [ViewObject],
    description: "The views the caller sees: the built-in ones, then the account's shared views, then the caller's personal views (each by position).",
    resolve: (_root, _args, ctx) => listViews(ctx),
  }),
  viewCounts: t.withAuth({ agent: true }).field({
    type: [ViewCountObject],
    description: "Every view's count and unread count for the caller, in the order of `views` (one SQL statement for all of them).",
    resolve: (_root, _args, ctx, info) => viewCounts(ctx, filterDecoder(info.schema)),
  }),
}));

builder.mutationFields((t) => ({
  markConversationRead: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Marks a conversation read for the caller, up to a message or entirely; the position never moves backwards. Their unread counts follow (viewCountsChanged pushes).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MarkConversationReadPayload" } },
    args: { input: t.arg({ type: MarkConversationReadInput, required: true, description: INPUT }) },
    resolve: async (_root, args, ctx) => {
      const i = args.input;
      const conversation = await markConversationRead(ctx, {
        conversationId: fromGlobalId(i.conversationId, "Conversation"),
        messageId: i.messageId ? fromGlobalId(i.messageId, "Message") : null,
      });
      return { conversationId: conversation.id };
    },
  }),
  createView: t.withAuth({ agent: true }).field({
    type: ViewResult,
    description: "Saves a custom view: personal, or shared with the account (admins only).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateViewPayload" } },
    args: { input: t.arg({ type: CreateViewInput, required: true, description: INPUT }) },
    resolve: async (_root, args, ctx, info) => {
      const i = args.input;
      return { view: await createView(ctx, { name: i.name, filter: storableFilter(i.filter), shared: i.shared, position: i.position }, filterDecoder(info.schema)) };
    },
  }),
  updateView: t.withAuth({ agent: true }).field({
    type: ViewResult,
    description: "Renames, refilters or moves a custom view: a personal one by its owner, a shared one by an admin.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateViewPayload" } },
    args: { input: t.arg({ type: UpdateViewInput, required: true, description: INPUT }) },
    resolve: async (_root, args, ctx, info) => {
      const i = args.input;
      const viewId = fromGlobalId(i.viewId, "View");
      return { view: await updateView(ctx, { viewId, name: i.name, filter: i.filter ? storableFilter(i.filter) : null, position: i.position }, filterDecoder(info.schema)) };
    },
  }),
  deleteView: t.withAuth({ agent: true }).field({
    type: DeleteViewResult,
    description: "Deletes a custom view (same permissions as updateView).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeleteViewPayload" } },
    args: { input: t.arg({ type: DeleteViewInput, required: true, description: INPUT }) },
    resolve: async (_root, args, ctx) => ({ viewId: await deleteView(ctx, fromGlobalId(args.input.viewId, "View")) }),
  }),
}));

builder.subscriptionFields((t) => ({
  viewCountsChanged: t.withAuth({ agent: true }).field({
    type: [ViewCountObject],
    description:
      "The caller's viewCounts: once at once, then after conversation events of the inboxes the caller can see (and their own read changes), at most one push a second (events in between are coalesced). Computed per subscriber, never shared.",
    extensions: { perCaller: true },
    subscribe: (_root, _args, ctx) => viewCountSignals(ctx),
    resolve: (_signal, _args, ctx, info) => viewCounts(ctx, filterDecoder(info.schema)),
  }),
}));
