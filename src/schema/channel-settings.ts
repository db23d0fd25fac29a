import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { toGlobalId } from "./ids.js";
import { embedSnippet } from "../services/channel-settings.js";
import { serverBaseUrl } from "./request-origin.js";
import type { CallingSettings, ChatSettings, FacebookMessengerSettings, FormFieldDefinition, TeamEmailSettings, WhatsAppSettings } from "../services/channel-settings.js";

/** The per-type settings of channels: enums, read types (Channel.teamEmail, Channel.chat, ...) and inputs. */

// ---- enums -----------------------------------------------------------------------------------
export const EmailProviderEnum = builder.enumType("EmailProvider", {
  values: ["GMAIL", "OFFICE365", "OTHER"] as const,
  description: "OTHER: any provider, connected by forwarding. IMAP and Office 365 GCC High / DoD are not supported.",
});
export const FromNameModeEnum = builder.enumType("FromNameMode", {
  values: {
    AGENT_AND_COMPANY: { description: "The agent's name and the company name: “Agent Name (Company)”." },
    COMPANY_ONLY: { description: "The company name only." },
  } as const,
  description: "A team email's From name; not supported for OFFICE365.",
});
export const SignatureFormatEnum = builder.enumType("SignatureFormat", { values: ["PLAIN", "HTML"] as const });
export const ChatHeadingModeEnum = builder.enumType("ChatHeadingMode", {
  values: {
    SPECIFIC: { description: "Specific users and teams (more than three are shown at random)." },
    CONTACT_OWNER: { description: "The contact's owner; new visitors see the fallback users and teams." },
  } as const,
});
export const ChatAvailabilityModeEnum = builder.enumType("ChatAvailabilityMode", {
  values: { USERS: { description: "Available when a routed user is available." }, CHAT_HOURS: { description: "During the chat hours, in their time zone." }, ALWAYS: { description: "24/7." } } as const,
});
export const WeekdayEnum = builder.enumType("Weekday", { values: ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] as const });
export const TypicalReplyTimeEnum = builder.enumType("TypicalReplyTime", { values: ["FEW_MINUTES", "FEW_HOURS", "ONE_DAY"] as const });
export const ChatOfflineBehaviorEnum = builder.enumType("ChatOfflineBehavior", { values: ["SHOW_RETURN_TIME", "SHOW_AWAY_MESSAGE", "HIDE_LAUNCHER"] as const });
export const ChatAtCapacityBehaviorEnum = builder.enumType("ChatAtCapacityBehavior", {
  values: ["WAITING_MESSAGE", "HIDE_LAUNCHER", "NOTHING"] as const,
  description: "What visitors see when every agent is at their chat capacity.",
});
export const GdprConsentModeEnum = builder.enumType("GdprConsentMode", {
  values: { OFF: {}, EXPLICIT: { description: "The visitor must click “I agree” first." }, IMPLIED: { description: "Consent is implied by writing." } } as const,
});
export const FormFieldTypeEnum = builder.enumType("FormFieldType", { values: ["TEXT", "EMAIL", "PHONE", "NUMBER", "TEXTAREA", "SELECT", "CHECKBOX"] as const });

// ---- read types ------------------------------------------------------------------------------
const idList = (typename: string, ids: string[] | undefined) => (ids ?? []).map((id) => toGlobalId(typename, id));

export const TeamEmailSettingsType = builder.objectRef<TeamEmailSettings>("TeamEmailSettings").implement({
  description: "A shared team address. The inbound email secret is shown once, when the channel is connected.",
  fields: (t) => ({
    address: t.exposeString("address"),
    provider: t.expose("provider", { type: EmailProviderEnum }),
    fromName: t.field({
      type: FromNameModeEnum,
      nullable: true,
      description: "What contacts see as the sender's name. Null for OFFICE365, where the From name is not supported.",
      resolve: (s) => (s.provider === "OFFICE365" ? null : (s.fromName ?? "AGENT_AND_COMPANY")),
    }),
    companyName: t.string({
      nullable: true,
      description: "The company name in the From name, as the admin typed it; null: the account's name. Always null for OFFICE365.",
      resolve: (s) => (s.provider === "OFFICE365" ? null : (s.companyName ?? null)),
    }),
    signature: t.exposeString("signature", { description: "Tokens {{sender.fullName}}, {{sender.firstName}}, {{sender.lastName}} are filled in per reply." }),
    signatureFormat: t.expose("signatureFormat", { type: SignatureFormatEnum }),
    logToOriginalSender: t.exposeBoolean("logToOriginalSender", { description: "Forwarded mail is logged on the original sender's contact." }),
  }),
});

