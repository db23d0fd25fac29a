import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createYoga, type YogaInitialContext, type YogaServerInstance } from "graphql-yoga";
import type { Config } from "./config.js";
import { createAuth } from "./auth.js";
import { createContext, type Context, type Services } from "./context.js";
import { checkDatabase, openDatabase } from "./db/database.js";
import { createRealtimeBus } from "./realtime/pubsub.js";
import { getSchema } from "./schema/index.js";
import { createMaskError, useRequestIdMasking, useRequestIdOnResponse } from "./http/errors.js";
import { useQueryLimits } from "./http/limits.js";
import { createDocumentCache } from "./http/document-cache.js";
import { createRateLimits } from "./http/rate-limit.js";
import { useCsrfPrevention } from "./http/csrf.js";
import { corsPolicyFor, useCors } from "./http/cors.js";
import { startWebSocketServer } from "./http/websocket.js";
import { handleTransportRequest } from "./http/transports.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { seedIfEmpty } from "./services/seed.js";
import { startAdminSocket } from "./admin/socket.js";
import { startEventDispatcher } from "./realtime/dispatcher.js";
import { useSharedSubscriptionExecution } from "./realtime/shared-execution.js";
import { startDeliveryWorker } from "./services/deliveries.js";
import { removeUnusedFiles } from "./services/attachments-store.js";
import { handleGraphiQLAsset, renderLocalGraphiQL } from "./http/graphiql.js";
import { createWidgetRoutes } from "./http/routes/widget.js";
import { createLogger, lineLog, type Logger } from "./log.js";
import { metrics, routeLabel } from "./metrics.js";
import { handleMetricsRequest } from "./http/routes/metrics.js";
import { useOperationObservability, type RequestObservation } from "./http/observe-operations.js";
import { startTracing } from "./tracing.js";
import { startSmtpIngress } from "./transports/email/smtp-ingress.js";
import { startConversationSweeper } from "./services/conversation-sweeper.js";
import { memoryPresenceStore, redisPresenceStore, registerPresenceStore } from "./realtime/presence-store.js";
import { wentOffline } from "./services/presence.js";

export interface RunningServer {
  url: string;
  port: number;
  prisma: PrismaClient;
  services: Services;
  /** The built-in SMTP receiver's address, when SMTP_LISTEN (or the embedded demo) turned it on. */
  smtp?: { host: string; port: number };
  /** Stops accepting, lets in-flight requests finish, closes sockets (1001) and the database. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Where the server logs; default a JSON logger on stdout at config.logLevel (src/log.ts). */
  logger?: Logger;
  /** @deprecated Ignored: progress lines go to `logger` (tests stay quiet through LOG_LEVEL's test default). */
  log?: (msg: string) => void;
}

type ServerContext = { requestId: string; ip?: string; observation?: RequestObservation };

