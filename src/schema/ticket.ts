import type { Ticket } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

export const TicketPriorityEnum = builder.enumType("TicketPriority", {
  description: "How urgent a ticket is.",
  values: {
    LOW: { description: "Can wait." },
    MEDIUM: { description: "Normal (the default)." },
    HIGH: { description: "Should be handled soon." },
    URGENT: { description: "Needs attention now." },
  } as const,
});

export const TicketObject = builder.prismaNode("Ticket", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A piece of work tracked through a pipeline, with its contact and conversations.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Short title." }),
    description: t.exposeString("description", { nullable: true, description: "Longer free text; null when none." }),
    pipeline: t.relation("pipeline", { description: "The pipeline the ticket moves through." }),
    status: t.relation("status", { description: "Its current status in that pipeline." }),
    priority: t.expose("priority", { type: TicketPriorityEnum, description: "LOW, MEDIUM, HIGH or URGENT." }),
    owner: t.relation("owner", { nullable: true, description: "The user responsible; null when unowned. Follows the conversation's assignee while they were the same person." }),
    contact: t.relation("contact", { nullable: true, description: "The customer the ticket is about; null when none." }),
    conversations: t.relation("conversations", {
      description: "Conversations linked to this ticket that the caller can see, oldest first.",
      query: (_args, ctx) => ({
        where: ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx) } : { accountId: callerAccountId(ctx) },
        orderBy: [{ createdAt: "asc" as const }, { id: "asc" as const }],
      }),
    }),
    properties: t.field({ type: "JSONObject", description: "Free ticket properties (e.g. a resolution that a conditional status requires); {} when none.", select: { properties: true }, resolve: (ticket) => (ticket.properties ?? {}) as Record<string, unknown> }),
    isClosed: t.boolean({
      description: "Whether the ticket is in a closed status.",
      select: { status: { select: { isClosed: true } } },
      resolve: (ticket) => ticket.status.isClosed,
    }),
    closedAt: t.expose("closedAt", { type: "DateTime", nullable: true, description: "When the ticket entered a closed status; null while open." }),
    lastActivityAt: t.expose("lastActivityAt", { type: "DateTime", description: "Latest change or message on the ticket or its conversations (the sort key of tickets)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the ticket was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When a field of the ticket last changed." }),
  }),
});

export const TicketFilterInput = builder.inputType("TicketFilter", {
  description: "Narrows `tickets`; every given field must match (absent fields do not filter).",
  fields: (t) => ({
    pipelineId: t.id({ description: "Only tickets in this pipeline." }),
    statusId: t.id({ description: "Only tickets in this status." }),
    ownerId: t.id({ description: "Only tickets owned by this user." }),
    unowned: t.boolean({ description: "Only tickets without an owner." }),
    priority: t.field({ type: TicketPriorityEnum, description: "Only tickets of this priority." }),
    closed: t.boolean({ description: "true: tickets in a closed status; false: open tickets." }),
    contactId: t.id({ description: "Only tickets of this contact." }),
    from: t.field({ type: "DateTime", description: "Created at or after." }),
    to: t.field({ type: "DateTime", description: "Created before." }),
    labelIds: t.idList({ description: "Only tickets carrying every one of these labels (an unknown label matches nothing)." }),
  }),
});

export const CreateTicketInput = builder.inputType("CreateTicketInput", {
  description: "A new ticket, on its own or from a conversation (which must not have a ticket yet: ConflictError). A conditional status needs its required properties.",
  fields: (t) => ({
    name: t.string({
      description: 'Required unless created from a conversation; then defaults to its subject, else "Conversation with <visitor or contact name>", else "New conversation".',
    }),
    description: t.string({ description: "Longer free text." }),
    pipelineId: t.id({ description: "Default: the account's default pipeline (or the pipeline of statusId)." }),
    statusId: t.id({ description: "Default: the pipeline's first status." }),
    priority: t.field({ type: TicketPriorityEnum, description: "Default MEDIUM." }),
    ownerId: t.id({ description: "Default: the conversation's assignee when created from a conversation; null for none." }),
    contactId: t.id({ description: "Default: the conversation's contact." }),
    conversationId: t.id({ description: "Create the ticket from this conversation and link them." }),
    properties: t.field({ type: "JSONObject", description: "Initial free properties; a conditional status's required ones must be among them." }),
  }),
});

export const UpdateTicketInput = builder.inputType("UpdateTicketInput", {
  description: "Changes a ticket; omitted fields stay as they are. Moving into a conditional status needs its required properties (stored or given here).",
  fields: (t) => ({
    ticketId: t.id({ required: true, description: "The ticket to change." }),
    name: t.string({ description: "New title." }),
    description: t.string({ description: "null clears it." }),
    pipelineId: t.id({ description: "Move to another pipeline (with statusId of that pipeline, or into its first status)." }),
    statusId: t.id({ description: "New status (of the ticket's pipeline, or of pipelineId)." }),
    priority: t.field({ type: TicketPriorityEnum, description: "New priority." }),
    ownerId: t.id({ description: "null unowns the ticket; omit to leave it." }),
    properties: t.field({ type: "JSONObject", description: "Merged into the stored properties; a null value removes a property." }),
  }),
});

export const TicketResult = builder.objectRef<{ ticket: Ticket }>("TicketResult").implement({
  description: "A ticket mutation succeeded.",
  fields: (t) => ({ ticket: t.field({ type: TicketObject, description: "The ticket as it is now.", resolve: (r) => r.ticket }) }),
});
