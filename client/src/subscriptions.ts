import { Kind, print, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Client } from "graphql-ws";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { RequestError } from "./errors.js";

/** What to do with a resumable subscription's results. */
export interface SubscriptionHandlers<TData> {
  /** One event. `cursor` is its `eventCursor`: persist it if the app can be killed, and pass it back as `after`. */
  next(data: TData, cursor: string | null): void;
  /**
   * The subscription ended for good: the server refused the operation (RequestError: bad
   * arguments, FORBIDDEN, UNAUTHENTICATED, RATE_LIMITED), the socket closed with a code that
   * retrying cannot fix (4400, 4401, 4403 other than an expired token, 4500...), or the retries
   * ran out. Connection losses are not reported here: they are retried.
   */
  error?(error: unknown): void;
  /** The server completed the subscription. */
  complete?(): void;
  /** A result carried errors (e.g. one event's object failed to load); the subscription goes on. */
  resultErrors?(errors: readonly GraphQLFormattedError[]): void;
  /** The connection was lost; the client resubscribes with `after` in `delayMs`. */
  reconnecting?(info: { attempt: number; delayMs: number; cause: unknown }): void;
}

/** Reconnect backoff: `baseDelayMs * 2^(attempt-1)` up to `maxDelayMs`, with ±25% jitter. */
export interface RetryOptions {
  /** Attempts after a loss before giving up (reported through `error`). Default: no limit. */
  attempts?: number;
  /** Default 500 ms. */
  baseDelayMs?: number;
  /** Default 15 s. */
  maxDelayMs?: number;
}

export interface ResumableSubscription {
  /** The last `eventCursor` received (or the `after` it started from). */
  readonly cursor: string | null;
  /** Stops it (and any pending reconnect). */
  dispose(): void;
}

/** graphql-ws close codes that a new connection with the same options cannot fix. */
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4004, 4005, 4406, 4409, 4429, 4500]);

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && typeof (value as { code?: unknown }).code === "number";
}

/** Whether a subscription's error is a lost connection (retry) rather than a refusal (report). */
export function isRetryable(error: unknown): boolean {
  // graphql-ws hands a refused operation over as its GraphQL errors.
  if (Array.isArray(error)) return false;
  if (isCloseEvent(error)) {
    // This server closes with 4403 "Token expired" when the token runs out; the token option is
    // asked again on the next connection, so a refreshed token resumes.
    if (error.code === 4403) return error.reason === "Token expired";
    return !FATAL_CLOSE_CODES.has(error.code);
  }
  // Connection refused, DNS, a network change: an Error or an ErrorEvent.
  return true;
}

/** The operation's root field, checked to take `$after` and select `eventCursor`. */
function resumableRootField(document: DocumentNode): string {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const [operation] = operations;
  if (operations.length !== 1 || operation.operation !== "subscription") throw new TypeError("subscribe() takes a document with one subscription operation");
  if (!operation.variableDefinitions?.some((v) => v.variable.name.value === "after")) throw new TypeError("A resumable subscription must declare `$after: String` and pass it to its field");
  const [root] = operation.selectionSet.selections;
  if (operation.selectionSet.selections.length !== 1 || root.kind !== Kind.FIELD) throw new TypeError("A resumable subscription selects exactly one root field");
  const selects = (set: SelectionSetNode | undefined): boolean =>
    !!set?.selections.some((s) =>
      s.kind === Kind.FIELD ? s.name.value === "eventCursor" && !s.alias : s.kind === Kind.INLINE_FRAGMENT ? selects(s.selectionSet) : selects(fragments.get(s.name.value)?.selectionSet),
    );
  if (!selects(root.selectionSet)) throw new TypeError(`A resumable subscription must select \`eventCursor\` on \`${root.name.value}\``);
  return root.alias?.value ?? root.name.value;
}

/**
 * Subscribes and keeps the subscription through connection losses, the mobile recipe built in:
 * it remembers the `eventCursor` of the last event delivered and, after a loss (network, server
 * restart, expired token), resubscribes with `after: <that cursor>`. The server replays what was
 * missed, in order, then goes on live, so no event is lost or repeated across the gap.
 *
 * Give it a graphql-ws client that does not retry by itself (`retryAttempts: 0`, as
 * createInboxClient sets), so that losses come here and are retried with this backoff.
 */
export function subscribeResumable<TData, TVars extends { after?: string | null }>(
  ws: Client,
  document: TypedDocumentNode<TData, TVars>,
  variables: Omit<TVars, "after">,
  handlers: SubscriptionHandlers<TData>,
  options: { after?: string | null; retry?: RetryOptions } = {},
): ResumableSubscription {
  const field = resumableRootField(document);
  const query = print(document);
  const { attempts = Number.POSITIVE_INFINITY, baseDelayMs = 500, maxDelayMs = 15_000 } = options.retry ?? {};
  let cursor = options.after ?? null;
  let failures = 0;
  let disposed = false;
  let stop: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A successful connection resets the backoff (the socket is shared by all subscriptions).
  const offConnected = ws.on("connected", () => (failures = 0));

  const end = () => {
    disposed = true;
    clearTimeout(timer);
    offConnected();
  };

  const start = () => {
    // graphql-ws sends this same object again if it reconnects by itself (it does after a 1000
    // close even with retries off): keeping `after` current in it makes that resume right too.
    const payload = { query, variables: { ...variables, after: cursor } as Record<string, unknown> };
    stop = ws.subscribe<TData>(payload, {
      next: (result) => {
        if (disposed) return;
        if (result.errors?.length) handlers.resultErrors?.(result.errors);
        if (!result.data) return;
        const value = (result.data as Record<string, { eventCursor?: string | null } | null>)[field];
        if (value?.eventCursor) payload.variables.after = cursor = value.eventCursor;
        handlers.next(result.data, value?.eventCursor ?? null);
      },
      error: (error) => {
        stop = null;
        if (disposed) return;
        failures += 1;
        if (!isRetryable(error) || failures > attempts) {
          end();
          handlers.error?.(Array.isArray(error) ? RequestError.from(error) : error);
          return;
        }
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1));
        const delayMs = Math.round(backoff * (0.75 + Math.random() * 0.5));
        handlers.reconnecting?.({ attempt: failures, delayMs, cause: error });
        timer = setTimeout(() => !disposed && start(), delayMs);
      },
      complete: () => {
        stop = null;
        if (disposed) return;
        end();
        handlers.complete?.();
      },
    });
  };
  start();

  return {
    get cursor() {
      return cursor;
    },
    dispose() {
      if (disposed) return;
      end();
      stop?.();
    },
  };
}
