import type { ChannelApp } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { ChannelObject, ChannelStatusEnum, ChannelTypeEnum } from "./channel.js";
import { AttachmentKindEnum } from "./message.js";
import { toGlobalId } from "./ids.js";
import { maskedCredentials, partnerCredentials, type ChannelAppCapabilities, type ChannelCredentialValue, type PartnerChannelRow } from "../services/channel-apps.js";
import type { CredentialFieldDefinition } from "../services/channel-settings.js";

/** Partners' channel apps (custom channel types) and what partners see of the channels connected to them. */

/** Never matches a real partner: non-partner callers see no partner-only data. */
const NO_PARTNER = "00000000-0000-0000-0000-000000000000";

export const ThreadingModelEnum = builder.enumType("ThreadingModel", {
  description: "How a channel app's incoming messages are grouped into conversations.",
  values: {
    NEW_THREAD_PER_MESSAGE: { description: "Every incoming message starts a new thread." },
    THREAD_KEY: { description: "Messages with the same thread key join one thread." },
  } as const,
});
export const ChannelAppMessageKindEnum = builder.enumType("ChannelAppMessageKind", {
  description: "A kind of content a channel app can carry: content the app does not declare is refused when published.",
  values: {
    TEXT: { description: "Plain text." },
    RICH_TEXT: { description: "HTML rich text." },
    ATTACHMENT: { description: "Files (of the declared attachmentKinds)." },
  } as const,
});

export const CredentialFieldType = builder.objectRef<CredentialFieldDefinition>("CredentialField").implement({
  description: "A field of a channel app's connection form.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Key of the value (in CredentialValueInput and webhook bodies)." }),
    label: t.exposeString("label", { description: "What the connection form shows." }),
    secret: t.exposeBoolean("secret", { description: "Secret values are stored but never returned." }),
    required: t.exposeBoolean("required", { description: "Whether connecting the app needs a value." }),
  }),
});

const CapabilitiesType = builder.objectRef<ChannelAppCapabilities>("ChannelAppCapabilities").implement({
  description: "What content a channel app carries; published messages outside it are refused with a ValidationError.",
  fields: (t) => ({
    messageKinds: t.field({ type: [ChannelAppMessageKindEnum], description: "Content kinds the app supports.", resolve: (c) => c.messageKinds ?? [] }),
    attachmentKinds: t.field({ type: [AttachmentKindEnum], description: "Attachment kinds the app supports; empty: none.", resolve: (c) => c.attachmentKinds ?? [] }),
    richText: t.boolean({ description: "Whether the app carries HTML rich text.", resolve: (c) => c.richText ?? false }),
    maxAttachmentSize: t.int({ nullable: true, description: "Bytes.", resolve: (c) => c.maxAttachmentSize ?? null }),
    maxAttachments: t.int({ nullable: true, description: "Most attachments per message; null: no app limit (the API's 50 still applies).", resolve: (c) => c.maxAttachments ?? null }),
  }),
});

export const ChannelAppObject = builder.prismaNode("ChannelApp", {
  nullable: true,
  id: { field: "id" },
  // Agents can see every app (they may connect any); partners only their own.
  findUnique: (id, ctx) =>
    ctx.kind === "agent" ? { id } : { id, partnerId: ctx.kind === "partner" ? ctx.partnerId : NO_PARTNER },
  description: "A custom channel type registered by a partner.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The app's name, shown when connecting it." }),
    description: t.exposeString("description", { description: 'What the app connects to; "" when none.' }),
    logoUrl: t.exposeString("logoUrl", { nullable: true, description: "URL of the app's logo; null when none." }),
    credentialFields: t.field({ type: [CredentialFieldType], description: "The fields its connection form asks for.", select: { credentialFields: true }, resolve: (a) => a.credentialFields as unknown as CredentialFieldDefinition[] }),
    capabilities: t.field({ type: CapabilitiesType, description: "The content it carries.", select: { capabilities: true }, resolve: (a) => a.capabilities as ChannelAppCapabilities }),
    threadingModel: t.expose("threadingModel", { type: ThreadingModelEnum, description: "Whether each message starts a thread or joins one by thread key." }),
    webhookUrl: t.string({
      nullable: true,
      description: "Where agents' replies are delivered; only the app's partner sees it.",
      select: { webhookUrl: true, partnerId: true },
      resolve: (a, _args, ctx) => (ctx.kind === "partner" && ctx.partnerId === a.partnerId ? a.webhookUrl : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was registered." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it was last changed." }),
  }),
});

const CredentialFieldInput = builder.inputType("CredentialFieldInput", {
  description: "One field of the app's connection form.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Key of the value; unique in the app." }),
    label: t.string({ required: true, description: "What the connection form shows." }),
    secret: t.boolean({ description: "Default false." }),
    required: t.boolean({ description: "Default true." }),
  }),
});

const CapabilitiesInput = builder.inputType("ChannelAppCapabilitiesInput", {
  description: "What content the app carries.",
  fields: (t) => ({
    messageKinds: t.field({ type: [ChannelAppMessageKindEnum], description: "Default [TEXT]." }),
    attachmentKinds: t.field({ type: [AttachmentKindEnum], description: "Default none." }),
    richText: t.boolean({ description: "Default false." }),
    maxAttachmentSize: t.int({ description: "Bytes; default 10 MiB." }),
    maxAttachments: t.int({ description: "Default 10." }),
  }),
});

