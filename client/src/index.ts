import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { ClientError, GraphQLClient } from "graphql-request";
import { createClient, type Client } from "graphql-ws";
import { RequestError } from "./errors.js";
import { subscribeResumable, type ResumableSubscription, type RetryOptions, type SubscriptionHandlers } from "./subscriptions.js";

export * from "./errors.js";
export * from "./generated/graphql.js";
export { isRetryable, subscribeResumable, type ResumableSubscription, type RetryOptions, type SubscriptionHandlers } from "./subscriptions.js";

type TokenSource = string | null | undefined | (() => string | null | undefined | Promise<string | null | undefined>);

export interface InboxClientOptions {
  /** The GraphQL endpoint, e.g. `https://inbox.example.com/graphql`. */
  url: string;
  /** The WebSocket endpoint. Default: `url` with http(s) turned into ws(s). */
  wsUrl?: string;
  /**
   * The agent's (or visitor's, or partner's) token, or a function asked before every HTTP request
   * and every WebSocket connection: return a refreshed token from it and a reconnect after
   * "Token expired" (4403) goes on with the new one.
   */
  token?: TokenSource;
  /** Extra headers on HTTP requests. */
  headers?: Record<string, string>;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default: the global WebSocket (browsers, React Native, Node 22+). On Node 20 pass the `ws` package's. */
  webSocketImpl?: unknown;
  /** Reconnect backoff of resumable subscriptions. */
  retry?: RetryOptions;
}

type VariablesArg<TVars> = Record<string, never> extends TVars ? [variables?: TVars] : [variables: TVars];

export interface InboxClient {
  /**
   * A query or mutation over HTTP; resolves with `data`. Top-level errors (UNAUTHENTICATED,
   * FORBIDDEN, RATE_LIMITED, bad arguments) throw a RequestError; a mutation's typed failures come
   * back in its result union: `unwrap()` it.
   */
  request<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, ...variables: VariablesArg<TVars>): Promise<TData>;
  /**
   * A subscription over WebSocket that survives connection losses and server restarts without
   * losing or repeating an event (see subscribeResumable). The document must take `$after` and
   * select `eventCursor`; pass a persisted cursor as `options.after` to resume after an app restart.
   */
  subscribe<TData, TVars extends { after?: string | null }>(
    document: TypedDocumentNode<TData, TVars>,
    variables: Omit<TVars, "after">,
    handlers: SubscriptionHandlers<TData>,
    options?: { after?: string | null; retry?: RetryOptions },
  ): ResumableSubscription;
  /** The underlying graphql-ws client (no retries of its own), for subscriptions without a cursor. */
  readonly ws: Client;
  /** Closes the WebSocket and stops every subscription. */
  dispose(): Promise<void>;
}

/** The typed client: graphql-request over HTTP, graphql-ws over WebSocket, one token source. */
export function createInboxClient(options: InboxClientOptions): InboxClient {
  const token = async () => (typeof options.token === "function" ? await options.token() : options.token) ?? null;
  const http = new GraphQLClient(options.url, { fetch: options.fetch, headers: options.headers });
  const ws = createClient({
    url: options.wsUrl ?? options.url.replace(/^http/, "ws"),
    webSocketImpl: options.webSocketImpl,
    lazy: true,
    // Losses are retried per subscription, with its cursor (subscribeResumable).
    retryAttempts: 0,
    connectionParams: async () => {
      const value = await token();
      return value ? { authorization: `Bearer ${value}` } : {};
    },
  });

  return {
    ws,
    async request<TData, TVars extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVars>, ...[variables]: VariablesArg<TVars>) {
      const value = await token();
      try {
        return await http.request<TData, Record<string, unknown>>({
          document,
          variables: variables ?? {},
          requestHeaders: value ? { authorization: `Bearer ${value}` } : {},
        });
      } catch (err) {
        if (err instanceof ClientError && err.response.errors?.length) throw RequestError.from(err.response.errors, err.response.status);
        throw err;
      }
    },
    subscribe: (document, variables, handlers, subscribeOptions = {}) => subscribeResumable(ws, document, variables, handlers, { retry: options.retry, ...subscribeOptions }),
    async dispose() {
      await ws.dispose();
    },
  };
}
