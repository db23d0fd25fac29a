import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { Channel, ChannelStatus, ChannelType, Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { requireRole, visibleInboxWhere } from "./access.js";
import { checkAccountIds, prepareTypeSettings, type PreparedSettings } from "./channel-settings.js";
import { dropNulls, INBOX_TICKETS_CUTOFF, PROFESSIONAL_TYPES, SETTINGS_BY_TYPE } from "./channel-settings.js";
import { ForbiddenError, NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { name, parseInput } from "./validation.js";
import { queueMessengerGreeting } from "../transports/meta/graph-api.js";
import { createMessengerDefaultChatflow, syncMessengerDefault } from "./chatflows.js";
import { recordChatWidgetChanged } from "./chat-widget-config.js";
import { checkRoutingTargetsSeeInbox } from "./routing.js";
import { queueChannelLifecycleWebhook } from "./channel-apps.js";

type SettingsInput = Record<string, unknown> | null | undefined;

export interface RoutingInput {
  autoAssign?: boolean | null;
  target?: "SPECIFIC" | "CONTACT_OWNER" | null;
  userIds?: string[] | null;
  teamIds?: string[] | null;
  onlyAvailable?: boolean | null;
}

/** Ticket defaults; on update `undefined` keeps a value and `null` clears it. */
export interface TicketDefaultsInput {
  createTickets?: boolean | null;
  pipelineId?: string | null;
  statusId?: string | null;
  priority?: "LOW" | "MEDIUM" | "HIGH" | "URGENT" | null;
  ownerId?: string | null;
}

/** The per-type settings parts (raw ids); exactly one is given on connect. */
export interface ChannelSettingsInputs {
  teamEmail?: SettingsInput;
  chat?: SettingsInput;
  facebookMessenger?: SettingsInput;
  form?: SettingsInput;
  whatsApp?: SettingsInput;
  calling?: SettingsInput;
  custom?: SettingsInput;
}

export interface ConnectChannelInput extends ChannelSettingsInputs {
  inboxId: string;
  name: string;
  routing?: RoutingInput | null;
  ticketDefaults?: TicketDefaultsInput | null;
  conversationDefaults?: Record<string, unknown> | null;
}

export interface UpdateChannelInput extends ChannelSettingsInputs {
  name?: string | null;
  routing?: RoutingInput | null;
  ticketDefaults?: TicketDefaultsInput | null;
  conversationDefaults?: Record<string, unknown> | null;
}

const TYPES = Object.keys(SETTINGS_BY_TYPE) as ChannelType[];

const routingSchema = z.object({
  autoAssign: z.boolean().default(false),
  target: z.enum(["SPECIFIC", "CONTACT_OWNER"]).default("SPECIFIC"),
  onlyAvailable: z.boolean().default(true),
  userIds: z.array(z.string()).max(500).default([]),
  teamIds: z.array(z.string()).max(100).default([]),
});

const ticketSchema = z.object({
  createTickets: z.boolean().default(false),
  pipelineId: z.string().nullish(),
  statusId: z.string().nullish(),
  priority: z.enum(["LOW", "MEDIUM", "HIGH", "URGENT"]).nullish(),
  ownerId: z.string().nullish(),
});

/** Who may connect or manage a channel of this type: SUPER_ADMIN for custom channels, ADMIN+ otherwise. */
function requireManage(ctx: AgentContext, type: ChannelType, verb: string) {
  if (type === "CUSTOM") requireRole(ctx, "SUPER_ADMIN", `${verb} custom channels`);
  else requireRole(ctx, "ADMIN", `${verb} channels`);
}

function pickType(input: ChannelSettingsInputs): ChannelType {
  const given = TYPES.filter((type) => input[SETTINGS_BY_TYPE[type].field] != null);
  if (given.length !== 1) {
    const fields = TYPES.map((type) => SETTINGS_BY_TYPE[type].field).join(", ");
    throw ValidationError.field("input", `Give exactly one of ${fields} (got ${given.length})`);
  }
  return given[0];
}

async function parseRouting(ctx: AgentContext, base: Record<string, unknown>, input: RoutingInput | null | undefined) {
  const routing = parseInput(routingSchema, { ...base, ...(dropNulls(input ?? {}) as object) }, ["input", "routing"]);
  routing.userIds = await checkAccountIds(ctx, "user", routing.userIds, ["input", "routing", "userIds"]);
  routing.teamIds = await checkAccountIds(ctx, "team", routing.teamIds, ["input", "routing", "teamIds"]);
  return routing;
}

async function parseTicketDefaults(ctx: AgentContext, base: Record<string, unknown>, input: TicketDefaultsInput | null | undefined) {
  const given = Object.fromEntries(Object.entries(input ?? {}).filter(([k, v]) => v !== undefined && !(k === "createTickets" && v === null)));
  const ticket = parseInput(ticketSchema, { ...base, ...given }, ["input", "ticketDefaults"]);
  const path = (f: string) => ["input", "ticketDefaults", f];
  if (ticket.statusId) {
    const status = await ctx.prisma.pipelineStatus.findFirst({ where: { accountId: ctx.accountId, id: ticket.statusId } });
    if (!status) throw ValidationError.field(path("statusId"), "Unknown pipeline status");
    if (ticket.pipelineId && status.pipelineId !== ticket.pipelineId) throw ValidationError.field(path("statusId"), "This status belongs to another pipeline");
    ticket.pipelineId = status.pipelineId;
  } else if (ticket.pipelineId) {
    const pipeline = await ctx.prisma.pipeline.count({ where: { accountId: ctx.accountId, id: ticket.pipelineId } });
    if (!pipeline) throw ValidationError.field(path("pipelineId"), "Unknown pipeline");
  }
  if (ticket.ownerId) await checkAccountIds(ctx, "user", [ticket.ownerId], path("ownerId"));
  return ticket;
}

/** Accounts created on or after 2024-04-01 make tickets in the help desk, not from inbox channels. */
function checkInboxTickets(inboxKind: string, accountCreatedAt: Date, createTickets: boolean, path: string[]) {
  if (createTickets && inboxKind === "INBOX" && accountCreatedAt >= INBOX_TICKETS_CUTOFF) {
    throw ValidationError.field(path, "Accounts created on or after 2024-04-01 cannot create tickets from inbox channels: connect this channel to the help desk instead");
  }
}

function checkTier(type: ChannelType, tier: string) {
  if (PROFESSIONAL_TYPES.includes(type) && tier !== "PROFESSIONAL" && tier !== "ENTERPRISE") {
    const label = type === "WHATSAPP" ? "WhatsApp" : "Calling";
    throw new ForbiddenError(`${label} channels need the Professional or Enterprise tier (this account is ${tier})`);
  }
}

/** Runs `write`, turning a unique violation on a lifted column into a ValidationError on its input field. */
async function translateUnique<T>(type: ChannelType, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err, ["emailAddress"])) throw ValidationError.field("input.teamEmail.address", "This address is already connected as a team email");
    if (isUniqueViolation(err, ["facebookPageId"])) throw ValidationError.field("input.facebookMessenger.pageId", "This Facebook page is already connected to an account");
    if (isUniqueViolation(err, ["phoneNumber"])) {
      const field = type === "WHATSAPP" ? "input.whatsApp.phoneNumber" : "input.calling.phoneNumber";
      throw ValidationError.field(field, "This phone number is already connected to a channel of this type");
    }
    throw err;
  }
}

