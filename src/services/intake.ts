
import { randomUUID } from "node:crypto";
import { Prisma, type Account, type AttachmentKind, type Channel, type Contact, type Conversation, type InboxKind, type Message, type PrismaClient, type Ticket } from "../generated/prisma/client.js";
import { recordEvents, sqlTransactionWithEvents, transactionWithEvents, type OutboxEvent } from "../realtime/events.js";
import { advisoryLockKey, isPgUniqueViolation, type SqlTx } from "../db/sql.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { matchOrCreateContact, type SenderIdentity } from "./contacts.js";
import { routeNewConversation, specificTargetsSql } from "./routing.js";
import { createTicketForConversation, mayCreateAutomaticTicket } from "./ticket-automation.js";
import { searchableText } from "./search.js";
import { recordIntake } from "../metrics.js";
import { chatflowOnInbound, type EngineOptions } from "./chatflow-engine.js";
import { followMergedThread } from "./merge.js";
import { spamSenderSql } from "./conversation-states.js";

/**
 * Intake writes through `pg` directly (sqlTransaction): every statement below is raw SQL, and a
 * Prisma query costs several times a `pg` one. The one exception is creating an automatic ticket,
 * written with Prisma's model API: an intake that reaches it runs again in a Prisma transaction.
 */
type Tx = SqlTx;
const isPrismaTx = (tx: Tx): tx is Prisma.TransactionClient => "ticket" in tx;
class NeedsPrismaTransaction extends Error {}

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
  /** Chat and Messenger: the conversation's chatflow runs in this transaction (chatflow-engine.ts; a Prisma transaction). */
  chatflow?: EngineOptions;
  /** Send no automatic notification about this message (an auto-reply, a list, a bounce: see transports/email/loops.ts). */
  suppressNotifications?: boolean;
  /** An email's raw bytes kept in the attachment store (its HTML was not kept): Message.originalEmail. */
  originalEmail?: { storageKey: string; size: number };
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
export async function onConversationCreated(tx: Tx, conversation: Conversation, channel: InboundMessage["channel"], rule?: TicketRuleInputs): Promise<Ticket | null> {
  // One read for the rule's inputs (unless the caller read them with its insert): the channel's
  // ticket defaults, the account and the inbox kind.
  const row = rule ?? (await tx.$queryRaw<TicketRuleInputs[]>(ticketRuleSql(conversation.accountId, channel.id, conversation.inboxId)))[0];
  if (!row) throw new Error(`Channel ${channel.id} not found while creating its automatic ticket`);
  const { accountCreatedAt: createdAt, contactAssociationLimit, inboxKind, ...defaults } = row;
  if (!inboxKind) return null;
  const input = { accountId: conversation.accountId, conversation, channel: defaults, account: { createdAt, contactAssociationLimit }, inbox: { kind: inboxKind } };
  if (!mayCreateAutomaticTicket(input)) return null;
  if (!isPrismaTx(tx)) throw new NeedsPrismaTransaction();
  return createTicketForConversation(tx, input);
}

type TicketRuleInputs = Pick<Channel, "createTickets" | "ticketPipelineId" | "ticketStatusId" | "ticketPriority" | "ticketOwnerId"> &
  Pick<Account, "contactAssociationLimit"> & { accountCreatedAt: Date; inboxKind: InboxKind | null };

