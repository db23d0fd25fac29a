import type { Channel, PrismaClient } from "../generated/prisma/client.js";
import type { Services } from "../context.js";
import type { ParsedEmail } from "../transports/email/parse.js";
import { transactionWithEvents } from "../realtime/events.js";
import { recordMessagesUpdated } from "./message-events.js";

const UUID = /^<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^<>\s]+)>$/i;

/**
 * A bounce (DSN) received on `channel`: the account's outbound message whose Message-ID it
 * returns is marked FAILED with the reason ("Email bounced: 5.1.1 <diagnostic>"), from PENDING or
 * SENT, with a message.updated event. Our Message-IDs are `<message id@SMTP_FROM_DOMAIN>`, so a
 * bounce arriving before the send was recorded still finds its message. A delay notice
 * (Action: delayed) or a bounce of nothing of ours stores nothing. Never opens a conversation.
 * @returns the id of the message marked FAILED, or null
 */
export async function recordBounce(services: Services, channel: Pick<Channel, "accountId" | "id">, mail: ParsedEmail): Promise<string | null> {
  const report = mail.report!;
  const failed = report.action ? report.action === "failed" : !report.status?.startsWith("4.");
  const original = report.originalMessageId;
  if (!failed || !original) {
    if (!original) services.logger.warn({ component: "inbound-email", messageId: mail.messageId }, "bounce names no message of ours: dropped");
    return null;
  }
  const { prisma, config } = services;
  const own = UUID.exec(original);
  const byId = own && own[2].toLowerCase() === config.transports.smtpFromDomain.toLowerCase() ? own[1].toLowerCase() : null;
  const message = await prisma.message.findFirst({
    where: { accountId: channel.accountId, direction: "OUTBOUND", OR: [{ externalId: original }, ...(byId ? [{ id: byId }] : [])] },
    select: { id: true },
  });
  if (!message) {
    services.logger.warn({ component: "inbound-email", messageId: mail.messageId, original }, "bounce for no outbound message of this account");
    return null;
  }
  const reason = `Email bounced: ${[report.status, report.diagnostic].filter(Boolean).join(" ") || "the receiving server refused it"}`.slice(0, 1000);
  await transactionWithEvents(prisma, async (tx) => {
    const updated = await tx.message.updateMany({
      where: { accountId: channel.accountId, id: message.id, deliveryStatus: { in: ["PENDING", "SENT"] } },
      data: { deliveryStatus: "FAILED", deliveryError: reason },
    });
    if (updated.count > 0) await recordMessagesUpdated(tx, channel.accountId, [message.id]);
  });
  return message.id;
}

/** Gmail's forwarding confirmation as kept on the channel (TeamEmailSettings.forwardingConfirmation). */
export interface ForwardingConfirmation {
  code: string | null;
  confirmationUrl: string | null;
  requestedBy: string | null;
  receivedAt: string;
}

/**
 * Keeps Gmail's forwarding confirmation on the team email (settings.forwardingConfirmation: the
 * code and link the admin needs to finish setting up forwarding).
 * The latest confirmation replaces an earlier one.
 */
export async function recordForwardingConfirmation(prisma: PrismaClient, channel: Pick<Channel, "accountId" | "id">, found: Omit<ForwardingConfirmation, "receivedAt">): Promise<void> {
  const confirmation: ForwardingConfirmation = { ...found, receivedAt: new Date().toISOString() };
  // jsonb || sets one key: a concurrent settings edit keeps its other fields.
  await prisma.$executeRaw`
    UPDATE "Channel" SET settings = settings || jsonb_build_object('forwardingConfirmation', ${JSON.stringify(confirmation)}::jsonb), "updatedAt" = now()
     WHERE "accountId" = ${channel.accountId} AND id = ${channel.id}`;
}
