import { randomUUID } from "node:crypto";
import type { Channel, Chatflow, ChatflowSession, Contact, Conversation, Prisma } from "../generated/prisma/client.js";
import { recordEvents } from "../realtime/events.js";
import type { ChatSettings } from "./channel-settings.js";
import { withinChatHours } from "./chat-availability.js";
import type { ChatflowAction, Condition } from "./chatflow-validation.js";
import { matchOrCreateContact } from "./contacts.js";
import { signWebhook } from "./deliveries.js";
import { outboundFetch, type OutboundConfig } from "./outbound-url.js";
import { findDefaultPipeline } from "./pipelines.js";
import { routeNewConversation } from "./routing.js";
import { automaticName } from "./ticket-automation.js";
import { recordTicketEvent } from "./ticket-events.js";
import { closedAtFor } from "./ticket-status.js";
import { queueBotMessage } from "../transports/meta/messenger.js";

/**
 * What one bot action does to the world, inside the transaction of the visitor's message: bot
 * messages, contact and conversation properties, tickets, routing, webhook calls and the facts
 * branches test. chatflow-engine.ts decides which action runs next.
 */

type Tx = Prisma.TransactionClient;

/** Everything an action sees: the flow, its session, the conversation with its contact, its channel. */
export interface RunState {
  tx: Tx;
  flow: Chatflow;
  session: ChatflowSession;
  conversation: Conversation;
  contact: Contact | null;
  channel: Channel;
  answers: Record<string, string>;
  outbound?: OutboundConfig;
  now: Date;
}

export interface QuickReply {
  label: string;
  value: string;
}

/** The values personalization tokens read: {{contact.firstName}}, {{answers.email}}, {{conversation.orderId}}. */
function tokenValue(s: RunState, path: string): string {
  const [scope, key] = path.split(".", 2);
  const name = s.contact?.name || s.conversation.visitorName || "";
  if (scope === "contact") {
    if (key === "firstName") return name.split(/\s+/)[0] ?? "";
    if (key === "name") return name;
    if (key === "email") return s.contact?.email ?? s.conversation.visitorEmail ?? "";
    if (key === "phone") return s.contact?.phone ?? "";
    return "";
  }
  if (scope === "answers") return s.answers[key] ?? "";
  if (scope === "conversation") {
    const value = (s.conversation.properties as Record<string, unknown> | null)?.[key];
    return value == null ? "" : String(value);
  }
  return "";
}

/** Fills {{scope.key}} and {{scope.key|fallback}} tokens; unknown ones become the fallback (or nothing). */
export function personalize(s: RunState, template: string): string {
  return template.replace(/\{\{\s*([a-zA-Z]+\.[A-Za-z0-9_]+)\s*(?:\|([^}]*))?\}\}/g, (_, path: string, fallback?: string) => tokenValue(s, path) || (fallback ?? "").trim());
}

/** Posts a BOT message to the visitor: a widget message (with its quick replies) or a queued Messenger send. */
export async function sendBotMessage(s: RunState, actionId: string, text: string, quickReplies: QuickReply[] = []) {
  const { tx, channel, conversation } = s;
  if (channel.type === "FACEBOOK_MESSENGER") {
    await queueBotMessage(tx, channel, conversation.id, text, quickReplies.length ? quickReplies.map((q) => [q.label, q.value]) : undefined, s.now);
    return;
  }
  // One millisecond apart so that several bot messages of one step keep their order.
  const at = new Date(s.now.getTime() + 1);
  s.now = at;
  const message = await tx.message.create({
    data: {
      id: randomUUID(),
      accountId: conversation.accountId,
      conversationId: conversation.id,
      channelId: channel.id,
      direction: "OUTBOUND",
      kind: "MESSAGE",
      senderType: "BOT",
      text,
      metadata: { chatflow: { chatflowId: s.flow.id, actionId, ...(quickReplies.length ? { quickReplies: quickReplies.map((q) => ({ ...q })) } : {}) } } as unknown as Prisma.InputJsonObject,
      createdAt: at,
    },
  });
  await tx.conversation.update({ where: { id: conversation.id }, data: { lastActivityAt: at } });
  await recordEvents(tx, conversation.accountId, [{ type: "message.added", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, messageId: message.id } }]);
}

