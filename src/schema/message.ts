import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { callerAccountId } from "./scope.js";
import { visibleInboxWhere } from "../services/access.js";

export const MessageDirectionEnum = builder.enumType("MessageDirection", {
  description: "Which way a message travelled.",
  values: {
    INBOUND: { description: "From the customer (contact or visitor) to the team." },
    OUTBOUND: { description: "From the team (an agent or a bot) to the customer; internal comments are OUTBOUND too." },
  } as const,
});
export const MessageKindEnum = builder.enumType("MessageKind", {
  values: {
    MESSAGE: { description: "A message exchanged with the customer." },
    COMMENT: { description: "An internal note between agents: never delivered to the customer, a partner or a visitor." },
    CALL: { description: "A phone call's entry in the thread (see `call` for its status, duration, recording and transcript)." },
  } as const,
  description: "What kind of entry a message is in the thread.",
});
export const SenderTypeEnum = builder.enumType("SenderType", {
  description: "Who wrote a message.",
  values: {
    CONTACT: { description: "The customer (a known contact or an unknown visitor)." },
    AGENT: { description: "A user of the account; see `author`." },
    BOT: { description: "Sent automatically, e.g. a chat welcome message, an email auto-reply or a Messenger instant reply." },
  } as const,
});
export const DeliveryStatusEnum = builder.enumType("DeliveryStatus", {
  values: {
    PENDING: { description: "Queued: not yet accepted by the transport (retried until it is, or until it fails for good)." },
    SENT: { description: "Accepted by the transport (mail server, Meta, the partner's webhook)." },
    DELIVERED: { description: "The transport reports it reached the customer's device or mailbox." },
    READ: { description: "The transport reports the customer read it." },
    FAILED: { description: "Delivery failed for good; `deliveryError` says why." },
  } as const,
  description: "Delivery of an outgoing message: PENDING until the transport acknowledges it. Statuses only move forwards (a late DELIVERED after READ is ignored).",
});
export const ReportedDeliveryStatusEnum = builder.enumType("ReportedDeliveryStatus", {
  values: {
    SENT: { description: "The partner's platform accepted the message." },
    DELIVERED: { description: "It reached the customer." },
    READ: { description: "The customer read it." },
    FAILED: { description: "It could not be delivered; give the `reason`." },
  } as const,
  description: "A delivery status a partner can report.",
});
export const AttachmentKindEnum = builder.enumType("AttachmentKind", {
  description: "How an attachment is shown; channel apps declare which kinds they support.",
  values: {
    FILE: { description: "Any document, shown as a download." },
    IMAGE: { description: "A picture, shown inline." },
    AUDIO: { description: "An audio file." },
    VOICE_NOTE: { description: "A voice message recorded in a messaging app." },
    STICKER: { description: "A messaging app's sticker." },
    VIDEO: { description: "A video file." },
  } as const,
});

export const AttachmentObject = builder.prismaObject("Attachment", {
  description: "A file sent with a message: a link, or a file kept by this server (see downloadUrl).",
  fields: (t) => ({
    kind: t.expose("kind", { type: AttachmentKindEnum, description: "How to show it." }),
    url: t.exposeString("url", { nullable: true, description: "The file's link as the sender gave it; null for a file kept by this server (use downloadUrl)." }),
    name: t.exposeString("name", { nullable: true, description: "File name, when known." }),
    mimeType: t.exposeString("mimeType", { nullable: true, description: "MIME type, e.g. image/png, when known." }),
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
    direction: t.expose("direction", { type: MessageDirectionEnum, description: "INBOUND from the customer, OUTBOUND from the team." }),
    kind: t.expose("kind", { type: MessageKindEnum, description: "A message, an internal comment or a call entry." }),
    senderType: t.expose("senderType", { type: SenderTypeEnum, description: "Who wrote it: the contact, an agent or a bot." }),
    text: t.exposeString("text", { nullable: true, description: "Plain text; null when the message has only rich text or attachments." }),
    richText: t.exposeString("richText", { nullable: true, description: "HTML, sanitized to an allowlist of formatting, links and images when it was stored." }),
    externalId: t.exposeString("externalId", { nullable: true, description: "The transport's id of the message (a partner's external id)." }),
    deliveryStatus: t.expose("deliveryStatus", { type: DeliveryStatusEnum, nullable: true, description: "Outgoing messages through a transport only." }),
    deliveryError: t.exposeString("deliveryError", { nullable: true, description: "Why delivery FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the message was received or sent by this server." }),
    attachments: t.relation("attachments", { description: "Its files, in the order they were sent (empty when none)." }),
    channel: t.relation("channel", { description: "The channel the message travelled through." }),
    author: t.relation("author", { nullable: true, authScopes: { agent: true }, description: "The agent who wrote it." }),
    inReplyTo: t.relation("inReplyTo", { nullable: true, description: "The message this one answers." }),
    conversation: t.relation("conversation", { authScopes: { agent: true }, description: "The thread the message belongs to (agents only)." }),
  }),
});

export const AttachmentInput = builder.inputType("AttachmentInput", {
  description: "A file a partner's customer sent, by link.",
  fields: (t) => ({
    kind: t.field({ type: AttachmentKindEnum, required: true, description: "How to show it; must be one of the kinds the channel app declares." }),
    url: t.string({ required: true, description: "Where the file can be fetched: a URL, at most 2048 characters." }),
    name: t.string({ description: "File name shown to agents." }),
    mimeType: t.string({ description: "MIME type, e.g. application/pdf." }),
    size: t.int({ description: "Bytes; checked against the app's maxAttachmentSize when given." }),
  }),
});