const ChatHeadingType = builder.objectRef<ChatSettings["heading"]>("ChatHeading").implement({
  fields: (t) => ({
    mode: t.expose("mode", { type: ChatHeadingModeEnum }),
    userIds: t.idList({ resolve: (h) => idList("User", h.userIds) }),
    teamIds: t.idList({ resolve: (h) => idList("Team", h.teamIds) }),
    fallbackUserIds: t.idList({ description: "CONTACT_OWNER: shown to new visitors.", resolve: (h) => idList("User", h.fallbackUserIds) }),
    fallbackTeamIds: t.idList({ description: "CONTACT_OWNER: shown to new visitors.", resolve: (h) => idList("Team", h.fallbackTeamIds) }),
  }),
});

type Range = ChatSettings["availability"]["ranges"][number];
const ChatHoursRangeType = builder.objectRef<Range>("ChatHoursRange").implement({
  fields: (t) => ({
    day: t.expose("day", { type: WeekdayEnum }),
    start: t.exposeString("start", { description: "HH:MM in the availability's time zone." }),
    end: t.exposeString("end", { description: "HH:MM, after start." }),
  }),
});

const ChatAvailabilityType = builder.objectRef<ChatSettings["availability"]>("ChatAvailability").implement({
  fields: (t) => ({
    mode: t.expose("mode", { type: ChatAvailabilityModeEnum }),
    timeZone: t.exposeString("timeZone", { description: "IANA time zone of the chat hours." }),
    ranges: t.field({ type: [ChatHoursRangeType], resolve: (a) => a.ranges }),
  }),
});

export const ChatSettingsType = builder.objectRef<ChatSettings & { channelId: string }>("ChatSettings").implement({
  description: "The website chat widget.",
  fields: (t) => ({
    color: t.string({ description: "Accent colour (hex); defaults to the account's branding.", resolve: (s) => s.color ?? "" }),
    font: t.exposeString("font"),
    heading: t.field({ type: ChatHeadingType, resolve: (s) => s.heading }),
    welcomeMessage: t.exposeString("welcomeMessage"),
    welcomeAsPrompt: t.exposeBoolean("welcomeAsPrompt", { description: "Show the welcome message as a prompt on page load." }),
    availability: t.field({ type: ChatAvailabilityType, resolve: (s) => s.availability }),
    typicalReplyTime: t.expose("typicalReplyTime", { type: TypicalReplyTimeEnum }),
    awayMessage: t.exposeString("awayMessage"),
    offlineBehavior: t.expose("offlineBehavior", { type: ChatOfflineBehaviorEnum }),
    atCapacityBehavior: t.expose("atCapacityBehavior", { type: ChatAtCapacityBehaviorEnum }),
    waitingMessage: t.exposeString("waitingMessage"),
    transcriptSender: t.exposeString("transcriptSender", { nullable: true, description: "The address chat transcripts are sent from." }),
    published: t.exposeBoolean("published"),
    gdpr: t.field({ type: GdprType, description: "Consent asked of visitors before they can chat.", resolve: (s) => s.gdpr ?? { mode: "OFF" } }),
    allowedOrigins: t.stringList({ description: "Sites whose pages may start chats (checked against the Origin); empty: any site.", resolve: (s) => s.allowedOrigins ?? [] }),
    embedSnippet: t.string({
      description: "The <script> tag to put before </body> on the site: it loads this server's /widget/loader.js (PUBLIC_URL, or the origin this request was addressed to).",
      resolve: (s, _args, ctx) => embedSnippet(toGlobalId("Channel", s.channelId), serverBaseUrl(ctx)),
    }),
  }),
});