/** The automatic-ticket rule's inputs (TicketRuleInputs) for a conversation of `inboxId` on the channel. */
function ticketRuleSql(accountId: string, channelId: string, inboxId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT ch."createTickets", ch."ticketPipelineId", ch."ticketStatusId", ch."ticketPriority"::text AS "ticketPriority", ch."ticketOwnerId",
           a."createdAt" AS "accountCreatedAt", a."contactAssociationLimit", i.kind::text AS "inboxKind"
      FROM "Channel" ch JOIN "Account" a ON a.id = ch."accountId"
      LEFT JOIN "Inbox" i ON i."accountId" = ch."accountId" AND i.id = ${inboxId}
     WHERE ch."accountId" = ${accountId} AND ch.id = ${channelId}`;
}

async function findDuplicate(prisma: PrismaClient, accountId: string, channelId: string, externalId: string) {
  const found = await prisma.message.findUnique({ where: { accountId_channelId_externalId: { accountId, channelId, externalId } }, include: { conversation: { include: { contact: true } } } });
  if (!found) return null;
  const { conversation, ...message } = found;
  return { message, conversation, contact: conversation.contact, duplicate: true, conversationCreated: false } satisfies InboundResult;
}

/**
 * Receives one inbound customer message, transport-neutral, in ONE transaction: contact match or
 * create, conversation find or create (threading; a closed thread reopens), message and
 * attachments, the conversation's search document, routing of a new conversation, the ticket
 * hook, and outbox events (conversation.created / conversation.updated, message.added).
 *
 * Idempotent on (accountId, channel.id, externalId): a key seen before returns the first message
 * with `duplicate: true` and writes nothing. The unique index decides, also between two concurrent
 * publishes of one key: the later transaction rolls back entirely and returns the first message.
 * The caller checks the channel (ON, not deleted) and validates the content.
 */
export async function receiveInbound(prisma: PrismaClient, input: InboundMessage): Promise<InboundResult> {
  const result = await receiveInboundOnce(prisma, input);
  recordIntake(input.kind ?? "MESSAGE", result.duplicate);
  return result;
}

async function receiveInboundOnce(prisma: PrismaClient, input: InboundMessage): Promise<InboundResult> {
  // No check before writing: a key seen before fails the message insert, which rolls back
  // everything the transaction did, so the common (new) message pays no extra statement.
  // A message that may join a thread holds the thread key's lock from BEGIN on (in BEGIN's own
  // message, so it costs no round trip): see findThread.
  const threadKey = threadKeyOf(input);
  const advisoryLocks = threadKey ? [threadLock(input.channel.id, threadKey)] : [];
  try {
    try {
      // The bot engine writes with Prisma's model API (tickets, routing): its intakes start there.
      if (input.chatflow) return await transactionWithEvents(prisma, (tx) => writeInbound(tx, input, false));
      return await sqlTransactionWithEvents(prisma, (tx) => writeInbound(tx, input, true), { advisoryLocks });
    } catch (err) {
      if (!(err instanceof NeedsPrismaTransaction)) throw err;
      return await transactionWithEvents(prisma, (tx) => writeInbound(tx, input, false));
    }
  } catch (err) {
    if (isUniqueViolation(err, ["externalId"]) || isPgUniqueViolation(err, ["externalId"])) {
      const winner = await findDuplicate(prisma, input.accountId, input.channel.id, input.externalId);
      if (winner) return winner;
    }
    throw err;
  }
}

const CONVERSATION_COLUMNS = Prisma.sql`id, "accountId", "inboxId", "channelId", "contactId", "visitorName", "visitorEmail", subject, "threadKey",
  "assigneeId", "assignedAt", status, "ticketId", properties, "lastActivityAt", "lastInboundAt", "firstInboundAt",
  "firstResponseAt", "closedAt", "createdAt", "updatedAt", priority, "snoozedUntil", "trashedAt", "statusBeforeTrash"`;

type Thread = Pick<Conversation, "id" | "inboxId" | "status" | "contactId" | "ticketId">;

/** The key of the thread a message may join (none when it always starts a new one). */
function threadKeyOf(input: InboundMessage): string | null {
  return (!input.newThread && input.threadKey?.trim()) || null;
}

/** The advisory lock that serialises intakes of one thread key on one channel. */
function threadLock(channelId: string, threadKey: string): bigint {
  return advisoryLockKey(`thread:${channelId}:${threadKey}`);
}

/**
 * The thread a message with this key joins: an open one first, else the latest. Intakes of one
 * key are serialised by a transaction-scoped advisory lock (threadLock), and the thread is read
 * once it is held, so each sees the one before (a reopening is reported once) and two first
 * messages cannot start two conversations. `locked`: the transaction took the lock as it began;
 * otherwise an existing thread's row lock serialises, and with no thread yet the advisory lock is
 * taken here and the read repeated.
 */
async function findThread(tx: Tx, accountId: string, channelId: string, threadKey: string, locked: boolean): Promise<Thread | undefined> {
  const read = async () => {
    // A merged conversation (a tombstone) keeps its key: its thread continues in the merge target.
    const [thread] = await tx.$queryRaw<(Thread & Pick<Conversation, "mergedIntoId">)[]>`
      SELECT id, "inboxId", status::text AS status, "contactId", "ticketId", "mergedIntoId" FROM "Conversation"
       WHERE "accountId" = ${accountId} AND "channelId" = ${channelId} AND "threadKey" = ${threadKey}
       ORDER BY "mergedIntoId" IS NOT NULL, status ASC, "lastActivityAt" DESC LIMIT 1 FOR UPDATE`;
    return thread && followMergedThread(tx, accountId, thread);
  };
  const thread = await read();
  if (thread || locked) return thread;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${threadLock(channelId, threadKey)}::bigint)`;
  return read();
}

