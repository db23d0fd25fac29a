import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Message, Prisma } from "../generated/prisma/client.js";
import type { Services, VisitorContext } from "../context.js";
import { recordEvents, transactionWithEvents, type OutboxEvent } from "../realtime/events.js";
import { notifyOutbox } from "../realtime/outbox-signal.js";
import { acquireSubscriptionSlot, releasingOnEnd } from "../realtime/limits.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { accountEventStream } from "../realtime/stream.js";
import type { ChatSettings } from "./channel-settings.js";
import { chatConsent, isLiveChat } from "./chat-availability.js";
import { checkChatOrigin } from "./chat-widget-config.js";
import { matchOrCreateContact } from "./contacts.js";
import { ChannelOffError, NotFoundError, ValidationError } from "./errors.js";
import { onConversationCreated, receiveInbound, type AttachmentInput } from "./intake.js";
import { readUpload } from "./attachments-store.js";
import { routeNewConversation } from "./routing.js";
import { email, parseInput } from "./validation.js";
import { publishedChatflow } from "./chatflows.js";
import { startChatflow } from "./chatflow-engine.js";
import type { OutboundConfig } from "./outbound-url.js";

/**
 * The website chat widget's visitor side: starting a chat, the visitor's messages, and what the
 * visitor may read (their own conversation, never comments). Visitors are authenticated by a
 * token scoped to one conversation (typ "visitor").
 */

/** How long a visitor token lives: a returning visitor within a week resumes the same chat. */
export const VISITOR_TOKEN_TTL = "7d";

/** Messages a visitor may see, with what the widget shows of them. */
const VISITOR_MESSAGE_INCLUDE = { attachments: true, author: { select: { firstName: true } } } as const;
export type VisitorMessage = Prisma.MessageGetPayload<{ include: typeof VISITOR_MESSAGE_INCLUDE }>;

const startSchema = z.object({
  name: z.string().trim().max(200, "At most 200 characters").optional(),
  email: email().optional(),
  consent: z.boolean().optional(),
});

export interface StartChatResult {
  visitorToken: string;
  conversationId: string;
  /** The channel's welcome message, posted as the conversation's first (bot) message; null when empty. */
  welcomeMessage: VisitorMessage | null;
}

/**
 * Starts a chat on a live, published CHAT channel (NotFoundError for an unknown id or another
 * type; ChannelOffError when OFF, deleted or unpublished). A channel that lists allowed origins
 * starts chats only for pages on them (`origin`: the request's Origin header; ForbiddenError
 * otherwise). When the channel requires EXPLICIT consent, `consent` must be true
 * (ValidationError on input.consent). The widget calls this when the visitor first writes.
 *
 * In one transaction: the visitor's contact (matched or created by email; a visitor with only a
 * name stays an unknown visitor, as intake does), a new conversation whose thread key later
 * visitor messages join, the welcome message as an OUTBOUND BOT message, routing of the new
 * conversation and the automatic-ticket hook (both intake's own functions), and the outbox
 * events. Returns a visitor token for that one conversation (valid 7 days).
 */
