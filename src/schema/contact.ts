import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";

export const ContactObject = builder.prismaNode("Contact", {
  id: { field: "id" },
  // A hidden or foreign id resolves to null, like a missing one.
  nullable: true,
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A customer, matched by email, phone or channel handle.",
  fields: (t) => ({
    name: t.exposeString("name"),
    email: t.exposeString("email", { nullable: true }),
    phone: t.exposeString("phone", { nullable: true }),
    tracked: t.exposeBoolean("tracked", { description: "Identified in the website's tracking (needed for contact-owner routing)." }),
    owner: t.relation("owner", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const CreateContactFromConversationInput = builder.inputType("CreateContactFromConversationInput", {
  fields: (t) => ({
    conversationId: t.id({ required: true }),
    name: t.string({ description: "Default: the name the visitor gave." }),
    email: t.string({ description: "Default: the email the visitor gave." }),
    phone: t.string(),
  }),
});

export const ContactResult = builder.objectRef<{ contactId: string; conversationId: string }>("ContactResult").implement({
  fields: (t) => ({
    contact: t.prismaField({ type: ContactObject, resolve: (query, r, _a, ctx) => ctx.prisma.contact.findUniqueOrThrow({ ...query, where: { id: r.contactId } }) }),
    conversation: t.prismaField({ type: "Conversation", resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: r.conversationId } }) }),
  }),
});