export const ReplyAttachmentInput = builder.inputType("ReplyAttachmentInput", {
  description: "A file an agent attaches to a reply: a link, or a file sent to `POST /attachments` first.",
  fields: (t) => ({
    kind: t.field({ type: AttachmentKindEnum, required: true, description: "How the customer's side should show it." }),
    url: t.string({ description: "A link to the file. Exactly one of url and upload." }),
    upload: t.string({
      description:
        "The `upload` token of a file sent to `POST /attachments` (valid 24 hours). Exactly one of url and upload; the file's MIME type and size come from the upload, and its name unless `name` is given.",
    }),
    name: t.string({ description: "File name the customer sees; default for an upload: its uploaded name." }),
    mimeType: t.string({ description: "MIME type of a linked file (an upload's own type is used for uploads)." }),
    size: t.int({ description: "Bytes, of a linked file (an upload's own size is used for uploads)." }),
  }),
});

/** The fields of a reply, shared by ReplyInput and ReplyAndUpdateTicketStatusInput. */
export const replyFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
  text: t.string({ description: "Plain text (at most 100,000 characters). A reply needs text, richText or an attachment." }),
  richText: t.string({ description: "HTML; kept to an allowlist of formatting, links and images." }),
  attachments: t.field({ type: [ReplyAttachmentInput], description: "At most 50 files." }),
  inReplyToId: t.id({ description: "Default: the latest message of the conversation." }),
  channelId: t.id({ description: "Default: the conversation's channel. Another channel must be able to reach the contact." }),
  idempotencyKey: t.string({ description: "A retry with the same key (1 to 255 characters, per account) returns the first reply instead of sending again; the same key with a different request is a ConflictError." }),
  overrideAssignee: t.boolean({
    description: "Admins only: reply even though the account lets only the assignee reply and someone else is assigned. Ignored for agents (they get a ForbiddenError naming the assignee). Default false.",
  }),
});

export const ReplyInput = builder.inputType("ReplyInput", {
  description: "A reply from the caller to the customer of a conversation.",
  fields: (t) => replyFields(t),
});

export const AddCommentInput = builder.inputType("AddCommentInput", {
  description: "An internal comment on a conversation.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    text: t.string({ required: true, description: "The comment (plain text, not empty, at most 100,000 characters)." }),
    mentionUserIds: t.idList({ description: "Users the comment mentions (at most 50): current users of the account who can see the conversation; anyone else is a ValidationError. They find it with `filter: { mentionsMe: true }` and the MENTIONS view, unread until they read past it." }),
  }),
});

export const SenderInput = builder.inputType("SenderInput", {
  description:
    "Who sent an inbound message. Matched to a contact of the account by handle on this channel, then email, then phone; an unknown sender with any of them becomes a new contact, one with none stays an unknown visitor.",
  fields: (t) => ({
    name: t.string({ description: "Display name (at most 200 characters)." }),
    email: t.string({ description: "Email address (stored lower-case)." }),
    phone: t.string({ description: "Phone number, preferably E.164." }),
    handle: t.string({ description: "The sender's id on the partner's platform." }),
  }),
});

export const PublishInboundMessageInput = builder.inputType("PublishInboundMessageInput", {
  description: "A customer's message that a partner publishes into one of its app's CUSTOM channels. It needs text, richText or an attachment, within the app's capabilities.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "A CUSTOM channel of one of the calling partner's apps (any other id is NotFoundError)." }),
    externalId: t.string({ required: true, description: "Idempotency key: publishing the same id again returns the first message and changes nothing." }),
    threadKey: t.string({ description: "Joins the thread with this key (THREAD_KEY apps), or starts it." }),
    sender: t.field({ type: SenderInput, required: true, description: "The customer who wrote it." }),
    text: t.string({ description: "Plain text (at most 100,000 characters)." }),
    richText: t.string({ description: "HTML; kept to an allowlist of formatting, links and images." }),
    attachments: t.field({ type: [AttachmentInput], description: "Files by link: at most 50, and at most the app's maxAttachments." }),
    subject: t.string({ description: "Subject of a new conversation (ignored when the message joins a thread)." }),
  }),
});

export const UpdateDeliveryStatusInput = builder.inputType("UpdateDeliveryStatusInput", {
  description: "A delivery report for an agent's message that was delivered to the partner's webhook.",
  fields: (t) => ({
    messageId: t.id({ required: true, description: "The message id from the webhook delivery (a message on one of the partner's channels)." }),
    status: t.field({ type: ReportedDeliveryStatusEnum, required: true, description: "The new status; a status behind the current one is ignored." }),
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
      description: "Deprecated alias of `sentMessage` (the same message).",
      deprecationReason: RENAMED("sentMessage"),
      resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
    }),
  }),
});

export const PublishInboundMessageResult = builder
  .objectRef<{ messageId: string; conversationId: string; duplicate: boolean; conversationCreated: boolean }>("PublishInboundMessageResult")
  .implement({
    description: "The inbound message was stored (or had been, for a repeated externalId).",
    fields: (t) => ({
      inboundMessage: t.prismaField({
        type: MessageObject,
        description: "The published message (on a duplicate: the one stored the first time).",
        resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
      }),
      message: t.prismaField({
        type: MessageObject,
        description: "Deprecated alias of `inboundMessage` (the same message).",
        deprecationReason: RENAMED("inboundMessage"),
        resolve: (query, r, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: r.messageId } }),
      }),
      conversationId: t.id({ description: "Global id of the conversation the message joined or started (partners cannot read conversations; keep it to correlate).", resolve: (r) => toGlobalId("Conversation", r.conversationId) }),
      duplicate: t.exposeBoolean("duplicate", { description: "True when this externalId had been published before: nothing was written." }),
      conversationCreated: t.exposeBoolean("conversationCreated", { description: "True when this message started a new conversation." }),
    }),
  });

