import { queryFromInfo } from "@pothos/plugin-prisma";
import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { toConversationFilter } from "../schema/conversation-filter.js";
import {
  AssignConversationInput,
  ConversationFilter,
  ConversationObject,
  ConversationResult,
  SetAvailabilityInput,
  SetAvailabilityResult,
  SetConversationStatusInput,
} from "../schema/conversation.js";
import { assignConversation, decodeConversationCursor, encodeConversationCursor, listConversations, setConversationStatus } from "../services/conversations.js";
import { setAvailability } from "../services/availability.js";
import { findView, viewFilter } from "../services/views.js";
import { filterDecoder, selectsField } from "../schema/view.js";
import { announcePresence } from "../services/presence.js";

builder.queryFields((t) => ({
  conversations: t.withAuth({ agent: true }).connection(
    {
      type: ConversationObject,
      description:
        "Conversations of the inboxes the caller can see, latest activity first; `search` is a full-text query (websearch syntax) over messages, subject and contact. Pages forwards with `first`/`after` or backwards with `last`/`before` (default 20, at most 100; 0 gives an empty page with its pageInfo).",
      args: {
        filter: t.arg({ type: ConversationFilter, description: "Inbox, channel, status, assignee and date filters." }),
        viewId: t.arg.id({ description: "Only what this view (one the caller sees; see `views`) shows; combined with `filter` when both are given (both apply)." }),
        search: t.arg.string({ description: "Full-text query in websearch syntax (e.g. `refund -paypal \"order 42\"`) over message texts, subject and contact." }),
      },
      resolve: async (_root, args, ctx, info) => {
        const { nodes, hasNextPage, hasPreviousPage } = await listConversations(
          ctx,
          {
            filter: toConversationFilter(args.filter),
            viewFilter: args.viewId ? viewFilter(ctx, await findView(ctx, fromGlobalId(args.viewId, "View")), filterDecoder(info.schema)) : null,
            withUnreadCount: selectsField(info, "unreadCount"),
            search: args.search,
            first: args.first,
            after: args.after != null ? decodeConversationCursor(args.after, "after") : null,
            last: args.last,
            before: args.before != null ? decodeConversationCursor(args.before, "before") : null,
          },
          queryFromInfo({ context: ctx, info, path: ["edges", "node"], typeName: "Conversation" }),
        );
        return {
          edges: nodes.map((node) => ({ cursor: encodeConversationCursor(node), node })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage,
            startCursor: nodes.length ? encodeConversationCursor(nodes[0]) : null,
            endCursor: nodes.length ? encodeConversationCursor(nodes[nodes.length - 1]) : null,
          },
        };
      },
    },
    { name: "ConversationConnection" },
  ),
}));

builder.mutationFields((t) => ({
  assignConversation: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Assigns a conversation to a user who can see its inbox, or unassigns it; the ticket owner follows when it was the previous assignee.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "AssignConversationPayload" } },
    args: { input: t.arg({ type: AssignConversationInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const assigneeId = input.assigneeId ? fromGlobalId(input.assigneeId, "User") : null;
      const conversation = await assignConversation(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), assigneeId });
      return { conversationId: conversation.id };
    },
  }),
  setConversationStatus: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Closes or reopens a conversation.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetConversationStatusPayload" } },
    args: { input: t.arg({ type: SetConversationStatusInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      conversationId: (await setConversationStatus(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), status: input.status })).id,
    }),
  }),
  setAvailability: t.withAuth({ agent: true }).field({
    type: SetAvailabilityResult,
    description: "Sets the caller's availability; becoming AVAILABLE may assign them waiting conversations at once (see assignedConversations).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetAvailabilityPayload" } },
    args: { input: t.arg({ type: SetAvailabilityInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { user, assignedConversationIds } = await setAvailability(ctx, input.availability);
      announcePresence(ctx, ctx.accountId, user.id);
      return { userId: user.id, assignedConversationIds };
    },
  }),
}));