/** A CTE that inserts `message` (written with its conversation in one statement). */
function insertMessage(m: Message): Prisma.Sql {
  return Prisma.sql`inserted_message AS (
    INSERT INTO "Message" (id, "accountId", "conversationId", "channelId", direction, kind, "senderType", text, "richText", "externalId", metadata, "createdAt")
    VALUES (${m.id}, ${m.accountId}, ${m.conversationId}, ${m.channelId}, ${m.direction}::"MessageDirection", ${m.kind}::"MessageKind",
            ${m.senderType}::"SenderType", ${m.text}, ${m.richText}, ${m.externalId}, ${JSON.stringify(m.metadata)}::jsonb, ${m.createdAt}))`;
}

/** `silent`: a spam sender's message, which notifies nobody (messageAdded skips it unless the conversation is named). */
function messageEvents(conversation: Pick<Conversation, "id" | "inboxId">, messageId: string, type: "conversation.created" | "conversation.updated", reopened = false, silent = false): OutboxEvent[] {
  return [
    { type, inboxId: conversation.inboxId, payload: { conversationId: conversation.id, ...(reopened ? { reason: "reopened" } : {}) } },
    { type: "message.added", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, messageId, ...(silent ? { silent: "spam" } : {}) } },
  ];
}

/** Whether this message's sender is on the account's spam list (src/services/conversation-states.ts), as SQL. */
function fromSpamSender(input: InboundMessage, contact: Contact | null): Prisma.Sql {
  return spamSenderSql(input.accountId, input.channel.id, [input.sender.email, contact?.email], input.sender.handle);
}

/** `threadLocked`: the transaction holds the thread key's lock already (see receiveInbound). */
async function writeInbound(tx: Tx, input: InboundMessage, threadLocked: boolean): Promise<InboundResult> {
  const { accountId, channel } = input;
  const { contact } = await matchOrCreateContact(tx, accountId, channel.id, input.sender);
  const threadKey = input.threadKey?.trim() || null;
  const joinKey = threadKeyOf(input);
  const thread = joinKey ? await findThread(tx, accountId, channel.id, joinKey, threadLocked) : undefined;
  const now = new Date();
  const message: Message = {
    id: randomUUID(),
    accountId,
    conversationId: thread?.id ?? randomUUID(),
    channelId: channel.id,
    direction: "INBOUND",
    kind: input.kind ?? "MESSAGE",
    senderType: "CONTACT",
    authorId: null,
    text: input.text ?? null,
    richText: input.richText ?? null,
    inReplyToId: null,
    externalId: input.externalId,
    deliveryStatus: null,
    deliveryError: null,
    metadata: (input.metadata ?? {}) as Prisma.JsonObject,
    createdAt: now,
  };
  const conversation = thread ? await appendToThread(tx, input, thread, message, contact) : await startConversation(tx, input, threadKey, message, contact);
  if (input.originalEmail) {
    await tx.$executeRaw`INSERT INTO "EmailOriginal" (id, "accountId", "messageId", "storageKey", size, "createdAt")
      VALUES (${randomUUID()}, ${accountId}, ${message.id}, ${input.originalEmail.storageKey}, ${input.originalEmail.size}, ${now})`;
  }
  if (input.chatflow && isPrismaTx(tx)) await chatflowOnInbound(tx, { accountId, conversationId: conversation.id, conversationCreated: !thread, text: message.text }, input.chatflow);
  return { message, conversation, contact, duplicate: false, conversationCreated: !thread };
}

