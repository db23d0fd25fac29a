import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { toGlobalId } from "./ids.js";
import { embedSnippet } from "../services/channel-settings.js";
import { serverBaseUrl } from "./request-origin.js";
import type { CallingSettings, ChatSettings, FacebookMessengerSettings, FormFieldDefinition, TeamEmailSettings, WhatsAppSettings } from "../services/channel-settings.js";

/** The per-type settings of channels: enums, read types (Channel.teamEmail, Channel.chat, ...) and inputs. */

// ---- enums -----------------------------------------------------------------------------------
export const EmailProviderEnum = builder.enumType("EmailProvider", {
  values: {
    GMAIL: { description: "Google Workspace / Gmail." },
    OFFICE365: { description: "Microsoft 365 (From name not supported)." },
    OTHER: { description: "Any other provider: mail is forwarded to this server." },
  } as const,
  description: "OTHER: any provider, connected by forwarding. IMAP and Office 365 GCC High / DoD are not supported.",
});
export const FromNameModeEnum = builder.enumType("FromNameMode", {
  values: {
    AGENT_AND_COMPANY: { description: "The agent's name and the company name: “Agent Name (Company)”." },
    COMPANY_ONLY: { description: "The company name only." },
  } as const,
  description: "A team email's From name; not supported for OFFICE365.",
});
export const SignatureFormatEnum = builder.enumType("SignatureFormat", {
  description: "How a team email signature is written.",
  values: { PLAIN: { description: "Plain text." }, HTML: { description: "HTML, sanitized like rich text." } } as const,
});
export const ChatHeadingModeEnum = builder.enumType("ChatHeadingMode", {
  description: "Whose faces and names the chat widget's heading shows.",
  values: {
    SPECIFIC: { description: "Specific users and teams (more than three are shown at random)." },
    CONTACT_OWNER: { description: "The contact's owner; new visitors see the fallback users and teams." },
  } as const,
});
export const ChatAvailabilityModeEnum = builder.enumType("ChatAvailabilityMode", {
  description: "What decides whether the chat is available (online) or away.",
  values: { USERS: { description: "Available when a routed user is available." }, CHAT_HOURS: { description: "During the chat hours, in their time zone." }, ALWAYS: { description: "24/7." } } as const,
});
export const WeekdayEnum = builder.enumType("Weekday", {
  description: "A day of the week, for chat hours.",
  values: {
    MON: { description: "Monday." },
    TUE: { description: "Tuesday." },
    WED: { description: "Wednesday." },
    THU: { description: "Thursday." },
    FRI: { description: "Friday." },
    SAT: { description: "Saturday." },
    SUN: { description: "Sunday." },
  } as const,
});
export const TypicalReplyTimeEnum = builder.enumType("TypicalReplyTime", {
  description: "What the widget tells visitors about reply times while the team is available.",
  values: {
    FEW_MINUTES: { description: "\"Typically replies in a few minutes\"." },
    FEW_HOURS: { description: "\"Typically replies in a few hours\"." },
    ONE_DAY: { description: "\"Typically replies in a day\"." },
  } as const,
});
export const ChatOfflineBehaviorEnum = builder.enumType("ChatOfflineBehavior", {
  description: "What the widget does while the chat is away (outside chat hours, or nobody available).",
  values: {
    SHOW_RETURN_TIME: { description: "Show when the team is back (the next chat-hours start)." },
    SHOW_AWAY_MESSAGE: { description: "Show the away message." },
    HIDE_LAUNCHER: { description: "Hide the launcher: visitors cannot start a chat." },
  } as const,
});
export const ChatAtCapacityBehaviorEnum = builder.enumType("ChatAtCapacityBehavior", {
  values: {
    WAITING_MESSAGE: { description: "Show the waiting message; the chat can still be started." },
    HIDE_LAUNCHER: { description: "Hide the launcher until someone has room." },
    NOTHING: { description: "Behave as usual." },
  } as const,
  description: "What visitors see when every agent is at their chat capacity.",
});
export const GdprConsentModeEnum = builder.enumType("GdprConsentMode", {
  description: "Whether visitors are asked for consent (GDPR) before chatting.",
  values: { OFF: { description: "No consent is asked." }, EXPLICIT: { description: "The visitor must click “I agree” first." }, IMPLIED: { description: "Consent is implied by writing." } } as const,
});
export const FormFieldTypeEnum = builder.enumType("FormFieldType", {
  description: "The input a form field shows, and how its value is checked.",
  values: {
    TEXT: { description: "One line of text." },
    EMAIL: { description: "An email address (checked); the submitter's contact is matched by it." },
    PHONE: { description: "A phone number." },
    NUMBER: { description: "A number." },
    TEXTAREA: { description: "Several lines of text." },
    SELECT: { description: "One of the field's options." },
    CHECKBOX: { description: "Checked or not." },
  } as const,
});

