import client from "prom-client";

/**
 * The process's Prometheus metrics (served at GET /metrics, src/http/routes/metrics.ts). One
 * registry per process, as Prometheus expects: every server replica is scraped on its own.
 * Labels are bounded: operation names (operationLabel), outbound kinds, event types and routes
 * come from fixed sets, never from request text.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  httpRequests: new client.Counter({ name: "inbox_http_requests_total", help: "HTTP requests answered, by route and status code.", labelNames: ["route", "status"], registers: [registry] }),
  httpDuration: new client.Histogram({ name: "inbox_http_request_duration_seconds", help: "HTTP request latency, by route.", labelNames: ["route"], buckets: LATENCY_BUCKETS, registers: [registry] }),
  operations: new client.Counter({ name: "inbox_graphql_operations_total", help: "GraphQL operations executed (HTTP and WebSocket), by operation name and type.", labelNames: ["operation", "type"], registers: [registry] }),
  operationErrors: new client.Counter({ name: "inbox_graphql_errors_total", help: "GraphQL errors returned, by operation name, type and error code.", labelNames: ["operation", "type", "code"], registers: [registry] }),
  invalidOperations: new client.Counter({ name: "inbox_graphql_invalid_operations_total", help: "GraphQL documents refused before execution, by stage (parse, validate).", labelNames: ["stage"], registers: [registry] }),
  operationDuration: new client.Histogram({ name: "inbox_graphql_operation_duration_seconds", help: "GraphQL query and mutation execution latency, by operation name and type.", labelNames: ["operation", "type"], buckets: LATENCY_BUCKETS, registers: [registry] }),
  subscriptionsActive: new client.Gauge({ name: "inbox_graphql_subscriptions_active", help: "GraphQL subscriptions currently running (WebSocket and SSE).", labelNames: ["transport"], registers: [registry] }),
  subscriptionsStarted: new client.Counter({ name: "inbox_graphql_subscriptions_total", help: "GraphQL subscriptions started, by operation name.", labelNames: ["operation"], registers: [registry] }),
  wsConnections: new client.Gauge({ name: "inbox_websocket_connections", help: "Open WebSocket connections.", registers: [registry] }),
  wsConnectionsOpened: new client.Counter({ name: "inbox_websocket_connections_total", help: "WebSocket connections accepted.", registers: [registry] }),
  eventsPublished: new client.Counter({ name: "inbox_realtime_events_published_total", help: "Outbox events this process published to subscribers, by event type.", labelNames: ["type"], registers: [registry] }),
  deliveryLag: new client.Histogram({
    name: "inbox_realtime_delivery_lag_seconds",
    help: "Live events: from the writing transaction (the outbox row's createdAt) to each result's first WebSocket write queued (once per shared result, not per subscriber).",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  outboundAttempts: new client.Counter({ name: "inbox_outbound_delivery_attempts_total", help: "Outbound delivery attempts (webhooks, email, Graph API, notifications), by kind and outcome (sent, retry, failed).", labelNames: ["kind", "outcome"], registers: [registry] }),
  outboundFailures: new client.Counter({ name: "inbox_outbound_delivery_failures_total", help: "Outbound delivery attempts that failed (retried or given up), by kind.", labelNames: ["kind"], registers: [registry] }),
  outboundPending: new client.Gauge({ name: "inbox_outbound_deliveries_pending", help: "Outbound deliveries waiting in the queue (PENDING), by kind; read from the database at scrape time.", labelNames: ["kind"], registers: [registry] }),
  intake: new client.Counter({ name: "inbox_intake_messages_total", help: "Inbound customer messages received (every transport), by kind and outcome (new, duplicate).", labelNames: ["kind", "outcome"], registers: [registry] }),
  dbPool: new client.Gauge({ name: "inbox_db_pool_connections", help: "Database pool: connections open (total), idle, and queries waiting for one (waiting); read at scrape time.", labelNames: ["state"], registers: [registry] }),
  dbPoolMax: new client.Gauge({ name: "inbox_db_pool_max_connections", help: "Database pool size limit (1 on the embedded database).", registers: [registry] }),
  dbEmbedded: new client.Gauge({ name: "inbox_db_embedded", help: "1 when this server runs the embedded database (PGlite), 0 on PostgreSQL.", registers: [registry] }),
};

/** Distinct operation names given their own label value before the rest count as "other". */
export const MAX_OPERATION_NAMES = 200;
const operationNames = new Set<string>();

/**
 * The `operation` label of an operation name: "anonymous" without one; the name itself for the
 * first MAX_OPERATION_NAMES distinct names seen (call it only for validated documents); "other"
 * after that, so clients sending ever new names cannot grow the series without bound.
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return "anonymous";
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES || !/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name)) return "other";
  operationNames.add(name);
  return name;
}

/** Routes of the HTTP metrics: the path's known prefix, else "other". */
const ROUTES = ["/graphql", "/health", "/metrics", "/widget", "/inbound/calls", "/inbound/email", "/webhooks/messenger", "/webhooks/whatsapp", "/attachments", "/graphiql"];
export function routeLabel(path: string): string {
  return ROUTES.find((r) => path === r || path.startsWith(`${r}/`)) ?? "other";
}

/** Counts one intake (src/services/intake.ts). */
export function recordIntake(kind: string, duplicate: boolean) {
  metrics.intake.inc({ kind, outcome: duplicate ? "duplicate" : "new" });
}

/** Counts one outbound attempt (src/services/deliveries.ts). */
export function recordOutboundAttempt(kind: string, outcome: "sent" | "retry" | "failed") {
  metrics.outboundAttempts.inc({ kind, outcome });
  if (outcome !== "sent") metrics.outboundFailures.inc({ kind });
}