function newInboundSecret() {
  const secret = randomBytes(32).toString("base64url");
  return { secret, hash: createHash("sha256").update(secret).digest("hex") };
}

/**
 * Connects a channel of any type to an inbox or the help desk. Exactly one of the per-type
 * settings parts must be given; every setting is validated and defaulted. SUPER_ADMIN only for
 * CUSTOM, ADMIN+ otherwise. For TEAM_EMAIL the result carries the inbound email secret, shown
 * this once (only its sha256 is stored).
 */
export async function connectChannel(ctx: AgentContext, input: ConnectChannelInput): Promise<{ channel: Channel; inboundEmailSecret: string | null }> {
  const type = pickType(input);
  requireManage(ctx, type, "connect");
  const inbox = await ctx.prisma.inbox.findFirst({ where: { accountId: ctx.accountId, id: input.inboxId } });
  if (!inbox) throw new NotFoundError("Inbox", input.inboxId);
  const account = await ctx.prisma.account.findUniqueOrThrow({ where: { id: ctx.accountId } });
  checkTier(type, account.tier);
  const channelName = parseInput(z.object({ name: name() }), { name: input.name }).name;
  const prepared = await prepareTypeSettings(ctx, account, type, input[SETTINGS_BY_TYPE[type].field], {});
  const routing = await parseRouting(ctx, {}, input.routing);
  await checkRoutingTargetsSeeInbox(ctx.prisma, ctx.accountId, inbox, routing);
  const ticket = await parseTicketDefaults(ctx, {}, input.ticketDefaults);
  const createTickets = prepared.createTickets ?? ticket.createTickets;
  checkInboxTickets(inbox.kind, account.createdAt, createTickets, prepared.createTickets !== undefined ? ["input", "form", "createTickets"] : ["input", "ticketDefaults", "createTickets"]);
  const inbound = type === "TEAM_EMAIL" ? newInboundSecret() : null;

  const channel = await translateUnique(type, () =>
    ctx.prisma.$transaction(async (tx) => {
      const formId = prepared.newForm
        ? (await tx.form.create({ data: { accountId: ctx.accountId, name: prepared.newForm.name, fields: prepared.newForm.fields } })).id
        : prepared.columns.formId;
      return tx.channel.create({
        data: {
          accountId: ctx.accountId,
          inboxId: inbox.id,
          type,
          name: channelName,
          settings: prepared.settings as Prisma.InputJsonValue,
          ...prepared.columns,
          formId,
          inboundSecretHash: inbound?.hash,
          autoAssign: routing.autoAssign,
          routingTarget: routing.target,
          onlyAvailable: routing.onlyAvailable,
          conversationDefaults: (input.conversationDefaults ?? {}) as Prisma.InputJsonValue,
          createTickets,
          ticketPipelineId: ticket.pipelineId ?? null,
          ticketStatusId: ticket.statusId ?? null,
          ticketPriority: ticket.priority ?? null,
          ticketOwnerId: ticket.ownerId ?? null,
        },
      }).then(async (created) => {
        await tx.channelRoutingUser.createMany({ data: routing.userIds.map((userId) => ({ accountId: ctx.accountId, channelId: created.id, userId })) });
        await tx.channelRoutingTeam.createMany({ data: routing.teamIds.map((teamId) => ({ accountId: ctx.accountId, channelId: created.id, teamId })) });
        const greeting = messengerGreeting(created);
        if (greeting) await queueMessengerGreeting(tx, created, greeting);
        if (created.type === "FACEBOOK_MESSENGER") await createMessengerDefaultChatflow(tx, created);
        await queueChannelLifecycleWebhook(tx, "channel.connected", created);
        return created;
      });
    }),
  );
  return { channel, inboundEmailSecret: inbound?.secret ?? null };
}