// ---- read types ------------------------------------------------------------------------------
const idList = (typename: string, ids: string[] | undefined) => (ids ?? []).map((id) => toGlobalId(typename, id));

export const TeamEmailSettingsType = builder.objectRef<TeamEmailSettings>("TeamEmailSettings").implement({
  description: "A shared team address. The inbound email secret is shown once, when the channel is connected.",
  fields: (t) => ({
    address: t.exposeString("address", { description: "The shared address customers write to (unique across accounts)." }),
    provider: t.expose("provider", { type: EmailProviderEnum, description: "GMAIL, OFFICE365 or OTHER (forwarding)." }),
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
    signatureFormat: t.expose("signatureFormat", { type: SignatureFormatEnum, description: "PLAIN or HTML." }),
    logToOriginalSender: t.exposeBoolean("logToOriginalSender", { description: "Forwarded mail is logged on the original sender's contact." }),
  }),
});

const ChatHeadingType = builder.objectRef<ChatSettings["heading"]>("ChatHeading").implement({
  description: "Who the chat widget's heading shows.",
  fields: (t) => ({
    mode: t.expose("mode", { type: ChatHeadingModeEnum, description: "SPECIFIC users and teams, or the CONTACT_OWNER." }),
    userIds: t.idList({ description: "SPECIFIC: the users shown (global User ids).", resolve: (h) => idList("User", h.userIds) }),
    teamIds: t.idList({ description: "SPECIFIC: the teams whose members are shown (global Team ids).", resolve: (h) => idList("Team", h.teamIds) }),
    fallbackUserIds: t.idList({ description: "CONTACT_OWNER: shown to new visitors.", resolve: (h) => idList("User", h.fallbackUserIds) }),
    fallbackTeamIds: t.idList({ description: "CONTACT_OWNER: shown to new visitors.", resolve: (h) => idList("Team", h.fallbackTeamIds) }),
  }),
});

type Range = ChatSettings["availability"]["ranges"][number];
const ChatHoursRangeType = builder.objectRef<Range>("ChatHoursRange").implement({
  description: "One day's opening time range of the chat.",
  fields: (t) => ({
    day: t.expose("day", { type: WeekdayEnum, description: "The weekday." }),
    start: t.exposeString("start", { description: "HH:MM in the availability's time zone." }),
    end: t.exposeString("end", { description: "HH:MM, after start." }),
  }),
});

const ChatAvailabilityType = builder.objectRef<ChatSettings["availability"]>("ChatAvailability").implement({
  description: "When the chat counts as available.",
  fields: (t) => ({
    mode: t.expose("mode", { type: ChatAvailabilityModeEnum, description: "USERS, CHAT_HOURS or ALWAYS." }),
    timeZone: t.exposeString("timeZone", { description: "IANA time zone of the chat hours." }),
    ranges: t.field({ type: [ChatHoursRangeType], description: "CHAT_HOURS: the opening ranges (several per day allowed).", resolve: (a) => a.ranges }),
  }),
});

