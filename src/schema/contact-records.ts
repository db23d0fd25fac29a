import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { ContactObject } from "./contact.js";
import { ConversationObject } from "./conversation.js";
import { TicketObject } from "./ticket.js";
import { MessageObject } from "./message.js";
import type { Conversation, Message, Ticket } from "../generated/prisma/client.js";
import { contactPropertyValues, contactTimeline, encodeTimelineCursor, propertyText, type TimelineEntry, type TimelineKind } from "../services/contact-records.js";

export const ContactPropertyTypeEnum = builder.enumType("ContactPropertyType", {
  description: "The type of a contact property's values.",
  values: {
    STRING: { description: "Text, at most 2000 characters." },
    NUMBER: { description: "A number (given as its decimal text)." },
    BOOLEAN: { description: '"true" or "false".' },
    DATE: { description: "A calendar date, YYYY-MM-DD." },
    SELECT: { description: "One of the definition's options." },
  },
});

export const ContactNoteObject = builder.prismaNode("ContactNote", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, accountId: ctx.kind === "agent" ? ctx.accountId : "" }),
  description: "An agent's note on a contact.",
  fields: (t) => ({
    body: t.exposeString("body", { description: "The note's text (plain text)." }),
    author: t.relation("author", { description: "The agent who wrote the note (only they may edit it; they or an admin may delete it)." }),
    contact: t.relation("contact", { description: "The contact the note is about." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the note was written." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the note was last edited." }),
  }),
});

export const ContactPropertyDefinitionObject = builder.prismaNode("ContactPropertyDefinition", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, accountId: ctx.kind === "agent" ? ctx.accountId : "" }),
  description: "A custom contact property the account defines (admins manage them); values are set with setContactProperties.",
  fields: (t) => ({
    key: t.exposeString("key", { description: "The property's key, unique in the account (lower-case letters, digits and _)." }),
    label: t.exposeString("label", { description: "What agents see as the property's name." }),
    type: t.expose("type", { type: ContactPropertyTypeEnum, description: "The type every value must have." }),
    options: t.exposeStringList("options", { description: "The allowed values of a SELECT property; empty for other types." }),
  }),
});

const ContactPropertyValueObject = builder.objectRef<{ definition: { key: string; type: string }; value: unknown }>("ContactPropertyValue").implement({
  description: "A contact's value of one custom property.",
  fields: (t) => ({
    key: t.string({ description: "The property's key.", resolve: (v) => v.definition.key }),
    definition: t.field({ type: ContactPropertyDefinitionObject, description: "The property's definition.", resolve: (v) => v.definition as never }),
    value: t.string({ description: "The value as text (numbers in decimal, booleans as true/false, dates as YYYY-MM-DD).", resolve: (v) => propertyText(v.value) ?? "" }),
  }),
});

type LoadedEntry = TimelineEntry & { conversation?: Conversation; ticket?: Ticket; message?: Message };

const TYPE_OF: Record<TimelineKind, string> = {
  CONVERSATION: "ConversationTimelineItem",
  TICKET: "TicketTimelineItem",
  CALL: "CallTimelineItem",
  FORM_SUBMISSION: "FormSubmissionTimelineItem",
};

const TimelineItem = builder.interfaceRef<LoadedEntry>("ContactTimelineItem").implement({
  description: "One entry of a contact's timeline.",
  resolveType: (entry) => TYPE_OF[entry.kind],
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime", description: "When it happened: a conversation or ticket was started, a call or a form submission came in." }),
  }),
});