/** Writes a CONVERSATION property (merged into conversation.properties). */
export async function setConversationProperty(s: RunState, property: string, value: unknown) {
  const properties = { ...((s.conversation.properties ?? {}) as Record<string, unknown>), [property]: value };
  s.conversation = await s.tx.conversation.update({ where: { id: s.conversation.id }, data: { properties: properties as Prisma.InputJsonObject } });
}

/**
 * Writes a CONTACT property (name, email or phone). An unknown visitor who gives an email or a
 * phone becomes a contact (matched by it, as intake matches senders) and the conversation is
 * linked to it; a name alone stays the visitor's name. An email or phone that belongs to another
 * contact is not moved: it is kept on the conversation (property `contactEmail` / `contactPhone`).
 */
export async function setContactProperty(s: RunState, property: string, value: string) {
  const { tx, conversation } = s;
  const accountId = conversation.accountId;
  if (!s.contact) {
    if (property === "name") {
      s.conversation = await tx.conversation.update({ where: { id: conversation.id }, data: { visitorName: value } });
      return;
    }
    const { contact } = await matchOrCreateContact(tx, accountId, s.channel.id, { name: conversation.visitorName ?? s.answers.name, [property]: value });
    if (!contact) return;
    s.contact = contact;
    s.conversation = await tx.conversation.update({ where: { id: conversation.id }, data: { contactId: contact.id } });
    await recordEvents(tx, accountId, [{ type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, reason: "contact" } }]);
    return;
  }
  if (property === "name") {
    s.contact = await tx.contact.update({ where: { id: s.contact.id }, data: { name: value } });
    return;
  }
  const normalized = property === "email" ? value.trim().toLowerCase() : value.replace(/[\s().-]/g, "");
  const taken = await tx.contact.findFirst({ where: { accountId, [property]: normalized, id: { not: s.contact.id } }, select: { id: true } });
  if (taken) {
    await setConversationProperty(s, property === "email" ? "contactEmail" : "contactPhone", normalized);
    return;
  }
  s.contact = await tx.contact.update({ where: { id: s.contact.id }, data: { [property]: normalized } });
}

/**
 * CREATE_TICKET: a ticket in the action's pipeline and status (default: the account's default
 * pipeline and its first status) with properties filled from the answers, linked to the
 * conversation. A conversation that already has a ticket (the help desk creates one for every
 * conversation) gets those properties merged into it instead.
 */
export async function createBotTicket(s: RunState, a: Extract<ChatflowAction, { type: "CREATE_TICKET" }>) {
  const { tx, conversation } = s;
  const accountId = conversation.accountId;
  const properties = Object.fromEntries(Object.entries(a.properties ?? {}).map(([k, v]) => [k, personalize(s, v)]));
  if (conversation.ticketId) {
    const ticket = await tx.ticket.findFirstOrThrow({ where: { accountId, id: conversation.ticketId } });
    await tx.ticket.update({ where: { id: ticket.id }, data: { properties: { ...((ticket.properties ?? {}) as object), ...properties } as Prisma.InputJsonObject, lastActivityAt: s.now } });
    await recordTicketEvent(tx, accountId, ticket.id, "ticket.updated", "chatflow");
    return;
  }
  const pipeline = a.pipelineId
    ? await tx.pipeline.findFirst({ where: { accountId, id: a.pipelineId }, include: { statuses: { orderBy: { position: "asc" } } } })
    : await findDefaultPipeline(tx, accountId);
  // Checked when the flow was saved; a pipeline deleted since falls back to the default.
  const placed = pipeline ?? (await findDefaultPipeline(tx, accountId));
  const status = placed.statuses.find((st) => st.id === a.statusId) ?? placed.statuses[0];
  const name = (a.name && personalize(s, a.name)) || automaticName({ subject: conversation.subject, visitorName: s.contact?.name || conversation.visitorName });
  const ticket = await tx.ticket.create({
    data: {
      accountId,
      name: name.slice(0, 200),
      pipelineId: placed.id,
      statusId: status.id,
      ownerId: conversation.assigneeId,
      contactId: conversation.contactId,
      properties: properties as Prisma.InputJsonObject,
      closedAt: closedAtFor(status, null, s.now),
      lastActivityAt: s.now,
    },
  });
  s.conversation = await tx.conversation.update({ where: { id: conversation.id }, data: { ticketId: ticket.id } });
  await recordTicketEvent(tx, accountId, ticket.id, "ticket.created");
  await recordEvents(tx, accountId, [{ type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, ticketId: ticket.id } }]);
}

