import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { callerAccountId } from "./scope.js";
import { AvailabilityEnum, UserType } from "./people.js";
import { visibleInboxWhere } from "../services/access.js";
import { listPreviousConversations } from "../services/conversations.js";
import "./contact.js";
import { TicketObject } from "./ticket.js";
import { MessageObject } from "./message.js";

import { ConversationStatusEnum } from "./conversation-status.js";

export { ConversationFilter } from "./conversation-filter.js";
export { ConversationStatusEnum };

export const ConversationObject = builder.prismaNode("Conversation", {
  id: { field: "id" },
  // A hidden or foreign id resolves to null, like a missing one.
  nullable: true,
  // Only conversations of inboxes the agent can see resolve by id.
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx), ...(ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx) } : {}) }),
  description: "A thread with one contact, from one channel, in one inbox or the help desk.",
  fields: (t) => ({
    subject: t.exposeString("subject", { nullable: true, description: "The email subject or form name the thread started with; null for chat-like channels." }),
    status: t.expose("status", { type: ConversationStatusEnum, description: "OPEN, SNOOZED, CLOSED, SPAM or TRASH (see ConversationStatus)." }),
    threadKey: t.exposeString("threadKey", { nullable: true, description: "The transport's thread key that later messages join." }),
    visitorName: t.exposeString("visitorName", { nullable: true, description: "What an unknown visitor (no contact yet) called themselves." }),
    visitorEmail: t.exposeString("visitorEmail", { nullable: true, description: "The email an unknown visitor gave (chat pre-chat form or widget); used for chat transcripts and by createContactFromConversation." }),
    contact: t.relation("contact", { nullable: true, description: "Null for an unknown visitor until an agent creates a contact." }),
    assignee: t.relation("assignee", { nullable: true, description: "The agent who owns the conversation; null when unassigned." }),
    assignedAt: t.expose("assignedAt", { type: "DateTime", nullable: true, description: "When the current assignee got it (by routing or by hand); null when unassigned." }),
    channel: t.relation("channel", { description: "The channel the conversation started on (a message can travel through another: see Message.channel)." }),
    inbox: t.relation("inbox", { description: "The inbox, or the help desk, the conversation lives in." }),
    properties: t.field({ type: "JSONObject", description: "Free conversation properties (channel defaults included).", resolve: (c) => (c.properties ?? {}) as Record<string, unknown> }),
    lastActivityAt: t.expose("lastActivityAt", { type: "DateTime", description: "When the latest message or comment was added (the sort key of `conversations`)." }),
    lastInboundAt: t.expose("lastInboundAt", { type: "DateTime", nullable: true, description: "When the customer last wrote; Messenger's messaging windows count from it." }),
    firstResponseAt: t.expose("firstResponseAt", { type: "DateTime", nullable: true, description: "When an agent first replied (comments do not count); null before. First-response analytics use it." }),
    closedAt: t.expose("closedAt", { type: "DateTime", nullable: true, description: "When it was last closed; null while OPEN." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the first message arrived (or the conversation was started)." }),
    ticketId: t.id({
      nullable: true,
      description: "Global id of the associated ticket, if any.",
      resolve: (c) => (c.ticketId ? toGlobalId("Ticket", c.ticketId) : null),
    }),
    ticket: t.relation("ticket", { nullable: true, description: "The associated ticket, if any." }),
    tickets: t.field({
      type: [TicketObject],
      description: "The conversation's tickets as a list (at most one today), for the side panel.",
      select: (_args, _ctx, nested) => ({ ticket: nested(true) }),
      resolve: (c) => (c.ticket ? [c.ticket] : []),
    }),
    lastMessage: t.field({
      type: MessageObject,
      nullable: true,
      description:
        "The latest message or comment (text, direction, kind, author, time): what an inbox list previews, loaded with the list itself instead of a messages(last: 1) page per row. Null for a conversation without messages.",
      select: (_args, _ctx, nested) => ({ messages: nested({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 1 }) }),
      resolve: (c) => c.messages[0] ?? null,
    }),
    messages: t.relatedConnection("messages", {
      cursor: "id",
      description: "Messages and comments, oldest first.",
      query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
      maxSize: 100,
    }),
    previousConversations: t.prismaField({
      type: ["Conversation"],
      authScopes: { agent: true },
      description: "The contact's other conversations (that the caller can see), latest activity first.",
      select: { id: true, contactId: true },
      args: { first: t.arg.int({ description: "At most 100; default 20." }) },
      resolve: (query, conversation, args, ctx) => (ctx.kind !== "agent" ? [] : listPreviousConversations(ctx, conversation, args.first, query)),
    }),
  }),
});

export const AssignConversationInput = builder.inputType("AssignConversationInput", {
  description:
    "Reassigns a conversation. The assignee must be a current user of the account who can see its inbox (assignment never grants access); manual assignment is not limited to paid seats or capacity.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    assigneeId: t.id({ description: "The new assignee (a User id); null unassigns." }),
  }),
});

export const SetConversationStatusInput = builder.inputType("SetConversationStatusInput", {
  description: "Closes or reopens a conversation; setting the current status changes nothing. Closing a chat emails its transcript to the visitor once.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    status: t.field({ type: ConversationStatusEnum, required: true, description: "CLOSED sets closedAt; OPEN clears it." }),
  }),
});

export const SetAvailabilityInput = builder.inputType("SetAvailabilityInput", {
  description: "The caller's own availability for routing.",
  fields: (t) => ({ availability: t.field({ type: AvailabilityEnum, required: true, description: "AVAILABLE makes the caller eligible for automatic assignment again; AWAY stops it." }) }),
});

export const ConversationResult = builder.objectRef<{ conversationId: string }>("ConversationResult").implement({
  description: "A conversation mutation succeeded.",
  fields: (t) => ({
    conversation: t.prismaField({ type: ConversationObject, description: "The conversation as it is now.", resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: r.conversationId } }) }),
  }),
});

export const SetAvailabilityResult = builder.objectRef<{ userId: string; assignedConversationIds: string[] }>("SetAvailabilityResult").implement({
  description: "The caller's availability was set.",
  fields: (t) => ({
    user: t.prismaField({ type: UserType, description: "The caller, with the new availability.", resolve: (query, r, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: r.userId } }) }),
    assignedConversations: t.prismaField({
      type: [ConversationObject],
      description: "Backlog conversations assigned to the caller because they became available.",
      resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findMany({ ...query, where: { id: { in: r.assignedConversationIds } }, orderBy: { createdAt: "asc" } }),
    }),
  }),
});
