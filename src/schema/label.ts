import type { Label } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { toGlobalId } from "./ids.js";
import { ConversationObject } from "./conversation.js";
import { TicketObject } from "./ticket.js";

export const LabelObject = builder.prismaNode("Label", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "An account-wide, coloured tag that agents put on conversations and tickets (filter conversations by it with `ConversationFilter.labelIds`).",
  fields: (t) => ({
    name: t.exposeString("name", { description: "What agents see, 1 to 60 characters; unique in the account whatever its case." }),
    color: t.exposeString("color", { description: 'Hex colour "#rrggbb", lowercase.' }),
    description: t.exposeString("description", { nullable: true, description: "What the label is for; null when none." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the label was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When its name, colour or description last changed." }),
  }),
});

/** Labels of a link list, by name (what a label picker shows). */
const byName = (links: { label: Label }[]) => links.map((l) => l.label).sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "", "en", { sensitivity: "base" }));

// Loaded through the join rows in the list's own statement (src/db/read-sql.ts), no query per row.
builder.prismaObjectField(ConversationObject, "labels", (t) =>
  t.field({
    type: [LabelObject],
    description: "The conversation's labels, by name.",
    select: (_args, _ctx, nested) => ({ labelLinks: { select: { label: nested(true) } } }),
    resolve: (c) => byName(c.labelLinks),
  }),
);

builder.prismaObjectField(TicketObject, "labels", (t) =>
  t.field({
    type: [LabelObject],
    description: "The ticket's labels, by name.",
    select: (_args, _ctx, nested) => ({ labelLinks: { select: { label: nested(true) } } }),
    resolve: (ticket) => byName(ticket.labelLinks),
  }),
);

export const CreateLabelInput = builder.inputType("CreateLabelInput", {
  description: "A new account-wide label (admins only).",
  fields: (t) => ({
    name: t.string({ required: true, description: "1 to 60 characters (trimmed); must differ from every other label of the account, ignoring case (ConflictError otherwise)." }),
    color: t.string({ required: true, description: 'Hex colour "#rrggbb" (stored lowercase).' }),
    description: t.string({ description: "What the label is for, at most 500 characters." }),
  }),
});

export const UpdateLabelInput = builder.inputType("UpdateLabelInput", {
  description: "Changes a label (admins only); omitted fields keep their value.",
  fields: (t) => ({
    labelId: t.id({ required: true, description: "The label to change." }),
    name: t.string({ description: "New name, unique in the account ignoring case." }),
    color: t.string({ description: 'New hex colour "#rrggbb".' }),
    description: t.string({ description: "New description; null clears it." }),
  }),
});

export const DeleteLabelInput = builder.inputType("DeleteLabelInput", {
  description: "Deletes a label (admins only): it leaves every conversation and ticket that carried it.",
  fields: (t) => ({ labelId: t.id({ required: true, description: "The label to delete." }) }),
});

export const ConversationLabelsInput = builder.inputType("ConversationLabelsInput", {
  description: "Labels to add to (or remove from) one conversation the caller can see.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    labelIds: t.idList({ required: true, description: "Labels of the account, at most 50; adding one it has (or removing one it lacks) changes nothing." }),
  }),
});

export const TicketLabelsInput = builder.inputType("TicketLabelsInput", {
  description: "Labels to add to (or remove from) one ticket.",
  fields: (t) => ({
    ticketId: t.id({ required: true, description: "A ticket of the account." }),
    labelIds: t.idList({ required: true, description: "Labels of the account, at most 50; adding one it has (or removing one it lacks) changes nothing." }),
  }),
});

export const LabelResult = builder.objectRef<{ labelId: string }>("LabelResult").implement({
  description: "A label was created or changed.",
  fields: (t) => ({
    label: t.prismaField({ type: LabelObject, description: "The label as stored.", resolve: (query, r, _a, ctx) => ctx.prisma.label.findUniqueOrThrow({ ...query, where: { id: r.labelId } }) }),
  }),
});

export const DeleteLabelResult = builder.objectRef<{ labelId: string }>("DeleteLabelResult").implement({
  description: "A label was deleted.",
  fields: (t) => ({ deletedLabelId: t.id({ description: "Global id of the deleted label (drop it from caches).", resolve: (r) => toGlobalId("Label", r.labelId) }) }),
});