const GdprType = builder.objectRef<FacebookMessengerSettings["gdpr"]>("GdprConsent").implement({
  fields: (t) => ({ mode: t.expose("mode", { type: GdprConsentModeEnum }), consentText: t.exposeString("consentText", { nullable: true }) }),
});

export const FacebookMessengerSettingsType = builder.objectRef<FacebookMessengerSettings>("FacebookMessengerSettings").implement({
  fields: (t) => ({
    pageId: t.exposeString("pageId", { description: "A page can be connected to only one account." }),
    pageName: t.exposeString("pageName"),
    greeting: t.exposeString("greeting"),
    instantReply: t.exposeString("instantReply", { description: "Sent after the customer's first message." }),
    gdpr: t.field({ type: GdprType, resolve: (s) => s.gdpr }),
  }),
});

export const WhatsAppSettingsType = builder.objectRef<WhatsAppSettings>("WhatsAppSettings").implement({
  fields: (t) => ({ phoneNumber: t.exposeString("phoneNumber", { description: "E.164." }), displayName: t.exposeString("displayName", { nullable: true }) }),
});

export const CallingSettingsType = builder.objectRef<CallingSettings>("CallingSettings").implement({
  fields: (t) => ({ phoneNumber: t.exposeString("phoneNumber", { description: "E.164." }), recordCalls: t.exposeBoolean("recordCalls") }),
});

const FormFieldType = builder.objectRef<FormFieldDefinition>("FormField").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    label: t.exposeString("label"),
    type: t.expose("type", { type: FormFieldTypeEnum }),
    required: t.exposeBoolean("required"),
    hidden: t.exposeBoolean("hidden", { description: "Stored with the submission but not shown in the inbox." }),
    options: t.exposeStringList("options"),
  }),
});

