import { z } from "zod";
import type { ChannelType } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { ValidationError } from "./errors.js";
import { email, name, parseInput } from "./validation.js";

/**
 * Per-type channel settings: one zod schema per type, with the defaults a new channel gets.
 * The parsed object is what Channel.settings stores (ids are raw database ids), so an update can
 * merge the stored settings with the given fields and parse the result again with the same rules.
 */

/** E.164: a plus, a non-zero country digit, 7 to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

const text = (max: number) => z.string().trim().max(max, `At most ${max} characters`);
const ids = z.array(z.string()).max(200).default([]);

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The From-name fields of a team email: the seeds' "From name" menu and its company-name text field. */
const FROM_NAME_FIELDS = ["fromName", "companyName"] as const;

/**
 * A team email's settings. From name (not for OFFICE365, where the seeds say the feature is not
 * supported: both fields stay unset and mail goes out with the bare address): AGENT_AND_COMPANY
 * (default) or COMPANY_ONLY, with the company name the admin typed (`companyName`; unset: the
 * account's name).
 */
export const teamEmailSettings = z
  .object({
    address: email(),
    provider: z.enum(["GMAIL", "OFFICE365", "OTHER"]).default("OTHER"),
    fromName: z.enum(["AGENT_AND_COMPANY", "COMPANY_ONLY"]).optional(),
    companyName: text(200).min(1, "Must not be empty").optional(),
    signature: text(10_000).default(""),
    signatureFormat: z.enum(["PLAIN", "HTML"]).default("PLAIN"),
    logToOriginalSender: z.boolean().default(true),
    /** Sent once to the sender of each new conversation (not to automated, spam or DMARC-failing mail); empty: off. */
    autoReply: text(5000).default(""),
    /** Gmail's forwarding confirmation, set by the receiver (email-bounces.ts), never by input. */
    forwardingConfirmation: z.object({ code: z.string().nullable(), confirmationUrl: z.string().nullable(), requestedBy: z.string().nullable(), receivedAt: z.string() }).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.provider !== "OFFICE365") return;
    for (const key of FROM_NAME_FIELDS) {
      if (s[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "The From name is not supported for Office 365 team emails: leave fromName and companyName unset" });
    }
  })
  .transform((s) => (s.provider === "OFFICE365" ? s : { ...s, fromName: s.fromName ?? ("AGENT_AND_COMPANY" as const) }));

const chatHoursRange = z
  .object({
    day: z.enum(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]),
    start: z.string().regex(HH_MM, "Must be a time as HH:MM"),
    end: z.string().regex(HH_MM, "Must be a time as HH:MM"),
  })
  .refine((r) => r.start < r.end, { path: ["end"], message: "Must be after start" });

/** GDPR consent asked of a customer before their first message (chat and Messenger). */
const gdprSettings = z
  .object({ mode: z.enum(["OFF", "EXPLICIT", "IMPLIED"]).default("OFF"), consentText: text(2000).optional() })
  .refine((g) => g.mode === "OFF" || !!g.consentText, { path: ["consentText"], message: "A consent text is required when GDPR consent is on" })
  .default({ mode: "OFF" });

/** A site's origin as a browser sends it (`https://shop.example.com`, a port if any; `https://*.example.com` for subdomains), normalized. */
const siteOrigin = z
  .string()
  .trim()
  .transform((o, ctx) => {
    const wildcard = /^https?:\/\/\*\./i.test(o);
    try {
      const url = new URL(wildcard ? o.replace("*.", "wildcard.") : o);
      if (["http:", "https:"].includes(url.protocol) && url.pathname === "/" && !url.search && !url.hash && !url.username) {
        return wildcard ? url.origin.replace("://wildcard.", "://*.") : url.origin;
      }
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: "Must be an origin such as https://shop.example.com or https://*.example.com (no path)" });
    return z.NEVER;
  });

