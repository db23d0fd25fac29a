import type { AgentContext } from "../context.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { accountEventStream } from "../realtime/stream.js";
import { acquireSubscriptionSlot } from "../realtime/limits.js";
import { hasRole, memberInboxIds } from "./access.js";
import { READ_EVENT } from "./read-state.js";

/** Events after which a caller's view counts may have changed. */
const TYPES = new Set(["conversation.created", "conversation.updated", "message.added", READ_EVENT]);

/** Least time between two pushes to one subscriber (events in between are coalesced into one push). */
export const VIEW_COUNTS_MIN_INTERVAL_MS = Number(process.env.VIEW_COUNTS_MIN_INTERVAL_MS ?? 1000);

/** What viewCountsChanged pushes on: "recount now". Carries no cursor, so no execution is shared. */
export interface RecountSignal {
  readonly recount: true;
}

/**
 * The source of `viewCountsChanged`: one signal at once (the current counts), then one after
 * the account's conversation events that can change the caller's counts, at most one per
 * VIEW_COUNTS_MIN_INTERVAL_MS however many arrive (the counts are recomputed when pushed, so a
 * coalesced push is never stale). Events of inboxes the caller cannot see (admins: all inboxes)
 * and other agents' read positions are ignored; access changes are followed. A plain iterator:
 * `return()` ends the account stream and frees the slot at once.
 */
export function viewCountSignals(ctx: AgentContext): AsyncIterableIterator<RecountSignal> {
  const release = acquireSubscriptionSlot(`user:${ctx.user.id}`);
  let admin = hasRole(ctx.user.role, "ADMIN");
  let inboxes: Set<string> | null = null;
  const loadAccess = async () => {
    const [ids, user] = await Promise.all([memberInboxIds(ctx), ctx.prisma.user.findUnique({ where: { id: ctx.user.id }, select: { role: true, removedAt: true } })]);
    admin = !!user && !user.removedAt && hasRole(user.role, "ADMIN");
    inboxes = user && !user.removedAt ? new Set(ids) : new Set();
  };
  const accept = async (event: RealtimeEvent) => {
    if (!TYPES.has(event.type) || !event.inboxId) return false;
    if (event.type === READ_EVENT && event.payload.userId !== ctx.user.id) return false;
    if (admin) return true;
    if (!inboxes) await loadAccess();
    return inboxes!.has(event.inboxId);
  };
  const source = accountEventStream({ prisma: ctx.prisma, pubsub: ctx.pubsub, accountId: ctx.accountId, accept, onAccessChanged: loadAccess });

  let dirty = true; // the first push: the counts as they are
  let ended = false;
  let lastPush = 0;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failure: unknown;
  const signal: RecountSignal = { recount: true };

  (async () => {
    try {
      for (;;) {
        const r = await source.next();
        if (r.done || ended) break;
        dirty = true;
        wake?.();
      }
    } catch (err) {
      failure = err;
    }
    finish();
  })();

  function finish() {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    release();
    void source.return?.();
    wake?.();
  }

  const iterator: AsyncIterableIterator<RecountSignal> = {
    async next() {
      for (;;) {
        if (failure) throw failure;
        if (ended) return { done: true, value: undefined };
        if (dirty) {
          const wait = lastPush + VIEW_COUNTS_MIN_INTERVAL_MS - Date.now();
          if (wait <= 0) {
            dirty = false;
            lastPush = Date.now();
            return { done: false, value: signal };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, wait);
          });
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        wake = undefined;
      }
    },
    async return() {
      finish();
      return { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      finish();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