export const FormObject = builder.prismaNode("Form", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A form whose submissions become conversations.",
  fields: (t) => ({
    name: t.exposeString("name"),
    fields: t.field({ type: [FormFieldType], select: { fields: true }, resolve: (f) => (f.fields ?? []) as unknown as FormFieldDefinition[] }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

// ---- inputs ----------------------------------------------------------------------------------
export const TeamEmailInput = builder.inputType("TeamEmailInput", {
  description: "address is required on connect; every other field has a default.",
  fields: (t) => ({
    address: t.string(),
    provider: t.field({ type: EmailProviderEnum, description: "Default OTHER (forwarding)." }),
    fromName: t.field({ type: FromNameModeEnum, description: "Default AGENT_AND_COMPANY. Not supported for OFFICE365 (refused there)." }),
    companyName: t.string({ description: "The company name contacts see in the From name (at most 200 characters); default: the account's name. Not supported for OFFICE365 (refused there)." }),
    signature: t.string({ description: "Plain text or HTML; tokens {{sender.fullName}}, {{sender.firstName}}, {{sender.lastName}}." }),
    signatureFormat: t.field({ type: SignatureFormatEnum, description: "Default PLAIN." }),
    logToOriginalSender: t.boolean({ description: "Default true." }),
    autoReply: t.string({ description: "Automatic reply to the sender of each new conversation (at most 5000 characters); empty: off (the default). Never sent to automated, spam or DMARC-failing mail." }),
  }),
});

const ChatHeadingInput = builder.inputType("ChatHeadingInput", {
  fields: (t) => ({
    mode: t.field({ type: ChatHeadingModeEnum, description: "Default SPECIFIC." }),
    userIds: t.idList(),
    teamIds: t.idList(),
    fallbackUserIds: t.idList(),
    fallbackTeamIds: t.idList(),
  }),
});
const ChatHoursRangeInput = builder.inputType("ChatHoursRangeInput", {
  fields: (t) => ({ day: t.field({ type: WeekdayEnum, required: true }), start: t.string({ required: true }), end: t.string({ required: true }) }),
});
const ChatAvailabilityInput = builder.inputType("ChatAvailabilityInput", {
  fields: (t) => ({
    mode: t.field({ type: ChatAvailabilityModeEnum, description: "Default USERS." }),
    timeZone: t.string({ description: "IANA time zone; default UTC." }),
    ranges: t.field({ type: [ChatHoursRangeInput], description: "Required (at least one) for CHAT_HOURS." }),
  }),
});

export const ChatInput = builder.inputType("ChatInput", {
  description: "Every field has a default. On update, a nested object (heading, availability) is replaced whole.",
  fields: (t) => ({
    color: t.string({ description: "Hex; default the account's brand colour." }),
    font: t.string(),
    heading: t.field({ type: ChatHeadingInput }),
    welcomeMessage: t.string(),
    welcomeAsPrompt: t.boolean({ description: "Default false." }),
    availability: t.field({ type: ChatAvailabilityInput }),
    typicalReplyTime: t.field({ type: TypicalReplyTimeEnum, description: "Default FEW_MINUTES." }),
    awayMessage: t.string(),
    offlineBehavior: t.field({ type: ChatOfflineBehaviorEnum, description: "Default SHOW_AWAY_MESSAGE." }),
    atCapacityBehavior: t.field({ type: ChatAtCapacityBehaviorEnum, description: "Default WAITING_MESSAGE." }),
    waitingMessage: t.string(),
    transcriptSender: t.string({ description: "Email address transcripts are sent from." }),
    published: t.boolean({ description: "Default true." }),
    gdpr: t.field({ type: GdprInput, description: "Consent asked of visitors before they can chat (default OFF)." }),
    allowedOrigins: t.stringList({ description: "Origins (https://shop.example.com, https://*.example.com) whose pages may start chats; default empty: any site. Replaced whole on update." }),
  }),
});

const GdprInput = builder.inputType("GdprConsentInput", {
  fields: (t) => ({ mode: t.field({ type: GdprConsentModeEnum, description: "Default OFF." }), consentText: t.string({ description: "Required unless mode is OFF." }) }),
});
export const FacebookMessengerInput = builder.inputType("FacebookMessengerInput", {
  description: "pageId and pageName are required on connect.",
  fields: (t) => ({ pageId: t.string(), pageName: t.string(), greeting: t.string(), instantReply: t.string(), gdpr: t.field({ type: GdprInput }) }),
});

const FormFieldInput = builder.inputType("FormFieldInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    label: t.string({ required: true }),
    type: t.field({ type: FormFieldTypeEnum, description: "Default TEXT." }),
    required: t.boolean(),
    hidden: t.boolean(),
    options: t.stringList({ description: "Choices of a SELECT field." }),
  }),
});
const NewFormInput = builder.inputType("NewFormInput", {
  fields: (t) => ({ name: t.string({ required: true }), fields: t.field({ type: [FormFieldInput], required: true }) }),
});
export const FormChannelInput = builder.inputType("FormChannelInput", {
  description: "Exactly one of formId (an existing form of the account) or newForm.",
  fields: (t) => ({
    formId: t.id(),
    newForm: t.field({ type: NewFormInput }),
    createTickets: t.boolean({ description: "Each submission also becomes a ticket (same as ticketDefaults.createTickets)." }),
  }),
});

export const WhatsAppInput = builder.inputType("WhatsAppInput", {
  fields: (t) => ({ phoneNumber: t.string({ description: "Verified business number, E.164." }), displayName: t.string() }),
});
export const CallingInput = builder.inputType("CallingInput", {
  fields: (t) => ({ phoneNumber: t.string({ description: "E.164." }), recordCalls: t.boolean({ description: "Default false." }) }),
});

const CredentialValueInput = builder.inputType("CredentialValueInput", {
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
});
export const CustomChannelInput = builder.inputType("CustomChannelInput", {
  description: "An installed channel app and the credential values its connection form declares. On update, credentials merge by name.",
  fields: (t) => ({ channelAppId: t.id(), credentials: t.field({ type: [CredentialValueInput] }) }),
});

