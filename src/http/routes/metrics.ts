import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Prisma } from "../../generated/prisma/client.js";
import type { Services } from "../../context.js";
import { bearerToken } from "../../context.js";
import { poolOf, sqlQuery } from "../../db/sql.js";
import { metrics, registry } from "../../metrics.js";

const OUTBOUND_KINDS = ["PARTNER_WEBHOOK", "EMAIL", "GRAPH_API", "NOTIFICATION_EMAIL"];

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Figures read at scrape time rather than kept up to date: the pool's state and the queue's depth. */
async function refreshScrapeTimeGauges(services: Services, embedded: boolean) {
  const pool = poolOf(services.prisma);
  if (pool) {
    metrics.dbPool.set({ state: "total" }, pool.totalCount);
    metrics.dbPool.set({ state: "idle" }, pool.idleCount);
    metrics.dbPool.set({ state: "waiting" }, pool.waitingCount);
    metrics.dbPoolMax.set(pool.options.max ?? 10);
  }
  metrics.dbEmbedded.set(embedded ? 1 : 0);
  // One indexed count per scrape (@@index([state, nextAttemptAt])); a failing database leaves the last figures.
  const rows = await sqlQuery<{ kind: string; n: number }>(services.prisma, Prisma.sql`
    SELECT kind::text AS kind, count(*)::int AS n FROM "OutboundDelivery" WHERE state = 'PENDING' GROUP BY kind`).catch(() => undefined);
  if (rows) for (const kind of new Set([...OUTBOUND_KINDS, ...rows.map((r) => r.kind)])) metrics.outboundPending.set({ kind }, rows.find((r) => r.kind === kind)?.n ?? 0);
}

/**
 * GET /metrics: this process's metrics in Prometheus' text format. With METRICS_TOKEN set, only a
 * scraper sending `Authorization: Bearer <token>` gets them (401 otherwise).
 */
export async function handleMetricsRequest(req: IncomingMessage, res: ServerResponse, services: Services, embedded: boolean) {
  const token = services.config.metrics.token;
  if (token && !tokenMatches(bearerToken(req.headers.authorization), token)) {
    res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="metrics"' });
    res.end(JSON.stringify({ error: "unauthorized" }));
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" });
    res.end();
    return;
  }
  await refreshScrapeTimeGauges(services, embedded);
  const body = await registry.metrics();
  res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : body);
}