builder.objectRef<LoadedEntry>("ConversationTimelineItem").implement({
  description: "A conversation with the contact (form conversations appear as their submissions).",
  interfaces: [TimelineItem],
  fields: (t) => ({ conversation: t.field({ type: ConversationObject, description: "The conversation.", resolve: (e) => e.conversation! }) }),
});
builder.objectRef<LoadedEntry>("TicketTimelineItem").implement({
  description: "A ticket of the contact.",
  interfaces: [TimelineItem],
  fields: (t) => ({ ticket: t.field({ type: TicketObject, description: "The ticket.", resolve: (e) => e.ticket! }) }),
});
builder.objectRef<LoadedEntry>("CallTimelineItem").implement({
  description: "A call with the contact: its CALL entry (see Message.call).",
  interfaces: [TimelineItem],
  fields: (t) => ({ message: t.field({ type: MessageObject, description: "The call's entry in its conversation (Message.call has its details).", resolve: (e) => e.message! }) }),
});
builder.objectRef<LoadedEntry>("FormSubmissionTimelineItem").implement({
  description: "A form the contact submitted.",
  interfaces: [TimelineItem],
  fields: (t) => ({ message: t.field({ type: MessageObject, description: "The submission's message (Message.formSubmission has every field).", resolve: (e) => e.message! }) }),
});

builder.prismaObjectFields(ContactObject, (t) => ({
  customProperties: t.field({
    type: [ContactPropertyValueObject],
    authScopes: { agent: true },
    description: "The contact's custom property values, by key (only properties the account defines).",
    select: { customProperties: true },
    resolve: (c, _a, ctx) => (ctx.kind === "agent" ? contactPropertyValues(ctx, c.customProperties) : []),
  }),
  notes: t.relatedConnection("notes", {
    cursor: "id",
    maxSize: 100,
    authScopes: { agent: true },
    description: "Agents' notes on the contact, newest first.",
    query: () => ({ orderBy: [{ createdAt: "desc" as const }, { id: "desc" as const }] }),
  }),
  timeline: t.connection(
    {
      type: TimelineItem,
      authScopes: { agent: true },
      description: "The contact's conversations, tickets, calls and form submissions, newest first; conversations, calls and submissions only from inboxes the caller sees. At most 100 a page (default 20).",
      select: { id: true },
      resolve: async (c, args, ctx) => {
        if (ctx.kind !== "agent") return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
        const { entries, hasNextPage, hasPreviousPage } = await contactTimeline(ctx, c.id, { first: args.first, after: args.after });
        const ids = (kind: TimelineKind[]) => entries.filter((e) => kind.includes(e.kind)).map((e) => e.id);
        const [conversations, tickets, messages] = await Promise.all([
          ctx.prisma.conversation.findMany({ where: { accountId: ctx.accountId, id: { in: ids(["CONVERSATION"]) } } }),
          ctx.prisma.ticket.findMany({ where: { accountId: ctx.accountId, id: { in: ids(["TICKET"]) } } }),
          ctx.prisma.message.findMany({ where: { accountId: ctx.accountId, id: { in: ids(["CALL", "FORM_SUBMISSION"]) } } }),
        ]);
        const byId = new Map<string, Conversation | Ticket | Message>([...conversations, ...tickets, ...messages].map((r) => [r.id, r]));
        const loaded: LoadedEntry[] = entries.map((e) => {
          const row = byId.get(e.id);
          return e.kind === "CONVERSATION" ? { ...e, conversation: row as Conversation } : e.kind === "TICKET" ? { ...e, ticket: row as Ticket } : { ...e, message: row as Message };
        });
        return {
          edges: loaded.map((node) => ({ cursor: encodeTimelineCursor(node), node })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage,
            startCursor: loaded.length ? encodeTimelineCursor(loaded[0]) : null,
            endCursor: loaded.length ? encodeTimelineCursor(loaded[loaded.length - 1]) : null,
          },
        };
      },
    },
    { name: "ContactTimelineConnection" },
  ),
}));

