import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { UpdateContactResult } from "../schema/contact.js";
import {
  AddContactNoteInput,
  ContactNoteResult,
  ContactPropertyDefinitionObject,
  ContactPropertyDefinitionResult,
  CreateContactPropertyDefinitionInput,
  DeleteContactNoteInput,
  DeleteContactNoteResult,
  DeleteContactPropertyDefinitionInput,
  DeleteContactPropertyDefinitionResult,
  SetContactPropertiesInput,
  UpdateContactNoteInput,
  UpdateContactPropertyDefinitionInput,
} from "../schema/contact-records.js";
import {
  addContactNote,
  createContactPropertyDefinition,
  deleteContactNote,
  deleteContactPropertyDefinition,
  listContactPropertyDefinitions,
  setContactProperties,
  updateContactNote,
  updateContactPropertyDefinition,
} from "../services/contact-records.js";

const argDescription = "The mutation's arguments as one input object (see the input type for each field).";
const errors = (name: string) => ({ types: COMMON_ERRORS, directResult: true as const, union: { name } });

builder.queryFields((t) => ({
  contactPropertyDefinitions: t.withAuth({ agent: true }).field({
    type: [ContactPropertyDefinitionObject],
    description: "The account's custom contact properties, by key.",
    resolve: (_root, _args, ctx) => listContactPropertyDefinitions(ctx),
  }),
}));

builder.mutationFields((t) => ({
  addContactNote: t.withAuth({ agent: true }).field({
    type: ContactNoteResult,
    description: "Adds a note by the caller to a contact (any agent).",
    errors: errors("AddContactNotePayload"),
    args: { input: t.arg({ type: AddContactNoteInput, required: true, description: argDescription }) },
    resolve: async (_root, { input }, ctx) => ({ noteId: (await addContactNote(ctx, { contactId: fromGlobalId(String(input.contactId), "Contact"), body: input.body })).id }),
  }),
  updateContactNote: t.withAuth({ agent: true }).field({
    type: ContactNoteResult,
    description: "Edits one of the caller's notes (someone else's: ForbiddenError).",
    errors: errors("UpdateContactNotePayload"),
    args: { input: t.arg({ type: UpdateContactNoteInput, required: true, description: argDescription }) },
    resolve: async (_root, { input }, ctx) => ({ noteId: (await updateContactNote(ctx, { noteId: fromGlobalId(String(input.noteId), "ContactNote"), body: input.body })).id }),
  }),
  deleteContactNote: t.withAuth({ agent: true }).field({
    type: DeleteContactNoteResult,
    description: "Deletes a note: the caller's own, or any as an admin.",
    errors: errors("DeleteContactNotePayload"),
    args: { input: t.arg({ type: DeleteContactNoteInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => deleteContactNote(ctx, { noteId: fromGlobalId(String(input.noteId), "ContactNote") }),
  }),
  createContactPropertyDefinition: t.withAuth({ agent: true }).field({
    type: ContactPropertyDefinitionResult,
    description: "Defines a custom contact property (ADMIN or SUPER_ADMIN).",
    errors: errors("CreateContactPropertyDefinitionPayload"),
    args: { input: t.arg({ type: CreateContactPropertyDefinitionInput, required: true, description: argDescription }) },
    resolve: async (_root, { input }, ctx) => ({ definitionId: (await createContactPropertyDefinition(ctx, input)).id }),
  }),
  updateContactPropertyDefinition: t.withAuth({ agent: true }).field({
    type: ContactPropertyDefinitionResult,
    description: "Changes a custom contact property's label or options (ADMIN or SUPER_ADMIN).",
    errors: errors("UpdateContactPropertyDefinitionPayload"),
    args: { input: t.arg({ type: UpdateContactPropertyDefinitionInput, required: true, description: argDescription }) },
    resolve: async (_root, { input }, ctx) =>
      ({ definitionId: (await updateContactPropertyDefinition(ctx, { ...input, definitionId: fromGlobalId(String(input.definitionId), "ContactPropertyDefinition") })).id }),
  }),
  deleteContactPropertyDefinition: t.withAuth({ agent: true }).field({
    type: DeleteContactPropertyDefinitionResult,
    description: "Deletes a custom contact property and its values on every contact (ADMIN or SUPER_ADMIN).",
    errors: errors("DeleteContactPropertyDefinitionPayload"),
    args: { input: t.arg({ type: DeleteContactPropertyDefinitionInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => deleteContactPropertyDefinition(ctx, { definitionId: fromGlobalId(String(input.definitionId), "ContactPropertyDefinition") }),
  }),
  setContactProperties: t.withAuth({ agent: true }).field({
    type: UpdateContactResult,
    description: "Sets or clears a contact's custom property values, each checked against its definition's type (any agent; all or none are written).",
    errors: errors("SetContactPropertiesPayload"),
    args: { input: t.arg({ type: SetContactPropertiesInput, required: true, description: argDescription }) },
    resolve: (_root, { input }, ctx) => setContactProperties(ctx, { contactId: fromGlobalId(String(input.contactId), "Contact"), properties: input.properties }),
  }),
}));
