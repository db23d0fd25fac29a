import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import {
  ChatflowAnalyticsType,
  ChatflowResult,
  ChatflowType,
  CreateChatflowInput,
  DeleteChatflowInput,
  DeleteChatflowResult,
  UpdateChatflowInput,
  WidgetChatflowType,
} from "../schema/chatflow.js";
import { ChatWidgetType } from "../schema/widget.js";
import { chatflowAnalytics, chatflowForPage, createChatflow, deleteChatflow, listChatflows, updateChatflow } from "../services/chatflows.js";

builder.queryFields((t) => ({
  chatflows: t.withAuth({ admin: true }).prismaField({
    type: [ChatflowType],
    description: "Admins: the account's chatflows (optionally of one channel), by channel then priority.",
    args: { channelId: t.arg.id({ description: "Only this channel's flows." }) },
    resolve: (query, _root, args, ctx) => listChatflows(ctx, args.channelId ? fromGlobalId(String(args.channelId), "Channel") : null, query),
  }),
  chatflowAnalytics: t.withAuth({ admin: true }).field({
    type: ChatflowAnalyticsType,
    description: "Admins: a bot's conversations started in [from, to), completed, handed off, taken over, and where the rest dropped off.",
    args: {
      chatflowId: t.arg.id({ required: true, description: "The bot." }),
      from: t.arg({ type: "DateTime", required: true, description: "Sessions started at or after." }),
      to: t.arg({ type: "DateTime", required: true, description: "Sessions started before." }),
      idleMinutes: t.arg.int({ description: "An unfinished session counts as dropped after this long without a step (default 30)." }),
    },
    resolve: (_root, args, ctx) => chatflowAnalytics(ctx, { chatflowId: fromGlobalId(String(args.chatflowId), "Chatflow"), from: args.from, to: args.to, idleMinutes: args.idleMinutes }),
  }),
}));

builder.objectField(ChatWidgetType, "chatflow", (t) =>
  t.field({
    type: WidgetChatflowType,
    nullable: true,
    description: "Public: the published chatflow this page shows (the first by priority whose targeting matches pageUrl); null: plain live chat.",
    args: { pageUrl: t.arg.string({ description: "The page's URL (location.href)." }) },
    resolve: (w, args, ctx) => chatflowForPage(ctx.prisma, w.channelId, args.pageUrl),
  }),
);

const inputArg = { description: "The mutation's arguments as one input object (see the input type for each field)." };

/** The GraphQL input as the service takes it: ids decoded, nulls as "keep". */
function flowInput<T extends Record<string, unknown>>(input: T) {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null)) as { [K in keyof T]: Exclude<T[K], null> };
}

builder.mutationFields((t) => ({
  createChatflow: t.withAuth({ agent: true }).field({
    type: ChatflowResult,
    description: "Adds a chatflow to a chat or Messenger channel (ADMIN+).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateChatflowPayload" } },
    args: { input: t.arg({ type: CreateChatflowInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ chatflow: await createChatflow(ctx, { ...flowInput(input), channelId: fromGlobalId(input.channelId, "Channel") }) }),
  }),
  updateChatflow: t.withAuth({ agent: true }).field({
    type: ChatflowResult,
    description: "Changes a chatflow (ADMIN+); sessions already running continue with the new graph.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateChatflowPayload" } },
    args: { input: t.arg({ type: UpdateChatflowInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ chatflow: await updateChatflow(ctx, { ...flowInput(input), chatflowId: fromGlobalId(input.chatflowId, "Chatflow") }) }),
  }),
  deleteChatflow: t.withAuth({ agent: true }).field({
    type: DeleteChatflowResult,
    description: "Deletes a chatflow and its sessions (ADMIN+).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeleteChatflowPayload" } },
    args: { input: t.arg({ type: DeleteChatflowInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ deletedChatflowId: await deleteChatflow(ctx, fromGlobalId(input.chatflowId, "Chatflow")) }),
  }),
}));