/** A live (not deleted) channel of the caller's account, or NotFoundError. */
export async function getChannel(ctx: Pick<AgentContext, "prisma" | "accountId">, channelId: string) {
  const channel = await ctx.prisma.channel.findFirst({ where: { id: channelId, accountId: ctx.accountId, deletedAt: null } });
  if (!channel) throw new NotFoundError("Channel", channelId);
  return channel;
}

/** The stored settings of a channel in the shape its settings input takes, for merging an update into. */
function storedSettingsInput(channel: Channel): Record<string, unknown> {
  if (channel.type === "FORM") return { formId: channel.formId ?? undefined };
  if (channel.type === "CUSTOM") {
    const values = (channel.credentials ?? {}) as Record<string, string>;
    return { channelAppId: channel.channelAppId, credentials: Object.entries(values).map(([name, value]) => ({ name, value })) };
  }
  return (channel.settings ?? {}) as Record<string, unknown>;
}

function mergeSettings(channel: Channel, given: Record<string, unknown>): Record<string, unknown> {
  const stored = storedSettingsInput(channel);
  if (channel.type === "FORM" && given.newForm != null) delete stored.formId;
  if (channel.type === "CUSTOM") {
    // Credentials merge by name, so a partial update keeps the secrets it does not resend.
    const byName = new Map((stored.credentials as { name: string; value: string }[]).map((c) => [c.name, c]));
    for (const c of (given.credentials as { name: string; value: string }[] | null | undefined) ?? []) byName.set(c.name, c);
    return { channelAppId: stored.channelAppId, credentials: [...byName.values()] };
  }
  return { ...stored, ...given };
}

