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
  values: {
    NEW_THREAD_PER_MESSAGE: { description: "Every incoming message starts a new thread." },
    THREAD_KEY: { description: "Messages with the same thread key join one thread." },
  } as const,
});
export const ChannelAppMessageKindEnum = builder.enumType("ChannelAppMessageKind", { values: ["TEXT", "RICH_TEXT", "ATTACHMENT"] as const });

export const CredentialFieldType = builder.objectRef<CredentialFieldDefinition>("CredentialField").implement({
  description: "A field of a channel app's connection form.",
  fields: (t) => ({
    name: t.exposeString("name"),
    label: t.exposeString("label"),
    secret: t.exposeBoolean("secret", { description: "Secret values are stored but never returned." }),
    required: t.exposeBoolean("required"),
  }),
});

const CapabilitiesType = builder.objectRef<ChannelAppCapabilities>("ChannelAppCapabilities").implement({
  fields: (t) => ({
    messageKinds: t.field({ type: [ChannelAppMessageKindEnum], resolve: (c) => c.messageKinds ?? [] }),
    attachmentKinds: t.field({ type: [AttachmentKindEnum], resolve: (c) => c.attachmentKinds ?? [] }),
    richText: t.boolean({ resolve: (c) => c.richText ?? false }),
    maxAttachmentSize: t.int({ nullable: true, description: "Bytes.", resolve: (c) => c.maxAttachmentSize ?? null }),
    maxAttachments: t.int({ nullable: true, resolve: (c) => c.maxAttachments ?? null }),
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
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    logoUrl: t.exposeString("logoUrl", { nullable: true }),
    credentialFields: t.field({ type: [CredentialFieldType], select: { credentialFields: true }, resolve: (a) => a.credentialFields as unknown as CredentialFieldDefinition[] }),
    capabilities: t.field({ type: CapabilitiesType, select: { capabilities: true }, resolve: (a) => a.capabilities as ChannelAppCapabilities }),
    threadingModel: t.expose("threadingModel", { type: ThreadingModelEnum }),
    webhookUrl: t.string({
      nullable: true,
      description: "Where agents' replies are delivered; only the app's partner sees it.",
      select: { webhookUrl: true, partnerId: true },
      resolve: (a, _args, ctx) => (ctx.kind === "partner" && ctx.partnerId === a.partnerId ? a.webhookUrl : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

const CredentialFieldInput = builder.inputType("CredentialFieldInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    label: t.string({ required: true }),
    secret: t.boolean({ description: "Default false." }),
    required: t.boolean({ description: "Default true." }),
  }),
});

const CapabilitiesInput = builder.inputType("ChannelAppCapabilitiesInput", {
  fields: (t) => ({
    messageKinds: t.field({ type: [ChannelAppMessageKindEnum], description: "Default [TEXT]." }),
    attachmentKinds: t.field({ type: [AttachmentKindEnum], description: "Default none." }),
    richText: t.boolean({ description: "Default false." }),
    maxAttachmentSize: t.int({ description: "Bytes; default 10 MiB." }),
    maxAttachments: t.int({ description: "Default 10." }),
  }),
});

export const RegisterChannelAppInput = builder.inputType("RegisterChannelAppInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    logoUrl: t.string(),
    credentialFields: t.field({ type: [CredentialFieldInput], description: "The fields an account's connection form asks for." }),
    capabilities: t.field({ type: CapabilitiesInput }),
    threadingModel: t.field({ type: ThreadingModelEnum, description: "Default THREAD_KEY." }),
    webhookUrl: t.string({ required: true, description: "Where agents' replies are POSTed, signed with the webhook signing secret." }),
  }),
});

export const UpdateChannelAppInput = builder.inputType("UpdateChannelAppInput", {
  description: "Only the given fields change; credentialFields is replaced whole.",
  fields: (t) => ({
    appId: t.id({ required: true }),
    name: t.string(),
    description: t.string(),
    logoUrl: t.string(),
    credentialFields: t.field({ type: [CredentialFieldInput] }),
    capabilities: t.field({ type: CapabilitiesInput }),
    threadingModel: t.field({ type: ThreadingModelEnum }),
    webhookUrl: t.string(),
  }),
});

export const RegisterChannelAppResult = builder.objectRef<{ app: ChannelApp; webhookSigningSecret: string }>("RegisterChannelAppResult").implement({
  fields: (t) => ({
    app: t.field({ type: ChannelAppObject, resolve: (r) => r.app }),
    webhookSigningSecret: t.exposeString("webhookSigningSecret", { description: "HMAC key of webhook deliveries; shown this once." }),
  }),
});

export const ChannelAppResult = builder.objectRef<{ app: ChannelApp }>("ChannelAppResult").implement({
  fields: (t) => ({ app: t.field({ type: ChannelAppObject, resolve: (r) => r.app }) }),
});

const ChannelCredentialType = builder.objectRef<ChannelCredentialValue>("ChannelCredential").implement({
  description:
    "A credential value of a custom channel. Agents never get secret values (value is null; isSet tells whether one is stored); the app's partner reads every value the account entered.",
  fields: (t) => ({
    name: t.exposeString("name"),
    label: t.exposeString("label"),
    secret: t.exposeBoolean("secret"),
    value: t.exposeString("value", { nullable: true }),
    isSet: t.exposeBoolean("isSet"),
  }),
});

const PartnerAccountType = builder.objectRef<{ id: string; name: string }>("PartnerAccount").implement({
  description: "What a partner sees of an account that connected its app: its id and name, nothing else.",
  fields: (t) => ({ id: t.id({ resolve: (a) => toGlobalId("Account", a.id) }), name: t.exposeString("name") }),
});

export const PartnerChannelType = builder.objectRef<PartnerChannelRow>("PartnerChannel").implement({
  description: "A channel connected to a partner's app, as its partner sees it.",
  fields: (t) => ({
    id: t.id({ description: "The channel's global id (use it to publish messages).", resolve: (c) => toGlobalId("Channel", c.id) }),
    name: t.exposeString("name"),
    type: t.field({ type: ChannelTypeEnum, resolve: (c) => c.type }),
    status: t.field({ type: ChannelStatusEnum, resolve: (c) => c.status }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    account: t.field({ type: PartnerAccountType, resolve: (c) => c.account }),
    app: t.field({ type: ChannelAppObject, description: "The app the account connected.", resolve: (c) => c.channelApp! }),
    credentials: t.field({
      type: [ChannelCredentialType],
      description: "The values the account entered in the app's connection form, secret ones included (only the app's partner reads these).",
      resolve: (c) => (c.channelApp ? partnerCredentials(c.channelApp.credentialFields as unknown as CredentialFieldDefinition[], (c.credentials ?? {}) as Record<string, string>) : []),
    }),
  }),
});

const CustomChannelSettingsType = builder.objectRef<{ app: ChannelApp; credentials: ChannelCredentialValue[] }>("CustomChannelSettings").implement({
  fields: (t) => ({
    app: t.field({ type: ChannelAppObject, resolve: (s) => s.app }),
    credentials: t.field({ type: [ChannelCredentialType], resolve: (s) => s.credentials }),
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
