import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { MergeContactsInput, MergeContactsResult, MergeConversationsInput, MergeConversationsResult, MergeTicketsInput, MergeTicketsResult } from "../schema/merge.js";
import { mergeContacts, mergeConversations, mergeTickets } from "../services/merge.js";

const decode = (input: { targetId: string | number; sourceIds: (string | number)[] }, typename: string) => ({
  targetId: fromGlobalId(String(input.targetId), typename),
  sourceIds: input.sourceIds.map((id) => fromGlobalId(String(id), typename)),
});
const argDescription = "The mutation's arguments as one input object (see the input type for each field).";

builder.mutationFields((t) => ({
  mergeConversations: t.withAuth({ agent: true }).field({
    type: MergeConversationsResult,
    description:
      "Merges conversations into a target: their messages move into it in time order (external ids kept, so retried transport messages stay duplicates), later messages on their threads land in it, one internal comment records the merge, and the sources disappear from lists.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MergeConversationsPayload" } },
    args: { input: t.arg({ type: MergeConversationsInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => mergeConversations(ctx, decode(input, "Conversation")),
  }),
  mergeTickets: t.withAuth({ agent: true }).field({
    type: MergeTicketsResult,
    description: "Merges tickets into a target: their conversations move to it, missing properties are taken over, the sources are deleted.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MergeTicketsPayload" } },
    args: { input: t.arg({ type: MergeTicketsInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => mergeTickets(ctx, decode(input, "Ticket")),
  }),
  mergeContacts: t.withAuth({ agent: true }).field({
    type: MergeContactsResult,
    description:
      "Merges duplicate contacts (e.g. one person writing from several Messenger pages) into a target: conversations, tickets, channel handles and notes move to it, its empty fields are filled from the sources, the sources are deleted; a note records the merge.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MergeContactsPayload" } },
    args: { input: t.arg({ type: MergeContactsInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => mergeContacts(ctx, decode(input, "Contact")),
  }),
}));