export const chatSettings = z.object({
  color: z.string().regex(HEX_COLOR, "Must be a hex colour like #1A2B3C").optional(),
  font: text(100).min(1).default("Helvetica, Arial, sans-serif"),
  heading: z
    .object({
      mode: z.enum(["SPECIFIC", "CONTACT_OWNER"]).default("SPECIFIC"),
      userIds: ids,
      teamIds: ids,
      fallbackUserIds: ids,
      fallbackTeamIds: ids,
    })
    .default({ mode: "SPECIFIC", userIds: [], teamIds: [], fallbackUserIds: [], fallbackTeamIds: [] }),
  welcomeMessage: text(1000).default("Hi! How can we help?"),
  welcomeAsPrompt: z.boolean().default(false),
  availability: z
    .object({
      mode: z.enum(["USERS", "CHAT_HOURS", "ALWAYS"]).default("USERS"),
      timeZone: z.string().refine(isTimeZone, "Must be an IANA time zone such as Europe/Rome").default("UTC"),
      ranges: z.array(chatHoursRange).max(100).default([]),
    })
    .refine((a) => a.mode !== "CHAT_HOURS" || a.ranges.length > 0, { path: ["ranges"], message: "Chat hours need at least one range" })
    .default({ mode: "USERS", timeZone: "UTC", ranges: [] }),
  typicalReplyTime: z.enum(["FEW_MINUTES", "FEW_HOURS", "ONE_DAY"]).default("FEW_MINUTES"),
  awayMessage: text(1000).default("We're away right now. Leave a message and we'll get back to you."),
  offlineBehavior: z.enum(["SHOW_RETURN_TIME", "SHOW_AWAY_MESSAGE", "HIDE_LAUNCHER"]).default("SHOW_AWAY_MESSAGE"),
  atCapacityBehavior: z.enum(["WAITING_MESSAGE", "HIDE_LAUNCHER", "NOTHING"]).default("WAITING_MESSAGE"),
  waitingMessage: text(1000).default("All our agents are busy right now; we'll be with you shortly."),
  transcriptSender: email().optional(),
  published: z.boolean().default(true),
  gdpr: gdprSettings,
  /** Sites whose pages may start chats (startChat checks the Origin); empty: any site. */
  allowedOrigins: z.array(siteOrigin).max(100).default([]),
});

export const facebookMessengerSettings = z.object({
  pageId: z.string().trim().regex(/^\d{1,30}$/, "Must be a Facebook page id (digits)"),
  pageName: name(200),
  greeting: text(160).default(""),
  instantReply: text(1000).default(""),
  gdpr: gdprSettings,
});

const formField = z
  .object({
    name: z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "Letters, digits and _ only, starting with a letter"),
    label: name(200),
    type: z.enum(["TEXT", "EMAIL", "PHONE", "NUMBER", "TEXTAREA", "SELECT", "CHECKBOX"]).default("TEXT"),
    required: z.boolean().default(false),
    hidden: z.boolean().default(false),
    options: z.array(text(200).min(1)).max(200).default([]),
  })
  .refine((f) => f.type !== "SELECT" || f.options.length > 0, { path: ["options"], message: "A SELECT field needs options" });

export const newFormSchema = z.object({
  name: name(200),
  fields: z
    .array(formField)
    .min(1, "A form needs at least one field")
    .max(100)
    .superRefine((fields, ctx) => {
      const seen = new Set<string>();
      fields.forEach((f, i) => {
        if (seen.has(f.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `Duplicate field name "${f.name}"` });
        seen.add(f.name);
      });
    }),
});

export const formSettings = z
  .object({ formId: z.string().optional(), newForm: newFormSchema.optional(), createTickets: z.boolean().optional() })
  .refine((f) => !!f.formId !== !!f.newForm, { path: ["formId"], message: "Give either an existing formId or a newForm, not both" });

const phoneNumber = z.string().trim().regex(E164, "Must be an E.164 phone number such as +393401234567");
export const whatsAppSettings = z.object({ phoneNumber, displayName: text(200).optional() });
export const callingSettings = z.object({ phoneNumber, recordCalls: z.boolean().default(false) });

export const customSettings = z.object({
  channelAppId: z.string().min(1, "Required"),
  credentials: z.array(z.object({ name: z.string().trim().min(1), value: z.string().max(10_000) })).max(100).default([]),
});

/** The settings schema of each type, under the input field that carries it. */
export const SETTINGS_BY_TYPE = {
  TEAM_EMAIL: { field: "teamEmail", schema: teamEmailSettings },
  CHAT: { field: "chat", schema: chatSettings },
  FACEBOOK_MESSENGER: { field: "facebookMessenger", schema: facebookMessengerSettings },
  FORM: { field: "form", schema: formSettings },
  WHATSAPP: { field: "whatsApp", schema: whatsAppSettings },
  CALLING: { field: "calling", schema: callingSettings },
  CUSTOM: { field: "custom", schema: customSettings },
} as const satisfies Record<ChannelType, { field: string; schema: z.ZodType }>;

export type SettingsField = (typeof SETTINGS_BY_TYPE)[ChannelType]["field"];
export type TeamEmailSettings = z.output<typeof teamEmailSettings>;
export type ChatSettings = z.output<typeof chatSettings>;
export type FacebookMessengerSettings = z.output<typeof facebookMessengerSettings>;
export type WhatsAppSettings = z.output<typeof whatsAppSettings>;
export type CallingSettings = z.output<typeof callingSettings>;
export type FormFieldDefinition = z.output<typeof formField>;