/**
 * Edits a channel: name, routing, ticket and conversation defaults, and its own type's settings
 * (only the given fields change; a null setting goes back to its default). Same rules as connect.
 */
export async function updateChannel(ctx: AgentContext, channelId: string, input: UpdateChannelInput): Promise<Channel> {
  const channel = await getChannel(ctx, channelId);
  requireManage(ctx, channel.type, "edit");
  const ownField = SETTINGS_BY_TYPE[channel.type].field;
  for (const type of TYPES) {
    const field = SETTINGS_BY_TYPE[type].field;
    if (field !== ownField && input[field] != null) throw ValidationError.field(["input", field], `This is a ${channel.type} channel: use ${ownField} for its settings`);
  }
  const [inbox, account] = await Promise.all([
    ctx.prisma.inbox.findUniqueOrThrow({ where: { id: channel.inboxId } }),
    ctx.prisma.account.findUniqueOrThrow({ where: { id: ctx.accountId } }),
  ]);
  const channelName = input.name == null ? channel.name : parseInput(z.object({ name: name() }), { name: input.name }).name;
  const given = input[ownField];
  let prepared: PreparedSettings | undefined;
  if (given != null) prepared = await prepareTypeSettings(ctx, account, channel.type, mergeSettings(channel, given), { channelId: channel.id });

  const [users, teams] = await Promise.all([
    ctx.prisma.channelRoutingUser.findMany({ where: { channelId }, select: { userId: true } }),
    ctx.prisma.channelRoutingTeam.findMany({ where: { channelId }, select: { teamId: true } }),
  ]);
  const routing = await parseRouting(
    ctx,
    { autoAssign: channel.autoAssign, target: channel.routingTarget, onlyAvailable: channel.onlyAvailable, userIds: users.map((u) => u.userId), teamIds: teams.map((t) => t.teamId) },
    input.routing,
  );
  if (input.routing != null) await checkRoutingTargetsSeeInbox(ctx.prisma, ctx.accountId, inbox, routing);
  const ticket = await parseTicketDefaults(
    ctx,
    { createTickets: channel.createTickets, pipelineId: channel.ticketPipelineId, statusId: channel.ticketStatusId, priority: channel.ticketPriority, ownerId: channel.ticketOwnerId },
    input.ticketDefaults,
  );
  const fromForm = prepared?.createTickets !== undefined && input.ticketDefaults?.createTickets == null;
  const createTickets = fromForm ? prepared!.createTickets! : ticket.createTickets;
  checkInboxTickets(inbox.kind, account.createdAt, createTickets && !channel.createTickets, fromForm ? ["input", "form", "createTickets"] : ["input", "ticketDefaults", "createTickets"]);

  return translateUnique(channel.type, () =>
    ctx.prisma.$transaction(async (tx) => {
      let formId = prepared?.columns.formId;
      if (prepared?.newForm) formId = (await tx.form.create({ data: { accountId: ctx.accountId, name: prepared.newForm.name, fields: prepared.newForm.fields } })).id;
      if (input.routing != null) {
        await tx.channelRoutingUser.deleteMany({ where: { channelId } });
        await tx.channelRoutingTeam.deleteMany({ where: { channelId } });
        await tx.channelRoutingUser.createMany({ data: routing.userIds.map((userId) => ({ accountId: ctx.accountId, channelId, userId })) });
        await tx.channelRoutingTeam.createMany({ data: routing.teamIds.map((teamId) => ({ accountId: ctx.accountId, channelId, teamId })) });
      }
      const updated = await tx.channel.update({
        where: { id: channelId },
        data: {
          name: channelName,
          ...(prepared ? { settings: prepared.settings as Prisma.InputJsonValue, ...prepared.columns, formId } : {}),
          autoAssign: routing.autoAssign,
          routingTarget: routing.target,
          onlyAvailable: routing.onlyAvailable,
          ...(input.conversationDefaults != null ? { conversationDefaults: input.conversationDefaults as Prisma.InputJsonValue } : {}),
          createTickets,
          ticketPipelineId: ticket.pipelineId ?? null,
          ticketStatusId: ticket.statusId ?? null,
          ticketPriority: ticket.priority ?? null,
          ticketOwnerId: ticket.ownerId ?? null,
        },
      });
      const greeting = messengerGreeting(updated);
      if (greeting !== messengerGreeting(channel) && greeting !== null) await queueMessengerGreeting(tx, updated, greeting);
      if (updated.type === "FACEBOOK_MESSENGER") await syncMessengerDefault(tx, updated);
      await recordChatWidgetChanged(tx, updated);
      return updated;
    }),
  );
}

