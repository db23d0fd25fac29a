import { z } from "zod";
import type { AttachmentKind, Channel, ChannelApp, Contact, Conversation, Message, Prisma, PrismaClient, Ticket } from "../generated/prisma/client.js";
import type { PartnerContext } from "../context.js";
import { recordEvents, transactionWithEvents, type OutboxEvent } from "../realtime/events.js";
import { ChannelOffError, NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { matchOrCreateContact, type SenderIdentity } from "./contacts.js";
import { routeNewConversation } from "./routing.js";
import { parseInput } from "./validation.js";
import { createTicketForConversation } from "./ticket-automation.js";

type Tx = Prisma.TransactionClient;

export const ATTACHMENT_KINDS = ["FILE", "IMAGE", "AUDIO", "VOICE_NOTE", "STICKER", "VIDEO"] as const;

export interface AttachmentInput {
  kind: AttachmentKind;
  url?: string | null;
  storageKey?: string | null;
  name?: string | null;
  mimeType?: string | null;
  size?: number | null;
}

/** What any transport (partner API, email, chat, Messenger...) hands to intake. */
export interface InboundMessage {
  accountId: string;
  channel: Pick<Channel, "id" | "inboxId" | "autoAssign" | "routingTarget" | "onlyAvailable" | "conversationDefaults">;
  /** The transport's idempotency key: unique per (account, channel). */
  externalId: string;
  /** Joins the latest thread with this key on the channel (reopening it if closed); else starts one. */
  threadKey?: string | null;
  /** Always start a new conversation (e.g. an app with NEW_THREAD_PER_MESSAGE, each form submission). */
  newThread?: boolean;
  sender: SenderIdentity;
  text?: string | null;
  richText?: string | null;
  attachments?: AttachmentInput[];
  metadata?: Record<string, unknown>;
  /** Subject of a new conversation (email subject, form name). */
  subject?: string | null;
  /** CALL for a call entry (calling transport); default MESSAGE. */
  kind?: "MESSAGE" | "CALL";
}

export interface InboundResult {
  message: Message;
  conversation: Conversation;
  contact: Contact | null;
  /** True when the externalId had been received before: nothing was written. */
  duplicate: boolean;
  /** True when this message started a new conversation. */
  conversationCreated: boolean;
}

/**
 * Automatic tickets for a new conversation, inside the intake transaction right after it was
 * written and routed (so the assignee is final): the rule itself (help desk, channel setting,
 * the 2024-04-01 cutoff, the contact's association limit) is createTicketForConversation's.
 * @returns the ticket created, or null
 */
export async function onConversationCreated(tx: Tx, conversation: Conversation, channel: InboundMessage["channel"]): Promise<Ticket | null> {
  const [defaults, account] = await Promise.all([
    tx.channel.findFirstOrThrow({
      where: { accountId: conversation.accountId, id: channel.id },
      select: { createTickets: true, ticketPipelineId: true, ticketStatusId: true, ticketPriority: true, ticketOwnerId: true },
    }),
    tx.account.findUniqueOrThrow({ where: { id: conversation.accountId }, select: { createdAt: true, contactAssociationLimit: true } }),
  ]);
  return createTicketForConversation(tx, { accountId: conversation.accountId, conversation, channel: defaults, account });
}

async function findDuplicate(db: Tx | PrismaClient, accountId: string, channelId: string, externalId: string) {
  const message = await db.message.findUnique({ where: { accountId_channelId_externalId: { accountId, channelId, externalId } }, include: { conversation: { include: { contact: true } } } });
  if (!message) return null;
  const { conversation, ...rest } = message;
  return { message: rest, conversation, contact: conversation.contact, duplicate: true, conversationCreated: false } satisfies InboundResult;
}

/**
 * Receives one inbound customer message, transport-neutral, in ONE transaction: contact match or
 * create, conversation find or create (threading; a closed thread reopens), message and
 * attachments, the conversation's search document, routing of a new conversation, the ticket
 * hook, and outbox events (conversation.created / conversation.updated, message.added).
 *
 * Idempotent on (accountId, channel.id, externalId): a key seen before returns the first message
 * with `duplicate: true` and writes nothing. Two concurrent publishes of the same key race on the
 * unique index; the loser's transaction rolls back entirely and it returns the winner's message.
 * The caller checks the channel (ON, not deleted) and validates the content.
 */
export async function receiveInbound(prisma: PrismaClient, input: InboundMessage): Promise<InboundResult> {
  const existing = await findDuplicate(prisma, input.accountId, input.channel.id, input.externalId);
  if (existing) return existing;
  try {
    return await transactionWithEvents(prisma, (tx) => writeInbound(tx, input));
  } catch (err) {
    if (isUniqueViolation(err, ["externalId"])) {
      const winner = await findDuplicate(prisma, input.accountId, input.channel.id, input.externalId);
      if (winner) return winner;
    }
    throw err;
  }
}

async function writeInbound(tx: Tx, input: InboundMessage): Promise<InboundResult> {
  const { accountId, channel } = input;
  const now = new Date();
  const { contact } = await matchOrCreateContact(tx, accountId, channel.id, input.sender);

  let conversation: Conversation | null = null;
  const threadKey = input.threadKey?.trim() || null;
  if (threadKey && !input.newThread) {
    // Serialise intakes of one thread so two first messages cannot start two conversations.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${channel.id}:${threadKey}`}, 0))`;
    conversation = await tx.conversation.findFirst({ where: { accountId, channelId: channel.id, threadKey }, orderBy: [{ status: "asc" }, { lastActivityAt: "desc" }] });
  }
  const created = !conversation;
  const reopened = conversation?.status === "CLOSED";
  if (!conversation) {
    conversation = await tx.conversation.create({
      data: {
        accountId,
        inboxId: channel.inboxId,
        channelId: channel.id,
        contactId: contact?.id ?? null,
        visitorName: contact ? null : input.sender.name?.trim() || null,
        visitorEmail: contact ? null : input.sender.email?.trim().toLowerCase() || null,
        subject: input.subject?.trim() || null,
        threadKey,
        properties: (channel.conversationDefaults ?? {}) as Prisma.InputJsonValue,
        lastActivityAt: now,
        lastInboundAt: now,
        firstInboundAt: now,
      },
    });
  }

  const message = await tx.message.create({
    data: {
      accountId,
      conversationId: conversation.id,
      channelId: channel.id,
      direction: "INBOUND",
      kind: input.kind ?? "MESSAGE",
      senderType: "CONTACT",
      text: input.text ?? null,
      richText: input.richText ?? null,
      externalId: input.externalId,
      metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
      createdAt: now,
    },
  });
  if (input.attachments?.length) {
    await tx.attachment.createMany({ data: input.attachments.map((a) => ({ accountId, messageId: message.id, kind: a.kind, url: a.url ?? null, storageKey: a.storageKey ?? null, name: a.name ?? null, mimeType: a.mimeType ?? null, size: a.size ?? null })) });
  }

  // One statement: activity times, reopening, a contact for an anonymous thread, and the search
  // document (new conversation: subject + contact + text; later messages append their text).
  const linkContact = !created && !conversation.contactId && contact ? contact.id : null;
  const words = [
    input.text ?? "",
    ...(created ? [conversation.subject ?? "", contact?.name ?? input.sender.name ?? "", contact?.email ?? input.sender.email ?? ""] : []),
    ...(linkContact && contact ? [contact.name, contact.email ?? ""] : []),
  ]
    .filter(Boolean)
    .join(" ");
  const rows = await tx.$queryRaw<Conversation[]>`
    UPDATE "Conversation" SET
      "lastActivityAt" = ${now}, "lastInboundAt" = ${now}, "firstInboundAt" = COALESCE("firstInboundAt", ${now}),
      status = 'OPEN', "closedAt" = NULL, "updatedAt" = ${now},
      "contactId" = COALESCE("contactId", ${linkContact}),
      search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${words})
    WHERE "accountId" = ${accountId} AND id = ${conversation.id}
    RETURNING id, "accountId", "inboxId", "channelId", "contactId", "visitorName", "visitorEmail", subject, "threadKey",
              "assigneeId", "assignedAt", status, "ticketId", properties, "lastActivityAt", "lastInboundAt", "firstInboundAt",
              "firstResponseAt", "closedAt", "createdAt", "updatedAt"`;
  conversation = rows[0];

  const ticketEvents: OutboxEvent[] = [];
  if (created) {
    const routed = await routeNewConversation(tx, { accountId, channel, conversationId: conversation.id, contact, messageId: message.id });
    if (routed.assigneeId) conversation = { ...conversation, assigneeId: routed.assigneeId, assignedAt: now };
    const ticket = await onConversationCreated(tx, conversation, channel);
    if (ticket) {
      conversation = { ...conversation, ticketId: ticket.id };
      ticketEvents.push({ type: "ticket.created", inboxId: conversation.inboxId, payload: { ticketId: ticket.id, conversationId: conversation.id } });
    }
  } else if (conversation.ticketId) {
    // A customer's new message is activity on the ticket too (tickets sort by last activity).
    await tx.ticket.updateMany({ where: { accountId, id: conversation.ticketId }, data: { lastActivityAt: now } });
  }

  const ids = { conversationId: conversation.id, messageId: message.id };
  const events: OutboxEvent[] = [
    { type: created ? "conversation.created" : "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, ...(reopened ? { reason: "reopened" } : {}) } },
    { type: "message.added", inboxId: conversation.inboxId, payload: ids },
  ];
  await recordEvents(tx, accountId, [...events, ...ticketEvents]);
  return { message, conversation, contact, duplicate: false, conversationCreated: created };
}

/** The capabilities a channel app declares (ChannelApp.capabilities). */
export interface AppCapabilities {
  messageKinds?: string[];
  attachmentKinds?: string[];
  richText?: boolean;
  maxAttachmentSize?: number;
  maxAttachments?: number;
}

/**
 * Checks content against a channel app's declared capabilities; throws a ValidationError naming
 * each offending field under `root` (e.g. input.attachments.1.kind). Undeclared limits allow all.
 */
export function checkCapabilities(app: Pick<ChannelApp, "capabilities">, content: { richText?: string | null; attachments?: AttachmentInput[] | null }, root = ["input"]) {
  const caps = (app.capabilities ?? {}) as AppCapabilities;
  const errors: { path: string[]; message: string }[] = [];
  if (content.richText && caps.richText === false) errors.push({ path: [...root, "richText"], message: "This channel app does not support rich text" });
  const attachments = content.attachments ?? [];
  if (caps.maxAttachments !== undefined && attachments.length > caps.maxAttachments) errors.push({ path: [...root, "attachments"], message: `At most ${caps.maxAttachments} attachments` });
  attachments.forEach((a, i) => {
    if (caps.attachmentKinds && !caps.attachmentKinds.includes(a.kind)) errors.push({ path: [...root, "attachments", String(i), "kind"], message: `This channel app does not support ${a.kind} attachments` });
    if (caps.maxAttachmentSize !== undefined && (a.size ?? 0) > caps.maxAttachmentSize) errors.push({ path: [...root, "attachments", String(i), "size"], message: `At most ${caps.maxAttachmentSize} bytes` });
  });
  if (errors.length) throw new ValidationError(errors);
}

export const attachmentSchema = z.object({
  kind: z.enum(ATTACHMENT_KINDS),
  url: z.string().trim().url("Must be a URL").max(2048),
  name: z.string().trim().max(255).nullish(),
  mimeType: z.string().trim().max(255).nullish(),
  size: z.number().int().min(0).nullish(),
});

const publishSchema = z
  .object({
    externalId: z.string().trim().min(1, "Must not be empty").max(255),
    threadKey: z.string().trim().max(255).nullish(),
    sender: z.object({
      name: z.string().trim().max(200).nullish(),
      email: z.string().trim().toLowerCase().email("Must be an email address").max(254).nullish(),
      phone: z.string().trim().max(40).nullish(),
      handle: z.string().trim().max(255).nullish(),
    }),
    text: z.string().max(100_000).nullish(),
    richText: z.string().max(200_000).nullish(),
    attachments: z.array(attachmentSchema).max(50).nullish(),
    subject: z.string().trim().max(500).nullish(),
  })
  .refine((v) => v.text || v.richText || v.attachments?.length, { message: "A message needs text, rich text or an attachment", path: ["text"] });

export type PublishInput = z.input<typeof publishSchema> & { channelId: string };

/**
 * A partner publishes a customer's message into one of its CUSTOM channels.
 * The channel must be a CUSTOM channel of an app owned by the calling partner (otherwise
 * NotFoundError, exactly like a missing one). A channel that is OFF or deleted refuses intake
 * with ChannelOffError (deleted channels answer like OFF ones: the partner's id was once valid).
 * Content is checked against the app's capabilities. The threading model comes from the app:
 * THREAD_KEY joins the thread with `threadKey`; NEW_THREAD_PER_MESSAGE always starts one.
 */
export async function publishInboundMessage(ctx: PartnerContext, input: PublishInput): Promise<InboundResult> {
  const channel = await ctx.prisma.channel.findFirst({
    where: { id: input.channelId, type: "CUSTOM", channelApp: { partnerId: ctx.partnerId } },
    include: { channelApp: true },
  });
  if (!channel || !channel.channelApp) throw new NotFoundError("Channel", input.channelId);
  if (channel.deletedAt) throw new ChannelOffError(channel.id, "This channel was deleted and takes no messages");
  if (channel.status === "OFF") throw new ChannelOffError(channel.id);
  const data = parseInput(publishSchema, input);
  checkCapabilities(channel.channelApp, { richText: data.richText, attachments: data.attachments as AttachmentInput[] | undefined });
  return receiveInbound(ctx.prisma, {
    accountId: channel.accountId,
    channel,
    externalId: data.externalId,
    threadKey: data.threadKey,
    newThread: channel.channelApp.threadingModel === "NEW_THREAD_PER_MESSAGE",
    sender: data.sender,
    text: data.text,
    richText: data.richText,
    attachments: (data.attachments ?? undefined) as AttachmentInput[] | undefined,
    subject: data.subject,
  });
}
