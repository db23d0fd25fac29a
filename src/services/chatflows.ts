import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { BotAvailability, Channel, Chatflow, ChatflowKind, ChatflowTrigger, Prisma, PrismaClient } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { requireRole } from "./access.js";
import { NotFoundError, ValidationError, type FieldError } from "./errors.js";
import { parseTargeting, targetingMatches, validateBotGraph, targetingSchema, type BotGraph } from "./chatflow-validation.js";
import { isLiveChat } from "./chat-availability.js";
import { validateOutboundUrl, type OutboundConfig } from "./outbound-url.js";
import { parseInput } from "./validation.js";

/**
 * Chatflows: what a CHAT channel's widget (several flows, chosen per page) or a Messenger page
 * (its default flow) runs. Admins create, edit and delete them; the widget reads the one that
 * applies to its page (public); chatflow-engine.ts runs bots.
 */

type Tx = Prisma.TransactionClient;
const CHATFLOW_CHANNELS = ["CHAT", "FACEBOOK_MESSENGER"] as const;

export interface ChatflowInput {
  name?: string | null;
  kind?: ChatflowKind | null;
  language?: string | null;
  priority?: number | null;
  published?: boolean | null;
  targeting?: unknown;
  trigger?: ChatflowTrigger | null;
  triggerValue?: number | null;
  botAvailability?: BotAvailability | null;
  greeting?: string | null;
  instantReply?: string | null;
  actions?: unknown[] | null;
  startActionId?: string | null;
  handoffActionId?: string | null;
  awayActionId?: string | null;
}

const fieldsSchema = z.object({
  name: z.string().trim().min(1, "Must not be empty").max(120, "At most 120 characters"),
  kind: z.enum(["LIVE_CHAT", "BOT"]),
  language: z.string().trim().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, "A language tag such as en or it-IT").default("en"),
  priority: z.number().int().min(0).max(10_000).default(0),
  published: z.boolean().default(false),
  trigger: z.enum(["PAGE_LOAD", "AFTER_SECONDS", "SCROLL_PERCENT", "EXIT_INTENT"]).default("PAGE_LOAD"),
  triggerValue: z.number().int().min(0).max(3600).nullish(),
  botAvailability: z.enum(["ALWAYS", "BUSINESS_HOURS"]).default("ALWAYS"),
  greeting: z.string().trim().max(160, "At most 160 characters").nullish(),
  instantReply: z.string().trim().max(1000, "At most 1000 characters").nullish(),
});

/** Merges `input` over `current` (an update) and checks the whole flow as it would be stored. */
async function parseFlow(tx: Tx, accountId: string, input: ChatflowInput, current: Chatflow | null, outbound: OutboundConfig) {
  const merged = {
    name: input.name ?? current?.name,
    kind: input.kind ?? current?.kind,
    language: input.language ?? current?.language,
    priority: input.priority ?? current?.priority,
    published: input.published ?? current?.published,
    trigger: input.trigger ?? current?.trigger,
    triggerValue: input.triggerValue !== undefined ? input.triggerValue : current?.triggerValue,
    botAvailability: input.botAvailability ?? current?.botAvailability,
    greeting: input.greeting !== undefined ? input.greeting : current?.greeting,
    instantReply: input.instantReply !== undefined ? input.instantReply : current?.instantReply,
  };
  const fields = parseInput(fieldsSchema, merged);
  if ((fields.trigger === "AFTER_SECONDS" || fields.trigger === "SCROLL_PERCENT") && fields.triggerValue == null) {
    throw ValidationError.field("input.triggerValue", fields.trigger === "AFTER_SECONDS" ? "How many seconds on the page" : "How far down the page (percent)");
  }
  if (fields.trigger === "SCROLL_PERCENT" && (fields.triggerValue ?? 0) > 100) throw ValidationError.field("input.triggerValue", "At most 100 percent");
  const targeting = parseTargeting(input.targeting !== undefined ? input.targeting : (current?.targeting ?? {}));
  let graph: BotGraph = { actions: [], startActionId: null, handoffActionId: null, awayActionId: null };
  if (fields.kind === "BOT") {
    graph = validateBotGraph({
      actions: input.actions ?? current?.actions ?? [],
      startActionId: input.startActionId !== undefined ? input.startActionId : current?.startActionId,
      handoffActionId: input.handoffActionId !== undefined ? input.handoffActionId : current?.handoffActionId,
      awayActionId: input.awayActionId !== undefined ? input.awayActionId : current?.awayActionId,
    });
    await checkReferences(tx, accountId, graph, outbound);
  }
  return { ...fields, targeting, ...graph };
}