export async function startChat(
  ctx: Pick<Services, "prisma" | "auth">,
  input: { channelId: string; name?: string | null; email?: string | null; consent?: boolean | null; origin?: string | null; chatflowId?: string | null },
  outbound?: OutboundConfig,
): Promise<StartChatResult> {
  const data = parseInput(startSchema, { name: input.name || undefined, email: input.email || undefined, consent: input.consent ?? undefined });
  const channel = await ctx.prisma.channel.findUnique({ where: { id: input.channelId } });
  if (!channel || channel.type !== "CHAT") throw new NotFoundError("Channel", input.channelId);
  if (!isLiveChat(channel)) throw new ChannelOffError(channel.id, "This chat is not available");
  checkChatOrigin(channel.settings, input.origin);
  if (chatConsent(channel.settings).mode === "EXPLICIT" && data.consent !== true) {
    throw ValidationError.field("input.consent", "This chat requires your consent before it starts");
  }
  const settings = channel.settings as unknown as ChatSettings;
  const welcomeText = settings.welcomeMessage?.trim() || null;
  const { accountId } = channel;

  const { conversationId, welcome } = await transactionWithEvents(ctx.prisma, async (tx) => {
    const now = new Date();
    // The flow the page showed (chatflow on chatWidget); a bot greets instead of the welcome message and routes when it hands off.
    const flow = input.chatflowId ? await publishedChatflow(tx, accountId, channel.id, input.chatflowId) : null;
    if (input.chatflowId && !flow) throw new NotFoundError("Chatflow", input.chatflowId);
    const bot = flow?.kind === "BOT";
    const { contact } = await matchOrCreateContact(tx, accountId, channel.id, { name: data.name, email: data.email });
    const id = randomUUID();
    let conversation = await tx.conversation.create({
      data: {
        id,
        accountId,
        inboxId: channel.inboxId,
        channelId: channel.id,
        contactId: contact?.id ?? null,
        visitorName: contact ? null : data.name || null,
        visitorEmail: contact ? null : data.email || null,
        threadKey: `chat:${id}`,
        properties: (channel.conversationDefaults ?? {}) as Prisma.InputJsonValue,
        lastActivityAt: now,
      },
    });
    const welcome = welcomeText && !bot
      ? await tx.message.create({
          data: { accountId, conversationId: id, channelId: channel.id, direction: "OUTBOUND", kind: "MESSAGE", senderType: "BOT", text: welcomeText, createdAt: now },
          include: VISITOR_MESSAGE_INCLUDE,
        })
      : null;
    const words = [contact?.name ?? data.name ?? "", contact?.email ?? data.email ?? ""].filter(Boolean).join(" ");
    await tx.$executeRaw`UPDATE "Conversation" SET search = to_tsvector('simple', ${words}) WHERE "accountId" = ${accountId} AND id = ${id}`;

    const routed = bot ? { assigneeId: null } : await routeNewConversation(tx, { accountId, channel, conversationId: id, contact, messageId: welcome?.id });
    if (routed.assigneeId) conversation = { ...conversation, assigneeId: routed.assigneeId, assignedAt: now };
    const ticket = await onConversationCreated(tx, conversation, channel);

    const events: OutboxEvent[] = [{ type: "conversation.created", inboxId: channel.inboxId, payload: { conversationId: id } }];
    if (welcome) events.push({ type: "message.added", inboxId: channel.inboxId, payload: { conversationId: id, messageId: welcome.id } });
    if (ticket) events.push({ type: "ticket.created", inboxId: channel.inboxId, payload: { ticketId: ticket.id, conversationId: id } });
    await recordEvents(tx, accountId, events);
    if (flow) await startChatflow(tx, { accountId, conversationId: id, flow }, { outbound, now });
    return { conversationId: id, welcome };
  });

  const visitorToken = await ctx.auth.sign({ typ: "visitor", conversationId, accountId, channelId: channel.id }, { expiresIn: VISITOR_TOKEN_TTL });
  return { visitorToken, conversationId, welcomeMessage: welcome };
}

/** The visitor's conversation with its channel and contact, or NotFoundError (e.g. a token for a vanished chat). */
async function visitorConversationRow(ctx: VisitorContext) {
  const conversation = await ctx.prisma.conversation.findFirst({
    where: { accountId: ctx.accountId, id: ctx.conversationId, channelId: ctx.channelId },
    include: { channel: true, contact: true, chatflowSession: { select: { status: true } } },
  });
  if (!conversation) throw new NotFoundError("Conversation", ctx.conversationId);
  return conversation;
}

const sendSchema = z
  .object({
    text: z.string().trim().max(10_000, "At most 10000 characters").default(""),
    clientMessageId: z.string().trim().min(1, "Must not be empty").max(100, "At most 100 characters"),
    attachments: z.array(z.string().trim().min(1, "Must not be empty").max(4096)).max(10, "At most 10 attachments").default([]),
  })
  .refine((d) => d.text.length > 0 || d.attachments.length > 0, { path: ["text"], message: "Must not be empty" });

const UPLOAD_REFUSED = { invalid: "Not a valid upload of this chat", expired: "This upload has expired: upload the file again", missing: "This upload's file is no longer stored: upload it again" };

/** The files a visitor uploaded (POST /widget/uploads tokens) as intake attachments; ValidationError on a bad token. */
async function visitorAttachments(ctx: VisitorContext, tokens: string[]): Promise<AttachmentInput[]> {
  const read = await Promise.all(tokens.map((token) => readUpload(ctx.config, token, ctx.accountId)));
  const errors = read.flatMap((r, i) => (r.ok ? [] : [{ path: ["input", "attachments", String(i)], message: UPLOAD_REFUSED[r.reason] }]));
  if (errors.length) throw new ValidationError(errors);
  return read.map((r) => {
    const { storageKey, name, mimeType, size } = (r as Extract<typeof r, { ok: true }>).upload;
    return { kind: mimeType.startsWith("image/") ? "IMAGE" : "FILE", storageKey, name, mimeType, size };
  });
}

/**
 * A visitor's message into their chat, through intake (`receiveInbound`) with the chat's thread
 * key, so it joins (and reopens) the conversation and notifies agents like any inbound message.
 * Text, files uploaded through POST /widget/uploads (`attachments`: their tokens), or both.
 * Idempotent on `clientMessageId` (per conversation): a retry returns the first message.
 * ChannelOffError when the channel is OFF or deleted.
 */