export const ChatSettingsType = builder.objectRef<ChatSettings & { channelId: string }>("ChatSettings").implement({
  description: "The website chat widget.",
  fields: (t) => ({
    color: t.string({ description: "Accent colour (hex); defaults to the account's branding.", resolve: (s) => s.color ?? "" }),
    font: t.exposeString("font", { description: "CSS font family of the widget." }),
    heading: t.field({ type: ChatHeadingType, description: "Who the heading shows.", resolve: (s) => s.heading }),
    welcomeMessage: t.exposeString("welcomeMessage", { description: "First message a visitor sees (sent as a BOT message when the chat starts)." }),
    welcomeAsPrompt: t.exposeBoolean("welcomeAsPrompt", { description: "Show the welcome message as a prompt on page load." }),
    availability: t.field({ type: ChatAvailabilityType, description: "When the chat is available.", resolve: (s) => s.availability }),
    typicalReplyTime: t.expose("typicalReplyTime", { type: TypicalReplyTimeEnum, description: "Reply time shown while available." }),
    awayMessage: t.exposeString("awayMessage", { description: "Shown while away (with SHOW_AWAY_MESSAGE)." }),
    offlineBehavior: t.expose("offlineBehavior", { type: ChatOfflineBehaviorEnum, description: "What the widget does while away." }),
    atCapacityBehavior: t.expose("atCapacityBehavior", { type: ChatAtCapacityBehaviorEnum, description: "What the widget does when every agent is at capacity." }),
    waitingMessage: t.exposeString("waitingMessage", { description: "Shown when every agent is at capacity (with WAITING_MESSAGE)." }),
    transcriptSender: t.exposeString("transcriptSender", { nullable: true, description: "The address chat transcripts are sent from." }),
    published: t.exposeBoolean("published", { description: "Whether the widget shows on the site; an unpublished chat renders nothing." }),
    gdpr: t.field({ type: GdprType, description: "Consent asked of visitors before they can chat.", resolve: (s) => s.gdpr ?? { mode: "OFF" } }),
    allowedOrigins: t.stringList({ description: "Sites whose pages may start chats (checked against the Origin); empty: any site.", resolve: (s) => s.allowedOrigins ?? [] }),
    embedSnippet: t.string({
      description: "The <script> tag to put before </body> on the site: it loads this server's /widget/loader.js (PUBLIC_URL, or the origin this request was addressed to).",
      resolve: (s, _args, ctx) => embedSnippet(toGlobalId("Channel", s.channelId), serverBaseUrl(ctx)),
    }),
  }),
});

const GdprType = builder.objectRef<FacebookMessengerSettings["gdpr"]>("GdprConsent").implement({
  description: "Consent asked of customers before they can write.",
  fields: (t) => ({
    mode: t.expose("mode", { type: GdprConsentModeEnum, description: "OFF, EXPLICIT or IMPLIED." }),
    consentText: t.exposeString("consentText", { nullable: true, description: "The consent text shown to the customer; null when none is set." }),
  }),
});

export const FacebookMessengerSettingsType = builder.objectRef<FacebookMessengerSettings>("FacebookMessengerSettings").implement({
  description: "A Facebook business page's Messenger. Automated messages go out only within 24 hours of the customer's last message, human replies within 7 days.",
  fields: (t) => ({
    pageId: t.exposeString("pageId", { description: "A page can be connected to only one account." }),
    pageName: t.exposeString("pageName", { description: "The page's name as Facebook shows it." }),
    greeting: t.exposeString("greeting", { description: "Messenger's greeting text shown before the customer writes." }),
    instantReply: t.exposeString("instantReply", { description: "Sent after the customer's first message." }),
    gdpr: t.field({ type: GdprType, description: "GDPR consent asked in Messenger.", resolve: (s) => s.gdpr }),
  }),
});

export const WhatsAppSettingsType = builder.objectRef<WhatsAppSettings>("WhatsAppSettings").implement({
  description: "A verified WhatsApp business number.",
  fields: (t) => ({
    phoneNumber: t.exposeString("phoneNumber", { description: "E.164." }),
    displayName: t.exposeString("displayName", { nullable: true, description: "The business name customers see; null when not set." }),
  }),
});

