import type { PrismaClient } from "../generated/prisma/client.js";
import type { AppPubSub, RealtimeEvent } from "./pubsub.js";
import { toRealtimeEvent } from "./dispatcher.js";
import { hubFor } from "./hub.js";

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

/**
 * A stream that can hand its events to a callback, synchronously and in order, instead of through
 * `next()` promises: `iterator[PUSH](onEvent)`. From then on `next()` settles only when the stream
 * ends (done) or fails (rejects). Fanning one event out to a thousand subscribers this way costs
 * no promise per subscriber between the hub and the result (see pushEvents in shared-execution.ts).
 */
export const PUSH: unique symbol = Symbol("push events");
export type PushableIterator<T> = AsyncIterableIterator<T> & { [PUSH]?: (onEvent: (event: T) => void) => void };

/** An event's cursor as a number; every subscriber reads the same live event in turn, so one entry caches it. */
let cachedEvent: RealtimeEvent | undefined;
let cachedSeq = 0n;
function seqOf(event: RealtimeEvent): bigint {
  if (event !== cachedEvent) {
    cachedSeq = BigInt(event.seq);
    cachedEvent = event;
  }
  return cachedSeq;
}
/** Events a pulling subscriber (SSE) may leave unread before its stream ends (it resumes with `after`); pushed streams are bounded by the socket instead. */
export const MAX_UNREAD_EVENTS = 10_000;

/** Ends a stream whose client does not keep up; the client resumes with its last cursor. */
export class SubscriberTooSlowError extends Error {
  constructor() {
    super(`More than ${MAX_UNREAD_EVENTS} events unread: resubscribe with \`after\` set to the last eventCursor received`);
  }
}

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
 * server's hub, with any cursor missing before a live one (published late, by another server, or
 * while Redis was down) read from the outbox table first. With `after`, missed events are replayed
 * from the table before live ones. Returning the iterator (unsubscribe, disconnect) frees
 * everything at once.
 *
 * Live events that need no database work (the usual case) go from the hub to the reader without
 * an await: this runs once per subscriber per event.
 */
export function accountEventStream(opts: EventStreamOptions): PushableIterator<RealtimeEvent> {
  const { prisma, accountId, accept } = opts;
  const ready: RealtimeEvent[] = [];
  const incoming: RealtimeEvent[] = [];
  let reader: { resolve: (r: IteratorResult<RealtimeEvent>) => void; reject: (err: unknown) => void } | undefined;
  let failure: unknown;
  let closed = false;
  let busy = true; // until the starting point is known
  let last = 0n;
  let onEvent: ((event: RealtimeEvent) => void) | undefined;

  const deliver = (event: RealtimeEvent) => {
    if (onEvent) onEvent(event);
    else if (reader) {
      const r = reader;
      reader = undefined;
      r.resolve({ value: event, done: false });
    } else if (ready.push(event) > MAX_UNREAD_EVENTS) fail(new SubscriberTooSlowError());
  };

  /** Takes one event in cursor order; a promise only when it needs the database. */
  const take = (event: RealtimeEvent): void | Promise<void> => {
    last = seqOf(event);
    // Access changes travel in the same ordered stream: later events see the new access.
    if (event.type === "access.changed") return opts.onAccessChanged?.();
    const ok = accept(event);
    if (ok === true) deliver(event);
    else if (ok !== false) return ok.then((yes) => void (yes && !closed && deliver(event)));
  };

  const replay = async (before?: bigint) => {
    for (let page = await eventsBetween(prisma, accountId, last, before); page.length > 0 && !closed; page = await eventsBetween(prisma, accountId, last, before)) {
      for (const event of page) await take(event);
      if (before !== undefined && last >= before - 1n) break;
    }
  };

  const drain = async () => {
    busy = true;
    try {
      for (let i = 0; i < incoming.length && !closed; i++) {
        const event = incoming[i];
        const seq = seqOf(event);
        if (seq <= last) continue;
        if (seq > last + 1n) await replay(seq);
        const pending = take(event);
        if (pending) await pending;
      }
      incoming.length = 0;
    } catch (err) {
      fail(err);
    } finally {
      busy = false;
    }
  };

  const unlisten = hubFor(opts.pubsub).listen(accountId, (event) => {
    if (closed) return;
    // The usual case, the next cursor with nothing queued: taken here, without a drain.
    if (!busy && incoming.length === 0 && event.type !== "access.changed" && seqOf(event) === last + 1n) {
      const pending = take(event);
      if (pending) {
        busy = true;
        pending.then(drain, (err) => {
          busy = false;
          fail(err);
        });
      }
      return;
    }
    incoming.push(event);
    if (!busy) void drain();
  });

  const close = () => {
    if (closed) return;
    closed = true;
    unlisten();
    ready.length = 0;
    incoming.length = 0;
    reader?.resolve({ value: undefined, done: true });
    reader = undefined;
  };

  function fail(err: unknown) {
    if (closed) return;
    if (reader) {
      reader.reject(err);
      reader = undefined;
      close();
    } else {
      failure = err;
      ready.length = 0;
      unlisten();
      closed = true;
    }
  }

  // Listening before reading the starting point: nothing falls between.
  void (async () => {
    try {
      if (opts.after !== undefined) {
        last = opts.after;
        await replay();
      } else {
        const account = await prisma.account.findUnique({ where: { id: accountId }, select: { eventSeq: true } });
        last = account?.eventSeq ?? 0n;
      }
    } catch (err) {
      fail(err);
    }
    await drain();
  })();

  return {
    next() {
      if (ready.length > 0) return Promise.resolve({ value: ready.shift()!, done: false });
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (closed) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (reader = { resolve, reject }));
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err?: unknown) {
      close();
      return Promise.reject(err);
    },
    [PUSH](handler) {
      onEvent = handler;
      while (ready.length > 0 && !closed) handler(ready.shift()!);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
