import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import type { RealtimeEvent } from "./pubsub.js";
import { deliverTo, pushEvents, sinkOf, type ResultSink } from "./pushed-results.js";
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

/** When each live event's result was committed (RealtimeEvent.committedAt), set once per execution. */
const committedAt = new WeakMap<object, number>();

/**
 * The commit time of the live event a (shared) result answers, the first time it is asked for:
 * the delivery-lag metric is observed once per result, at its first socket, not once per
 * subscriber (an observation costs ~0.7 µs; a result may go to thousands of sockets).
 */
export function takeCommittedAt(result: object): number | undefined {
  const at = committedAt.get(result);
  if (at !== undefined) committedAt.delete(result);
  return at;
}

function stamped(value: Promise<ExecutionResult> | ExecutionResult, at: number | undefined): Promise<ExecutionResult> | ExecutionResult {
  if (at === undefined) return value;
  // Registered before any subscriber waits on it, so the time is known when the first result is sent.
  if (value instanceof Promise) value.then((r) => committedAt.set(r, at), () => undefined);
  else committedAt.set(value, at);
  return value;
}

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
  const value = sharedByKey(`${event.accountId}:${event.seq}|${group}`, () => stamped(run(event), event.committedAt));
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

export { deliverTo, type ResultSink };

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
    if (group === undefined || e.accountId === undefined || e.seq === undefined) return stamped(execute({ ...args, rootValue: event }) as Promise<ExecutionResult> | ExecutionResult, e.committedAt);
    return sharedResult(e as RealtimeEvent, group, (ev) => execute({ ...args, contextValue: sharedContextFor(ctx, perCaller), rootValue: ev }));
  };
  const sink = sinkOf(args.contextValue as object);
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