/**
 * One statement for a message joining a thread: the message, the conversation's activity times,
 * reopening, a contact for an anonymous thread, its search document (the text appended) and a
 * customer's activity on the thread's ticket. The outbox events go with the COMMIT (recordEvents).
 */
async function appendToThread(tx: Tx, input: InboundMessage, thread: Thread, message: Message, contact: Contact | null): Promise<Conversation> {
  const { accountId, createdAt: now } = message;
  const linkContact = !thread.contactId && contact ? contact : null;
  const words = [searchableText(input.text ?? ""), ...(linkContact ? [linkContact.name, linkContact.email ?? ""] : [])].filter(Boolean).join(" ");
  const touchTicket = thread.ticketId
    ? Prisma.sql`, touched_ticket AS (UPDATE "Ticket" SET "lastActivityAt" = ${now}, "updatedAt" = ${now} WHERE "accountId" = ${accountId} AND id = ${thread.ticketId})`
    : Prisma.empty;
  // The customer writing wakes a snoozed conversation, reopens a closed or trashed one; a
  // conversation in SPAM, or a message from a sender on the spam list, stays (goes) in SPAM.
  const [conversation] = await tx.$queryRaw<Conversation[]>`
    WITH ${insertMessage(message)} ${touchTicket}
    UPDATE "Conversation" SET
      "lastActivityAt" = ${now}, "lastInboundAt" = ${now}, "firstInboundAt" = COALESCE("firstInboundAt", ${now}),
      status = CASE WHEN status = 'SPAM' OR ${fromSpamSender(input, contact)} THEN 'SPAM'::"ConversationStatus" ELSE 'OPEN'::"ConversationStatus" END,
      "closedAt" = NULL, "snoozedUntil" = NULL, "trashedAt" = NULL, "statusBeforeTrash" = NULL, "updatedAt" = ${now},
      "contactId" = COALESCE("contactId", ${linkContact?.id ?? null}),
      search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${words})
    WHERE "accountId" = ${accountId} AND id = ${thread.id}
    RETURNING ${CONVERSATION_COLUMNS}`;
  await insertAttachments(tx, input, message);
  const spam = conversation.status === "SPAM";
  await recordEvents(tx, accountId, messageEvents(thread, message.id, "conversation.updated", !spam && thread.status !== "OPEN", spam));
  return conversation;
}

/**
 * A message starting a conversation: conversation (search document: text, subject and contact)
 * and message in one statement, which also reads the routing targets and the ticket rule's
 * inputs; then routing, the automatic ticket and the outbox events.
 */
