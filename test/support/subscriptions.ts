import type { Client, ExecutionResult } from "graphql-ws";
import { print, type DocumentNode } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";

/** A live subscription that records what arrives, with a way to wait for a count. */
export interface Recorder<T> {
  results: T[];
  errors: unknown[];
  /** Resolves once `n` results arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<T[]>;
  dispose(): void;
}

/** Subscribes over graphql-ws and records each payload's data. */
export function record<TData, TVars extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
): Recorder<TData> {
  const results: TData[] = [];
  const errors: unknown[] = [];
  const waiters: Array<{ n: number; resolve: (r: TData[]) => void }> = [];
  const dispose = client.subscribe<TData>(
    { query: print(document as DocumentNode), variables },
    {
      next: (value: ExecutionResult<TData>) => {
        if (value.errors) errors.push(value.errors);
        if (value.data) results.push(value.data);
        for (const w of [...waiters]) if (results.length >= w.n) w.resolve(results.slice());
      },
      error: (err) => errors.push(err),
      complete: () => {},
    },
  );
  return {
    results,
    errors,
    dispose,
    waitFor(n, ms = 15_000) {
      if (results.length >= n) return Promise.resolve(results.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${n} results, got ${results.length}: ${JSON.stringify(results)} errors: ${JSON.stringify(errors)}`)), ms);
        waiters.push({ n, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
  };
}
