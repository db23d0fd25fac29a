import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Channel, ChannelApp, Prisma } from "../generated/prisma/client.js";
import type { AgentContext, PartnerContext } from "../context.js";
import type { CredentialFieldDefinition } from "./channel-settings.js";
import { globalId } from "./deliveries.js";
import { NotFoundError } from "./errors.js";
import { name, parseInput } from "./validation.js";
import { validateOutboundUrl } from "./outbound-url.js";

/** Partners' channel apps: registration, updates, and the channels accounts connected to them. */

const MESSAGE_KINDS = ["TEXT", "RICH_TEXT", "ATTACHMENT"] as const;
const ATTACHMENT_KINDS = ["FILE", "IMAGE", "AUDIO", "VOICE_NOTE", "STICKER", "VIDEO"] as const;

const httpsUrl = z
  .string()
  .trim()
  .max(2000)
  .url("Must be a URL")
  .refine((u) => /^https?:\/\//i.test(u), "Must be an http(s) URL");

const credentialField = z.object({
  name: z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "Letters, digits and _ only, starting with a letter"),
  label: name(200),
  secret: z.boolean().default(false),
  required: z.boolean().default(true),
});

const credentialFields = z
  .array(credentialField)
  .max(50)
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `Duplicate credential field "${f.name}"` });
      seen.add(f.name);
    });
  });

const capabilities = z.object({
  messageKinds: z.array(z.enum(MESSAGE_KINDS)).min(1, "At least one message kind").default(["TEXT"]),
  attachmentKinds: z.array(z.enum(ATTACHMENT_KINDS)).default([]),
  richText: z.boolean().default(false),
  /** Bytes. */
  maxAttachmentSize: z.number().int().min(0).max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
  maxAttachments: z.number().int().min(0).max(100).default(10),
});

const appSchema = z.object({
  name: name(120),
  description: z.string().trim().max(2000).default(""),
  logoUrl: httpsUrl.optional(),
  credentialFields: credentialFields.default([]),
  capabilities: capabilities.default({ messageKinds: ["TEXT"], attachmentKinds: [], richText: false, maxAttachmentSize: 10 * 1024 * 1024, maxAttachments: 10 }),
  threadingModel: z.enum(["NEW_THREAD_PER_MESSAGE", "THREAD_KEY"]).default("THREAD_KEY"),
  webhookUrl: httpsUrl,
});

export type ChannelAppCapabilities = z.output<typeof capabilities>;
export type ChannelAppInput = z.input<typeof appSchema>;

const stripNulls = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * Registers a channel app for the calling partner. Returns the app and its webhook signing secret,
 * which is shown this once (deliveries to webhookUrl are signed with it).
 */
export async function registerChannelApp(ctx: PartnerContext, input: ChannelAppInput): Promise<{ app: ChannelApp; webhookSigningSecret: string }> {
  const data = parseInput(appSchema, stripNulls(input));
  await validateOutboundUrl(data.webhookUrl, ctx.config.outbound, ["input", "webhookUrl"]);
  const webhookSigningSecret = `whsec_${randomBytes(32).toString("base64url")}`;
  const app = await ctx.prisma.channelApp.create({
    data: {
      partnerId: ctx.partnerId,
      ...data,
      credentialFields: data.credentialFields as Prisma.InputJsonValue,
      capabilities: data.capabilities as Prisma.InputJsonValue,
      webhookSecret: webhookSigningSecret,
    },
  });
  return { app, webhookSigningSecret };
}

/**
 * Updates one of the calling partner's apps: only the given fields change. Removing a credential
 * field leaves stored values in place but unused; a new required field is asked for on the next edit.
 */
export async function updateChannelApp(ctx: PartnerContext, appId: string, input: Partial<ChannelAppInput>): Promise<ChannelApp> {
  const app = await ctx.prisma.channelApp.findFirst({ where: { id: appId, partnerId: ctx.partnerId } });
  if (!app) throw new NotFoundError("ChannelApp", appId);
  const current = {
    name: app.name,
    description: app.description,
    logoUrl: app.logoUrl ?? undefined,
    credentialFields: app.credentialFields,
    capabilities: app.capabilities,
    threadingModel: app.threadingModel,
    webhookUrl: app.webhookUrl,
  };
  const given = stripNulls(input);
  if (given.capabilities) given.capabilities = { ...(app.capabilities as object), ...stripNulls(given.capabilities as object) };
  const data = parseInput(appSchema, stripNulls({ ...current, ...given }));
  if (given.webhookUrl) await validateOutboundUrl(data.webhookUrl, ctx.config.outbound, ["input", "webhookUrl"]);
  return ctx.prisma.channelApp.update({
    where: { id: app.id },
    data: { ...data, logoUrl: data.logoUrl ?? null, credentialFields: data.credentialFields as Prisma.InputJsonValue, capabilities: data.capabilities as Prisma.InputJsonValue },
  });
}

type AppQuery = Omit<Prisma.ChannelAppFindManyArgs, "where" | "orderBy">;

/** The calling partner's own apps. */
export function listMyChannelApps(ctx: PartnerContext, query: AppQuery = {}) {
  return ctx.prisma.channelApp.findMany({ ...query, where: { partnerId: ctx.partnerId }, orderBy: { createdAt: "asc" } });
}

/** Apps an account can connect as custom channels: every registered app. */
export function listChannelApps(ctx: AgentContext, query: AppQuery = {}) {
  return ctx.prisma.channelApp.findMany({ ...query, orderBy: [{ name: "asc" }, { createdAt: "asc" }] });
}