async function startConversation(tx: Tx, input: InboundMessage, threadKey: string | null, message: Message, contact: Contact | null): Promise<Conversation> {
  const { accountId, channel } = input;
  const now = message.createdAt;
  const subject = input.subject?.trim() || null;
  const words = [searchableText(input.text ?? ""), subject ?? "", contact?.name ?? input.sender.name ?? "", contact?.email ?? input.sender.email ?? ""].filter(Boolean).join(" ");
  // The same statement reads what routing and the ticket rule need: no round trip of their own.
  const routesToTargets = channel.autoAssign && channel.routingTarget === "SPECIFIC";
  const [row] = await tx.$queryRaw<(Conversation & TicketRuleInputs & { routingTargets: string[] | null })[]>`
    WITH new_conversation AS (
      INSERT INTO "Conversation" (id, "accountId", "inboxId", "channelId", "contactId", "visitorName", "visitorEmail", subject, "threadKey",
                                  properties, "lastActivityAt", "lastInboundAt", "firstInboundAt", "createdAt", "updatedAt", search, status)
      VALUES (${message.conversationId}, ${accountId}, ${channel.inboxId}, ${channel.id}, ${contact?.id ?? null},
              ${contact ? null : input.sender.name?.trim() || null}, ${contact ? null : input.sender.email?.trim().toLowerCase() || null},
              ${subject}, ${threadKey}, ${JSON.stringify(channel.conversationDefaults ?? {})}::jsonb, ${now}, ${now}, ${now}, ${now}, ${now},
              to_tsvector('simple', ${words}),
              CASE WHEN ${fromSpamSender(input, contact)} THEN 'SPAM'::"ConversationStatus" ELSE 'OPEN'::"ConversationStatus" END)
      RETURNING ${CONVERSATION_COLUMNS}),
    ${insertMessage(message)}
    SELECT nc.*, rule.*, ${routesToTargets ? Prisma.sql`ARRAY(${specificTargetsSql(accountId, channel.id)})` : Prisma.sql`NULL::text[]`} AS "routingTargets"
      FROM new_conversation nc LEFT JOIN LATERAL (${ticketRuleSql(accountId, channel.id, channel.inboxId)}) rule ON true`;
  const { routingTargets, createTickets, ticketPipelineId, ticketStatusId, ticketPriority, ticketOwnerId, accountCreatedAt, contactAssociationLimit, inboxKind, ...inserted } = row;
  // No rule row (the channel vanished): onConversationCreated reads again and says so.
  const rule = createTickets === null ? undefined : { createTickets, ticketPipelineId, ticketStatusId, ticketPriority, ticketOwnerId, accountCreatedAt, contactAssociationLimit, inboxKind };
  let conversation: Conversation = inserted;
  await insertAttachments(tx, input, message);

  // A spam sender's conversation is neither routed nor ticketed, and notifies nobody.
  const spam = conversation.status === "SPAM";
  const routed = spam ? { assigneeId: null } : await routeNewConversation(tx, { accountId, channel, conversationId: conversation.id, contact, messageId: message.id, targets: routingTargets ?? undefined, notifyOwner: !input.suppressNotifications });
  if (routed.assigneeId) conversation = { ...conversation, assigneeId: routed.assigneeId, assignedAt: now };
  const events = messageEvents(conversation, message.id, "conversation.created", false, spam);
  const ticket = spam ? null : await onConversationCreated(tx, conversation, channel, rule);
  if (ticket) {
    conversation = { ...conversation, ticketId: ticket.id };
    events.push({ type: "ticket.created", inboxId: conversation.inboxId, payload: { ticketId: ticket.id, conversationId: conversation.id } });
  }
  await recordEvents(tx, accountId, events);
  return conversation;
}

async function insertAttachments(tx: Tx, input: InboundMessage, message: Message) {
  const list = input.attachments ?? [];
  if (list.length === 0) return;
  const column = <T>(pick: (a: AttachmentInput) => T) => list.map(pick);
  await tx.$executeRaw`
    INSERT INTO "Attachment" (id, "accountId", "messageId", kind, url, "storageKey", name, "mimeType", size)
    SELECT a.id, ${message.accountId}, ${message.id}, a.kind::"AttachmentKind", a.url, a."storageKey", a.name, a."mimeType", a.size
      FROM unnest(${column(() => randomUUID())}::text[], ${column((a) => a.kind)}::text[], ${column((a) => a.url ?? null)}::text[],
                  ${column((a) => a.storageKey ?? null)}::text[], ${column((a) => a.name ?? null)}::text[], ${column((a) => a.mimeType ?? null)}::text[],
                  ${column((a) => a.size ?? null)}::int[])
           WITH ORDINALITY AS a(id, kind, url, "storageKey", name, "mimeType", size, n)
     ORDER BY a.n`;
}
