import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import { CreateTicketInput, TicketFilterInput, TicketResult, UpdateTicketInput } from "../schema/ticket.js";
import { ConditionalStatusError, ConflictError } from "../services/errors.js";
import { createTicket, listTickets, updateTicket, type TicketFilter } from "../services/tickets.js";

/** Decodes an optional global id; absent stays absent and an explicit null stays null. */
function optionalId<T extends string | null | undefined>(id: T, typename: string): string | Exclude<T, string> {
  return (typeof id === "string" ? fromGlobalId(id, typename) : id) as string | Exclude<T, string>;
}

builder.queryFields((t) => ({
  tickets: t.withAuth({ agent: true }).prismaConnection({
    type: "Ticket",
    cursor: "id",
    maxSize: 100,
    description: "The account's tickets, most recent activity first.",
    args: { filter: t.arg({ type: TicketFilterInput, description: "Pipeline, status, owner, priority, contact and date filters." }) },
    resolve: (query, _root, { filter }, ctx) => {
      const decoded: TicketFilter | undefined = filter
        ? {
            ...filter,
            pipelineId: optionalId(filter.pipelineId, "Pipeline"),
            statusId: optionalId(filter.statusId, "PipelineStatus"),
            ownerId: optionalId(filter.ownerId, "User"),
            contactId: optionalId(filter.contactId, "Contact"),
            labelIds: filter.labelIds ? fromGlobalIds(filter.labelIds, "Label", ["filter", "labelIds"]) : null,
          }
        : undefined;
      return listTickets(ctx, decoded, query);
    },
  }),
}));

builder.mutationFields((t) => ({
  createTicket: t.withAuth({ agent: true }).field({
    type: TicketResult,
    description: "Creates a ticket, from scratch or from a conversation (which gets linked to it).",
    errors: { types: [...COMMON_ERRORS, ConditionalStatusError, ConflictError], directResult: true, union: { name: "CreateTicketPayload" } },
    args: { input: t.arg({ type: CreateTicketInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      ticket: await createTicket(ctx, {
        ...input,
        pipelineId: optionalId(input.pipelineId, "Pipeline"),
        statusId: optionalId(input.statusId, "PipelineStatus"),
        ownerId: optionalId(input.ownerId, "User"),
        contactId: optionalId(input.contactId, "Contact"),
        conversationId: optionalId(input.conversationId, "Conversation"),
      }),
    }),
  }),
  updateTicket: t.withAuth({ agent: true }).field({
    type: TicketResult,
    description: "Edits a ticket; entering a conditional status needs its required properties.",
    errors: { types: [...COMMON_ERRORS, ConditionalStatusError], directResult: true, union: { name: "UpdateTicketPayload" } },
    args: { input: t.arg({ type: UpdateTicketInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      ticket: await updateTicket(ctx, {
        ...input,
        ticketId: fromGlobalId(input.ticketId, "Ticket"),
        pipelineId: optionalId(input.pipelineId, "Pipeline"),
        statusId: optionalId(input.statusId, "PipelineStatus"),
        ownerId: optionalId(input.ownerId, "User"),
      }),
    }),
  }),
}));
