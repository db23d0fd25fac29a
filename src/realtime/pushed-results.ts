import type { ExecutionResult } from "graphql";
import { PUSH, type PushableIterator } from "./stream.js";

/**
 * How a subscription's results reach a transport that writes them itself (our WebSocket): pushed
 * to a sink in event order, with no per-result promise between the shared result and the socket.
 * Used by shared-execution.ts.
 */

/** Where a transport that writes results itself (our WebSocket) takes a subscription's results. */
export interface ResultSink {
  next(result: ExecutionResult): void;
}
const sinks = new WeakMap<object, ResultSink>();

/** The sink a subscription running with `context` pushes to, if its transport asked for one. */
export function sinkOf(context: object): ResultSink | undefined {
  return sinks.get(context);
}

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
export function pushEvents(source: AsyncIterator<unknown>, toResult: (event: unknown) => Promise<ExecutionResult> | ExecutionResult, sink: ResultSink): AsyncIterableIterator<ExecutionResult> {
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
