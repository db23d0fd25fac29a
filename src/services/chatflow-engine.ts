import type { Channel, Chatflow, ChatflowSession, Contact, Conversation, Prisma } from "../generated/prisma/client.js";
import {
  callWebhook,
  conditionHolds,
  createBotTicket,
  defaultHandoff,
  personalize,
  sendBotMessage,
  sendToTeam,
  setContactProperty,
  setConversationProperty,
  withinBusinessHours,
  type RunState,
} from "./chatflow-actions.js";
import { storedActions, type ChatflowAction } from "./chatflow-validation.js";
import type { OutboundConfig } from "./outbound-url.js";
import { email as emailSchema } from "./validation.js";

/**
 * The bot runs on the server, inside the transaction that stores the visitor's message: the
 * session row is locked (FOR UPDATE), the answer is checked, the actions up to the next question
 * run, and the session's new position is written, all committing with the message or not at all.
 * A retried message (same idempotency key) rolls back before reaching here, so no step is lost or
 * run twice; two messages of one conversation queue on the session's lock.
 */

type Tx = Prisma.TransactionClient;

/** At most this many actions per visitor message (a guard: validation already refuses question-less cycles). */
const MAX_STEPS_PER_MESSAGE = 50;

/** Free text that asks for a person at any question: the flow's hand-off path applies. */
const HANDOFF_WORDS = /^\s*(?:i\s+(?:want|need)\s+(?:an?\s+)?|talk\s+to\s+(?:an?\s+)?|speak\s+to\s+(?:an?\s+)?)?(agent|human|person|operator|representative|someone)\s*[.!?]*\s*$/i;

export interface EngineOptions {
  /** The SSRF guard's configuration for WEBHOOK actions (without it they take their onError path). */
  outbound?: OutboundConfig;
  now?: Date;
}

type Full = Conversation & { contact: Contact | null; channel: Channel };

async function loadConversation(tx: Tx, accountId: string, conversationId: string): Promise<Full> {
  return tx.conversation.findFirstOrThrow({ where: { accountId, id: conversationId }, include: { contact: true, channel: true } });
}

function state(tx: Tx, flow: Chatflow, session: ChatflowSession, c: Full, opts: EngineOptions): RunState {
  const { contact, channel, ...conversation } = c;
  return { tx, flow, session, conversation, contact, channel, answers: { ...((session.answers ?? {}) as Record<string, string>) }, outbound: opts.outbound, now: opts.now ?? new Date() };
}

/**
 * Starts `flow` on a new conversation in `tx` (startChat, or a Messenger thread's first message).
 * A BOT gets its session and runs to its first question; outside business hours a
 * BUSINESS_HOURS bot starts at its away action (with none, it does not start). A LIVE_CHAT flow
 * sends its instant reply, if any. Returns the session, or null when no bot runs.
 */
export async function startChatflow(tx: Tx, args: { accountId: string; conversationId: string; flow: Chatflow }, opts: EngineOptions = {}): Promise<ChatflowSession | null> {
  const { flow } = args;
  const full = await loadConversation(tx, args.accountId, args.conversationId);
  const now = opts.now ?? new Date();
  if (flow.kind === "LIVE_CHAT") {
    const reply = flow.instantReply?.trim();
    if (reply) {
      const s = state(tx, flow, { id: "", steps: 0 } as ChatflowSession, full, opts);
      await sendBotMessage(s, "instantReply", personalize(s, reply));
    }
    return null;
  }
  const open = withinBusinessHours(full.channel, now);
  const entry = flow.botAvailability === "BUSINESS_HOURS" && !open ? flow.awayActionId : flow.startActionId;
  if (!entry) return null;
  const session = await tx.chatflowSession.create({ data: { accountId: args.accountId, conversationId: args.conversationId, chatflowId: flow.id, currentActionId: entry } });
  const s = state(tx, flow, session, full, opts);
  return run(s, entry);
}

/**
 * A visitor's message on a conversation with an ACTIVE bot session: the answer to the waiting
 * question (validated, re-asked when invalid, a hand-off request honoured), then the flow runs on.
 * Does nothing without an ACTIVE session (none, finished, or an agent took over).
 */
