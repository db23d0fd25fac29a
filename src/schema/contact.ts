import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

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
    conversations: t.relatedConnection("conversations", {
      cursor: "id",
      maxSize: 100,
      totalCount: true,
      authScopes: { agent: true },
      description: "The contact's conversations in inboxes the caller can see, latest activity first.",
      query: (_args, ctx) => ({
        where: ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx) } : { id: { in: [] } },
        orderBy: [{ lastActivityAt: "desc" as const }, { id: "desc" as const }],
      }),
    }),
    tickets: t.relatedConnection("tickets", {
      cursor: "id",
      maxSize: 100,
      totalCount: true,
      authScopes: { agent: true },
      description: "The contact's tickets, latest activity first (every agent of the account sees every ticket, as in `tickets`).",
      query: (_args, ctx) => ({
        where: { accountId: callerAccountId(ctx) },
        orderBy: [{ lastActivityAt: "desc" as const }, { id: "desc" as const }],
      }),
    }),
  }),
});

export const UpdateContactInput = builder.inputType("UpdateContactInput", {
  description: "Only the given fields change.",
  fields: (t) => ({
    contactId: t.id({ required: true }),
    name: t.string({ description: 'Null or absent keeps the name; "" clears it (the contact must keep a name, an email or a phone).' }),
    email: t.string({ description: "Unique in the account; null clears it." }),
    phone: t.string({ description: "Unique in the account; null clears it." }),
    ownerId: t.id({ description: "A user of the account; null removes the owner. Contact-owner routing assigns the owner of a tracked contact." }),
    tracked: t.boolean({ description: "Identified in the website's tracking (contact-owner routing needs it)." }),
  }),
});

export const UpdateContactResult = builder.objectRef<{ contactId: string }>("UpdateContactResult").implement({
  fields: (t) => ({
    contact: t.prismaField({ type: ContactObject, resolve: (query, r, _a, ctx) => ctx.prisma.contact.findUniqueOrThrow({ ...query, where: { id: r.contactId } }) }),
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
