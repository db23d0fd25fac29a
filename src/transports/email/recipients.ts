import { randomUUID } from "node:crypto";
import { Prisma, type Channel, type PrismaClient } from "../../generated/prisma/client.js";
import { sqlQuery } from "../../db/sql.js";
import { FALLBACK_EMAIL_DOMAIN } from "../../services/inboxes.js";
import { teamEmailSettings } from "../../services/channel-settings.js";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const FORWARDING = new RegExp(`^team-(${UUID})@(.+)$`, "i");
const FALLBACK = new RegExp(`^inbox-(${UUID})@(.+)$`, "i");

/**
 * The address a team email's mailbox forwards to when this server receives mail itself (SMTP):
 * `team-<channel id>@FALLBACK_EMAIL_DOMAIN`. The MX of FALLBACK_EMAIL_DOMAIN points at this server.
 */
export function forwardingAddressFor(channelId: string): string {
  return `team-${channelId}@${FALLBACK_EMAIL_DOMAIN}`;
}

/** Why a recipient is refused at RCPT TO: no such address here (550 5.1.1), or its channel is OFF (550 5.2.1). */
export type RecipientRefusal = "unknown" | "off";

/**
 * The team email channel mail to `address` belongs to, for addresses this server owns: a connected
 * team address (Channel.emailAddress), a team email's forwarding alias (forwardingAddressFor), or an
 * inbox's fallback address (Inbox.fallbackEmail at FALLBACK_EMAIL_DOMAIN). Mail to a fallback address
 * goes to the inbox's oldest live team email; an inbox with none gets a team email channel for its
 * fallback address on its first mail (so that its conversations have a channel to answer through).
 * Anything else is refused: the receiver is no open relay.
 */
export async function findRecipientChannel(prisma: PrismaClient, rawAddress: string): Promise<{ channel: Channel } | { refused: RecipientRefusal }> {
  const address = rawAddress.trim().toLowerCase();
  if (address.length > 254 || !address.includes("@")) return { refused: "unknown" };
  const domain = address.slice(address.lastIndexOf("@") + 1);
  const ours = domain === FALLBACK_EMAIL_DOMAIN.toLowerCase();
  const forwardingId = ours ? (FORWARDING.exec(address)?.[1].toLowerCase() ?? null) : null;
  // Every RCPT asks: one raw statement (Prisma's model API costs several times its CPU).
  let channel: Channel | undefined = (await sqlQuery<Channel>(prisma, Prisma.sql`
    SELECT * FROM "Channel" WHERE type = 'TEAM_EMAIL' AND "deletedAt" IS NULL AND ("emailAddress" = ${address} OR id = ${forwardingId}) LIMIT 1`))[0];
  if (!channel && ours && !forwardingId && FALLBACK.test(address)) channel = (await fallbackChannel(prisma, address)) ?? undefined;
  if (!channel) return { refused: "unknown" };
  if (channel.status !== "ON") return { refused: "off" };
  return { channel };
}

async function fallbackChannel(prisma: PrismaClient, address: string): Promise<Channel | null> {
  const inbox = await prisma.inbox.findUnique({ where: { fallbackEmail: address } });
  if (!inbox) return null;
  const teamEmail = await prisma.channel.findFirst({ where: { accountId: inbox.accountId, inboxId: inbox.id, type: "TEAM_EMAIL", status: "ON", deletedAt: null }, orderBy: { createdAt: "asc" } });
  if (teamEmail) return teamEmail;
  // ON CONFLICT: two first mails at once create it once (and no failed statement is left to handle).
  await prisma.$executeRaw`
    INSERT INTO "Channel" (id, "accountId", "inboxId", type, name, "emailAddress", settings, "updatedAt")
    VALUES (${randomUUID()}, ${inbox.accountId}, ${inbox.id}, 'TEAM_EMAIL', 'Fallback address', ${address}, ${JSON.stringify(teamEmailSettings.parse({ address }))}::jsonb, now())
    ON CONFLICT ("emailAddress") DO NOTHING`;
  return prisma.channel.findFirst({ where: { type: "TEAM_EMAIL", deletedAt: null, emailAddress: address } });
}

/**
 * Whether `address` is one of ours (a connected team address, anything at FALLBACK_EMAIL_DOMAIN,
 * or at the outbound Message-ID domain): mail from it is never answered automatically (a loop).
 */
export async function isOwnAddress(prisma: PrismaClient, address: string, smtpFromDomain: string): Promise<boolean> {
  const email = address.trim().toLowerCase();
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (domain === FALLBACK_EMAIL_DOMAIN.toLowerCase() || domain === smtpFromDomain.toLowerCase()) return true;
  const [row] = await sqlQuery<{ own: boolean }>(prisma, Prisma.sql`SELECT EXISTS (SELECT 1 FROM "Channel" WHERE "emailAddress" = ${email} AND "deletedAt" IS NULL) AS own`);
  return row.own;
}
