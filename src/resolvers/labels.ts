import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import { ConversationResult } from "../schema/conversation.js";
import { TicketResult } from "../schema/ticket.js";
import {
  ConversationLabelsInput,
  CreateLabelInput,
  DeleteLabelInput,
  DeleteLabelResult,
  LabelObject,
  LabelResult,
  TicketLabelsInput,
  UpdateLabelInput,
} from "../schema/label.js";
import { ConflictError } from "../services/errors.js";
import { changeConversationLabels, changeTicketLabels, createLabel, deleteLabel, listLabels, updateLabel } from "../services/labels.js";

const LABEL_ERRORS = [...COMMON_ERRORS, ConflictError];
const inputArg = { description: "The mutation's arguments as one input object (see the input type for each field)." };

builder.queryFields((t) => ({
  labels: t.withAuth({ agent: true }).prismaField({
    type: [LabelObject],
    description: "The account's labels, sorted by name (case-insensitively).",
    args: { search: t.arg.string({ description: "Only labels whose name contains this text, ignoring case." }) },
    resolve: (query, _root, args, ctx) => listLabels(ctx, args.search, query),
  }),
}));

builder.mutationFields((t) => ({
  createLabel: t.withAuth({ agent: true }).field({
    type: LabelResult,
    description: "Admins: creates an account-wide label (ForbiddenError for agents; ConflictError when the name is taken, ignoring case).",
    errors: { types: LABEL_ERRORS, directResult: true, union: { name: "CreateLabelPayload" } },
    args: { input: t.arg({ type: CreateLabelInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ labelId: (await createLabel(ctx, input)).id }),
  }),
  updateLabel: t.withAuth({ agent: true }).field({
    type: LabelResult,
    description: "Admins: renames, recolours or re-describes a label (ForbiddenError for agents).",
    errors: { types: LABEL_ERRORS, directResult: true, union: { name: "UpdateLabelPayload" } },
    args: { input: t.arg({ type: UpdateLabelInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ labelId: (await updateLabel(ctx, { ...input, labelId: fromGlobalId(input.labelId, "Label") })).id }),
  }),
  deleteLabel: t.withAuth({ agent: true }).field({
    type: DeleteLabelResult,
    description: "Admins: deletes a label; the conversations that carried it push `conversationUpdated` (ForbiddenError for agents).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeleteLabelPayload" } },
    args: { input: t.arg({ type: DeleteLabelInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ labelId: (await deleteLabel(ctx, fromGlobalId(input.labelId, "Label"))).id }),
  }),
  addConversationLabels: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Puts labels on a conversation; pushes `conversationUpdated` when one was new.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "AddConversationLabelsPayload" } },
    args: { input: t.arg({ type: ConversationLabelsInput, required: true, ...inputArg }) },
    resolve: (_root, { input }, ctx) =>
      changeConversationLabels(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), add: fromGlobalIds(input.labelIds, "Label", ["input", "labelIds"]) }),
  }),
  removeConversationLabels: t.withAuth({ agent: true }).field({
    type: ConversationResult,
    description: "Takes labels off a conversation; pushes `conversationUpdated` when it had one of them.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RemoveConversationLabelsPayload" } },
    args: { input: t.arg({ type: ConversationLabelsInput, required: true, ...inputArg }) },
    resolve: (_root, { input }, ctx) =>
      changeConversationLabels(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), remove: fromGlobalIds(input.labelIds, "Label", ["input", "labelIds"]) }),
  }),
  addTicketLabels: t.withAuth({ agent: true }).field({
    type: TicketResult,
    description: "Puts labels on a ticket.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "AddTicketLabelsPayload" } },
    args: { input: t.arg({ type: TicketLabelsInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({
      ticket: await changeTicketLabels(ctx, { ticketId: fromGlobalId(input.ticketId, "Ticket"), add: fromGlobalIds(input.labelIds, "Label", ["input", "labelIds"]) }),
    }),
  }),
  removeTicketLabels: t.withAuth({ agent: true }).field({
    type: TicketResult,
    description: "Takes labels off a ticket.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RemoveTicketLabelsPayload" } },
    args: { input: t.arg({ type: TicketLabelsInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({
      ticket: await changeTicketLabels(ctx, { ticketId: fromGlobalId(input.ticketId, "Ticket"), remove: fromGlobalIds(input.labelIds, "Label", ["input", "labelIds"]) }),
    }),
  }),
}));
