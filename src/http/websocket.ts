import { randomUUID } from "node:crypto";
import type http from "node:http";
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import { CloseCode } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Config } from "../config.js";
import { bearerToken, createContext, type Services } from "../context.js";
import { nextFramePrefix, sendNext, serveGraphQLOverWebSocket } from "./ws-connections.js";
import { closeAfterFlush, setMaxCoalesceMs } from "./ws-frames.js";
import { maskResult } from "./errors.js";
import { deliverTo, takeCommittedAt } from "../realtime/shared-execution.js";
import type { Logger } from "../log.js";
import { metrics } from "../metrics.js";
import { agentSocketOpened } from "../services/presence.js";

/** Largest WebSocket message accepted; bigger ones close the socket with 1009. */
export const WS_MAX_PAYLOAD = 1024 * 1024;
// setTimeout overflows past ~24.8 days; longer-lived tokens are re-checked when this fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Per-connection state kept beside graphql-ws's own `socket` and `request`. */
type ConnectionState = {
  expiryTimer?: NodeJS.Timeout;
  /** An agent's socket: its presence registration (src/services/presence.ts), ended on close. */
  presence?: Promise<(() => Promise<void>) | undefined>;
};
type Extra = ConnectionState & { socket: WebSocket; request: http.IncomingMessage };

/** Errors go over the socket as JSON: drop the HTTP-only hints (status, headers) Yoga would strip. */
function withoutHttp(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((e) => {
    const json: GraphQLFormattedError = e.toJSON();
    if (json.extensions && "http" in json.extensions) {
      const { http: _http, ...rest } = json.extensions;
      return { ...json, extensions: rest };
    }
    return json;
  });
}

/** Closes the socket with 4403 when the agent's token expires, so a subscription never outlives its authority. */
function scheduleExpiry(extra: Extra, expiresAt: number | undefined) {
  clearTimeout(extra.expiryTimer);
  if (!expiresAt) return;
  const delay = expiresAt * 1000 - Date.now();
  if (delay <= 0) return closeAfterFlush(extra.socket, CloseCode.Forbidden, "Token expired");
  extra.expiryTimer = setTimeout(() => scheduleExpiry(extra, expiresAt), Math.min(delay, MAX_TIMER_MS));
  extra.expiryTimer.unref();
}

/**
 * graphql-ws (`graphql-transport-ws`) on `/graphql` of the given HTTP server. Every operation goes
 * through `yoga.getEnveloped`, so the same plugins as HTTP (limits, rate limits, masking) apply.
 */
export function startWebSocketServer(opts: {
  httpServer: http.Server;
  path: string;
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  services: Services;
  config: Config;
  logger: Logger;
}) {
  const { yoga, services, config } = opts;
  const log = opts.logger.child({ component: "websocket" });
  // No per-message compression: our frames are written whole, beside ws's own (src/http/ws-frames.ts).
  const wss = new WebSocketServer({ server: opts.httpServer, path: opts.path, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false });
  setMaxCoalesceMs(config.websocket.maxCoalesceMs);
  const server = serveGraphQLOverWebSocket<Record<string, unknown>, ConnectionState>(
    {
      connectionInitWaitTimeout: config.websocket.initTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        if (authorization !== undefined && authorization !== null && typeof authorization !== "string") return false; // 4403
        if (!bearerToken(authorization)) return true;
        // The same check as every HTTP request's: a token whose user, partner or account no
        // longer matches is refused here (4403 Forbidden), not once per subscription.
        const caller = await createContext(services, { authorization, requestId: randomUUID() });
        if (caller.kind === "anonymous") return false;
        scheduleExpiry(ctx.extra, caller.tokenExpiresAt);
        if (caller.kind === "agent") {
          // Presence must never refuse a connection: a failure (Redis down) is logged, not thrown.
          ctx.extra.presence = agentSocketOpened(services, caller.accountId, caller.user.id).catch((err) => void log.error({ err }, "presence registration failed"));
        }
        return true;
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
        void ctx.extra.presence?.then((closed) => closed?.()).catch((err) => log.error({ err }, "presence deregistration failed"));
      },
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as Promise<ExecutionResult>,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as Promise<ExecutionResult>,
      onSubscribe: async (ctx, id, params) => {
        // ctx.subscriptions already holds this operation's id.
        if (Object.keys(ctx.subscriptions).length > config.websocket.maxSubscriptions) {
          return [
            new GraphQLError(`At most ${config.websocket.maxSubscriptions} operations can run at once on one connection`, {
              extensions: { code: "TOO_MANY_SUBSCRIPTIONS" },
            }),
          ];
        }
        const requestId = randomUUID();
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          requestId,
          ip: ctx.extra.request.socket.remoteAddress,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        const contextValue = await contextFactory();
        // Subscription results go from the shared execution straight to this socket.
        const socket = ctx.extra.socket;
        const prefix = nextFramePrefix(id);
        deliverTo(contextValue, {
          next: (result) => {
            const committedAt = takeCommittedAt(result);
            if (committedAt !== undefined) metrics.deliveryLag.observe((Date.now() - committedAt) / 1000);
            const masked = result.errors?.length ? (maskResult(result, requestId, log) ?? result) : result;
            sendNext(socket, prefix, masked.errors?.length ? { ...masked, errors: withoutHttp(masked.errors) } : masked);
          },
        });
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors?.length ? { ...result, errors: withoutHttp(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => withoutHttp(errors),
    },
    wss,
    log,
  );
  return {
    wss,
    /** Closes every client with 1001 and stops the server. */
    async close() {
      for (const client of wss.clients) closeAfterFlush(client, 1001, "Server shutting down");
      await server.dispose();
      wss.close();
    },
  };
}
