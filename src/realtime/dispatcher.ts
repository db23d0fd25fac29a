import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { sqlExecute, sqlQuery } from "../db/sql.js";
import type { AppPubSub, RealtimeEvent } from "./pubsub.js";
import { onOutboxNotified } from "./outbox-signal.js";
import { metrics } from "../metrics.js";

interface EventRow {
  id: bigint;
  accountId: string;
  seq: bigint;
  type: string;
  inboxId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export interface DispatcherOptions {
  /** Poll interval for events written by other processes (default 250 ms). */
  pollMs?: number;
  /** Rows claimed per round (default 500). */
  batchSize?: number;
  log?: (msg: string) => void;
}

/** Converts a stored outbox row into the event subscribers receive. */
export function toRealtimeEvent(row: Pick<EventRow, "accountId" | "seq" | "type" | "inboxId" | "payload">): RealtimeEvent {
  return { accountId: row.accountId, seq: row.seq.toString(), type: row.type, inboxId: row.inboxId, payload: row.payload };
}

/**
 * Publishes committed outbox rows (`Event` with publishedAt null) to the pubsub, oldest first.
 * Rows are claimed with FOR UPDATE SKIP LOCKED, so several servers on one database publish each
 * event once; with Redis every server's subscribers receive it. A failed publish un-claims the
 * rows, and subscribers that resume with a cursor read missed events from the table anyway.
 */
export function startEventDispatcher(prisma: PrismaClient, pubsub: AppPubSub, opts: DispatcherOptions = {}) {
  const pollMs = opts.pollMs ?? 250;
  const batchSize = opts.batchSize ?? 500;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  async function round(): Promise<number> {
    // Through `pg`, not Prisma: this runs after every commit that records events (src/db/sql.ts).
    const rows = await sqlQuery<EventRow>(prisma, Prisma.sql`
      UPDATE "Event" SET "publishedAt" = now()
      WHERE id IN (SELECT id FROM "Event" WHERE "publishedAt" IS NULL ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id, "accountId", seq, type, "inboxId", payload, "createdAt"`);
    rows.sort((a, b) => (a.accountId === b.accountId ? Number(a.seq - b.seq) : a.accountId < b.accountId ? -1 : 1));
    let published = 0;
    try {
      for (const row of rows) {
        pubsub.publish("account:event", row.accountId, { ...toRealtimeEvent(row), committedAt: row.createdAt.getTime() });
        published++;
        metrics.eventsPublished.inc({ type: row.type });
      }
    } catch (err) {
      const left = rows.slice(published).map((r) => r.id);
      await sqlExecute(prisma, Prisma.sql`UPDATE "Event" SET "publishedAt" = NULL WHERE id = ANY(${left}::bigint[])`);
      throw err;
    }
    return rows.length;
  }

  async function drain() {
    do {
      again = false;
      try {
        while (!stopped && (await round()) === batchSize);
      } catch (err) {
        if (!stopped) opts.log?.(`[realtime] dispatch failed: ${(err as Error).message}`);
      }
    } while (again && !stopped);
  }

  function kick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain().finally(() => {
      running = undefined;
    });
  }

  const unsubscribe = onOutboxNotified(kick);
  const tick = () => {
    kick();
    if (!stopped) timer = setTimeout(tick, pollMs);
  };
  tick();

  return {
    /** Publishes pending events now. */
    kick,
    async stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
      await running;
    },
  };
}
