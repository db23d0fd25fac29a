import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphQLClient } from "graphql-request";
import { ConvPublishDocument, ConvReplyDocument, RtMessageAddedDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp } from "./support/conversation-fixtures.js";
import { startWebhookReceiver } from "./support/webhook-receiver.js";
import { eventually } from "./support/eventually.js";
import { record } from "./support/subscriptions.js";

const METRICS_TOKEN = randomBytes(24).toString("hex");
let t: TestServer;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let worker: { stop(): Promise<void> };

beforeAll(async () => {
  t = await startTestServer({ METRICS_TOKEN, DELIVERY_WORKER: "false" });
  receiver = await startWebhookReceiver();
  worker = startDeliveryWorker(t.server.services, { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 60_000 });
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await t?.close();
});

const metricsUrl = () => t.url.replace("/graphql", "/metrics");

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

/** The value of one series (`name{labels}`) in a scrape, 0 when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe("GET /metrics", () => {
  test("with METRICS_TOKEN set, a scraper without the bearer token gets 401", async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: "Bearer wrong-token-of-some-length" } })).status).toBe(401);
    const text = await scrape();
    expect(text).toContain("# TYPE inbox_graphql_operations_total counter");
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(value(text, "inbox_db_pool_max_connections")).toBeGreaterThanOrEqual(1);
    expect(value(text, "inbox_db_embedded")).toBe(process.env.DATABASE_URL ? 0 : 1);
  });

  test("a query moves the operation counter, latency histogram and HTTP counter; names are bounded", async () => {
    const a = await createTestAccount(t.prisma);
    const client = t.client(await t.tokenFor(a.agent));
    const before = await scrape();
    await client.request("query MetricsProbe { viewer { id } }");
    await client.request("{ viewer { id } }");
    const after = await scrape();
    expect(value(after, "inbox_graphql_operations_total", { operation: "MetricsProbe", type: "query" }) - value(before, "inbox_graphql_operations_total", { operation: "MetricsProbe", type: "query" })).toBe(1);
    expect(value(after, "inbox_graphql_operations_total", { operation: "anonymous", type: "query" }) - value(before, "inbox_graphql_operations_total", { operation: "anonymous", type: "query" })).toBe(1);
    expect(value(after, "inbox_graphql_operation_duration_seconds_count", { operation: "MetricsProbe", type: "query" })).toBeGreaterThanOrEqual(1);
    expect(value(after, "inbox_http_requests_total", { route: "/graphql", status: "200" }) - value(before, "inbox_http_requests_total", { route: "/graphql", status: "200" })).toBeGreaterThanOrEqual(2);
    // The query text never becomes a label.
    expect(after).not.toContain("viewer { id }");
  });

  test("errors are counted by operation and code; invalid documents by stage", async () => {
    const before = await scrape();
    const res = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "query Broken { noSuchField }" }) });
    expect((await res.json()).errors?.length).toBeGreaterThan(0);
    await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "query {" }) });
    const after = await scrape();
    expect(value(after, "inbox_graphql_invalid_operations_total", { stage: "validate" }) - value(before, "inbox_graphql_invalid_operations_total", { stage: "validate" })).toBe(1);
    expect(value(after, "inbox_graphql_invalid_operations_total", { stage: "parse" }) - value(before, "inbox_graphql_invalid_operations_total", { stage: "parse" })).toBe(1);
    // A name from a document that never validated gets no series of its own.
    expect(after).not.toContain('operation="Broken"');
  });

  test("a subscription, an intake, a published event with its delivery lag, and a failed delivery move their metrics", async () => {
    const a = await createTestAccount(t.prisma);
    const app = await createPartnerApp(t.prisma, t.server.services.auth, { webhookUrl: receiver.url });
    const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
    const channel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: app.app.id });
    const partner = new GraphQLClient(t.url, { headers: { authorization: `Bearer ${app.token}` } });
    const before = await scrape();

    const ws = t.ws(await t.tokenFor(a.agent));
    const live = record(ws, RtMessageAddedDocument, {});
    await eventually(async () => {
      const now = await scrape();
      expect(value(now, "inbox_graphql_subscriptions_active", { transport: "websocket" })).toBe(value(before, "inbox_graphql_subscriptions_active", { transport: "websocket" }) + 1);
      expect(value(now, "inbox_websocket_connections")).toBe(value(before, "inbox_websocket_connections") + 1);
    });

    const pub = await partner.request(ConvPublishDocument, {
      input: { channelId: toGlobalId("Channel", channel.id), externalId: `m-${randomBytes(4).toString("hex")}`, sender: { name: "Cleo", handle: "cleo" }, text: "Hello?" },
    });
    if (pub.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error("publish failed");
    await live.waitFor(1);

    // The partner's webhook answers 500 once: the reply's delivery fails, then is retried and sent.
    receiver.failNext(500);
    const agent = t.client(await t.tokenFor(a.agent));
    const reply = await agent.request(ConvReplyDocument, { input: { conversationId: pub.publishInboundMessage.conversationId, text: "Hi Cleo" } });
    expect(reply.reply.__typename).toBe("MessageResult");

    const after = await eventually(async () => {
      const now = await scrape();
      expect(value(now, "inbox_outbound_delivery_attempts_total", { kind: "PARTNER_WEBHOOK", outcome: "sent" }) - value(before, "inbox_outbound_delivery_attempts_total", { kind: "PARTNER_WEBHOOK", outcome: "sent" })).toBe(1);
      return now;
    });
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta("inbox_graphql_subscriptions_total", { operation: "RtMessageAdded" })).toBe(1);
    expect(delta("inbox_websocket_connections_total")).toBe(1);
    expect(delta("inbox_intake_messages_total", { kind: "MESSAGE", outcome: "new" })).toBe(1);
    expect(delta("inbox_realtime_events_published_total", { type: "message.added" })).toBeGreaterThanOrEqual(2);
    expect(delta("inbox_realtime_delivery_lag_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(value(after, "inbox_realtime_delivery_lag_seconds_sum")).toBeGreaterThan(0);
    expect(delta("inbox_outbound_delivery_failures_total", { kind: "PARTNER_WEBHOOK" })).toBe(1);
    expect(delta("inbox_outbound_delivery_attempts_total", { kind: "PARTNER_WEBHOOK", outcome: "retry" })).toBe(1);
    await eventually(async () => expect(value(await scrape(), "inbox_outbound_deliveries_pending", { kind: "PARTNER_WEBHOOK" })).toBe(0));

    live.dispose();
    await eventually(async () => {
      const now = await scrape();
      expect(value(now, "inbox_graphql_subscriptions_active", { transport: "websocket" })).toBe(value(before, "inbox_graphql_subscriptions_active", { transport: "websocket" }));
    });
  });

  test("the queue depth counts pending deliveries by kind", async () => {
    const a = await createTestAccount(t.prisma);
    await t.prisma.outboundDelivery.create({ data: { accountId: a.accountId, kind: "EMAIL", payload: {}, nextAttemptAt: new Date(Date.now() + 3_600_000) } });
    expect(value(await scrape(), "inbox_outbound_deliveries_pending", { kind: "EMAIL" })).toBe(1);
  });
});
