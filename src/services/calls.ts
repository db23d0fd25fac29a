import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Channel, Message, Prisma } from "../generated/prisma/client.js";
import type { AgentContext, Services } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { notifyOutbox } from "../realtime/outbox-signal.js";
import { requireRole } from "./access.js";
import { E164 } from "./channel-settings.js";
import { ChannelOffError, NotFoundError, ValidationError } from "./errors.js";
import { receiveInbound } from "./intake.js";
import { searchableText } from "./search.js";

/**
 * Calling channels: the per-channel inbound secret that authenticates the telephony provider's
 * webhook, and call events (started, answered, ended) that become one CALL entry per call in the
 * contact's thread.
 */

/** Channel types whose transport authenticates inbound calls with Channel.inboundSecretHash. */
const SECRET_TYPES = ["CALLING", "TEAM_EMAIL"] as const;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Issues a new inbound secret for a CALLING (or TEAM_EMAIL) channel, ADMIN+ only; the previous
 * one stops working at once. Only its sha256 is stored: the secret is returned this once.
 */
export async function rotateChannelInboundSecret(ctx: AgentContext, channelId: string): Promise<{ channel: Channel; secret: string }> {
  requireRole(ctx, "ADMIN", "rotate channel secrets");
  const channel = await ctx.prisma.channel.findFirst({ where: { accountId: ctx.accountId, id: channelId, deletedAt: null } });
  if (!channel) throw new NotFoundError("Channel", channelId);
  if (!(SECRET_TYPES as readonly string[]).includes(channel.type)) throw ValidationError.field("input.channelId", "Only calling and team email channels have an inbound secret");
  const secret = `chs_${randomBytes(32).toString("base64url")}`;
  const updated = await ctx.prisma.channel.update({ where: { id: channel.id }, data: { inboundSecretHash: sha256(secret) } });
  return { channel: updated, secret };
}

/**
 * The live CALLING channel whose inbound secret is `secret`, or null (unknown channel, no secret
 * set, wrong secret: the caller cannot tell which). Compared in constant time.
 */
export async function authenticateCallChannel(prisma: Services["prisma"], channelId: string, secret: string | undefined): Promise<Channel | null> {
  if (!secret || !/^[0-9a-f-]{36}$/i.test(channelId)) return null;
  const channel = await prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel || channel.type !== "CALLING" || channel.deletedAt || !channel.inboundSecretHash) return null;
  const given = Buffer.from(sha256(secret), "hex");
  const stored = Buffer.from(channel.inboundSecretHash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored) ? channel : null;
}

const STATUS_ORDER = { STARTED: 0, ANSWERED: 1, ENDED: 2 } as const;
type CallStatus = keyof typeof STATUS_ORDER;

/**
 * Events that carry a call's recording or transcript, sent by telephony providers on their own,
 * usually after ENDED: they update the call entry and never change its status. `from` and `to`
 * may be left out when the call is already known.
 */
const LATE_EVENTS = ["RECORDING", "TRANSCRIPT"] as const;
type LateEvent = (typeof LATE_EVENTS)[number];
const isLate = (event: string): event is LateEvent => (LATE_EVENTS as readonly string[]).includes(event);

export const callEventSchema = z.object({
  callId: z.string().trim().min(1).max(200),
  event: z.enum(["STARTED", "ANSWERED", "ENDED", ...LATE_EVENTS]),
  from: z.string().trim().regex(E164, "Must be an E.164 phone number").optional(),
  to: z.string().trim().regex(E164, "Must be an E.164 phone number").optional(),
  at: z.coerce.date().optional(),
  durationSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
  recordingUrl: z.string().trim().url().max(2048).optional(),
  transcript: z.string().max(200_000).optional(),
  agentEmail: z.string().trim().toLowerCase().email().max(254).optional(),
}).superRefine((e, ctx) => {
  if (!isLate(e.event)) for (const key of ["from", "to"] as const) if (!e[key]) ctx.addIssue({ code: "custom", path: [key], message: "Required" });
  if (e.event === "RECORDING" && !e.recordingUrl) ctx.addIssue({ code: "custom", path: ["recordingUrl"], message: "A RECORDING event needs recordingUrl" });
  if (e.event === "TRANSCRIPT" && !e.transcript) ctx.addIssue({ code: "custom", path: ["transcript"], message: "A TRANSCRIPT event needs transcript" });
});
export type CallEvent = z.output<typeof callEventSchema>;

