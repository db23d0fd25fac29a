/**
 * A subscription stream fed by callbacks: `start(push)` wires its sources (pubsub topics,
 * timers) and returns their cleanup, which runs at once when the subscriber leaves (return()),
 * not when the next value arrives. Values pushed while nobody waits are queued in order.
 */
export function signalStream<T>(start: (push: (value: T) => void, fail: (err: unknown) => void) => () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const queue: T[] = [];
      let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | undefined;
      let failure: { err: unknown } | undefined;
      let ended = false;
      const done = { done: true as const, value: undefined };
      const cleanup = start(
        (value) => {
          if (ended) return;
          if (waiting) {
            const w = waiting;
            waiting = undefined;
            w.resolve({ done: false, value });
          } else queue.push(value);
        },
        (err) => {
          if (ended) return;
          failure = { err };
          if (waiting) waiting.reject(err);
          waiting = undefined;
        },
      );
      const end = () => {
        if (ended) return;
        ended = true;
        cleanup();
        waiting?.resolve(done);
        waiting = undefined;
      };
      return {
        next(): Promise<IteratorResult<T>> {
          if (queue.length) return Promise.resolve({ done: false, value: queue.shift()! });
          if (failure) return Promise.reject(failure.err);
          if (ended) return Promise.resolve(done);
          return new Promise((resolve, reject) => (waiting = { resolve, reject }));
        },
        async return(): Promise<IteratorResult<T>> {
          end();
          return done;
        },
        async throw(err?: unknown): Promise<IteratorResult<T>> {
          end();
          throw err;
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

/** Iterates a pubsub subscription, calling `onValue` for each, until the returned stop runs. */
export function consume<T>(source: AsyncIterable<T>, onValue: (value: T) => void, onError: (err: unknown) => void): () => void {
  const it = source[Symbol.asyncIterator]();
  let stopped = false;
  void (async () => {
    for (let r = await it.next(); !r.done && !stopped; r = await it.next()) onValue(r.value);
  })().catch(onError);
  return () => {
    stopped = true;
    void it.return?.();
  };
}
