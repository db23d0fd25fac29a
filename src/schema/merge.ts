import { builder } from "./builder.js";
import { ConversationObject } from "./conversation.js";
import { TicketObject } from "./ticket.js";
import { ContactObject } from "./contact.js";
import { toGlobalId } from "./ids.js";
import { MessageObject } from "./message.js";

const targetAndSources = (noun: string, extra = "") =>
  builder.inputType(`Merge${noun}sInput`, {
    description: `Merges ${noun.toLowerCase()}s into one (the target).${extra}`,
    fields: (t) => ({
      targetId: t.id({ required: true, description: `The ${noun.toLowerCase()} that remains.` }),
      sourceIds: t.idList({ required: true, description: `The ${noun.toLowerCase()}s merged into the target: 1 to 20, not the target itself.` }),
    }),
  });

export const MergeConversationsInput = targetAndSources("Conversation", " All of them must be in inboxes the caller sees.");
export const MergeTicketsInput = targetAndSources("Ticket");
export const MergeContactsInput = targetAndSources("Contact");

export const MergeConversationsResult = builder
  .objectRef<{ conversationId: string; mergedConversationIds: string[]; auditMessageId: string }>("MergeConversationsResult")
  .implement({
    description: "The conversations were merged: the target holds every message, the sources are tombstones (`mergedInto`).",
    fields: (t) => ({
      conversation: t.prismaField({ type: ConversationObject, description: "The target, with every message.", resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: r.conversationId } }) }),
      mergedConversationIds: t.idList({ description: "Global ids of the conversations merged into the target.", resolve: (r) => r.mergedConversationIds.map((id) => toGlobalId("Conversation", id)) }),
      auditMessage: t.prismaField({ type: MessageObject, description: "The internal comment in the target that says what was merged.", resolve: (query, r, _a, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.auditMessageId } }) }),
    }),
  });

export const MergeTicketsResult = builder.objectRef<{ ticketId: string; mergedTicketIds: string[] }>("MergeTicketsResult").implement({
  description: "The tickets were merged: the target has every conversation; the sources are deleted.",
  fields: (t) => ({
    ticket: t.prismaField({ type: TicketObject, description: "The target ticket.", resolve: (query, r, _a, ctx) => ctx.prisma.ticket.findUniqueOrThrow({ ...query, where: { id: r.ticketId } }) }),
    mergedTicketIds: t.idList({ description: "Global ids of the deleted source tickets.", resolve: (r) => r.mergedTicketIds.map((id) => toGlobalId("Ticket", id)) }),
  }),
});

export const MergeContactsResult = builder.objectRef<{ contactId: string; mergedContactIds: string[] }>("MergeContactsResult").implement({
  description: "The contacts were merged: the target has every conversation, ticket, handle and note; the sources are deleted.",
  fields: (t) => ({
    contact: t.prismaField({ type: ContactObject, description: "The target contact.", resolve: (query, r, _a, ctx) => ctx.prisma.contact.findUniqueOrThrow({ ...query, where: { id: r.contactId } }) }),
    mergedContactIds: t.idList({ description: "Global ids of the deleted source contacts.", resolve: (r) => r.mergedContactIds.map((id) => toGlobalId("Contact", id)) }),
  }),
});

builder.prismaObjectFields(ConversationObject, (t) => ({
  mergedInto: t.relation("mergedInto", {
    nullable: true,
    description: "Set when this conversation was merged into another: the one that now holds its messages (open that instead).",
  }),
  mergedAt: t.expose("mergedAt", { type: "DateTime", nullable: true, description: "When this conversation was merged into another; null otherwise." }),
}));