/** Yoga's own messages (mostly request errors it answers itself) on the server's logger. */
function yogaLogger(logger: Logger) {
  const yoga = logger.child({ component: "yoga" });
  const at = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) =>
    args[0] instanceof Error ? yoga[level]({ err: args[0] }, String(args[1] ?? args[0].message)) : yoga[level](args.map(String).join(" "));
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Opens the database, builds the schema and serves /graphql (HTTP, SSE, WebSocket) and /health. */
/** Hourly: removes this server's stored files that no attachment names (unused uploads). */
function startUnusedFileSweeper(services: Pick<Services, "prisma" | "config">, log: (m: string) => void) {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = removeUnusedFiles(services.prisma, services.config)
      .then((n) => n && log(`[attachments] removed ${n} unused file(s)`))
      .catch((err) => log(`[attachments] sweep failed: ${(err as Error).message}`));
  }, 60 * 60 * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const log = lineLog(logger, "server");
  const tracing = await startTracing(config.tracing);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  if (db.embedded && config.seedOnEmptyEmbedded) await seedIfEmpty(db.prisma, log);
  const bus = createRealtimeBus(config.redisUrl, logger);
  const auth = await createAuth(config);
  const services: Services = { config, prisma: db.prisma, pubsub: bus.pubsub, auth, logger };
  // Who is connected, viewing, replying: in Redis across servers when there is one (src/realtime/presence-store.ts).
  const presence = config.redisUrl
    ? redisPresenceStore(config.redisUrl, { logger, onLapsed: (accountId, userId) => wentOffline(services, accountId, userId) })
    : memoryPresenceStore();
  registerPresenceStore(bus.pubsub, presence);
  // The embedded database takes one connection (ours): operator scripts come through this socket.
  const adminSocket = db.embedded ? await startAdminSocket(config.dataDir, db.prisma, auth) : undefined;
  const rateLimits = createRateLimits(config.rateLimit, config.redisUrl);
  // Background work: publish committed outbox events; send queued outbound deliveries.
  const dispatcher = startEventDispatcher(db.prisma, bus.pubsub, { log: (m) => logger.error({ component: "realtime" }, m) });
  const deliveries = config.deliveryWorker ? startDeliveryWorker(services, { log: (m) => logger.error({ component: "deliveries" }, m) }) : undefined;
  const fileSweeper = startUnusedFileSweeper(services, log);
  // Snoozes that are due reopen, trash past 30 days is purged: at start (a restart loses nothing), then on time.
  const conversationSweeper = startConversationSweeper(db.prisma, config, log);
  const endpoint = "/graphql";
  const documentCache = createDocumentCache();
  // The chat widget's scripts (src/http/routes/widget.ts), built on first request when not prebuilt.
  const widget = createWidgetRoutes(log, { services, rateLimits });

  const yoga = createYoga<ServerContext, Context>({
    schema: getSchema(),
    graphqlEndpoint: endpoint,
    graphiql: config.limits.introspection,
    // The page and its assets come from this server (src/http/graphiql.ts), never from a CDN.
    renderGraphiQL: renderLocalGraphiQL,
    landingPage: false,
    batching: false,
    maxRequestBodySize: config.limits.maxBodyBytes,
    // Bounded by size, failures not kept (src/http/document-cache.ts).
    parserAndValidationCache: documentCache.yogaOptions,
    logging: yogaLogger(logger),
    maskedErrors: { maskError: createMaskError(logger) },
    // CORS is decided by src/http/cors.ts (CORS_ORIGINS), not Yoga's default of echoing any origin with credentials.
    cors: false,
    // Order: mask with the request id first (its result hooks see every error), then refuse
    // oversized documents before they spend the caller's rate budget.
    plugins: [
      // Tracing first, so its operation span covers every other plugin's work.
      ...(tracing ? [tracing.plugin] : []),
      useOperationObservability(logger),
      useRequestIdMasking(logger),
      useQueryLimits(config.limits),
      ...rateLimits.plugins,
      useCors(corsPolicyFor(config)),
      useCsrfPrevention(endpoint),
      useRequestIdOnResponse(),
      useSharedSubscriptionExecution(),
      documentCache.plugin,
    ],
    context: (initial: YogaInitialContext & ServerContext & { connectionParams?: Record<string, unknown> }) =>
      createContext(services, {
        authorization: initial.connectionParams ? initial.connectionParams.authorization : initial.request.headers.get("authorization"),
        requestId: initial.requestId ?? randomUUID(),
      }),
  });

  const sockets = new Set<import("node:net").Socket>();
  const httpServer = http.createServer(async (req, res) => {
    const requestId = (typeof req.headers["x-request-id"] === "string" && /^[\w.-]{1,64}$/.test(req.headers["x-request-id"]) ? req.headers["x-request-id"] : randomUUID());
    res.setHeader("x-request-id", requestId);
    const path = (req.url ?? "/").split("?")[0];
    const observation = observeRequest(req, res, path, requestId, logger);
    if (path === "/metrics") return handleMetricsRequest(req, res, services, db.embedded);
    if (path === "/health" || path === "/health/ready" || path === "/health/live") {
      const live = path === "/health/live";
      const database = live ? true : await checkDatabase(db.prisma);
      res.writeHead(database ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: database ? "ok" : "unavailable", database: live ? undefined : database ? "ok" : "unavailable" }));
      return;
    }
    if (await widget.handle(req, res, path, requestId)) return;
    if (await handleGraphiQLAsset(req, res, path, config.limits.introspection)) return;
    if (await handleTransportRequest(req, res, services, requestId, rateLimits)) return;
    await yoga.handle(req, res, { requestId, ip: req.socket.remoteAddress, observation });
  });
  httpServer.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  // Receiving a request (headers and body) may not take longer than an operation may run.
  httpServer.requestTimeout = config.limits.requestTimeoutMs;
  httpServer.headersTimeout = Math.min(60_000, config.limits.requestTimeoutMs);
  const websocket = startWebSocketServer({
    httpServer,
    path: endpoint,
    yoga: yoga as unknown as YogaServerInstance<Record<string, unknown>, Record<string, unknown>>,
    services,
    config,
    logger,
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const smtp = config.transports.email.listen ? await startSmtpIngress(services, log) : undefined;
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = `http://${shownHost}:${port}/graphql`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    prisma: db.prisma,
    services,
    smtp: smtp && { host: smtp.host, port: smtp.port },
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await smtp?.close();
        await websocket.close();
        // Idle keep-alive sockets would hold close() open; busy ones finish their response first.
        httpServer.closeIdleConnections();
        const force = setTimeout(() => sockets.forEach((s) => s.destroy()), 10_000);
        await stopped;
        clearTimeout(force);
        await dispatcher.stop();
        await deliveries?.stop();
        await fileSweeper.stop();
        await conversationSweeper.stop();
        await adminSocket?.close();
        await rateLimits.close();
        await presence.close();
        await bus.close();
        await db.close();
        await tracing?.shutdown().catch((err) => logger.warn({ err }, "sending the last spans failed"));
      })()),
  };
}

/**
 * One JSON line per HTTP request when its response ends (request id, method, route, status,
 * duration, and for GraphQL the operation and caller the observation collected), plus the HTTP
 * metrics. Probes and scrapes log at debug only.
 */
function observeRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string, requestId: string, logger: Logger): RequestObservation {
  const started = performance.now();
  const observation: RequestObservation = {};
  const route = routeLabel(path);
  res.once("close", () => {
    const seconds = (performance.now() - started) / 1000;
    const status = res.headersSent ? res.statusCode : 0;
    metrics.httpRequests.inc({ route, status: String(status) });
    metrics.httpDuration.observe({ route }, seconds);
    const quiet = route === "/health" || route === "/metrics";
    logger[quiet ? "debug" : "info"]({ requestId, method: req.method, route, path, status, durationMs: Math.round(seconds * 1000), ...observation }, "request");
  });
  return observation;
}