/** Teams, users, pipelines and statuses named by actions belong to the account; webhook URLs pass the outbound guard. */
async function checkReferences(tx: Tx, accountId: string, graph: BotGraph, outbound: OutboundConfig) {
  const errors: FieldError[] = [];
  for (const [i, a] of graph.actions.entries()) {
    const at = (...p: string[]) => ["input", "actions", String(i), ...p];
    if (a.type === "SEND_TO_TEAM") {
      if (a.teamId && !(await tx.team.findFirst({ where: { accountId, id: a.teamId }, select: { id: true } }))) errors.push({ path: at("teamId"), message: "No such team" });
      for (const [j, userId] of (a.userIds ?? []).entries()) {
        if (!(await tx.user.findFirst({ where: { accountId, id: userId, removedAt: null }, select: { id: true } }))) errors.push({ path: at("userIds", String(j)), message: "No such user" });
      }
    }
    if (a.type === "CREATE_TICKET") {
      const pipeline = a.pipelineId ? await tx.pipeline.findFirst({ where: { accountId, id: a.pipelineId }, include: { statuses: true } }) : null;
      if (a.pipelineId && !pipeline) errors.push({ path: at("pipelineId"), message: "No such pipeline" });
      if (a.statusId) {
        const status = pipeline ? pipeline.statuses.find((s) => s.id === a.statusId) : await tx.pipelineStatus.findFirst({ where: { accountId, id: a.statusId, pipeline: { isDefault: true } } });
        if (!status) errors.push({ path: at("statusId"), message: "Not a status of the ticket's pipeline" });
        const missing = status ? status.requiredProperties.filter((p) => !Object.hasOwn(a.properties ?? {}, p)) : [];
        if (missing.length) errors.push({ path: at("properties"), message: `This status needs the properties ${missing.join(", ")}` });
      }
    }
    if (a.type === "WEBHOOK") {
      try {
        await validateOutboundUrl(a.url, outbound, at("url"));
      } catch (err) {
        if (err instanceof ValidationError) errors.push(...err.fieldErrors);
        else throw err;
      }
    }
  }
  if (errors.length) throw new ValidationError(errors);
}

async function chatflowChannel(tx: Tx | PrismaClient, accountId: string, channelId: string): Promise<Channel> {
  const channel = await tx.channel.findFirst({ where: { accountId, id: channelId, deletedAt: null } });
  if (!channel) throw new NotFoundError("Channel", channelId);
  if (!(CHATFLOW_CHANNELS as readonly string[]).includes(channel.type)) throw ValidationError.field("input.channelId", "Chatflows run on chat and Facebook Messenger channels");
  return channel;
}

function toData(flow: Awaited<ReturnType<typeof parseFlow>>) {
  return {
    name: flow.name,
    kind: flow.kind,
    language: flow.language,
    priority: flow.priority,
    published: flow.published,
    trigger: flow.trigger,
    triggerValue: flow.triggerValue ?? null,
    botAvailability: flow.botAvailability,
    greeting: flow.greeting || null,
    instantReply: flow.instantReply || null,
    targeting: flow.targeting as Prisma.InputJsonObject,
    actions: flow.actions as unknown as Prisma.InputJsonArray,
    startActionId: flow.startActionId,
    handoffActionId: flow.handoffActionId,
    awayActionId: flow.awayActionId,
  };
}

