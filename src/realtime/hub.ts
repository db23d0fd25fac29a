import type { AppPubSub, RealtimeEvent } from "./pubsub.js";
import { getProcessLogger } from "../log.js";

export type EventListener = (event: RealtimeEvent) => void;

interface AccountFeed {
  listeners: Set<EventListener>;
  stop: () => void;
}

/**
 * Fans one account's live events out to every subscriber on this server. The pubsub (memory or
 * Redis) is subscribed once per account with subscribers, not once per subscriber, and each event
 * reaches the listeners synchronously: a thousand agents cost one pubsub iteration, not a thousand.
 */
export class EventHub {
  private readonly feeds = new Map<string, AccountFeed>();

  constructor(private readonly pubsub: AppPubSub) {}

  /** Calls `listener` with each of the account's events until the returned function is called. */
  listen(accountId: string, listener: EventListener): () => void {
    let feed = this.feeds.get(accountId);
    if (!feed) feed = this.open(accountId);
    feed.listeners.add(listener);
    return () => {
      feed.listeners.delete(listener);
      if (feed.listeners.size === 0 && this.feeds.get(accountId) === feed) {
        this.feeds.delete(accountId);
        feed.stop();
      }
    };
  }

  /** Open account feeds and their listeners (for leak tests). */
  get size(): { feeds: number; listeners: number } {
    let listeners = 0;
    for (const feed of this.feeds.values()) listeners += feed.listeners.size;
    return { feeds: this.feeds.size, listeners };
  }

  private open(accountId: string): AccountFeed {
    const iterator = this.pubsub.subscribe("account:event", accountId)[Symbol.asyncIterator]();
    const feed: AccountFeed = { listeners: new Set(), stop: () => void iterator.return?.() };
    this.feeds.set(accountId, feed);
    void (async () => {
      // The first next() attaches the pubsub listener at once, before any later await.
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        for (const listener of feed.listeners) {
          try {
            listener(r.value);
          } catch (err) {
            getProcessLogger().error({ component: "realtime", err }, "event listener failed");
          }
        }
      }
    })().catch((err) => getProcessLogger().error({ component: "realtime", err }, "account feed ended"));
    return feed;
  }
}

const hubs = new WeakMap<AppPubSub, EventHub>();

/** The hub of a server's pubsub (one per server, so servers in one process stay apart). */
export function hubFor(pubsub: AppPubSub): EventHub {
  let hub = hubs.get(pubsub);
  if (!hub) hubs.set(pubsub, (hub = new EventHub(pubsub)));
  return hub;
}
