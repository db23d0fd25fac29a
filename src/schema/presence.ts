import type { AgentActivity, ConversationActivity } from "../services/collision.js";
import type { PresenceChange } from "../services/presence.js";
import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { UserType } from "./people.js";

/** Presence (who is connected) and collision detection (who is viewing or replying where). */

export const PresenceEnum = builder.enumType("Presence", {
  description: "Whether an agent is connected right now, and as what.",
  values: {
    ONLINE: { description: "At least one live connection (WebSocket) and availability AVAILABLE." },
    AWAY: { description: "Connected, with availability AWAY (their own choice, setAvailability)." },
    OFFLINE: { description: "No live connection on any server." },
  } as const,
});

export const PresenceChangeType = builder.objectRef<PresenceChange>("PresenceChange").implement({
  description: "A user's presence changed.",
  fields: (t) => ({
    user: t.field({ type: UserType, description: "The user.", resolve: (c) => c.user }),
    presence: t.expose("presence", { type: PresenceEnum, description: "Their presence now." }),
  }),
});

export const ConversationActivityKindEnum = builder.enumType("ConversationActivityKind", {
  description: "What an agent is doing in a conversation, for collision detection.",
  values: {
    VIEWING: { description: "Has the conversation open." },
    REPLYING: { description: "Is writing a reply (set explicitly, or while their typing indicator holds)." },
    NONE: { description: "Neither (left the conversation): ends the caller's activity." },
  } as const,
});

export const AgentActivityType = builder.objectRef<AgentActivity>("AgentActivity").implement({
  description: "One agent viewing or replying in a conversation.",
  fields: (t) => ({
    user: t.field({ type: UserType, description: "The agent.", resolve: (a) => a.user }),
    activity: t.expose("activity", { type: ConversationActivityKindEnum, description: "VIEWING or REPLYING (never NONE)." }),
  }),
});

export const ConversationActivityType = builder.objectRef<ConversationActivity>("ConversationActivity").implement({
  description: "Who else is viewing or replying in a conversation right now (the subscriber is never listed).",
  fields: (t) => ({
    conversationId: t.id({ description: "The conversation (global id).", resolve: (a) => toGlobalId("Conversation", a.conversationId) }),
    agents: t.field({ type: [AgentActivityType], description: "The other agents, by first name; empty when nobody else is there.", resolve: (a) => a.agents }),
  }),
});

export const SetConversationActivityInput = builder.inputType("SetConversationActivityInput", {
  description: "The caller's activity in one conversation.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    activity: t.field({ type: ConversationActivityKindEnum, required: true, description: "VIEWING or REPLYING (renew every 10-20 s; it lapses after 30 s), or NONE to end it." }),
  }),
});

export const SetConversationActivityResult = builder
  .objectRef<{ conversationId: string; activity: "VIEWING" | "REPLYING" | "NONE"; expiresAt: Date }>("SetConversationActivityResult")
  .implement({
    description: "The caller's activity as recorded.",
    fields: (t) => ({
      conversationId: t.id({ description: "The conversation (global id).", resolve: (r) => toGlobalId("Conversation", r.conversationId) }),
      activity: t.expose("activity", { type: ConversationActivityKindEnum, description: "The activity set." }),
      expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When it lapses unless renewed (now for NONE)." }),
    }),
  });