/** Creates a chatflow on a chat or Messenger channel (admins). ValidationError names each bad field of the flow or its graph. */
export async function createChatflow(ctx: AgentContext, input: ChatflowInput & { channelId: string }): Promise<Chatflow> {
  requireRole(ctx, "ADMIN", "create chatflows");
  return ctx.prisma.$transaction(async (tx) => {
    const channel = await chatflowChannel(tx, ctx.accountId, input.channelId);
    const flow = await parseFlow(tx, ctx.accountId, input, null, ctx.config.outbound);
    return tx.chatflow.create({ data: { accountId: ctx.accountId, channelId: channel.id, webhookSecret: newSecret(), ...toData(flow) } });
  });
}

/** Updates a chatflow (admins): absent fields keep their value; the whole flow is checked again. */
export async function updateChatflow(ctx: AgentContext, input: ChatflowInput & { chatflowId: string }): Promise<Chatflow> {
  requireRole(ctx, "ADMIN", "edit chatflows");
  return ctx.prisma.$transaction(async (tx) => {
    const current = await tx.chatflow.findFirst({ where: { accountId: ctx.accountId, id: input.chatflowId } });
    if (!current) throw new NotFoundError("Chatflow", input.chatflowId);
    const flow = await parseFlow(tx, ctx.accountId, input, current, ctx.config.outbound);
    return tx.chatflow.update({ where: { id: current.id }, data: toData(flow) });
  });
}

/** Deletes a chatflow (admins); its sessions go with it. Returns the deleted id. */
export async function deleteChatflow(ctx: AgentContext, chatflowId: string): Promise<string> {
  requireRole(ctx, "ADMIN", "delete chatflows");
  const deleted = await ctx.prisma.chatflow.deleteMany({ where: { accountId: ctx.accountId, id: chatflowId } });
  if (deleted.count === 0) throw new NotFoundError("Chatflow", chatflowId);
  return chatflowId;
}

/** The account's chatflows (admins), optionally of one channel, by channel then priority. */
export function listChatflows(ctx: AgentContext, channelId?: string | null, query: Omit<Prisma.ChatflowFindManyArgs, "where" | "orderBy"> = {}) {
  requireRole(ctx, "ADMIN", "read chatflows");
  return ctx.prisma.chatflow.findMany({ ...query, where: { accountId: ctx.accountId, ...(channelId ? { channelId } : {}) }, orderBy: [{ channelId: "asc" }, { priority: "asc" }, { createdAt: "asc" }] });
}

export async function getChatflow(ctx: AgentContext, chatflowId: string) {
  requireRole(ctx, "ADMIN", "read chatflows");
  const flow = await ctx.prisma.chatflow.findFirst({ where: { accountId: ctx.accountId, id: chatflowId } });
  if (!flow) throw new NotFoundError("Chatflow", chatflowId);
  return flow;
}

const newSecret = () => randomBytes(24).toString("base64url");

/**
 * The published chatflow a page of the site shows: the first by priority (then age) whose
 * targeting matches `pageUrl` (include/exclude URL rules, then query parameters). Null when the
 * chat is not live or no flow matches (the widget then behaves as plain live chat).
 */
export async function chatflowForPage(prisma: PrismaClient | Tx, channelId: string, pageUrl: string | null | undefined): Promise<Chatflow | null> {
  const channel = await prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel || !isLiveChat(channel)) return null;
  const flows = await prisma.chatflow.findMany({ where: { accountId: channel.accountId, channelId, published: true }, orderBy: [{ priority: "asc" }, { createdAt: "asc" }, { id: "asc" }] });
  return flows.find((f) => targetingMatches(targetingSchema.parse(f.targeting ?? {}), pageUrl)) ?? null;
}

/** A published flow of the channel by id (what startChat is told the page showed), else null. */
export async function publishedChatflow(tx: Tx, accountId: string, channelId: string, chatflowId: string): Promise<Chatflow | null> {
  return tx.chatflow.findFirst({ where: { accountId, channelId, id: chatflowId, published: true } });
}

/** A Messenger channel's flow: its published default first, then the other published ones by priority. */
export function messengerChatflow(tx: Tx, accountId: string, channelId: string): Promise<Chatflow | null> {
  return tx.chatflow.findFirst({ where: { accountId, channelId, published: true }, orderBy: [{ isDefault: "desc" }, { priority: "asc" }, { createdAt: "asc" }] });
}

