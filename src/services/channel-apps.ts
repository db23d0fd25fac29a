import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChannelApp, Prisma } from "../generated/prisma/client.js";
import type { AgentContext, PartnerContext } from "../context.js";
import type { CredentialFieldDefinition } from "./channel-settings.js";
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

/**
 * The live channels connected to one of the calling partner's apps, across accounts: only the
 * channel's id, name, type and status and the account's id and name, nothing else of those accounts.
 */
export async function partnerAppChannels(ctx: PartnerContext, appId: string) {
  const rows = await ctx.prisma.channel.findMany({
    where: { channelAppId: appId, deletedAt: null, channelApp: { partnerId: ctx.partnerId } },
    select: { id: true, name: true, type: true, status: true, createdAt: true, account: { select: { id: true, name: true } } },
    orderBy: { createdAt: "asc" },
  });
  return rows;
}

/** The credential values of a custom channel as shown to agents: secret values are never returned. */
export function maskedCredentials(fields: CredentialFieldDefinition[], values: Record<string, string>) {
  return fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, isSet: !!values[f.name], value: f.secret ? null : (values[f.name] ?? null) }));
}