/** The chat channel's business hours: CHAT_HOURS ranges decide; ALWAYS, USERS and other channels have none (always open). */
export function withinBusinessHours(channel: Pick<Channel, "type" | "settings">, now: Date): boolean {
  if (channel.type !== "CHAT") return true;
  const availability = (channel.settings as unknown as Partial<ChatSettings>).availability;
  if (availability?.mode !== "CHAT_HOURS") return true;
  return withinChatHours(availability.ranges, availability.timeZone, now);
}

/** Users a SEND_TO_TEAM action targets: the team's members plus the listed users. */
async function teamTargets(tx: Tx, accountId: string, a: { teamId?: string; userIds?: string[] }): Promise<string[]> {
  const members = a.teamId ? await tx.teamMember.findMany({ where: { accountId, teamId: a.teamId }, select: { userId: true } }) : [];
  return [...new Set([...members.map((m) => m.userId), ...(a.userIds ?? [])])];
}

/** A team with at least one AVAILABLE, PAID, active member. */
async function teamAvailable(tx: Tx, accountId: string, teamId: string): Promise<boolean> {
  const n = await tx.user.count({ where: { accountId, availability: "AVAILABLE", seat: "PAID", removedAt: null, teams: { some: { teamId } } } });
  return n > 0;
}

/**
 * SEND_TO_TEAM: routes the conversation to the team or users through routing's own rules (PAID
 * seats, only AVAILABLE users, chat capacity, inbox visibility, the fair pick). Returns false
 * outside business hours or when nobody can take it (the caller takes the fallback path).
 */
export async function sendToTeam(s: RunState, a: Extract<ChatflowAction, { type: "SEND_TO_TEAM" }>): Promise<boolean> {
  const { tx, conversation } = s;
  if (!withinBusinessHours(s.channel, s.now)) return false;
  const targets = await teamTargets(tx, conversation.accountId, a);
  const routed = await routeNewConversation(tx, {
    accountId: conversation.accountId,
    channel: { id: s.channel.id, autoAssign: true, routingTarget: "SPECIFIC", onlyAvailable: true },
    conversationId: conversation.id,
    contact: s.contact,
    targets,
  });
  if (!routed.assigneeId) return false;
  s.conversation = { ...conversation, assigneeId: routed.assigneeId, assignedAt: s.now };
  await recordEvents(tx, conversation.accountId, [{ type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, assigneeId: routed.assigneeId, reason: "chatflow" } }]);
  return true;
}

/**
 * The default hand-off (the visitor asked for a person and the flow names no hand-off action):
 * the conversation is routed by its channel's own routing rules if it has no assignee yet.
 */
export async function defaultHandoff(s: RunState) {
  if (s.conversation.assigneeId) return;
  const routed = await routeNewConversation(s.tx, { accountId: s.conversation.accountId, channel: s.channel, conversationId: s.conversation.id, contact: s.contact });
  if (routed.assigneeId) {
    s.conversation = { ...s.conversation, assigneeId: routed.assigneeId, assignedAt: s.now };
    await recordEvents(s.tx, s.conversation.accountId, [{ type: "conversation.updated", inboxId: s.conversation.inboxId, payload: { conversationId: s.conversation.id, assigneeId: routed.assigneeId, reason: "chatflow" } }]);
  }
}