/**
 * Connecting Messenger creates its default chatflow, published: a LIVE_CHAT flow with the
 * page's greeting and instant reply. Later greeting or instant-reply edits of the channel's
 * settings are written to it too (syncMessengerDefault).
 */
export async function createMessengerDefaultChatflow(tx: Tx, channel: Pick<Channel, "id" | "accountId" | "name" | "settings">) {
  const settings = (channel.settings ?? {}) as { greeting?: string; instantReply?: string };
  await tx.chatflow.create({
    data: {
      accountId: channel.accountId,
      channelId: channel.id,
      name: `${channel.name} default`.slice(0, 120),
      kind: "LIVE_CHAT",
      published: true,
      isDefault: true,
      greeting: settings.greeting?.trim() || null,
      instantReply: settings.instantReply?.trim() || null,
      webhookSecret: newSecret(),
    },
  });
}

/** Copies a Messenger channel's greeting and instant reply to its default chatflow (creating it for channels connected before chatflows). */
export async function syncMessengerDefault(tx: Tx, channel: Pick<Channel, "id" | "accountId" | "name" | "settings">) {
  const settings = (channel.settings ?? {}) as { greeting?: string; instantReply?: string };
  const updated = await tx.chatflow.updateMany({
    where: { accountId: channel.accountId, channelId: channel.id, isDefault: true },
    data: { greeting: settings.greeting?.trim() || null, instantReply: settings.instantReply?.trim() || null },
  });
  if (updated.count === 0) await createMessengerDefaultChatflow(tx, channel);
}

export interface ChatflowAnalytics {
  started: number;
  completed: number;
  handedOff: number;
  takenOver: number;
  inProgress: number;
  /** Unfinished sessions idle for `idleMinutes` or more, by the action they stopped at. */
  droppedAt: { actionId: string; count: number }[];
}

/**
 * Per bot, sessions started in [from, to): how many completed, were handed off (to a team, or
 * on request), were taken over by an agent's reply, are still going, and where the ones that went
 * quiet stopped (unfinished and idle for `idleMinutes`, default 30).
 */
export async function chatflowAnalytics(ctx: AgentContext, input: { chatflowId: string; from: Date; to: Date; idleMinutes?: number | null }): Promise<ChatflowAnalytics> {
  const flow = await getChatflow(ctx, input.chatflowId);
  if (input.from >= input.to) throw ValidationError.field("to", "Must be after `from`");
  const idleBefore = new Date(Date.now() - (input.idleMinutes ?? 30) * 60_000);
  const where = { accountId: ctx.accountId, chatflowId: flow.id, startedAt: { gte: input.from, lt: input.to } };
  const byStatus = await ctx.prisma.chatflowSession.groupBy({ by: ["status"], where, _count: { _all: true } });
  const count = (s: string) => byStatus.find((r) => r.status === s)?._count._all ?? 0;
  const dropped = await ctx.prisma.chatflowSession.groupBy({ by: ["currentActionId"], where: { ...where, status: "ACTIVE", updatedAt: { lt: idleBefore } }, _count: { _all: true } });
  return {
    started: byStatus.reduce((n, r) => n + r._count._all, 0),
    completed: count("COMPLETED"),
    handedOff: count("HANDED_OFF"),
    takenOver: count("TAKEN_OVER"),
    inProgress: count("ACTIVE"),
    droppedAt: dropped
      .map((r) => ({ actionId: r.currentActionId ?? "", count: r._count._all }))
      .sort((a, b) => b.count - a.count || a.actionId.localeCompare(b.actionId)),
  };
}

/** The quick replies a stored bot message offers (metadata.chatflow.quickReplies). */
export function quickRepliesOfMessage(metadata: unknown): { label: string; value: string }[] {
  const list = (metadata as { chatflow?: { quickReplies?: unknown } } | null)?.chatflow?.quickReplies;
  return Array.isArray(list) ? list.filter((q): q is { label: string; value: string } => typeof q?.label === "string" && typeof q?.value === "string") : [];
}

