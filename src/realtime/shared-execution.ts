import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import type { RealtimeEvent } from "./pubsub.js";
import { PUSH, type PushableIterator } from "./stream.js";
import { selectsPerCallerField, sharedContextFor, subscriberScopeOf, variablesResultsDependOn } from "./subscriber-scope.js";

/**
 * One event, many subscribers: a subscription event is executed once per server for every
 * subscriber that sent the same document and variables with the same scope, and they all receive
 * that one result. Without this, a message in an inbox with 1,000 agents runs the same GraphQL
 * execution 1,000 times.
 *
 * The scope is everything a result may depend on (subscriber-scope.ts): the account, the role
 * and, below ADMIN, the set of inboxes the caller can see, as of the event being executed (it
 * changes at `access.changed` events). The shared execution runs with a context built from that
 * scope alone, never with the first subscriber's: its `user` answers `role` and `accountId` and
 * throws on anything else, and `visibleInboxWhere` filters by the scope's inbox set.
 *
 * What a field must do to stay shareable: read the caller only through `ctx.accountId`,
 * `ctx.user.role` and `visibleInboxWhere(ctx)`. A field whose value depends on more of the caller
 * (who it is, its read state, its preferences) declares `extensions: { perCaller: true }`; a
 * subscription selecting such a field is then shared only among that caller's own subscriptions.
 * A field that reads more without declaring it fails loudly (CallerSpecificReadError) instead of
 * leaking one subscriber's view to another.
 *
 * Results live for a few seconds, keyed by the event's account and cursor and the group.
 */
const TTL_MS = 5_000;
const results = new Map<string, { at: number; value: Promise<ExecutionResult> | ExecutionResult }>();
let lastSweep = 0;
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

/** Executions actually run and results shared since start (for tests and the benchmark). */
export const sharedExecutionStats = { executed: 0, shared: 0 };

/** The document, operation and variables part of a group key. */
function operationKey(args: ExecutionArgs): string {
  let doc = documentIds.get(args.document);
  if (doc === undefined) documentIds.set(args.document, (doc = nextDocumentId++));
  return `${doc}|${args.operationName ?? ""}|${JSON.stringify(variablesResultsDependOn(args.schema, args.document, args.operationName, args.variableValues))}`;
}

/**
 * The group of a subscription at its current event: callers in one group see equal results.
 * Undefined means "not shared" (an agent subscription that recorded no scope, anonymous callers).
 * The key is rebuilt only when the subscriber's scope changes.
 */
function groupOfSubscription(args: ExecutionArgs, perCaller: boolean): () => string | undefined {
  const ctx = args.contextValue as Context;
  const operation = operationKey(args);
  if (ctx.kind === "visitor") {
    const group = `visitor:${ctx.accountId}:${ctx.conversationId}|${operation}`;
    return () => group;
  }
  if (ctx.kind !== "agent") return () => undefined;
  let version = -1;
  let group: string | undefined;
  return () => {
    const entry = subscriberScopeOf(ctx);
    if (!entry) return undefined;
    if (entry.version !== version) {
      version = entry.version;
      group = `agent:${ctx.accountId}:${entry.key}${perCaller ? `:user:${ctx.user.id}` : ""}|${operation}`;
    }
    return group;
  };
}

/**
 * Every subscriber of a live event holds the same event object (the hub hands one object to all),
 * so results are found by that object first: no key is built per subscriber. Replayed events are
 * read per subscriber, so they fall back to the account-and-cursor key.
 */
const byEvent = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
/** The event most recently looked up: its subscribers come one after another. */
let lastEvent: object | undefined;
let lastGroups: Map<string, Promise<ExecutionResult> | ExecutionResult> | undefined;

function sharedResult(
  event: RealtimeEvent,
  group: string,
  run: (event: RealtimeEvent) => Promise<ExecutionResult> | ExecutionResult,
): Promise<ExecutionResult> | ExecutionResult {
  let groups = event === lastEvent ? lastGroups : byEvent.get(event);
  const hit = groups?.get(group);
  if (hit) {
    sharedExecutionStats.shared++;
    return hit;
  }
  if (!groups) byEvent.set(event, (groups = new Map()));
  lastEvent = event;
  lastGroups = groups;
  const value = sharedByKey(`${event.accountId}:${event.seq}|${group}`, () => run(event));
  groups.set(group, value);
  if (value instanceof Promise) value.catch(() => groups.delete(group));
  return value;
}

function sharedByKey(key: string, run: () => Promise<ExecutionResult> | ExecutionResult): Promise<ExecutionResult> | ExecutionResult {
  const now = Date.now();
  if (now - lastSweep > TTL_MS) {
    lastSweep = now;
    for (const [k, e] of results) if (now - e.at > TTL_MS) results.delete(k);
  }
  const hit = results.get(key);
  if (hit) {
    sharedExecutionStats.shared++;
    return hit.value;
  }
  sharedExecutionStats.executed++;
  const value = run();
  results.set(key, { at: now, value });
  if (value instanceof Promise) value.catch(() => results.delete(key));
  return value;
}

