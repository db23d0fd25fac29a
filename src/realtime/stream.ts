import { Repeater } from "graphql-yoga";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { AppPubSub, RealtimeEvent } from "./pubsub.js";
import { toRealtimeEvent } from "./dispatcher.js";

export interface EventStreamOptions {
  prisma: PrismaClient;
  pubsub: AppPubSub;
  accountId: string;
  /** Resume after this cursor: every later event is replayed from the database first. */
  after?: bigint;
  /** Decides, per event, whether the subscriber gets it (access, kind, muting...). */
  accept: (event: RealtimeEvent) => boolean | Promise<boolean>;
  /** Called at each `access.changed` event (memberships, roles, preferences), before later events are filtered. */
  onAccessChanged?: () => Promise<void>;
}

const PAGE = 500;

async function eventsBetween(prisma: PrismaClient, accountId: string, after: bigint, before?: bigint): Promise<RealtimeEvent[]> {
  const rows = await prisma.event.findMany({
    where: { accountId, seq: before === undefined ? { gt: after } : { gt: after, lt: before } },
    orderBy: { seq: "asc" },
    take: PAGE,
  });
  return rows.map((r) => toRealtimeEvent({ ...r, payload: r.payload as Record<string, unknown> }));
}

/**
 * One account's events, in cursor order, with no gap and no duplicate: live events from the
 * pubsub, with any cursor missing before a live one (published late, by another server, or while
 * Redis was down) read from the outbox table first. With `after`, missed events are replayed from
 * the table before live ones. Returning the iterator (unsubscribe, disconnect) frees the pubsub
 * subscription at once.
 */
export function accountEventStream(opts: EventStreamOptions): AsyncIterableIterator<RealtimeEvent> {
  const { prisma, pubsub, accountId, accept } = opts;
  return new Repeater<RealtimeEvent>(async (push, stop) => {
    const live = pubsub.subscribe("account:event", accountId);
    let done = false;
    void stop.then(() => {
      done = true;
      void live.return?.();
    });

    let last: bigint;
    const emit = async (event: RealtimeEvent) => {
      last = BigInt(event.seq);
      // Access changes travel in the same ordered stream: later events see the new access.
      if (event.type === "access.changed") await opts.onAccessChanged?.();
      else if (await accept(event)) await push(event);
    };
    // Subscribed to live events before reading the starting point: nothing falls between.
    if (opts.after !== undefined) {
      last = opts.after;
      for (let page = await eventsBetween(prisma, accountId, last); page.length > 0 && !done; page = await eventsBetween(prisma, accountId, last)) {
        for (const event of page) await emit(event);
      }
    } else {
      const account = await prisma.account.findUnique({ where: { id: accountId }, select: { eventSeq: true } });
      last = account?.eventSeq ?? 0n;
    }

    try {
      for await (const event of live) {
        if (done) break;
        const seq = BigInt(event.seq);
        if (seq <= last) continue;
        while (seq > last + 1n && !done) {
          const missing = await eventsBetween(prisma, accountId, last, seq);
          if (missing.length === 0) break;
          for (const m of missing) await emit(m);
        }
        await emit(event);
      }
    } catch (err) {
      if (!done) throw err;
    }
    await stop;
  });
}
