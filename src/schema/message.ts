import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

export const MessageDirectionEnum = builder.enumType("MessageDirection", { values: ["INBOUND", "OUTBOUND"] as const });
export const MessageKindEnum = builder.enumType("MessageKind", {
  values: ["MESSAGE", "COMMENT", "CALL"] as const,
  description: "COMMENT is an internal note that only agents see.",
});
export const SenderTypeEnum = builder.enumType("SenderType", { values: ["CONTACT", "AGENT", "BOT"] as const });
export const DeliveryStatusEnum = builder.enumType("DeliveryStatus", {
  values: ["PENDING", "SENT", "DELIVERED", "READ", "FAILED"] as const,
  description: "Delivery of an outgoing message: PENDING until the transport acknowledges it.",
});
export const ReportedDeliveryStatusEnum = builder.enumType("ReportedDeliveryStatus", {
  values: ["SENT", "DELIVERED", "READ", "FAILED"] as const,
  description: "A delivery status a partner can report.",
});
export const AttachmentKindEnum = builder.enumType("AttachmentKind", { values: ["FILE", "IMAGE", "AUDIO", "VOICE_NOTE", "STICKER", "VIDEO"] as const });

export const AttachmentObject = builder.prismaObject("Attachment", {
  fields: (t) => ({
    kind: t.expose("kind", { type: AttachmentKindEnum }),
    url: t.exposeString("url", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    mimeType: t.exposeString("mimeType", { nullable: true }),
    size: t.exposeInt("size", { nullable: true, description: "Bytes." }),
  }),
});

export const MessageObject = builder.prismaNode("Message", {
  id: { field: "id" },
  // A hidden or foreign id resolves to null, like a missing one.
  nullable: true,
  // Agents see messages of the inboxes they can see; nobody else loads messages by id.
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx), ...(ctx.kind === "agent" ? { conversation: { inbox: visibleInboxWhere(ctx) } } : {}) }),
  description: "A customer's message, an agent's or bot's reply, or an internal comment.",
  fields: (t) => ({
    direction: t.expose("direction", { type: MessageDirectionEnum }),
    kind: t.expose("kind", { type: MessageKindEnum }),
    senderType: t.expose("senderType", { type: SenderTypeEnum }),
    text: t.exposeString("text", { nullable: true }),
    richText: t.exposeString("richText", { nullable: true, description: "HTML, sanitized to an allowlist of formatting, links and images when it was stored." }),
    externalId: t.exposeString("externalId", { nullable: true, description: "The transport's id of the message (a partner's external id)." }),
    deliveryStatus: t.expose("deliveryStatus", { type: DeliveryStatusEnum, nullable: true, description: "Outgoing messages through a transport only." }),
    deliveryError: t.exposeString("deliveryError", { nullable: true, description: "Why delivery FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    attachments: t.relation("attachments"),
    channel: t.relation("channel", { description: "The channel the message travelled through." }),
    author: t.relation("author", { nullable: true, authScopes: { agent: true }, description: "The agent who wrote it." }),
    inReplyTo: t.relation("inReplyTo", { nullable: true, description: "The message this one answers." }),
    conversation: t.relation("conversation", { authScopes: { agent: true } }),
  }),
});

export const AttachmentInput = builder.inputType("AttachmentInput", {
  description: "A file a partner's customer sent, by link.",
  fields: (t) => ({
    kind: t.field({ type: AttachmentKindEnum, required: true }),
    url: t.string({ required: true }),
    name: t.string(),
    mimeType: t.string(),
    size: t.int({ description: "Bytes." }),
  }),
});

export const ReplyAttachmentInput = builder.inputType("ReplyAttachmentInput", {
  description: "A file an agent attaches to a reply: a link, or a file sent to `POST /attachments` first.",
  fields: (t) => ({
    kind: t.field({ type: AttachmentKindEnum, required: true }),
    url: t.string({ description: "A link to the file. Exactly one of url and upload." }),
    upload: t.string({
      description:
        "The `upload` token of a file sent to `POST /attachments` (valid 24 hours). Exactly one of url and upload; the file's MIME type and size come from the upload, and its name unless `name` is given.",
    }),
    name: t.string(),
    mimeType: t.string(),
    size: t.int({ description: "Bytes." }),
  }),
});