export async function advanceChatflow(tx: Tx, args: { accountId: string; conversationId: string; text: string | null }, opts: EngineOptions = {}): Promise<ChatflowSession | null> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "ChatflowSession" WHERE "accountId" = ${args.accountId} AND "conversationId" = ${args.conversationId} AND status = 'ACTIVE' FOR UPDATE`;
  if (!locked) return null;
  const session = await tx.chatflowSession.findUniqueOrThrow({ where: { id: locked.id }, include: { chatflow: true } });
  const { chatflow: flow, ...plain } = session;
  const s = state(tx, flow, plain, await loadConversation(tx, args.accountId, args.conversationId), opts);
  const actions = storedActions(flow.actions);
  const question = actions.find((a) => a.id === plain.currentActionId);
  const text = (args.text ?? "").trim();
  if (HANDOFF_WORDS.test(text)) return handoff(s);
  if (!question || question.type !== "QUESTION") return run(s, plain.currentActionId);

  const checked = checkAnswer(question, text);
  if (!checked.ok) {
    if (plain.retries >= question.maxRetries) return handoff(s);
    await sendBotMessage(s, question.id, personalize(s, question.invalidText ?? `${checked.problem} ${question.text}`), quickRepliesOf(question));
    return save(s, { retries: plain.retries + 1 });
  }
  const key = question.key ?? question.id;
  s.answers[key] = checked.value;
  if (question.saveTo?.target === "CONTACT") await setContactProperty(s, question.saveTo.property, checked.value);
  else if (question.saveTo) await setConversationProperty(s, question.saveTo.property, checked.value);
  s.session = { ...s.session, retries: 0 };
  return run(s, checked.next ?? question.next ?? null);
}

/** The visitor asked for a person (or ran out of re-asks): the flow's hand-off action, else the channel's routing. */
async function handoff(s: RunState): Promise<ChatflowSession> {
  if (s.flow.handoffActionId) return run(s, s.flow.handoffActionId);
  await defaultHandoff(s);
  return save(s, { status: "HANDED_OFF", endedAt: s.now });
}

function quickRepliesOf(q: Extract<ChatflowAction, { type: "QUESTION" }>) {
  return (q.options ?? []).map((o) => ({ label: o.label, value: o.value ?? o.label }));
}

type Checked = { ok: true; value: string; next?: string | null } | { ok: false; problem: string };

const PHONE = /^\+?[0-9][0-9 ().-]{4,22}$/;

/** Validates an answer by the question's kind; quick replies match by label or value (any case). */
export function checkAnswer(q: Extract<ChatflowAction, { type: "QUESTION" }>, text: string): Checked {
  if (!text) return { ok: false, problem: "Please answer:" };
  const option = q.options?.find((o) => o.label.toLowerCase() === text.toLowerCase() || (o.value ?? "").toLowerCase() === text.toLowerCase());
  if (option) return { ok: true, value: option.value ?? option.label, next: option.next };
  switch (q.answer) {
    case "OPTIONS":
      return { ok: false, problem: "Please pick one of the options." };
    case "EMAIL": {
      const parsed = emailSchema().safeParse(text);
      return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problem: "That doesn't look like an email address." };
    }
    case "PHONE":
      return PHONE.test(text) && text.replace(/\D/g, "").length >= 6 ? { ok: true, value: text.replace(/[\s().-]/g, "") } : { ok: false, problem: "That doesn't look like a phone number." };
    case "NUMBER": {
      const n = Number(text.replace(",", "."));
      return text.length <= 30 && Number.isFinite(n) ? { ok: true, value: String(n) } : { ok: false, problem: "Please answer with a number." };
    }
    case "DATE": {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) ?? /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
      if (!m) return { ok: false, problem: "Please give a date as YYYY-MM-DD." };
      const [y, mo, d] = m[1].length === 4 ? [m[1], m[2], m[3]] : [m[3], m[2], m[1]];
      const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
      const iso = date.toISOString().slice(0, 10);
      return iso === `${y}-${mo.padStart(2, "0")}-${d.padStart(2, "0")}` ? { ok: true, value: iso } : { ok: false, problem: "Please give a date as YYYY-MM-DD." };
    }
    default:
      return { ok: true, value: text.slice(0, 2000) };
  }
}

/** Runs actions from `from` until a question waits, the flow ends, or a hand-off happens; then saves the session. */
async function run(s: RunState, from: string | null): Promise<ChatflowSession> {
  const actions = new Map(storedActions(s.flow.actions).map((a) => [a.id, a]));
  let at = from;
  for (let step = 0; step < MAX_STEPS_PER_MESSAGE; step++) {
    const a = at ? actions.get(at) : undefined;
    if (!a) return save(s, { status: "COMPLETED", currentActionId: at, endedAt: s.now });
    s.session = { ...s.session, steps: s.session.steps + 1 };
    switch (a.type) {
      case "MESSAGE":
        await sendBotMessage(s, a.id, personalize(s, a.text));
        at = a.next ?? null;
        break;
      case "QUESTION":
        await sendBotMessage(s, a.id, personalize(s, a.text), quickRepliesOf(a));
        return save(s, { currentActionId: a.id, retries: 0 });
      case "SET_PROPERTY": {
        const value = personalize(s, a.value);
        if (a.target === "CONTACT") await setContactProperty(s, a.property, value);
        else await setConversationProperty(s, a.property, value);
        at = a.next ?? null;
        break;
      }
      case "CREATE_TICKET":
        await createBotTicket(s, a);
        at = a.next ?? null;
        break;
      case "SEND_TO_TEAM":
        if (await sendToTeam(s, a)) {
          if (a.text) await sendBotMessage(s, a.id, personalize(s, a.text));
          return save(s, { status: "HANDED_OFF", currentActionId: a.id, endedAt: s.now });
        }
        if (!a.fallback) return save(s, { status: "HANDED_OFF", currentActionId: a.id, endedAt: s.now });
        at = a.fallback;
        break;
      case "WEBHOOK":
        at = await callWebhook(s, a);
        break;
      case "BRANCH": {
        let chosen: string | null | undefined = a.else;
        for (const rule of a.rules) {
          let all = true;
          for (const c of rule.when) if (!(await conditionHolds(s, c))) all = false;
          if (all) {
            chosen = rule.next;
            break;
          }
        }
        at = chosen ?? null;
        break;
      }
      case "END":
        if (a.text) await sendBotMessage(s, a.id, personalize(s, a.text));
        return save(s, { status: "COMPLETED", currentActionId: a.id, endedAt: s.now });
    }
  }
  // Unreachable for a validated graph; a flow edited into one anyway stops rather than loops.
  return save(s, { status: "COMPLETED", endedAt: s.now });
}

async function save(s: RunState, patch: Partial<Pick<ChatflowSession, "status" | "currentActionId" | "retries" | "endedAt">>): Promise<ChatflowSession> {
  const session = await s.tx.chatflowSession.update({
    where: { id: s.session.id },
    data: { ...patch, steps: s.session.steps, retries: patch.retries ?? s.session.retries, answers: s.answers as Prisma.InputJsonObject },
  });
  s.session = session;
  return session;
}

/** An agent's reply takes the conversation over: its bot stops (call in the reply's transaction). */
export async function agentTookOver(tx: Pick<Tx, "$executeRaw">, accountId: string, conversationId: string, now = new Date()): Promise<void> {
  await tx.$executeRaw`
    UPDATE "ChatflowSession" SET status = 'TAKEN_OVER', "endedAt" = ${now}, "updatedAt" = ${now}
     WHERE "accountId" = ${accountId} AND "conversationId" = ${conversationId} AND status = 'ACTIVE'`;
}

/**
 * Intake's hook (receiveInbound with `chatflow` set), in the message's transaction: a Messenger
 * thread's first message starts the page's flow (its default one: the instant reply, or a bot);
 * any later message advances an ACTIVE bot session. While a Messenger page asks for EXPLICIT
 * consent that the customer has not given, nothing runs (messenger.ts starts the flow on consent).
 */
export async function chatflowOnInbound(
  tx: Tx,
  args: { accountId: string; conversationId: string; conversationCreated: boolean; text: string | null },
  opts: EngineOptions = {},
): Promise<void> {
  if (!args.conversationCreated) {
    await advanceChatflow(tx, args, opts);
    return;
  }
  const conversation = await tx.conversation.findFirstOrThrow({ where: { accountId: args.accountId, id: args.conversationId }, include: { channel: true } });
  const { channel } = conversation;
  if (channel.type !== "FACEBOOK_MESSENGER") return;
  const gdpr = (channel.settings as { gdpr?: { mode?: string } } | null)?.gdpr;
  if (gdpr?.mode === "EXPLICIT" && (conversation.properties as { gdprConsent?: string } | null)?.gdprConsent !== "GIVEN") return;
  await startMessengerFlow(tx, channel, conversation.id, opts);
}

/** Starts a Messenger page's flow on a conversation (first message, or consent just given). */
export async function startMessengerFlow(tx: Tx, channel: Channel, conversationId: string, opts: EngineOptions = {}): Promise<void> {
  const flow = (await tx.chatflow.findFirst({
    where: { accountId: channel.accountId, channelId: channel.id, published: true },
    orderBy: [{ isDefault: "desc" }, { priority: "asc" }, { createdAt: "asc" }],
  })) ?? legacyMessengerFlow(channel);
  if (flow) await startChatflow(tx, { accountId: channel.accountId, conversationId, flow }, opts);
}

/** A page connected before chatflows existed: its settings' instant reply, as its default flow would send it. */
function legacyMessengerFlow(channel: Channel): Chatflow | null {
  const instantReply = (channel.settings as { instantReply?: string } | null)?.instantReply?.trim();
  if (!instantReply) return null;
  return { kind: "LIVE_CHAT", instantReply, id: "legacy", actions: [] } as unknown as Chatflow;
}
