import { Prisma, type PrismaClient } from "../../generated/prisma/client.js";
import { sqlQuery } from "../../db/sql.js";
import { mergedEmailThread } from "../../services/merge.js";

/**
 * The thread an inbound email belongs to: the threadKey of the conversation holding a message
 * whose externalId (its Message-ID) is one of `threadIds` (In-Reply-To first, then References from
 * the newest), on this account and channel. Agents' replies sent by email carry their Message-ID
 * as externalId too, so a customer answering a reply joins the same thread. Null: a new thread.
 */
export async function findEmailThread(prisma: PrismaClient, accountId: string, channelId: string, threadIds: string[]): Promise<string | null> {
  if (threadIds.length === 0) return null;
  // One raw statement per inbound email: the first id (in the given order) that names a message of a thread.
  const [hit] = await sqlQuery<{ threadKey: string }>(prisma, Prisma.sql`
    SELECT c."threadKey" FROM unnest(${threadIds.slice(0, 100)}::text[]) WITH ORDINALITY AS t(id, n)
      JOIN "Message" m ON m."accountId" = ${accountId} AND m."channelId" = ${channelId} AND m."externalId" = t.id
      JOIN "Conversation" c ON c."accountId" = m."accountId" AND c.id = m."conversationId" AND c."channelId" = ${channelId} AND c."threadKey" IS NOT NULL
     ORDER BY t.n LIMIT 1`);
  // None: the message answered may have moved, by a merge, into a conversation of another channel.
  return hit?.threadKey ?? mergedEmailThread(prisma, accountId, channelId, threadIds);
}

/** A new Message-ID for an outgoing email, on the configured domain. */
export function newMessageId(uuid: string, domain: string): string {
  return `<${uuid}@${domain}>`;
}

/** Whether a stored externalId is an email Message-ID (only those go into References). */
export const isMessageId = (v: string | null | undefined): v is string => !!v && /^<[^<>\s]+@[^<>\s]+>$/.test(v);