/** The fields of a reply, shared by ReplyInput and ReplyAndUpdateTicketStatusInput. */
export const replyFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  conversationId: t.id({ required: true }),
  text: t.string(),
  richText: t.string({ description: "HTML; kept to an allowlist of formatting, links and images." }),
  attachments: t.field({ type: [ReplyAttachmentInput] }),
  inReplyToId: t.id({ description: "Default: the latest message of the conversation." }),
  channelId: t.id({ description: "Default: the conversation's channel. Another channel must be able to reach the contact." }),
  idempotencyKey: t.string({ description: "A retry with the same key returns the first reply." }),
  overrideAssignee: t.boolean({
    description: "Admins only: reply even though the account lets only the assignee reply and someone else is assigned. Ignored for agents (they get a ForbiddenError naming the assignee). Default false.",
  }),
});

export const ReplyInput = builder.inputType("ReplyInput", { fields: (t) => replyFields(t) });

export const AddCommentInput = builder.inputType("AddCommentInput", {
  fields: (t) => ({ conversationId: t.id({ required: true }), text: t.string({ required: true }) }),
});

export const SenderInput = builder.inputType("SenderInput", {
  fields: (t) => ({
    name: t.string(),
    email: t.string(),
    phone: t.string(),
    handle: t.string({ description: "The sender's id on the partner's platform." }),
  }),
});

export const PublishInboundMessageInput = builder.inputType("PublishInboundMessageInput", {
  fields: (t) => ({
    channelId: t.id({ required: true }),
    externalId: t.string({ required: true, description: "Idempotency key: publishing the same id again returns the first message and changes nothing." }),
    threadKey: t.string({ description: "Joins the thread with this key (THREAD_KEY apps), or starts it." }),
    sender: t.field({ type: SenderInput, required: true }),
    text: t.string(),
    richText: t.string({ description: "HTML; kept to an allowlist of formatting, links and images." }),
    attachments: t.field({ type: [AttachmentInput] }),
    subject: t.string(),
  }),
});

export const UpdateDeliveryStatusInput = builder.inputType("UpdateDeliveryStatusInput", {
  fields: (t) => ({
    messageId: t.id({ required: true }),
    status: t.field({ type: ReportedDeliveryStatusEnum, required: true }),
    reason: t.string({ description: "Why delivery FAILED." }),
  }),
});

/**
 * Why a result's message field is not called `message`: it could not be selected beside
 * `... on Error { message }` (one response name, two shapes) without an alias.
 */
const RENAMED = (field: string) => `Use \`${field}\`: it can be selected beside \`... on Error { message }\` without an alias.`;

/** A mutation result carrying one message, loaded with the caller's selection (works for partners too). */
export const MessageResult = builder.objectRef<{ messageId: string }>("MessageResult").implement({
  description: "The message a reply, comment or delivery-status report wrote.",
  fields: (t) => ({
    sentMessage: t.prismaField({
      type: MessageObject,
      description: "The reply or comment just sent, or the outbound message whose delivery status was reported.",
      resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
    }),
    message: t.prismaField({
      type: MessageObject,
      deprecationReason: RENAMED("sentMessage"),
      resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
    }),
  }),
});

export const PublishInboundMessageResult = builder
  .objectRef<{ messageId: string; conversationId: string; duplicate: boolean; conversationCreated: boolean }>("PublishInboundMessageResult")
  .implement({
    fields: (t) => ({
      inboundMessage: t.prismaField({
        type: MessageObject,
        description: "The published message (on a duplicate: the one stored the first time).",
        resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
      }),
      message: t.prismaField({
        type: MessageObject,
        deprecationReason: RENAMED("inboundMessage"),
        resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
      }),
      conversationId: t.id({ resolve: (r) => toGlobalId("Conversation", r.conversationId) }),
      duplicate: t.exposeBoolean("duplicate", { description: "True when this externalId had been published before: nothing was written." }),
      conversationCreated: t.exposeBoolean("conversationCreated", { description: "True when this message started a new conversation." }),
    }),
  });