/** The Messenger greeting a channel's settings ask for (null for other types). */
function messengerGreeting(channel: Pick<Channel, "type" | "settings">): string | null {
  if (channel.type !== "FACEBOOK_MESSENGER") return null;
  return ((channel.settings as { greeting?: string } | null)?.greeting ?? "").trim() || null;
}

/** Turns a channel ON or OFF (OFF stops intake and keeps everything it has). ADMIN+ (SUPER_ADMIN for CUSTOM). */
export async function setChannelStatus(ctx: AgentContext, channelId: string, status: ChannelStatus): Promise<Channel> {
  const channel = await getChannel(ctx, channelId);
  requireManage(ctx, channel.type, "turn on or off");
  return ctx.prisma.channel.update({ where: { id: channel.id }, data: { status } });
}

/**
 * Deletes a channel (soft): it disappears from lists and node(), stops taking messages, and frees its
 * email address, Facebook page and phone number for reuse; its conversations and messages stay readable.
 */
export async function deleteChannel(ctx: AgentContext, channelId: string): Promise<{ id: string }> {
  const channel = await getChannel(ctx, channelId);
  requireManage(ctx, channel.type, "delete");
  await ctx.prisma.$transaction(async (tx) => {
    const deletedAt = new Date();
    // Only the delete that takes the channel away tells its partner (a concurrent second one changes nothing).
    const deleted = await tx.channel.updateMany({
      where: { id: channel.id, accountId: ctx.accountId, deletedAt: null },
      data: { deletedAt, status: "OFF", emailAddress: null, facebookPageId: null, phoneNumber: null, inboundSecretHash: null },
    });
    if (deleted.count) await queueChannelLifecycleWebhook(tx, "channel.disconnected", { ...channel, deletedAt, status: "OFF" });
  });
  return { id: channel.id };
}

type ChannelQuery = Omit<Prisma.ChannelFindManyArgs, "where" | "orderBy">;

/** Live channels of the inboxes the caller can see, optionally filtered by inbox, type and status. */
export function listChannels(
  ctx: AgentContext,
  filter: { inboxId?: string | null; type?: ChannelType | null; status?: ChannelStatus | null },
  query: ChannelQuery = {},
) {
  return ctx.prisma.channel.findMany({
    ...query,
    where: {
      accountId: ctx.accountId,
      deletedAt: null,
      inbox: visibleInboxWhere(ctx),
      ...(filter.inboxId ? { inboxId: filter.inboxId } : {}),
      ...(filter.type ? { type: filter.type } : {}),
      ...(filter.status ? { status: filter.status } : {}),
    },
    orderBy: { createdAt: "asc" },
  });
}