export const CallingSettingsType = builder.objectRef<CallingSettings>("CallingSettings").implement({
  description: "A phone number for calls; calls start a thread that continues by chat or email.",
  fields: (t) => ({
    phoneNumber: t.exposeString("phoneNumber", { description: "E.164." }),
    recordCalls: t.exposeBoolean("recordCalls", { description: "Whether calls are recorded (the recording is attached to the call entry)." }),
  }),
});

const FormFieldType = builder.objectRef<FormFieldDefinition>("FormField").implement({
  description: "One field of a form.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Key of the value in a submission; unique in the form." }),
    label: t.exposeString("label", { description: "What the submitter sees." }),
    type: t.expose("type", { type: FormFieldTypeEnum, description: "The kind of input." }),
    required: t.exposeBoolean("required", { description: "Whether a submission without it is refused." }),
    hidden: t.exposeBoolean("hidden", { description: "Stored with the submission but not shown in the inbox." }),
    options: t.exposeStringList("options", { description: "SELECT: the choices; empty for other types." }),
  }),
});

export const FormObject = builder.prismaNode("Form", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A form whose submissions become conversations.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The form's name (the subject of its conversations)." }),
    fields: t.field({ type: [FormFieldType], description: "Its fields, in display order, hidden ones included.", select: { fields: true }, resolve: (f) => (f.fields ?? []) as unknown as FormFieldDefinition[] }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the form was created." }),
  }),
});

// ---- inputs ----------------------------------------------------------------------------------
export const TeamEmailInput = builder.inputType("TeamEmailInput", {
  description: "address is required on connect; every other field has a default.",
  fields: (t) => ({
    address: t.string({ description: "The shared address (required on connect); cannot be someone's personal email or another team email." }),
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
  description: "Who the chat widget's heading shows.",
  fields: (t) => ({
    mode: t.field({ type: ChatHeadingModeEnum, description: "Default SPECIFIC." }),
    userIds: t.idList({ description: "SPECIFIC: users to show." }),
    teamIds: t.idList({ description: "SPECIFIC: teams whose members to show." }),
    fallbackUserIds: t.idList({ description: "CONTACT_OWNER: users shown to new visitors." }),
    fallbackTeamIds: t.idList({ description: "CONTACT_OWNER: teams shown to new visitors." }),
  }),
});
const ChatHoursRangeInput = builder.inputType("ChatHoursRangeInput", {
  description: "One opening time range of the chat.",
  fields: (t) => ({
    day: t.field({ type: WeekdayEnum, required: true, description: "The weekday." }),
    start: t.string({ required: true, description: "HH:MM (24-hour) in the availability's time zone." }),
    end: t.string({ required: true, description: "HH:MM, after start." }),
  }),
});
const ChatAvailabilityInput = builder.inputType("ChatAvailabilityInput", {
  description: "When the chat counts as available.",
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
    font: t.string({ description: "CSS font family." }),
    heading: t.field({ type: ChatHeadingInput, description: "Who the heading shows." }),
    welcomeMessage: t.string({ description: "First message a visitor sees." }),
    welcomeAsPrompt: t.boolean({ description: "Default false." }),
    availability: t.field({ type: ChatAvailabilityInput, description: "When the chat is available; default by users' availability." }),
    typicalReplyTime: t.field({ type: TypicalReplyTimeEnum, description: "Default FEW_MINUTES." }),
    awayMessage: t.string({ description: "Shown while away (with SHOW_AWAY_MESSAGE)." }),
    offlineBehavior: t.field({ type: ChatOfflineBehaviorEnum, description: "Default SHOW_AWAY_MESSAGE." }),
    atCapacityBehavior: t.field({ type: ChatAtCapacityBehaviorEnum, description: "Default WAITING_MESSAGE." }),
    waitingMessage: t.string({ description: "Shown when every agent is at capacity (with WAITING_MESSAGE)." }),
    transcriptSender: t.string({ description: "Email address transcripts are sent from." }),
    published: t.boolean({ description: "Default true." }),
    gdpr: t.field({ type: GdprInput, description: "Consent asked of visitors before they can chat (default OFF)." }),
    allowedOrigins: t.stringList({ description: "Origins (https://shop.example.com, https://*.example.com) whose pages may start chats; default empty: any site. Replaced whole on update." }),
  }),
});

