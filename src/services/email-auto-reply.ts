import { randomUUID } from "node:crypto";
import type { Channel, Prisma } from "../generated/prisma/client.js";
import type { Services } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { advisoryLockKey } from "../db/sql.js";
import { buildEmailPayload } from "../transports/email/send.js";
import type { TeamEmailSettings } from "./channel-settings.js";
import type { InboundResult } from "./intake.js";

/** RFC 3834's marks on an automatic answer, so that other responders do not answer it in turn. */
const AUTO_REPLY_HEADERS = { "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", Precedence: "auto_reply" };

const HOUR_MS = 60 * 60 * 1000;

interface StoredVerdicts {
  flagged?: boolean;
}

/**
 * The team email's automatic reply (settings.autoReply) to the sender of a NEW conversation, sent
 * through the outbound queue as a BOT message with Auto-Submitted: auto-replied. Not sent when:
 * the setting is empty; the message only joined a thread; the message is flagged (automated mail,
 * a list, a mailer daemon, our own address, spam, a DMARC failure: see email-intake.ts); the
 * conversation has no email to answer; it was answered already (so a retried intake sends one);
 * or the sender got AUTO_REPLY_MAX_PER_HOUR auto-replies from this channel in the last hour: the
 * per-sender bound that stops two responders ping-ponging when the other one sets no header.
 * @returns whether an auto-reply was queued by this call
 */
export async function autoReply(services: Services, channel: Channel, inbound: InboundResult): Promise<boolean> {
  const settings = (channel.settings ?? {}) as Partial<TeamEmailSettings>;
  const text = settings.autoReply?.trim();
  if (!text) return false;
  const meta = inbound.message.metadata as { email?: { authentication?: StoredVerdicts } } | null;
  if (meta?.email?.authentication?.flagged !== false) return false;
  // A new conversation only; for a retried delivery, the message must be its conversation's first.
  if (!inbound.conversationCreated && !inbound.duplicate) return false;
  const to = (inbound.contact?.email ?? inbound.conversation.visitorEmail)?.toLowerCase();
  if (!to) return false;
  const { prisma, config } = services;
  const { accountId } = inbound.message;
  const max = config.transports.email.autoReplyMaxPerHour;
  return transactionWithEvents(prisma, async (tx) => {
    // One sender's auto-replies are counted one at a time.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${advisoryLockKey(`auto-reply:${channel.id}:${to}`)}::bigint)`;
    if (inbound.duplicate) {
      const first = await tx.message.findFirst({ where: { accountId, conversationId: inbound.conversation.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true } });
      if (first?.id !== inbound.message.id) return false;
    }
    const answered = await tx.message.count({ where: { accountId, inReplyToId: inbound.message.id, senderType: "BOT" } });
    if (answered > 0) return false;
    const recent = await tx.message.count({
      where: { accountId, channelId: channel.id, senderType: "BOT", direction: "OUTBOUND", createdAt: { gt: new Date(Date.now() - HOUR_MS) }, metadata: { path: ["autoReply", "to"], equals: to } },
    });
    if (recent >= max) return false;
    const conversation = await tx.conversation.findUniqueOrThrow({ where: { accountId_id: { accountId, id: inbound.conversation.id } }, include: { contact: true } });
    const message = await tx.message.create({
      data: {
        id: randomUUID(),
        accountId,
        conversationId: conversation.id,
        channelId: channel.id,
        direction: "OUTBOUND",
        kind: "MESSAGE",
        senderType: "BOT",
        text,
        inReplyToId: inbound.message.id,
        deliveryStatus: "PENDING",
        metadata: { autoReply: { to } },
      },
    });
    const payload = await buildEmailPayload(tx, config.transports, { message, conversation, channel, inReplyTo: inbound.message });
    await tx.outboundDelivery.create({
      data: { accountId, kind: "EMAIL", messageId: message.id, channelId: channel.id, payload: { ...payload, headers: AUTO_REPLY_HEADERS } as unknown as Prisma.InputJsonValue },
    });
    await recordEvents(tx, accountId, [{ type: "message.added", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, messageId: message.id } }]);
    return true;
  });
}