const compare = (actual: string, op: "EQUALS" | "CONTAINS" | "EXISTS", value?: string) =>
  op === "EXISTS" ? actual.length > 0 : op === "EQUALS" ? actual.toLowerCase() === (value ?? "").toLowerCase() : actual.toLowerCase().includes((value ?? "").toLowerCase());

/** One BRANCH condition. */
export async function conditionHolds(s: RunState, c: Condition): Promise<boolean> {
  switch (c.kind) {
    case "ANSWER":
      return compare(s.answers[c.key] ?? "", c.op, c.value);
    case "CONTACT":
      return compare(tokenValue(s, `contact.${c.property}`), c.op, c.value);
    case "TEAM_AVAILABLE":
      return teamAvailable(s.tx, s.conversation.accountId, c.teamId);
    case "BUSINESS_HOURS":
      return withinBusinessHours(s.channel, s.now);
  }
}

/** What a webhook's JSON answer may say. */
interface WebhookAnswer {
  properties?: Record<string, unknown>;
  branch?: string;
}

const MAX_WEBHOOK_ANSWER = 64 * 1024;

/**
 * WEBHOOK: POSTs the session (answers, contact, ids) to the action's URL, signed as partner
 * webhooks are (X-Inbox-Signature over timestamp and body with the flow's webhook secret;
 * X-Inbox-Delivery-Id names the step, so a receiver can drop a repeat), through the outbound URL
 * guard, within the action's timeout. The JSON answer's `properties` become conversation
 * properties and answers; its `branch` picks one of the action's branches. Returns the id of the
 * next action; a refused destination, a timeout, a non-2xx answer or bad JSON take `onError`.
 */
export async function callWebhook(s: RunState, a: Extract<ChatflowAction, { type: "WEBHOOK" }>): Promise<string | null> {
  const fail = a.onError ?? a.next ?? null;
  if (!s.outbound) return fail;
  const body = JSON.stringify({
    type: "chatflow.webhook",
    chatflowId: s.flow.id,
    actionId: a.id,
    conversationId: s.conversation.id,
    answers: s.answers,
    contact: { name: s.contact?.name ?? s.conversation.visitorName, email: s.contact?.email ?? s.conversation.visitorEmail, phone: s.contact?.phone ?? null },
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  let answer: WebhookAnswer;
  try {
    const res = await outboundFetch(
      a.url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-inbox-delivery-id": `${s.session.id}:${s.session.steps}`, "x-inbox-timestamp": timestamp, "x-inbox-signature": signWebhook(s.flow.webhookSecret, timestamp, body) },
        body,
        signal: AbortSignal.timeout(a.timeoutMs),
      },
      s.outbound,
    );
    if (!res.ok) return fail;
    const text = await readLimited(res, a.timeoutMs);
    answer = text ? (JSON.parse(text) as WebhookAnswer) : {};
    if (typeof answer !== "object" || answer === null) return fail;
  } catch {
    return fail;
  }
  if (answer.properties && typeof answer.properties === "object") {
    for (const [key, value] of Object.entries(answer.properties).slice(0, 50)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) continue;
      const stored = value === null || ["string", "number", "boolean"].includes(typeof value) ? value : JSON.stringify(value);
      await setConversationProperty(s, key, stored);
      s.answers[key] = stored == null ? "" : String(stored);
    }
  }
  if (typeof answer.branch === "string" && a.branches && Object.hasOwn(a.branches, answer.branch)) return a.branches[answer.branch];
  return a.next ?? null;
}

/** The body as text, refused past MAX_WEBHOOK_ANSWER bytes or after the timeout. */
async function readLimited(res: Response, timeoutMs: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error("webhook answer too slow");
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_WEBHOOK_ANSWER) {
      await reader.cancel();
      throw new Error("webhook answer too large");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