export const RegisterChannelAppInput = builder.inputType("RegisterChannelAppInput", {
  description: "A new channel app of the calling partner.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The app's name." }),
    description: t.string({ description: "What it connects to; default empty." }),
    logoUrl: t.string({ description: "URL of its logo." }),
    credentialFields: t.field({ type: [CredentialFieldInput], description: "The fields an account's connection form asks for." }),
    capabilities: t.field({ type: CapabilitiesInput, description: "Default: text only." }),
    threadingModel: t.field({ type: ThreadingModelEnum, description: "Default THREAD_KEY." }),
    webhookUrl: t.string({ required: true, description: "Where agents' replies are POSTed, signed with the webhook signing secret." }),
  }),
});

export const UpdateChannelAppInput = builder.inputType("UpdateChannelAppInput", {
  description: "Only the given fields change; credentialFields is replaced whole.",
  fields: (t) => ({
    appId: t.id({ required: true, description: "One of the calling partner's apps." }),
    name: t.string({ description: "New name." }),
    description: t.string({ description: "New description." }),
    logoUrl: t.string({ description: "New logo URL." }),
    credentialFields: t.field({ type: [CredentialFieldInput], description: "The new connection form, replaced whole." }),
    capabilities: t.field({ type: CapabilitiesInput, description: "New capabilities." }),
    threadingModel: t.field({ type: ThreadingModelEnum, description: "New threading model (applies to later messages)." }),
    webhookUrl: t.string({ description: "New delivery URL for agents' replies." }),
  }),
});

export const RegisterChannelAppResult = builder.objectRef<{ app: ChannelApp; webhookSigningSecret: string }>("RegisterChannelAppResult").implement({
  description: "The app was registered.",
  fields: (t) => ({
    app: t.field({ type: ChannelAppObject, description: "The new app.", resolve: (r) => r.app }),
    webhookSigningSecret: t.exposeString("webhookSigningSecret", { description: "HMAC key of webhook deliveries; shown this once." }),
  }),
});

export const ChannelAppResult = builder.objectRef<{ app: ChannelApp }>("ChannelAppResult").implement({
  description: "The app was updated.",
  fields: (t) => ({ app: t.field({ type: ChannelAppObject, description: "The app as it is now.", resolve: (r) => r.app }) }),
});

const ChannelCredentialType = builder.objectRef<ChannelCredentialValue>("ChannelCredential").implement({
  description:
    "A credential value of a custom channel. Agents never get secret values (value is null; isSet tells whether one is stored); the app's partner reads every value the account entered.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The credential field's name." }),
    label: t.exposeString("label", { description: "The credential field's label." }),
    secret: t.exposeBoolean("secret", { description: "Whether the field is secret." }),
    value: t.exposeString("value", { nullable: true, description: "The stored value; null when unset, and for agents reading a secret field." }),
    isSet: t.exposeBoolean("isSet", { description: "Whether a value is stored." }),
  }),
});

const PartnerAccountType = builder.objectRef<{ id: string; name: string }>("PartnerAccount").implement({
  description: "What a partner sees of an account that connected its app: its id and name, nothing else.",
  fields: (t) => ({
    id: t.id({ description: "The account's global id.", resolve: (a) => toGlobalId("Account", a.id) }),
    name: t.exposeString("name", { description: "The account's company name." }),
  }),
});

export const PartnerChannelType = builder.objectRef<PartnerChannelRow>("PartnerChannel").implement({
  description: "A channel connected to a partner's app, as its partner sees it.",
  fields: (t) => ({
    id: t.id({ description: "The channel's global id (use it to publish messages).", resolve: (c) => toGlobalId("Channel", c.id) }),
    name: t.exposeString("name", { description: "The channel's name in the account." }),
    type: t.field({ type: ChannelTypeEnum, description: "Always CUSTOM.", resolve: (c) => c.type }),
    status: t.field({ type: ChannelStatusEnum, description: "ON or OFF; an OFF channel refuses publishes (ChannelOffError).", resolve: (c) => c.status }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the account connected it." }),
    account: t.field({ type: PartnerAccountType, description: "The account that connected it.", resolve: (c) => c.account }),
    app: t.field({ type: ChannelAppObject, description: "The app the account connected.", resolve: (c) => c.channelApp! }),
    credentials: t.field({
      type: [ChannelCredentialType],
      description: "The values the account entered in the app's connection form, secret ones included (only the app's partner reads these).",
      resolve: (c) => (c.channelApp ? partnerCredentials(c.channelApp.credentialFields as unknown as CredentialFieldDefinition[], (c.credentials ?? {}) as Record<string, string>) : []),
    }),
  }),
});

const CustomChannelSettingsType = builder.objectRef<{ app: ChannelApp; credentials: ChannelCredentialValue[] }>("CustomChannelSettings").implement({
  description: "Settings of a CUSTOM channel.",
  fields: (t) => ({
    app: t.field({ type: ChannelAppObject, description: "The partner's app this channel is an instance of.", resolve: (s) => s.app }),
    credentials: t.field({ type: [ChannelCredentialType], description: "One entry per credential field of the app.", resolve: (s) => s.credentials }),
  }),
});

builder.prismaObjectFields(ChannelObject, (t) => ({
  custom: t.field({
    type: CustomChannelSettingsType,
    nullable: true,
    description: "CUSTOM channels: the app and the credential values (secret ones masked, except for the app's partner).",
    select: { type: true, credentials: true, channelApp: true },
    resolve: (c, _args, ctx) => {
      if (c.type !== "CUSTOM" || !c.channelApp) return null;
      const fields = c.channelApp.credentialFields as unknown as CredentialFieldDefinition[];
      const values = (c.credentials ?? {}) as Record<string, string>;
      const ownPartner = ctx.kind === "partner" && ctx.partnerId === c.channelApp.partnerId;
      return { app: c.channelApp, credentials: ownPartner ? partnerCredentials(fields, values) : maskedCredentials(fields, values) };
    },
  }),
}));
