import { builder } from "../schema/builder.js";
import { fromGlobalId, toGlobalId } from "../schema/ids.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { ConversationResult } from "../schema/conversation.js";
import { ConversationIdInput, PurgeConversationResult, SetConversationPriorityInput, SnoozeConversationInput } from "../schema/conversation-states.js";
import {
  markConversationSpam,
  purgeConversation,
  restoreConversation,
  setConversationPriority,
  snoozeConversation,
  trashConversation,
  unmarkConversationSpam,
  unsnoozeConversation,
} from "../services/conversation-states.js";

const id = (input: { conversationId: string | number }) => fromGlobalId(String(input.conversationId), "Conversation");
const inputDescription = "The mutation's arguments as one input object (see the input type for each field).";

builder.mutationFields((t) => ({
  snoozeConversation: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Snoozes a conversation until a time in the future (SNOOZED): it reopens by itself then, or when the customer writes. A snoozed one can be snoozed again; SPAM and TRASH ones cannot.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SnoozeConversationPayload" } },
    args: { input: t.arg({ type: SnoozeConversationInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await snoozeConversation(ctx, { conversationId: id(input), until: input.until })).id }),
  }),
  setConversationPriority: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Sets a conversation's priority (LOW, NORMAL, HIGH, URGENT).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetConversationPriorityPayload" } },
    args: { input: t.arg({ type: SetConversationPriorityInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await setConversationPriority(ctx, { conversationId: id(input), priority: input.priority })).id }),
  }),
  unsnoozeConversation: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Reopens a snoozed conversation now (VALIDATION when it is not SNOOZED).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UnsnoozeConversationPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await unsnoozeConversation(ctx, { conversationId: id(input) })).id }),
  }),
  markConversationSpam: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Moves a conversation to SPAM and puts its sender (email address, handles on the channel) on the account's spam list: their future messages land in SPAM without notifying anyone.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MarkConversationSpamPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await markConversationSpam(ctx, { conversationId: id(input) })).id }),
  }),
  unmarkConversationSpam: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Takes a conversation out of SPAM (it reopens) and its sender off the spam list (VALIDATION when it is not SPAM).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UnmarkConversationSpamPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await unmarkConversationSpam(ctx, { conversationId: id(input) })).id }),
  }),
  trashConversation: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Moves a conversation to TRASH: out of the default list, restorable for 30 days, then purged.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "TrashConversationPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await trashConversation(ctx, { conversationId: id(input) })).id }),
  }),
  restoreConversation: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Takes a conversation out of TRASH, back to the status it had (VALIDATION when it is not in TRASH).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RestoreConversationPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: (await restoreConversation(ctx, { conversationId: id(input) })).id }),
  }),
  purgeConversation: t.withAuth({ agent: true }).field({
    type: PurgeConversationResult,
    description: "Deletes a conversation in TRASH for good, with its messages and files, before the 30 days are up. Admins only.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "PurgeConversationPayload" } },
    args: { input: t.arg({ type: ConversationIdInput, required: true, description: inputDescription }) },
    resolve: async (_root, { input }, ctx) => ({ conversationId: toGlobalId("Conversation", await purgeConversation(ctx, { conversationId: id(input) })) }),
  }),
}));
