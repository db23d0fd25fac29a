import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

// plugin-prisma's `totalCount: true` adds the field without a description; a connection's own
// `fields` come after it, so redefining it (same resolver and marker) gives it one.
const totalCountOptions = { nullable: false, extensions: { pothosPrismaTotalCount: true }, resolve: (parent: object) => (parent as { totalCount: number }).totalCount } as const;

export const ContactObject = builder.prismaNode("Contact", {
  id: { field: "id" },
  // A hidden or foreign id resolves to null, like a missing one.
  nullable: true,
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A customer, matched by email, phone or channel handle.",
  fields: (t) => ({
    name: t.exposeString("name", { description: 'Display name; "" when only an email, phone or handle is known.' }),
    email: t.exposeString("email", { nullable: true, description: "Email address, unique in the account; null when unknown (e.g. Messenger gives none)." }),
    phone: t.exposeString("phone", { nullable: true, description: "Phone number, unique in the account; null when unknown." }),
    tracked: t.exposeBoolean("tracked", { description: "Identified in the website's tracking (needed for contact-owner routing)." }),
    owner: t.relation("owner", { nullable: true, description: "The user who owns this contact (contact-owner routing assigns them); null when none." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the contact was created (by an incoming message or by an agent)." }),
    conversations: t.relatedConnection("conversations", {
      cursor: "id",
      maxSize: 100,
      totalCount: true,
      authScopes: { agent: true },
      description: "The contact's conversations in inboxes the caller can see, latest activity first.",
      query: (_args, ctx) => ({
        where: ctx.kind === "agent" ? { inbox: visibleInboxWhere(ctx), mergedIntoId: null } : { id: { in: [] } },
        orderBy: [{ lastActivityAt: "desc" as const }, { id: "desc" as const }],
      }),
    }, { fields: (c) => ({ totalCount: c.int({ ...totalCountOptions, description: "How many of the contact's conversations the caller can see, whatever the page." }) }) }),
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
    }, { fields: (c) => ({ totalCount: c.int({ ...totalCountOptions, description: "How many tickets the contact has, whatever the page." }) }) }),
  }),
});

export const UpdateContactInput = builder.inputType("UpdateContactInput", {
  description: "Only the given fields change.",
  fields: (t) => ({
    contactId: t.id({ required: true, description: "The contact to change." }),
    name: t.string({ description: 'Null or absent keeps the name; "" clears it (the contact must keep a name, an email or a phone).' }),
    email: t.string({ description: "Unique in the account; null clears it." }),
    phone: t.string({ description: "Unique in the account; null clears it." }),
    ownerId: t.id({ description: "A user of the account; null removes the owner. Contact-owner routing assigns the owner of a tracked contact." }),
    tracked: t.boolean({ description: "Identified in the website's tracking (contact-owner routing needs it)." }),
  }),
});

export const UpdateContactResult = builder.objectRef<{ contactId: string }>("UpdateContactResult").implement({
  description: "The contact was updated.",
  fields: (t) => ({
    contact: t.prismaField({ type: ContactObject, description: "The contact as it is now.", resolve: (query, r, _a, ctx) => ctx.prisma.contact.findUniqueOrThrow({ ...query, where: { id: r.contactId } }) }),
  }),
});

export const CreateContactFromConversationInput = builder.inputType("CreateContactFromConversationInput", {
  description: "Creates a contact for the unknown visitor of a conversation and links them.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see whose contact is still unknown." }),
    name: t.string({ description: "Default: the name the visitor gave." }),
    email: t.string({ description: "Default: the email the visitor gave." }),
    phone: t.string({ description: "Phone number, if known; unique in the account." }),
  }),
});

export const ContactResult = builder.objectRef<{ contactId: string; conversationId: string }>("ContactResult").implement({
  description: "A contact was created and linked to the conversation.",
  fields: (t) => ({
    contact: t.prismaField({ type: ContactObject, description: "The new contact.", resolve: (query, r, _a, ctx) => ctx.prisma.contact.findUniqueOrThrow({ ...query, where: { id: r.contactId } }) }),
    conversation: t.prismaField({ type: "Conversation", description: "The conversation, now with its contact.", resolve: (query, r, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: r.conversationId } }) }),
  }),
});