const GdprInput = builder.inputType("GdprConsentInput", {
  description: "Consent asked of customers before they can write.",
  fields: (t) => ({ mode: t.field({ type: GdprConsentModeEnum, description: "Default OFF." }), consentText: t.string({ description: "Required unless mode is OFF." }) }),
});
export const FacebookMessengerInput = builder.inputType("FacebookMessengerInput", {
  description: "pageId and pageName are required on connect.",
  fields: (t) => ({
    pageId: t.string({ description: "The Facebook page id; a page can be connected to only one account." }),
    pageName: t.string({ description: "The page's name." }),
    greeting: t.string({ description: "Messenger greeting shown before the customer writes." }),
    instantReply: t.string({ description: "Sent automatically after the customer's first message; empty: none." }),
    gdpr: t.field({ type: GdprInput, description: "GDPR consent in Messenger (default OFF)." }),
  }),
});

const FormFieldInput = builder.inputType("FormFieldInput", {
  description: "One field of a new form.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Key of the value in submissions; unique in the form." }),
    label: t.string({ required: true, description: "What the submitter sees." }),
    type: t.field({ type: FormFieldTypeEnum, description: "Default TEXT." }),
    required: t.boolean({ description: "Refuse submissions without it; default false." }),
    hidden: t.boolean({ description: "A hidden field (e.g. a page URL filled by the site): stored, not shown in the inbox; default false." }),
    options: t.stringList({ description: "Choices of a SELECT field." }),
  }),
});
const NewFormInput = builder.inputType("NewFormInput", {
  description: "A form created together with its channel.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The form's name." }),
    fields: t.field({ type: [FormFieldInput], required: true, description: "Its fields, in display order." }),
  }),
});
export const FormChannelInput = builder.inputType("FormChannelInput", {
  description: "Exactly one of formId (an existing form of the account) or newForm.",
  fields: (t) => ({
    formId: t.id({ description: "An existing form of the account." }),
    newForm: t.field({ type: NewFormInput, description: "A new form to create." }),
    createTickets: t.boolean({ description: "Each submission also becomes a ticket (same as ticketDefaults.createTickets)." }),
  }),
});

export const WhatsAppInput = builder.inputType("WhatsAppInput", {
  description: "A WhatsApp business number (tier PROFESSIONAL or ENTERPRISE); phoneNumber is required on connect.",
  fields: (t) => ({ phoneNumber: t.string({ description: "Verified business number, E.164." }), displayName: t.string({ description: "Business name customers see." }) }),
});
export const CallingInput = builder.inputType("CallingInput", {
  description: "A phone number for calls (tier PROFESSIONAL or ENTERPRISE); phoneNumber is required on connect.",
  fields: (t) => ({ phoneNumber: t.string({ description: "E.164." }), recordCalls: t.boolean({ description: "Default false." }) }),
});

const CredentialValueInput = builder.inputType("CredentialValueInput", {
  description: "A value for one credential field of the app's connection form.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The credential field's name, as the app declares it." }),
    value: t.string({ required: true, description: "The value (secret fields are never returned to agents)." }),
  }),
});
export const CustomChannelInput = builder.inputType("CustomChannelInput", {
  description: "An installed channel app and the credential values its connection form declares. On update, credentials merge by name.",
  fields: (t) => ({
    channelAppId: t.id({ description: "The channel app to connect (required on connect; see channelApps)." }),
    credentials: t.field({ type: [CredentialValueInput], description: "Values for the app's credential fields; required ones must be given." }),
  }),
});

