import type { PrismaClient } from "../../generated/prisma/client.js";

/**
 * The thread an inbound email belongs to: the threadKey of the conversation holding a message
 * whose externalId (its Message-ID) is one of `threadIds` (In-Reply-To first, then References from
 * the newest), on this account and channel. Agents' replies sent by email carry their Message-ID
 * as externalId too, so a customer answering a reply joins the same thread. Null: a new thread.
 */
export async function findEmailThread(prisma: PrismaClient, accountId: string, channelId: string, threadIds: string[]): Promise<string | null> {
  if (threadIds.length === 0) return null;
  const candidates = threadIds.slice(0, 100);
  const found = await prisma.message.findMany({
    where: { accountId, channelId, externalId: { in: candidates }, conversation: { channelId, threadKey: { not: null } } },
    select: { externalId: true, conversation: { select: { threadKey: true } } },
  });
  for (const id of candidates) {
    const hit = found.find((m) => m.externalId === id);
    if (hit?.conversation.threadKey) return hit.conversation.threadKey;
  }
  return null;
}

/** A new Message-ID for an outgoing email, on the configured domain. */
export function newMessageId(uuid: string, domain: string): string {
  return `<${uuid}@${domain}>`;
}

/** Whether a stored externalId is an email Message-ID (only those go into References). */
export const isMessageId = (v: string | null | undefined): v is string => !!v && /^<[^<>\s]+@[^<>\s]+>$/.test(v);
