import type { Ticket } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { MessageObject, replyFields } from "./message.js";
import { TicketObject } from "./ticket.js";

export const ReplyAndUpdateTicketStatusInput = builder.inputType("ReplyAndUpdateTicketStatusInput", {
  description: "A reply (the ReplyInput fields) and the ticket status it moves the conversation's ticket to, applied together or not at all.",
  fields: (t) => ({
    ...replyFields(t),
    ticketStatusId: t.id({ required: true, description: "The status to move the ticket to (of its pipeline); the conversation must have a ticket." }),
    ticketProperties: t.field({ type: "JSONObject", description: "Merged into the ticket's properties; a conditional status needs its required ones." }),
  }),
});

export const ReplyAndUpdateTicketStatusResult = builder.objectRef<{ messageId: string; ticket: Ticket }>("ReplyAndUpdateTicketStatusResult").implement({
  description: "The reply was sent and the ticket moved, together.",
  fields: (t) => ({
    sentMessage: t.prismaField({
      type: MessageObject,
      description: "The reply just sent.",
      resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
    }),
    message: t.prismaField({
      type: MessageObject,
      description: "Deprecated alias of `sentMessage` (the same message).",
      deprecationReason: "Use `sentMessage`: it can be selected beside `... on Error { message }` without an alias.",
      resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
    }),
    ticket: t.field({ type: TicketObject, description: "The ticket in its new status.", resolve: (r) => r.ticket }),
  }),
});
