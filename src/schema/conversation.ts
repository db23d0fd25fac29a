import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { callerAccountId } from "./scope.js";
import { AvailabilityEnum, UserType } from "./people.js";
import { visibleInboxWhere } from "../services/access.js";
import { previousConversationsWhere } from "../services/conversations.js";
import "./contact.js";
import { TicketObject } from "./ticket.js";
import "./message.js";

export const ConversationStatusEnum = builder.enumType("ConversationStatus", { values: ["OPEN", "CLOSED"] as const });

export const ConversationObject = builder.prismaNode("Conversation", {
  id: { field: "id" },
  // A hidden or foreign id resolves to null, like a missing one.
  nullable: true,
  // Only conversations of inboxes the agent can see resolve by id.
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx), ...(ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx) } : {}) }),
  description: "A thread with one contact, from one channel, in one inbox or the help desk.",
  fields: (t) => ({
    subject: t.exposeString("subject", { nullable: true }),
    status: t.expose("status", { type: ConversationStatusEnum }),
    threadKey: t.exposeString("threadKey", { nullable: true, description: "The transport's thread key that later messages join." }),
    visitorName: t.exposeString("visitorName", { nullable: true, description: "What an unknown visitor (no contact yet) called themselves." }),
    visitorEmail: t.exposeString("visitorEmail", { nullable: true }),
    contact: t.relation("contact", { nullable: true, description: "Null for an unknown visitor until an agent creates a contact." }),
    assignee: t.relation("assignee", { nullable: true }),
    assignedAt: t.expose("assignedAt", { type: "DateTime", nullable: true }),
    channel: t.relation("channel"),
    inbox: t.relation("inbox"),
    properties: t.field({ type: "JSONObject", description: "Free conversation properties (channel defaults included).", resolve: (c) => (c.properties ?? {}) as Record<string, unknown> }),
    lastActivityAt: t.expose("lastActivityAt", { type: "DateTime" }),
    lastInboundAt: t.expose("lastInboundAt", { type: "DateTime", nullable: true, description: "The customer's last message." }),
    firstResponseAt: t.expose("firstResponseAt", { type: "DateTime", nullable: true, description: "The first agent reply." }),
    closedAt: t.expose("closedAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
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
      resolve: (query, conversation, args, ctx) =>
        ctx.kind !== "agent"
          ? []
          : ctx.prisma.conversation.findMany({
              ...query,
              where: previousConversationsWhere(ctx, conversation),
              orderBy: [{ lastActivityAt: "desc" }, { id: "desc" }],
              take: Math.min(Math.max(args.first ?? 20, 0), 100),
            }),
    }),
  }),
});

export const ConversationFilter = builder.inputType("ConversationFilter", {
  fields: (t) => ({
    inboxId: t.id(),
    channelId: t.id(),
    status: t.field({ type: ConversationStatusEnum }),
    assigneeId: t.id(),
    unassigned: t.boolean({ description: "Only conversations without an assignee (ignored with assigneeId)." }),
    from: t.field({ type: "DateTime", description: "Latest activity at or after." }),
    to: t.field({ type: "DateTime", description: "Latest activity before." }),
  }),
});

export const AssignConversationInput = builder.inputType("AssignConversationInput", {
  fields: (t) => ({ conversationId: t.id({ required: true }), assigneeId: t.id({ description: "Null unassigns." }) }),
});

export const SetConversationStatusInput = builder.inputType("SetConversationStatusInput", {
  fields: (t) => ({ conversationId: t.id({ required: true }), status: t.field({ type: ConversationStatusEnum, required: true }) }),
});

export const SetAvailabilityInput = builder.inputType("SetAvailabilityInput", {
  fields: (t) => ({ availability: t.field({ type: AvailabilityEnum, required: true }) }),
});

export const ConversationResult = builder.objectRef<{ conversationId: string }>("ConversationResult").implement({
  fields: (t) => ({
    conversation: t.prismaField({ type: ConversationObject, resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: r.conversationId } }) }),
  }),
});

export const SetAvailabilityResult = builder.objectRef<{ userId: string; assignedConversationIds: string[] }>("SetAvailabilityResult").implement({
  fields: (t) => ({
    user: t.prismaField({ type: UserType, resolve: (query, r, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: r.userId } }) }),
    assignedConversations: t.prismaField({
      type: [ConversationObject],
      description: "Backlog conversations assigned to the caller because they became available.",
      resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findMany({ ...query, where: { id: { in: r.assignedConversationIds } }, orderBy: { createdAt: "asc" } }),
    }),
  }),
});
