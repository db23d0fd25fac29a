import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { ContactObject, ContactResult, CreateContactFromConversationInput, UpdateContactInput, UpdateContactResult } from "../schema/contact.js";
import { createContactFromConversation, listContacts, updateContact } from "../services/contacts.js";

builder.queryFields((t) => ({
  contacts: t.withAuth({ agent: true }).prismaConnection(
    {
      type: ContactObject,
      cursor: "id",
      maxSize: 100,
      description: "The account's contacts, newest first; `search` matches name, email or phone.",
      args: { search: t.arg.string({ description: "Case-insensitive text found in the name, email or phone; omit for all contacts." }) },
      resolve: (query, _root, args, ctx) => listContacts(ctx, { search: args.search }, query),
    },
    { name: "ContactConnection" },
  ),
}));

builder.mutationFields((t) => ({
  createContactFromConversation: t.withAuth({ agent: true }).field({
    type: ContactResult,
    description: "Creates a contact for an unknown visitor's conversation and links it (an existing contact with that email or phone is linked instead).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateContactFromConversationPayload" } },
    args: { input: t.arg({ type: CreateContactFromConversationInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { contact, conversationId } = await createContactFromConversation(ctx, { ...input, conversationId: fromGlobalId(input.conversationId, "Conversation") });
      return { contactId: contact.id, conversationId };
    },
  }),
  updateContact: t.withAuth({ agent: true }).field({
    type: UpdateContactResult,
    description: "Edits a contact: name, email, phone, owner and whether it is tracked (any agent; only the given fields change).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateContactPayload" } },
    args: { input: t.arg({ type: UpdateContactInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const contact = await updateContact(ctx, {
        ...input,
        contactId: fromGlobalId(input.contactId, "Contact"),
        ownerId: typeof input.ownerId === "string" ? fromGlobalId(input.ownerId, "User") : input.ownerId,
      });
      return { contactId: contact.id };
    },
  }),
}));