/**
 * Maps each source event to its (shared) result, in order, for transports that iterate results
 * (SSE; WebSocket takes them pushed, below). It reads ahead: the next events' executions start
 * while earlier results are still being sent, so a burst's results are ready together.
 */
const LOOKAHEAD = 8;
function mapEvents(source: AsyncIterator<unknown>, toResult: (event: unknown) => Promise<ExecutionResult> | ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  const pending: Promise<IteratorResult<ExecutionResult>>[] = [];
  let reading = false;
  let ended = false;
  const readAhead = () => {
    if (reading || ended || pending.length >= LOOKAHEAD) return;
    reading = true;
    const result = source.next().then(
      async (r): Promise<IteratorResult<ExecutionResult>> => {
        reading = false;
        if (r.done) {
          ended = true;
          return { value: undefined, done: true };
        }
        readAhead();
        return { value: await toResult(r.value), done: false };
      },
      (err) => {
        reading = false;
        ended = true;
        throw err;
      },
    );
    result.catch(() => {}); // a failure read ahead surfaces when its turn comes, not as unhandled
    pending.push(result);
  };
  return {
    next() {
      readAhead();
      const result = pending.shift();
      readAhead();
      return result ?? Promise.resolve({ value: undefined, done: true });
    },
    async return() {
      ended = true;
      pending.length = 0;
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(err?: unknown) {
      ended = true;
      pending.length = 0;
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Where a transport that writes results itself (our WebSocket) takes a subscription's results. */
export interface ResultSink {
  next(result: ExecutionResult): void;
}
const sinks = new WeakMap<object, ResultSink>();

/**
 * Asks that the subscription run with `context` hand each result straight to `sink` instead of
 * yielding it: the iterator the transport gets then yields nothing, and ends (or throws) when the
 * subscription does. This skips the per-result promise layers between the event and the socket
 * (result hooks, the protocol's async loop), which dominate the cost of fanning an event out.
 */
export function deliverTo(context: object, sink: ResultSink) {
  sinks.set(context, sink);
}

/**
 * Pushes the results of a subscription's events to the sink, in order, once the transport starts
 * iterating. The returned iterator's first `next()` settles when the stream ends or fails;
 * `return()` (unsubscribe, disconnect) ends the stream. A stream that can push (PUSH) hands each
 * event over synchronously, so a result already computed for another subscriber reaches the sink
 * in the same turn, with no promise in between; other streams are pulled.
 */
function pushEvents(source: AsyncIterator<unknown>, toResult: (event: unknown) => Promise<ExecutionResult> | ExecutionResult, sink: ResultSink): AsyncIterableIterator<ExecutionResult> {
  let stopped = false;
  let ended: Promise<IteratorResult<ExecutionResult>> | undefined;
  const pull = async (): Promise<IteratorResult<ExecutionResult>> => {
    for (;;) {
      const r = await source.next();
      if (r.done || stopped) return { value: undefined, done: true };
      let result = toResult(r.value);
      if (result instanceof Promise) result = await result;
      if (stopped) return { value: undefined, done: true };
      sink.next(result);
    }
  };
  const stop = async () => {
    stopped = true;
    await source.return?.();
    return { value: undefined, done: true as const };
  };
  const push = (source as PushableIterator<unknown>)[PUSH];
  const run = push ? () => pushed(source, push, toResult, sink, () => stopped, stop) : pull;
  return {
    next: () => (ended ??= run()),
    return: stop,
    async throw(err?: unknown) {
      await stop();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Told once a shared result settles: with its value, or with the error it failed with. */
interface Waiter {
  settled(value: ExecutionResult | undefined, error?: unknown): void;
}
const settledWaiters = new WeakMap<Promise<ExecutionResult>, Waiter[]>();
/** The result most recently waited for: every subscriber of an event asks for the same one in turn. */
let lastResult: Promise<ExecutionResult> | undefined;
let lastWaiters: Waiter[] = [];

/**
 * Tells `waiter` once `result` settles. Every subscriber of an event waits for the same shared
 * result: they are told in one loop from one reaction, not from one promise job each.
 */
function whenSettled(result: Promise<ExecutionResult>, waiter: Waiter) {
  if (result === lastResult) {
    lastWaiters.push(waiter);
    return;
  }
  let waiters = settledWaiters.get(result);
  if (!waiters) {
    const list: Waiter[] = (waiters = []);
    settledWaiters.set(result, list);
    const done = () => {
      settledWaiters.delete(result);
      if (lastResult === result) lastResult = undefined;
    };
    result.then(
      (value) => {
        done();
        for (const w of list) w.settled(value);
      },
      (error) => {
        done();
        for (const w of list) w.settled(undefined, error ?? new Error("Subscription result failed"));
      },
    );
  }
  lastResult = result;
  lastWaiters = waiters;
  waiters.push(waiter);
}

/** A result that waits behind an earlier one still being computed. */
class Slot implements Waiter {
  value?: ExecutionResult;
  constructor(private readonly owner: PushedResults) {}
  settled(value: ExecutionResult | undefined, error?: unknown) {
    if (error !== undefined) return this.owner.fail(error);
    this.value = value;
    this.owner.sendReady();
  }
}

/**
 * One subscription's results, pushed to its sink in event order, each as soon as it and every
 * earlier one are ready. The usual case, a result with nothing before it still unsent, takes no
 * allocation: the subscription itself waits for it (`waiting`); later results queue behind it.
 */
class PushedResults implements Waiter {
  /** Results not sent yet, in event order, behind the one `waiting` for (if any). */
  private readonly queue: Slot[] = [];
  private waiting = false;
  private failed = false;
  ended = false;

  constructor(
    private readonly toResult: (event: unknown) => Promise<ExecutionResult> | ExecutionResult,
    private readonly sink: ResultSink,
    private readonly stopped: () => boolean,
    private readonly stop: () => Promise<unknown>,
    private readonly resolve: (r: IteratorResult<ExecutionResult>) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  onEvent(event: unknown) {
    if (this.stopped() || this.failed) return;
    let result: Promise<ExecutionResult> | ExecutionResult;
    try {
      result = this.toResult(event);
    } catch (err) {
      return this.fail(err);
    }
    const first = !this.waiting && this.queue.length === 0;
    if (!(result instanceof Promise)) {
      if (first) this.send(result);
      else {
        const slot = new Slot(this);
        slot.value = result;
        this.queue.push(slot);
      }
    } else if (first) {
      this.waiting = true;
      whenSettled(result, this);
    } else {
      const slot = new Slot(this);
      this.queue.push(slot);
      whenSettled(result, slot);
    }
  }

  /** The result this subscription was waiting for (the earliest unsent) settled. */
  settled(value: ExecutionResult | undefined, error?: unknown) {
    this.waiting = false;
    if (error !== undefined) return this.fail(error);
    this.send(value!);
    this.sendReady();
  }

  sendReady() {
    const queue = this.queue;
    while (!this.waiting && queue.length > 0 && queue[0].value !== undefined) this.send(queue.shift()!.value!);
    if (this.ended && !this.waiting && queue.length === 0) this.resolve({ value: undefined, done: true });
  }

  fail(err: unknown) {
    if (this.failed) return;
    this.failed = true;
    this.queue.length = 0;
    this.reject(err);
    void this.stop();
  }

  /** The stream ended: done once what is left is sent (nothing is, after an unsubscribe). */
  end() {
    this.ended = true;
    if (this.stopped()) {
      this.queue.length = 0;
      this.waiting = false;
    }
    this.sendReady();
  }

  private send(result: ExecutionResult) {
    if (this.stopped() || this.failed) return;
    try {
      this.sink.next(result);
    } catch (err) {
      this.fail(err);
    }
  }
}

/**
 * The push side of pushEvents: results in event order, each sent as soon as it and every earlier
 * one are ready. Settles done when the stream ends; rejects (and ends the stream) when computing
 * or sending a result fails.
 */
function pushed(
  source: AsyncIterator<unknown>,
  push: (onEvent: (event: unknown) => void) => void,
  toResult: (event: unknown) => Promise<ExecutionResult> | ExecutionResult,
  sink: ResultSink,
  stopped: () => boolean,
  stop: () => Promise<unknown>,
): Promise<IteratorResult<ExecutionResult>> {
  return new Promise((resolve, reject) => {
    const results = new PushedResults(toResult, sink, stopped, stop, resolve, reject);
    push.call(source, (event) => results.onEvent(event));
    source.next().then(
      () => results.end(),
      (err) => results.fail(err),
    );
  });
}

/** graphql's `subscribe`, with each event's execution shared between subscribers of one scope. */
export async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
  // After createSourceEventStream: the subscribe resolver has recorded the subscriber's scope.
  const perCaller = selectsPerCallerField(args.schema, args.document);
  const groupNow = groupOfSubscription(args, perCaller);
  const ctx = args.contextValue as Context;
  const toResult = (event: unknown) => {
    const e = event as Partial<RealtimeEvent>;
    const group = groupNow();
    if (group === undefined || e.accountId === undefined || e.seq === undefined) return execute({ ...args, rootValue: event });
    return sharedResult(e as RealtimeEvent, group, (ev) => execute({ ...args, contextValue: sharedContextFor(ctx, perCaller), rootValue: ev }));
  };
  const sink = sinks.get(args.contextValue as object);
  if (sink) return pushEvents(source[Symbol.asyncIterator](), toResult, sink);
  return mapEvents(source[Symbol.asyncIterator](), toResult);
}

/** Makes Yoga (HTTP SSE and graphql-ws alike) run subscriptions through `sharedSubscribe`. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}
