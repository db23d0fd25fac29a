import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { UserType } from "../schema/people.js";
import { ConversationActivityType, PresenceChangeType, PresenceEnum, SetConversationActivityInput, SetConversationActivityResult } from "../schema/presence.js";
import { conversationActivityStream, setConversationActivity, type ConversationActivity } from "../services/collision.js";
import { presenceOfUsers, presenceStream, type PresenceChange } from "../services/presence.js";

builder.objectFields(UserType, (t) => ({
  presence: t.field({
    type: PresenceEnum,
    description: "ONLINE while connected (a live WebSocket on any server) and AVAILABLE, AWAY while connected and AWAY, OFFLINE with no connection.",
    resolve: async (u, _args, ctx) => (await presenceOfUsers(ctx, u.accountId, [u])).get(u.id)!,
  }),
  lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true, description: "When the user's last connection closed (went OFFLINE); null if that never happened." }),
}));

builder.mutationFields((t) => ({
  setConversationActivity: t.withAuth({ agent: true }).field({
    type: SetConversationActivityResult,
    description:
      "Collision detection: the caller is viewing or replying in a conversation (or, with NONE, left it). The other agents subscribed to conversationActivityChanged see it. It lapses after 30 seconds unless renewed, and ends when the caller's last connection closes.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetConversationActivityPayload" } },
    args: { input: t.arg({ type: SetConversationActivityInput, required: true, description: "The conversation and the activity." }) },
    resolve: (_root, { input }, ctx) => setConversationActivity(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), activity: input.activity }),
  }),
}));

builder.subscriptionFields((t) => ({
  presenceChanged: t.withAuth({ agent: true }).field({
    type: PresenceChangeType,
    description: "Each presence change of the account's users (first connection opened, last closed, availability set). Live only: read User.presence for the current state.",
    subscribe: (_root, _args, ctx) => presenceStream(ctx),
    resolve: (change) => change as PresenceChange,
  }),
  conversationActivityChanged: t.withAuth({ agent: true }).field({
    type: ConversationActivityType,
    description:
      "Who else is viewing or replying in one conversation the caller can see (\"Bob is viewing\"): the current list at once, then the list at every change. The caller is never listed.",
    extensions: { perCaller: true },
    args: { conversationId: t.arg.id({ required: true, description: "The conversation to watch." }) },
    subscribe: (_root, args, ctx) => conversationActivityStream(ctx, fromGlobalId(String(args.conversationId), "Conversation")),
    resolve: (activity) => activity as ConversationActivity,
  }),
}));