/** Types that can be moved to the help desk (the seeds offer it for custom channels too). */
export const MOVABLE_TYPES: readonly ChannelType[] = ["CHAT", "TEAM_EMAIL", "FORM", "CALLING", "CUSTOM"];
/** Types that need tier PROFESSIONAL or ENTERPRISE. */
export const PROFESSIONAL_TYPES: readonly ChannelType[] = ["WHATSAPP", "CALLING"];
/** Accounts created on or after this date cannot create tickets from inbox channels. */
export const INBOX_TICKETS_CUTOFF = new Date("2024-04-01T00:00:00Z");

/** Drops null and undefined keys (recursively in plain objects): GraphQL's null means "not given / default". */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, dropNulls(v)]));
  }
  return value;
}

/** The `<script>` tag a site puts before `</body>` to show the chat widget of a channel: this server's loader (`baseUrl`: its public URL). */
export function embedSnippet(channelGlobalId: string, baseUrl: string): string {
  return `<script type="text/javascript" id="inbox-chat-loader" async src="${baseUrl}/widget/loader.js" data-channel-id="${channelGlobalId}"></script>`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * Renders a team email's signature for the agent sending a reply: the tokens {{sender.fullName}},
 * {{sender.firstName}} and {{sender.lastName}} become the agent's names (HTML-escaped in HTML
 * signatures). Returns "" for channels without a signature or of another type.
 */
export function renderSignature(
  channel: { type: ChannelType; settings: unknown },
  user: { firstName: string; lastName: string },
): { text: string; format: "PLAIN" | "HTML" } {
  if (channel.type !== "TEAM_EMAIL") return { text: "", format: "PLAIN" };
  const settings = (channel.settings ?? {}) as Partial<TeamEmailSettings>;
  const format = settings.signatureFormat ?? "PLAIN";
  const encode = format === "HTML" ? escapeHtml : (s: string) => s;
  const values: Record<string, string> = {
    fullName: `${user.firstName} ${user.lastName}`.trim(),
    firstName: user.firstName,
    lastName: user.lastName,
  };
  const rendered = (settings.signature ?? "").replace(/\{\{\s*sender\.(fullName|firstName|lastName)\s*\}\}/g, (_m, key: string) => encode(values[key]));
  return { text: rendered, format };
}

// ---------------------------------------------------------------------------------------------
// Per-type checks against the database (uniqueness, ownership of referenced rows).

/** What connect/update store for one type: the settings Json and the columns lifted out of it. */
export interface PreparedSettings {
  settings: Record<string, unknown>;
  columns: {
    emailAddress?: string | null;
    facebookPageId?: string | null;
    phoneNumber?: string | null;
    channelAppId?: string | null;
    credentials?: Record<string, string>;
    formId?: string | null;
  };
  /** A form to create with the channel. */
  newForm?: { name: string; fields: FormFieldDefinition[] };
  /** FORM only: the form part's own ticket-creation flag, when given. */
  createTickets?: boolean;
}

/** A credential field a channel app's connection form declares. */
export interface CredentialFieldDefinition {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
}

interface PrepareContext {
  prisma: AgentContext["prisma"];
  accountId: string;
}

/** Checks that every id is a live user (or a team) of the caller's account; returns them deduplicated. */
export async function checkAccountIds(ctx: PrepareContext, kind: "user" | "team", ids: string[], path: string[]) {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return unique;
  const count =
    kind === "user"
      ? await ctx.prisma.user.count({ where: { accountId: ctx.accountId, id: { in: unique }, removedAt: null } })
      : await ctx.prisma.team.count({ where: { accountId: ctx.accountId, id: { in: unique } } });
  if (count !== unique.length) throw ValidationError.field(path, kind === "user" ? "Unknown user" : "Unknown team");
  return unique;
}

/** Checks a custom channel's credential values against the app's declared fields. */
export function checkCredentials(fields: CredentialFieldDefinition[], given: { name: string; value: string }[], root: string[]): Record<string, string> {
  const declared = new Map(fields.map((f) => [f.name, f]));
  const values: Record<string, string> = {};
  given.forEach((c, i) => {
    if (!declared.has(c.name)) throw ValidationError.field([...root, "credentials", String(i), "name"], `Unknown credential field "${c.name}"`);
    if (c.name in values) throw ValidationError.field([...root, "credentials", String(i), "name"], `Credential field "${c.name}" is given twice`);
    values[c.name] = c.value;
  });
  for (const f of fields) {
    if (f.required && !values[f.name]?.trim()) throw ValidationError.field([...root, "credentials", f.name], `Missing required credential field "${f.name}" (${f.label})`);
  }
  return values;
}