export const AddContactNoteInput = builder.inputType("AddContactNoteInput", {
  description: "A new note on a contact.",
  fields: (t) => ({
    contactId: t.id({ required: true, description: "The contact." }),
    body: t.string({ required: true, description: "The note's text (1 to 10000 characters)." }),
  }),
});
export const UpdateContactNoteInput = builder.inputType("UpdateContactNoteInput", {
  description: "New text for one of the caller's notes.",
  fields: (t) => ({
    noteId: t.id({ required: true, description: "A note the caller wrote." }),
    body: t.string({ required: true, description: "The note's new text (1 to 10000 characters)." }),
  }),
});
export const DeleteContactNoteInput = builder.inputType("DeleteContactNoteInput", {
  description: "A note to delete (the caller's own; admins: any).",
  fields: (t) => ({ noteId: t.id({ required: true, description: "The note." }) }),
});
export const ContactNoteResult = builder.objectRef<{ noteId: string }>("ContactNoteResult").implement({
  description: "The note was written.",
  fields: (t) => ({
    note: t.prismaField({ type: ContactNoteObject, description: "The note as it is now.", resolve: (query, r, _a, ctx) => ctx.prisma.contactNote.findUniqueOrThrow({ ...query, where: { id: r.noteId } }) }),
  }),
});
export const DeleteContactNoteResult = builder.objectRef<{ noteId: string }>("DeleteContactNoteResult").implement({
  description: "The note was deleted.",
  fields: (t) => ({ deletedNoteId: t.id({ description: "The deleted note's id.", resolve: (r) => toGlobalId("ContactNote", r.noteId) }) }),
});

export const CreateContactPropertyDefinitionInput = builder.inputType("CreateContactPropertyDefinitionInput", {
  description: "A new custom contact property (admins).",
  fields: (t) => ({
    key: t.string({ required: true, description: "Unique in the account: lower-case letters, digits and _, starting with a letter (at most 64); cannot change later." }),
    label: t.string({ required: true, description: "What agents see (1 to 120 characters)." }),
    type: t.field({ type: ContactPropertyTypeEnum, required: true, description: "The type of its values." }),
    options: t.stringList({ description: "SELECT only, and required there: the allowed values (distinct, at most 100)." }),
  }),
});
export const UpdateContactPropertyDefinitionInput = builder.inputType("UpdateContactPropertyDefinitionInput", {
  description: "Changes a property's label or a SELECT's options; only given fields change.",
  fields: (t) => ({
    definitionId: t.id({ required: true, description: "The definition." }),
    label: t.string({ description: "New label." }),
    options: t.stringList({ description: "SELECT only: the new list of allowed values (existing values are kept as they are)." }),
  }),
});
export const DeleteContactPropertyDefinitionInput = builder.inputType("DeleteContactPropertyDefinitionInput", {
  description: "A property to delete, with its values on every contact.",
  fields: (t) => ({ definitionId: t.id({ required: true, description: "The definition." }) }),
});
export const ContactPropertyDefinitionResult = builder.objectRef<{ definitionId: string }>("ContactPropertyDefinitionResult").implement({
  description: "The definition was saved.",
  fields: (t) => ({
    definition: t.prismaField({ type: ContactPropertyDefinitionObject, description: "The definition as it is now.", resolve: (query, r, _a, ctx) => ctx.prisma.contactPropertyDefinition.findUniqueOrThrow({ ...query, where: { id: r.definitionId } }) }),
  }),
});
export const DeleteContactPropertyDefinitionResult = builder.objectRef<{ definitionId: string }>("DeleteContactPropertyDefinitionResult").implement({
  description: "The definition and its values were deleted.",
  fields: (t) => ({ deletedDefinitionId: t.id({ description: "The deleted definition's id.", resolve: (r) => toGlobalId("ContactPropertyDefinition", r.definitionId) }) }),
});

const ContactPropertyValueInput = builder.inputType("ContactPropertyValueInput", {
  description: "One custom property value to set or clear.",
  fields: (t) => ({
    key: t.string({ required: true, description: "A defined property's key." }),
    value: t.string({ description: "The value as text for the property's type (NUMBER in decimal, BOOLEAN true/false, DATE YYYY-MM-DD, SELECT an option); null clears it." }),
  }),
});
export const SetContactPropertiesInput = builder.inputType("SetContactPropertiesInput", {
  description: "Sets or clears custom property values on a contact; all or none are written.",
  fields: (t) => ({
    contactId: t.id({ required: true, description: "The contact." }),
    properties: t.field({ type: [ContactPropertyValueInput], required: true, description: "The values (at most 100); keys not listed keep their values." }),
  }),
});
