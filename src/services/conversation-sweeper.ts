import type { Config } from "../config.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { removeAttachmentFiles } from "./attachments-store.js";

/**
 * The database-driven sweep behind snoozes and the trash: snoozed conversations whose time has
 * come reopen, and conversations trashed more than TRASH_RETENTION_DAYS ago are purged. It reads
 * only the database, runs when the server starts (so a restart, or a server that was down at the
 * time, loses no wake-up) and then at the nearest snooze time or every POLL_MS, whichever comes
 * first. Several servers may sweep one database: a row is reopened by one of them only (the
 * update re-checks the status under its row lock), and each wake-up records one event.
 */

/** Days a trashed conversation is kept before the sweep purges it. */
export const TRASH_RETENTION_DAYS = 30;

/** Longest wait between sweeps (snoozes set on other servers are found within it). */
const POLL_MS = 30_000;
/** How often the purge runs (it also runs at start). */
const PURGE_EVERY_MS = 10 * 60_000;
const BATCH = 200;

const wakeListeners = new Set<(at: Date) => void>();

/** Tells this process's sweepers that a conversation is due at `at` (called when snoozing). */
export function scheduleWakeUp(at: Date): void {
  for (const listener of wakeListeners) listener(at);
}

/**
 * Reopens the snoozed conversations due at `now`, in batches; each batch is one transaction with
 * its `conversation.updated` events (reason "woke"). Returns how many reopened.
 */
export async function wakeDueConversations(prisma: PrismaClient, now = new Date()): Promise<number> {
  let woken = 0;
  for (;;) {
    const rows = await transactionWithEvents(prisma, async (tx) => {
      const due = await tx.$queryRaw<{ id: string; accountId: string; inboxId: string }[]>`
        UPDATE "Conversation" SET status = 'OPEN', "snoozedUntil" = NULL, "updatedAt" = ${now}
         WHERE id IN (SELECT id FROM "Conversation" WHERE status = 'SNOOZED' AND "snoozedUntil" <= ${now}
                       ORDER BY "snoozedUntil" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
           AND status = 'SNOOZED'
        RETURNING id, "accountId", "inboxId"`;
      const byAccount = new Map<string, typeof due>();
      for (const row of due) byAccount.set(row.accountId, [...(byAccount.get(row.accountId) ?? []), row]);
      // One account at a time, in a fixed order: the account row lock is taken in the same order by every sweeper.
      for (const accountId of [...byAccount.keys()].sort()) {
        const list = byAccount.get(accountId)!;
        await recordEvents(tx, accountId, list.map((c) => ({ type: "conversation.updated", inboxId: c.inboxId, payload: { conversationId: c.id, reason: "woke" } })));
      }
      return due.length;
    });
    woken += rows;
    if (rows < BATCH) return woken;
  }
}

/** The nearest snooze time still ahead (null when nothing is snoozed). */
async function nextWakeUp(prisma: PrismaClient): Promise<Date | null> {
  const [row] = await prisma.$queryRaw<{ at: Date | null }[]>`SELECT min("snoozedUntil") AS at FROM "Conversation" WHERE status = 'SNOOZED'`;
  return row?.at ?? null;
}

/**
 * Deletes conversations with their messages, the messages' attachments, stored files, original
 * emails and pending deliveries, one transaction each. Returns how many were deleted; one that
 * cannot be deleted (another record still points at it) is skipped and reported by `log`.
 */
export async function purgeConversations(prisma: PrismaClient, config: Pick<Config, "dataDir">, list: { id: string; accountId: string }[], log?: (m: string) => void): Promise<number> {
  let purged = 0;
  for (const { id, accountId } of list) {
    try {
      const keys = await prisma.$transaction(async (tx) => {
        const messages = { accountId, conversationId: id };
        const files = await tx.attachment.findMany({ where: { accountId, message: messages, storageKey: { not: null } }, select: { storageKey: true } });
        const originals = await tx.emailOriginal.findMany({ where: { accountId, message: messages }, select: { storageKey: true } });
        await tx.outboundDelivery.deleteMany({ where: { accountId, message: messages } });
        await tx.message.updateMany({ where: { ...messages, inReplyToId: { not: null } }, data: { inReplyToId: null } });
        // Attachments and original emails go with their messages (ON DELETE CASCADE).
        await tx.message.deleteMany({ where: messages });
        await tx.conversation.delete({ where: { id } });
        return [...files.map((f) => f.storageKey!), ...originals.map((o) => o.storageKey)];
      });
      await removeAttachmentFiles(config, keys);
      purged++;
    } catch (err) {
      log?.(`purging conversation ${id} failed: ${(err as Error).message}`);
    }
  }
  return purged;
}

/** Purges every conversation trashed more than TRASH_RETENTION_DAYS before `now`. Returns how many. */
export async function purgeExpiredTrash(prisma: PrismaClient, config: Pick<Config, "dataDir">, now = new Date(), log?: (m: string) => void): Promise<number> {
  const cutoff = new Date(now.getTime() - TRASH_RETENTION_DAYS * 24 * 60 * 60 * 1000);
  let purged = 0;
  for (;;) {
    const due = await prisma.conversation.findMany({ where: { status: "TRASH", trashedAt: { lt: cutoff } }, select: { id: true, accountId: true }, take: BATCH });
    if (!due.length) return purged;
    const n = await purgeConversations(prisma, config, due, log);
    purged += n;
    if (n < due.length || due.length < BATCH) return purged;
  }
}

/**
 * Starts the sweep: at once, then at the nearest snooze time (or POLL_MS), and whenever this
 * process snoozes a conversation for an earlier time. `stop()` waits for a running sweep.
 */
export function startConversationSweeper(prisma: PrismaClient, config: Pick<Config, "dataDir">, log: (m: string) => void) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let running: Promise<void> = Promise.resolve();
  let lastPurge = 0;

  const schedule = (at: number) => {
    if (stopped || at >= timerAt) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(run, Math.max(0, at - Date.now()));
    timer.unref();
  };

  function run() {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    if (stopped) return;
    running = running.then(async () => {
      if (stopped) return;
      let next = Date.now() + POLL_MS;
      try {
        const woken = await wakeDueConversations(prisma);
        if (woken) log(`[conversations] ${woken} snoozed conversation(s) reopened`);
        if (Date.now() - lastPurge >= PURGE_EVERY_MS) {
          lastPurge = Date.now();
          const purged = await purgeExpiredTrash(prisma, config, new Date(), log);
          if (purged) log(`[conversations] ${purged} trashed conversation(s) purged`);
        }
        const due = await nextWakeUp(prisma);
        if (due) next = Math.min(next, due.getTime());
      } catch (err) {
        log(`[conversations] sweep failed: ${(err as Error).message}`);
      }
      schedule(next);
    });
  }

  const onSnooze = (at: Date) => schedule(at.getTime());
  wakeListeners.add(onSnooze);
  run();
  return {
    async stop() {
      stopped = true;
      wakeListeners.delete(onSnooze);
      clearTimeout(timer);
      await running;
    },
  };
}
