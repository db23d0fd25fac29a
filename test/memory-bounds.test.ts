import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { cacheStats } from "../src/bounded-lru.js";
import { DOCUMENT_CACHE_MAX_BYTES, DOCUMENT_CACHE_MAX_ENTRIES } from "../src/http/document-cache.js";
import { createRateLimits, MAX_COUNTED_CALLERS } from "../src/http/rate-limit.js";
import { sharedLoad, SHARED_LOAD_MAX_ENTRIES } from "../src/realtime/shared-load.js";
import { hubFor } from "../src/realtime/hub.js";
import { heldSubscriptionSlots } from "../src/realtime/limits.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

/**
 * Issue 24: a run of malformed requests grew the server's memory by 330 MB. Caches whose keys a
 * client chooses (documents, identities, selections) must stay within their bounds however many
 * distinct keys arrive, and a bounded burst of odd requests must leave the heap near where it was.
 */

let ts: TestServer;
let account: TestAccount;
let token: string;

beforeAll(async () => {
  ts = await startTestServer();
  account = await createTestAccount(ts.prisma);
  token = await ts.tokenFor(account.agent);
});
afterAll(() => ts?.close());

const post = async (body: string, headers: Record<string, string> = { "content-type": "application/json" }) => {
  const res = await fetch(ts.url, { method: "POST", headers, body });
  await res.arrayBuffer();
  return res.status;
};
const query = (q: string, variables?: unknown) => post(JSON.stringify({ query: q, variables }), { "content-type": "application/json", authorization: `Bearer ${token}` });

/** Runs `count` requests made by `make`, `concurrency` at a time. */
async function burst(count: number, make: (i: number) => Promise<unknown>, concurrency = 8) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await make(next++);
  }));
}

const base = (path: string) => ts.url.replace(/\/graphql$/, path);