export async function sendVisitorMessage(
  ctx: VisitorContext,
  input: { text?: string | null; clientMessageId: string; attachments?: string[] | null },
): Promise<{ message: Message; duplicate: boolean }> {
  const data = parseInput(sendSchema, { text: input.text ?? undefined, clientMessageId: input.clientMessageId, attachments: input.attachments ?? undefined });
  const conversation = await visitorConversationRow(ctx);
  const { channel, contact } = conversation;
  if (channel.deletedAt || channel.status === "OFF") throw new ChannelOffError(channel.id);
  const result = await receiveInbound(ctx.prisma, {
    accountId: ctx.accountId,
    channel,
    externalId: `chat:${conversation.id}:${data.clientMessageId}`,
    threadKey: conversation.threadKey ?? `chat:${conversation.id}`,
    sender: contact ? { name: contact.name, email: contact.email, phone: contact.phone } : { name: conversation.visitorName },
    text: data.text || null,
    attachments: await visitorAttachments(ctx, data.attachments),
    // Read before the transaction as a hint: the engine locks the session and checks it again.
    chatflow: conversation.chatflowSession?.status === "ACTIVE" ? { outbound: ctx.config.outbound } : undefined,
  });
  notifyOutbox();
  return { message: result.message, duplicate: result.duplicate };
}

/**
 * The visitor's conversation and its last 200 messages (oldest first), comments excluded, with
 * `eventCursor`: the account's event cursor read before the messages, so a subscription with
 * `after` set to it misses nothing committed since (it may repeat a message already listed).
 */
export async function visitorConversation(ctx: VisitorContext) {
  const conversation = await visitorConversationRow(ctx);
  const { eventSeq } = await ctx.prisma.account.findUniqueOrThrow({ where: { id: ctx.accountId }, select: { eventSeq: true } });
  const latest = await ctx.prisma.message.findMany({
    // A chat merged into another conversation (src/services/merge.ts) shows the one it continues in.
    where: { accountId: ctx.accountId, conversationId: conversation.mergedIntoId ?? conversation.id, kind: { not: "COMMENT" } },
    include: VISITOR_MESSAGE_INCLUDE,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 200,
  });
  // A merged chat (a closed tombstone) is as open as the conversation it continues in.
  const status = conversation.mergedIntoId
    ? (await ctx.prisma.conversation.findFirstOrThrow({ where: { accountId: ctx.accountId, id: conversation.mergedIntoId }, select: { status: true } })).status
    : conversation.status;
  return { id: conversation.id, status, eventCursor: String(eventSeq), messages: latest.reverse() };
}

/** The visitor's conversation, or the one it was merged into (where its messages now live). */
const visitorThreadWhere = (ctx: VisitorContext) => ({ OR: [{ id: ctx.conversationId, mergedIntoId: null }, { mergedSources: { some: { id: ctx.conversationId } } }] });

/** Loads one message for a visitor's subscription event (the event already passed the filter). */
export function loadVisitorMessage(ctx: VisitorContext, messageId: string): Promise<VisitorMessage> {
  return ctx.prisma.message.findFirstOrThrow({ where: { accountId: ctx.accountId, id: messageId, conversation: visitorThreadWhere(ctx) }, include: VISITOR_MESSAGE_INCLUDE });
}

function parseCursor(after: string | null | undefined): bigint | undefined {
  if (after === null || after === undefined || after === "") return undefined;
  if (!/^\d{1,19}$/.test(after)) throw ValidationError.field("after", "Not an event cursor");
  return BigInt(after);
}

/**
 * The visitor's live stream: agents' and bots' replies (OUTBOUND, kind MESSAGE) in their own
 * conversation only; never comments, never other conversations. Resumable with `after` (the
 * eventCursor of the last message received).
 */
export async function visitorMessageStream(ctx: VisitorContext, input: { after?: string | null }): Promise<AsyncIterable<RealtimeEvent>> {
  const after = parseCursor(input.after);
  const own = await visitorConversationRow(ctx);
  const threadId = own.mergedIntoId ?? own.id;
  const release = acquireSubscriptionSlot(`visitor:${ctx.conversationId}`);
  const stream = accountEventStream({
    prisma: ctx.prisma,
    pubsub: ctx.pubsub,
    accountId: ctx.accountId,
    after,
    accept: async (event) => {
      if (event.type !== "message.added" || event.payload.conversationId !== threadId) return false;
      const message = await ctx.prisma.message.findFirst({
        where: { accountId: ctx.accountId, id: String(event.payload.messageId), conversationId: threadId },
        select: { direction: true, kind: true },
      });
      return message?.direction === "OUTBOUND" && message.kind === "MESSAGE";
    },
  });
  return releasingOnEnd(stream, release);
}