/** What a CALL message keeps in its metadata. */
export interface CallMetadata {
  callId: string;
  callDirection: "INBOUND" | "OUTBOUND";
  from: string;
  to: string;
  status: CallStatus;
  startedAt?: string;
  answeredAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  recordingUrl?: string;
  transcript?: string;
  agentEmail?: string;
  agentId?: string | null;
}

function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m}:${String(seconds % 60).padStart(2, "0")}`;
}

function callText(meta: CallMetadata): string {
  const who = meta.callDirection === "INBOUND" ? `Call from ${meta.from}` : `Call to ${meta.to}`;
  const status = meta.status === "STARTED" ? "ringing" : meta.status === "ANSWERED" ? "answered" : meta.answeredAt || meta.durationSeconds ? "ended" : "missed";
  return `${who} · ${status}${meta.durationSeconds !== undefined && meta.status === "ENDED" ? ` · ${formatDuration(meta.durationSeconds)}` : ""}`;
}

/**
 * Folds one event into the call's metadata: status only moves forward (events may arrive out of
 * order); RECORDING and TRANSCRIPT never change it (a call first known from one is ENDED).
 */
function merge(previous: CallMetadata | null, event: CallEvent, direction: CallMetadata["callDirection"], agentId: string | null | undefined): CallMetadata {
  const at = (event.at ?? new Date()).toISOString();
  const status: CallStatus = isLate(event.event) ? "ENDED" : event.event;
  const base: CallMetadata = previous ?? { callId: event.callId, callDirection: direction, from: event.from ?? "", to: event.to ?? "", status };
  const next: CallMetadata = { ...base, status: !isLate(event.event) && STATUS_ORDER[status] > STATUS_ORDER[base.status] ? status : base.status };
  if (event.event === "STARTED") next.startedAt ??= at;
  if (event.event === "ANSWERED") next.answeredAt ??= at;
  if (event.event === "ENDED") next.endedAt ??= at;
  if (event.durationSeconds !== undefined) next.durationSeconds = event.durationSeconds;
  if (event.recordingUrl) next.recordingUrl = event.recordingUrl;
  if (event.transcript) next.transcript = event.transcript;
  if (event.agentEmail) {
    next.agentEmail = event.agentEmail;
    next.agentId = agentId ?? null;
  }
  return next;
}

/**
 * Records one call event on a CALLING channel (already authenticated). The customer's number is
 * `from` (or `to` when the call was placed from the channel's own number); intake matches or
 * creates the contact by phone and threads the call into the contact's latest call thread on this
 * channel (reopening it). The first event of a call writes ONE message (kind CALL, externalId
 * `call-<callId>`); later events update its metadata (status, times, duration, recording,
 * transcript, agent) and text, and record a conversation.updated event. Replaying an event changes
 * nothing. ChannelOffError when the channel is OFF.
 *
 * RECORDING and TRANSCRIPT events (a provider's separate callbacks, usually after ENDED) update
 * the entry of a known call, `from`/`to` optional; for a call not seen yet they need `from` and
 * `to` (the entry is created, ENDED), else NotFoundError("Call").
 */
export async function recordCallEvent(prisma: Services["prisma"], channel: Channel, event: CallEvent): Promise<{ message: Message; created: boolean }> {
  if (channel.status === "OFF") throw new ChannelOffError(channel.id);
  const agent = event.agentEmail
    ? await prisma.user.findFirst({ where: { accountId: channel.accountId, email: { equals: event.agentEmail, mode: "insensitive" }, removedAt: null }, select: { id: true } })
    : null;
  const externalId = `call-${event.callId}`;
  if (isLate(event.event)) {
    const known = await prisma.message.findFirst({ where: { accountId: channel.accountId, channelId: channel.id, externalId }, select: { id: true, conversation: { select: { inboxId: true } } } });
    if (known) {
      const message = await applyCallEvent(prisma, channel, event, agent?.id, { messageId: known.id, inboxId: known.conversation.inboxId, duplicate: true, first: null, direction: null });
      notifyOutbox();
      return { message, created: false };
    }
    if (!event.from || !event.to) throw new NotFoundError("Call", event.callId);
  }
  const from = event.from!;
  const to = event.to!;
  const outbound = channel.phoneNumber === from && channel.phoneNumber !== to;
  const direction = outbound ? "OUTBOUND" : "INBOUND";
  const customer = outbound ? to : from;

  const first = merge(null, event, direction, agent?.id);
  const inbound = await receiveInbound(prisma, {
    accountId: channel.accountId,
    channel,
    externalId,
    threadKey: `phone:${customer}`,
    sender: { phone: customer },
    text: callText(first),
    metadata: first as unknown as Record<string, unknown>,
    kind: "CALL",
  });

  // Intake wrote the call entry (kind CALL); later events of the call (and the direction of a call
  // placed from the channel's number) are merged right after.
  const result = await applyCallEvent(prisma, channel, event, agent?.id, { messageId: inbound.message.id, inboxId: inbound.conversation.inboxId, duplicate: inbound.duplicate, first, direction });
  notifyOutbox();
  return { message: result, created: !inbound.duplicate };
}

/**
 * Merges one event into a stored call entry, under a row lock so concurrent events of one call
 * apply one by one. `first` is what intake stored when this request created the entry (null for
 * an update of a known call); `duplicate`: the entry existed before, so the change is recorded
 * as a conversation.updated event (reason call.<status>, or call.recording / call.transcript).
 */
async function applyCallEvent(
  prisma: Services["prisma"],
  channel: Channel,
  event: CallEvent,
  agentId: string | null | undefined,
  opts: { messageId: string; inboxId: string; duplicate: boolean; first: CallMetadata | null; direction: CallMetadata["callDirection"] | null },
): Promise<Message> {
  return transactionWithEvents(prisma, async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Message" WHERE "accountId" = ${channel.accountId} AND id = ${opts.messageId} FOR UPDATE`;
    const current = await tx.message.findUniqueOrThrow({ where: { id: opts.messageId } });
    // Fold into what is stored (intake stored this call's first event): a concurrent event of the
    // same call may have been applied already, whichever request created the message.
    const previous = current.metadata as unknown as CallMetadata;
    const meta = previous?.callId === event.callId ? merge(previous, event, previous.callDirection, agentId) : (opts.first ?? merge(null, event, "INBOUND", agentId));
    const turnOutbound = opts.direction === "OUTBOUND" && !opts.duplicate && current.direction !== "OUTBOUND";
    const changed = turnOutbound || current.kind !== "CALL" || JSON.stringify(meta) !== JSON.stringify(current.metadata);
    if (!changed) return current;
    const message = await tx.message.update({
      where: { id: current.id },
      data: {
        kind: "CALL",
        ...(turnOutbound ? { direction: "OUTBOUND", senderType: "AGENT" } : {}),
        text: callText(meta),
        metadata: meta as unknown as Prisma.InputJsonValue,
      },
    });
    if (event.transcript && meta.transcript === event.transcript) {
      await tx.$executeRaw`UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${searchableText(event.transcript)}) WHERE "accountId" = ${channel.accountId} AND id = ${message.conversationId}`;
    }
    if (opts.duplicate) {
      const reason = isLate(event.event) ? `call.${event.event.toLowerCase()}` : `call.${meta.status.toLowerCase()}`;
      await recordEvents(tx, channel.accountId, [{ type: "conversation.updated", inboxId: opts.inboxId, payload: { conversationId: message.conversationId, messageId: message.id, reason } }]);
    }
    return message;
  });
}