/** One round of every kind of odd request; `tag` makes each request's text distinct. */
async function oddRequests(n: number, tag: string) {
  const statuses: number[] = [];
  const note = (s: number) => void statuses.push(s);
  // Documents that fail validation: 100 errors each (cached, these held the whole request).
  await burst(n, (i) => query(`query V${tag}${i} { ${Array.from({ length: 150 }, (_, k) => `nope${k}_${i}`).join(" ")} }`).then(note));
  // Syntax errors near the size limit.
  await burst(n, (i) => query(`{ __typename ${"x".repeat(14_000)}${tag}${i} `).then(note));
  // Distinct valid documents, many tokens each (the heaviest documents to keep).
  await burst(n, (i) => query(`query D${tag}${i} { ${"__typename ".repeat(300)}}`).then(note));
  // Odd bodies and content types, wrong argument values, invalid global ids.
  await burst(n, (i) => post(`{"query": "{ __typename ${tag}${i}`).then(note));
  await burst(n, (i) => post(`query=${tag}${i}`, { "content-type": "application/x-www-form-urlencoded" }).then(note));
  await burst(n, (i) => query(`query ($id: ID!) { node(id: $id) { id } }`, { id: `${tag}${i}${"=".repeat(i % 7)}` }).then(note));
  await burst(n, (i) => query(`query ($n: Int) { conversations(first: $n) { totalCount } }`, { n: `${tag}${i}` }).then(note));
  // Transports: raw email and webhooks to unknown channels, with distinct paths and bodies.
  await burst(n, (i) =>
    fetch(base(`/inbound/email/${tag}${i}`), { method: "POST", headers: { "content-type": "message/rfc822" }, body: `Message-ID: <${tag}${i}>\r\n\r\n${"<div>".repeat(200)}` })
      .then(async (r) => (await r.arrayBuffer(), note(r.status))),
  );
  await burst(n, (i) =>
    fetch(base("/webhooks/messenger"), { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${tag}${i}` }, body: `{"object":"page","entry":[${i}]}` })
      .then(async (r) => (await r.arrayBuffer(), note(r.status))),
  );
  await burst(n, (i) =>
    fetch(base(`/inbound/calls/${tag}${i}`), { method: "POST", headers: { "content-type": "application/json" }, body: `{"callId":"${tag}${i}"}` })
      .then(async (r) => (await r.arrayBuffer(), note(r.status))),
  );
  // WebSocket: garbage frames, and subscriptions with distinct failing documents.
  await burst(Math.ceil(n / 10), async (i) => {
    const socket = new WebSocket(ts.wsUrl, "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
    for (let k = 0; k < 10; k++) socket.send(JSON.stringify({ id: `${k}`, type: "subscribe", payload: { query: `subscription S${tag}${i}_${k} { nope${k} }` } }));
    socket.send(`{"type":"${tag}${i}"`);
    await closed;
  }, 4);
  return statuses;
}

function heapMb(): number {
  global.gc!();
  global.gc!();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe("memory under bad input", () => {
  it("keeps every cache keyed by what a client sends within its bounds, and the heap near where it started", async () => {
    await oddRequests(20, "warm"); // code paths loaded and compiled before measuring
    const before = heapMb();
    const statuses = await oddRequests(400, randomBytes(3).toString("hex"));
    const after = heapMb();

    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const stats = cacheStats();
    const documents = stats["graphql documents"];
    // 400 heavy documents (~110 kB estimated each) are more than the budget holds: it is full, not over.
    expect(documents.entries).toBeLessThanOrEqual(DOCUMENT_CACHE_MAX_ENTRIES);
    expect(documents.weight).toBeLessThanOrEqual(DOCUMENT_CACHE_MAX_BYTES);
    expect(documents.weight).toBeGreaterThan(DOCUMENT_CACHE_MAX_BYTES * 0.9);
    // Failing documents are not kept at all: only valid ones (and the warm-up's) are cached.
    expect(documents.entries).toBeLessThan(400 + 100);
    // Nothing of the WebSocket connections is left.
    expect(hubFor(ts.server.services.pubsub).size).toEqual({ feeds: 0, listeners: 0 });
    expect(heldSubscriptionSlots()).toBe(0);
    // Stated bound: the document budget plus 32 MiB of slack for everything else (before the
    // fix, 2,100 such requests grew the heap by ~320 MB).
    expect(after - before).toBeLessThan(DOCUMENT_CACHE_MAX_BYTES / 2 ** 20 + 32);
  });

  it("counts at most MAX_COUNTED_CALLERS callers in memory, however many addresses call", async () => {
    const limits = createRateLimits({ ...ts.config.rateLimit, operationsMax: 1 });
    try {
      for (let i = 0; i < MAX_COUNTED_CALLERS + 5_000; i++) {
        await limits.spend({ ...ts.server.services, requestId: "r", kind: "anonymous", ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` });
      }
      const windows = cacheStats()["rate-limit windows"];
      // This budget's MAX_COUNTED_CALLERS, and the test server's own few callers.
      expect(windows.entries).toBeGreaterThanOrEqual(MAX_COUNTED_CALLERS);
      expect(windows.entries).toBeLessThan(MAX_COUNTED_CALLERS + 100);
      // The budget still holds for a caller seen recently: a second operation is refused.
      const last = MAX_COUNTED_CALLERS + 4_999;
      expect(await limits.spend({ ...ts.server.services, requestId: "r", kind: "anonymous", ip: `10.${last >> 16}.${(last >> 8) & 255}.${last & 255}` })).toEqual({ retryAfterSeconds: expect.any(Number) });
    } finally {
      await limits.close();
    }
  });

  it("keeps at most SHARED_LOAD_MAX_ENTRIES shared loads, however many selections arrive", async () => {
    for (let i = 0; i < SHARED_LOAD_MAX_ENTRIES + 2_000; i++) await sharedLoad(`bounds:${i}`, async () => i);
    expect(cacheStats()["shared loads"].entries).toBe(SHARED_LOAD_MAX_ENTRIES);
    // A key loaded last is still shared.
    let loads = 0;
    await sharedLoad(`bounds:${SHARED_LOAD_MAX_ENTRIES + 1_999}`, async () => ++loads);
    expect(loads).toBe(0);
  });
});