/** What a partner sees of a channel connected to one of its apps (PartnerChannel). */
const partnerChannelSelect = {
  id: true,
  name: true,
  type: true,
  status: true,
  createdAt: true,
  channelAppId: true,
  credentials: true,
  channelApp: true,
  account: { select: { id: true, name: true } },
} satisfies Prisma.ChannelSelect;

export type PartnerChannelRow = Prisma.ChannelGetPayload<{ select: typeof partnerChannelSelect }>;

/**
 * The live channels connected to one of the calling partner's apps, across accounts: the
 * channel's id, name, type, status and credentials and the account's id and name, nothing else of
 * those accounts.
 */
export function partnerAppChannels(ctx: PartnerContext, appId: string): Promise<PartnerChannelRow[]> {
  return ctx.prisma.channel.findMany({
    where: { channelAppId: appId, deletedAt: null, type: "CUSTOM", channelApp: { partnerId: ctx.partnerId } },
    select: partnerChannelSelect,
    orderBy: { createdAt: "asc" },
  });
}

/** One live channel connected to one of the calling partner's apps; null for any other id (deleted channels too). */
export function partnerChannel(ctx: PartnerContext, channelId: string): Promise<PartnerChannelRow | null> {
  return ctx.prisma.channel.findFirst({ where: { id: channelId, deletedAt: null, type: "CUSTOM", channelApp: { partnerId: ctx.partnerId } }, select: partnerChannelSelect });
}

export interface ChannelCredentialValue {
  name: string;
  label: string;
  secret: boolean;
  isSet: boolean;
  value: string | null;
}

/** The credential values of a custom channel as shown to agents: secret values are never returned. */
export function maskedCredentials(fields: CredentialFieldDefinition[], values: Record<string, string>): ChannelCredentialValue[] {
  return fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, isSet: !!values[f.name], value: f.secret ? null : (values[f.name] ?? null) }));
}

/**
 * The credential values of a custom channel as its app's partner reads them: every value the
 * account entered, secret ones included (the app asked for them to act for the account). Only the
 * partner owning the app may be given this.
 */
export function partnerCredentials(fields: CredentialFieldDefinition[], values: Record<string, string>): ChannelCredentialValue[] {
  return fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, isSet: !!values[f.name], value: values[f.name] ?? null }));
}

/** Row checks of one partner request (see src/schema/partner-access.ts), each lookup made once. */
export interface PartnerOwnership {
  partnerId: string;
  /** Whether `appId` is one of the partner's apps. */
  ownsApp(appId: unknown): Promise<boolean>;
  /** Whether `channelId` is a CUSTOM channel of one of the partner's apps (deleted ones included: their messages stay the partner's). */
  ownsChannel(channelId: unknown): Promise<boolean>;
}

/** The ownership checks for one partner request; lookups are remembered for the request. */
export function partnerOwnership(ctx: Pick<PartnerContext, "prisma" | "partnerId">): PartnerOwnership {
  let apps: Promise<Set<string>> | undefined;
  const channels = new Map<string, Promise<boolean>>();
  const appIds = () => (apps ??= ctx.prisma.channelApp.findMany({ where: { partnerId: ctx.partnerId }, select: { id: true } }).then((rows) => new Set(rows.map((r) => r.id))));
  return {
    partnerId: ctx.partnerId,
    async ownsApp(appId) {
      return typeof appId === "string" && (await appIds()).has(appId);
    },
    ownsChannel(channelId) {
      if (typeof channelId !== "string") return Promise.resolve(false);
      let owned = channels.get(channelId);
      if (!owned) {
        owned = ctx.prisma.channel
          .findFirst({ where: { id: channelId, type: "CUSTOM", channelApp: { partnerId: ctx.partnerId } }, select: { id: true } })
          .then((row) => row !== null);
        channels.set(channelId, owned);
      }
      return owned;
    },
  };
}

/**
 * Tells the app's partner that an account connected (`channel.connected`) or disconnected
 * (`channel.disconnected`, the channel was deleted) one of its app's channels: a PARTNER_WEBHOOK
 * delivery written in the caller's transaction, signed and retried like reply webhooks. The body
 * names the channel, the app and the account; `channel.connected` also lists the credential
 * fields, with the values of non-secret ones (secret values stay out of the queued body: read them
 * with `partnerChannel(id) { credentials }`). Nothing is queued for a channel without an app.
 */
export async function queueChannelLifecycleWebhook(tx: Prisma.TransactionClient, event: "channel.connected" | "channel.disconnected", channel: Channel): Promise<void> {
  if (channel.type !== "CUSTOM" || !channel.channelAppId) return;
  const [app, account] = await Promise.all([
    tx.channelApp.findUniqueOrThrow({ where: { id: channel.channelAppId }, select: { id: true, credentialFields: true } }),
    tx.account.findUniqueOrThrow({ where: { id: channel.accountId }, select: { id: true, name: true } }),
  ]);
  const common = { type: event, app: { id: globalId("ChannelApp", app.id) }, account: { id: globalId("Account", account.id), name: account.name } };
  const payload =
    event === "channel.connected"
      ? {
          ...common,
          channel: { id: globalId("Channel", channel.id), name: channel.name, status: channel.status, createdAt: channel.createdAt.toISOString() },
          credentials: maskedCredentials(app.credentialFields as unknown as CredentialFieldDefinition[], (channel.credentials ?? {}) as Record<string, string>).map(
            ({ name, secret, isSet, value }) => ({ name, secret, isSet, value }),
          ),
        }
      : { ...common, channel: { id: globalId("Channel", channel.id), name: channel.name, disconnectedAt: (channel.deletedAt ?? new Date()).toISOString() } };
  await tx.outboundDelivery.create({ data: { accountId: channel.accountId, kind: "PARTNER_WEBHOOK", channelId: channel.id, payload: payload as Prisma.InputJsonValue } });
}
