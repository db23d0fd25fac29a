import type { Ticket } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

export const TicketPriorityEnum = builder.enumType("TicketPriority", { values: ["LOW", "MEDIUM", "HIGH", "URGENT"] as const });

export const TicketObject = builder.prismaNode("Ticket", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A piece of work tracked through a pipeline, with its contact and conversations.",
  fields: (t) => ({
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    pipeline: t.relation("pipeline"),
    status: t.relation("status"),
    priority: t.expose("priority", { type: TicketPriorityEnum }),
    owner: t.relation("owner", { nullable: true }),
    contact: t.relation("contact", { nullable: true }),
    conversations: t.relation("conversations", {
      description: "Conversations linked to this ticket that the caller can see, oldest first.",
      query: (_args, ctx) => ({
        where: ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx) } : { accountId: callerAccountId(ctx) },
        orderBy: [{ createdAt: "asc" as const }, { id: "asc" as const }],
      }),
    }),
    properties: t.field({ type: "JSONObject", select: { properties: true }, resolve: (ticket) => (ticket.properties ?? {}) as Record<string, unknown> }),
    isClosed: t.boolean({
      description: "Whether the ticket is in a closed status.",
      select: { status: { select: { isClosed: true } } },
      resolve: (ticket) => ticket.status.isClosed,
    }),
    closedAt: t.expose("closedAt", { type: "DateTime", nullable: true, description: "When the ticket entered a closed status; null while open." }),
    lastActivityAt: t.expose("lastActivityAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

export const TicketFilterInput = builder.inputType("TicketFilter", {
  fields: (t) => ({
    pipelineId: t.id(),
    statusId: t.id(),
    ownerId: t.id(),
    unowned: t.boolean({ description: "Only tickets without an owner." }),
    priority: t.field({ type: TicketPriorityEnum }),
    closed: t.boolean({ description: "true: tickets in a closed status; false: open tickets." }),
    contactId: t.id(),
    from: t.field({ type: "DateTime", description: "Created at or after." }),
    to: t.field({ type: "DateTime", description: "Created before." }),
  }),
});

export const CreateTicketInput = builder.inputType("CreateTicketInput", {
  fields: (t) => ({
    name: t.string({
      description: 'Required unless created from a conversation; then defaults to its subject, else "Conversation with <visitor or contact name>", else "New conversation".',
    }),
    description: t.string(),
    pipelineId: t.id({ description: "Default: the account's default pipeline (or the pipeline of statusId)." }),
    statusId: t.id({ description: "Default: the pipeline's first status." }),
    priority: t.field({ type: TicketPriorityEnum, description: "Default MEDIUM." }),
    ownerId: t.id({ description: "Default: the conversation's assignee when created from a conversation; null for none." }),
    contactId: t.id({ description: "Default: the conversation's contact." }),
    conversationId: t.id({ description: "Create the ticket from this conversation and link them." }),
    properties: t.field({ type: "JSONObject" }),
  }),
});

export const UpdateTicketInput = builder.inputType("UpdateTicketInput", {
  fields: (t) => ({
    ticketId: t.id({ required: true }),
    name: t.string(),
    description: t.string({ description: "null clears it." }),
    pipelineId: t.id({ description: "Move to another pipeline (with statusId of that pipeline, or into its first status)." }),
    statusId: t.id(),
    priority: t.field({ type: TicketPriorityEnum }),
    ownerId: t.id({ description: "null unowns the ticket; omit to leave it." }),
    properties: t.field({ type: "JSONObject", description: "Merged into the stored properties; a null value removes a property." }),
  }),
});

export const TicketResult = builder.objectRef<{ ticket: Ticket }>("TicketResult").implement({
  fields: (t) => ({ ticket: t.field({ type: TicketObject, resolve: (r) => r.ticket }) }),
});