/**
 * Validates one type's settings part (already merged with the stored settings on update) and
 * checks it against the database: team email addresses and Facebook pages unique across accounts
 * and not a user's personal address, referenced users/teams/forms/apps real and reachable.
 * `channelId` is the channel being edited (its own address is not a conflict).
 */
export async function prepareTypeSettings(
  ctx: PrepareContext,
  account: { brandColor: string },
  type: ChannelType,
  raw: unknown,
  opts: { channelId?: string },
): Promise<PreparedSettings> {
  const field = SETTINGS_BY_TYPE[type].field;
  const root = ["input", field];
  const at = (...p: string[]) => [...root, ...p];
  const others = opts.channelId ? { id: { not: opts.channelId } } : {};
  switch (type) {
    case "TEAM_EMAIL": {
      const given = dropNulls(raw) as Record<string, unknown>;
      if (given.provider === "OFFICE365" && opts.channelId) {
        // An edit merges the stored settings in: From-name values carried over from before the
        // channel was Office 365 (or from the old default) were not asked for now, so drop them.
        const stored = (await ctx.prisma.channel.findFirst({ where: { accountId: ctx.accountId, id: opts.channelId }, select: { settings: true } }))?.settings as Record<string, unknown> | null;
        for (const key of FROM_NAME_FIELDS) if (stored && given[key] === stored[key]) delete given[key];
      }
      const s = parseInput(teamEmailSettings, given, root);
      const personal = await ctx.prisma.user.count({ where: { accountId: ctx.accountId, email: { equals: s.address, mode: "insensitive" } } });
      if (personal) throw ValidationError.field(at("address"), "This address is a user's personal email in this account and cannot also be a team email");
      const taken = await ctx.prisma.channel.count({ where: { emailAddress: s.address, ...others } });
      if (taken) throw ValidationError.field(at("address"), "This address is already connected as a team email");
      return { settings: s, columns: { emailAddress: s.address } };
    }
    case "CHAT": {
      const s = parseInput(chatSettings, dropNulls(raw), root);
      s.color ??= account.brandColor;
      s.heading.userIds = await checkAccountIds(ctx, "user", s.heading.userIds, at("heading", "userIds"));
      s.heading.teamIds = await checkAccountIds(ctx, "team", s.heading.teamIds, at("heading", "teamIds"));
      s.heading.fallbackUserIds = await checkAccountIds(ctx, "user", s.heading.fallbackUserIds, at("heading", "fallbackUserIds"));
      s.heading.fallbackTeamIds = await checkAccountIds(ctx, "team", s.heading.fallbackTeamIds, at("heading", "fallbackTeamIds"));
      return { settings: s, columns: {} };
    }
    case "FACEBOOK_MESSENGER": {
      const s = parseInput(facebookMessengerSettings, dropNulls(raw), root);
      const taken = await ctx.prisma.channel.count({ where: { facebookPageId: s.pageId, ...others } });
      if (taken) throw ValidationError.field(at("pageId"), "This Facebook page is already connected to an account");
      return { settings: s, columns: { facebookPageId: s.pageId } };
    }
    case "FORM": {
      const s = parseInput(formSettings, dropNulls(raw), root);
      if (s.formId) {
        const form = await ctx.prisma.form.count({ where: { accountId: ctx.accountId, id: s.formId } });
        if (!form) throw ValidationError.field(at("formId"), "Unknown form");
      }
      return { settings: {}, columns: { formId: s.formId ?? null }, newForm: s.newForm, createTickets: s.createTickets };
    }
    case "WHATSAPP":
    case "CALLING": {
      const s = parseInput(type === "WHATSAPP" ? whatsAppSettings : callingSettings, dropNulls(raw), root);
      return { settings: s, columns: { phoneNumber: s.phoneNumber } };
    }
    case "CUSTOM": {
      const s = parseInput(customSettings, dropNulls(raw), root);
      const app = await ctx.prisma.channelApp.findUnique({ where: { id: s.channelAppId } });
      if (!app) throw ValidationError.field(at("channelAppId"), "Unknown channel app");
      const credentials = checkCredentials(app.credentialFields as unknown as CredentialFieldDefinition[], s.credentials, root);
      return { settings: {}, columns: { channelAppId: app.id, credentials } };
    }
  }
}
