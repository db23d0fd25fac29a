import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAccount, createTestUser, startTestServer, type TestServer } from "./support/server.js";

type Reply = { status: number; retryAfter: string | null; body: any };

async function post(url: string, query: string, token?: string, variables?: unknown): Promise<Reply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

const PUBLISH = `mutation ($input: PublishInboundMessageInput!) { publishInboundMessage(input: $input) { __typename } }`;
const publishInput = { input: { channelId: "Q2hhbm5lbDp4", externalId: "e-1", sender: { name: "Visitor" }, text: "hi" } };
const prefix = `rl:test-${randomBytes(6).toString("hex")}:`;
const env = { RATE_LIMIT_INTAKE_MAX: "3", RATE_LIMIT_INTAKE_WINDOW_SECONDS: "60", RATE_LIMIT_OPERATIONS_MAX: "40", RATE_LIMIT_PREFIX: prefix };

let t: TestServer;
const tokens: string[] = [];
beforeAll(async () => {
  t = await startTestServer(env);
  const account = await createTestAccount(t.prisma);
  for (let i = 0; i < 3; i++) tokens.push(await t.tokenFor(await createTestUser(t.prisma, account.accountId, { role: "ADMIN" })));
});
afterAll(async () => t?.close());

describe("rate limits", () => {
  it("limits intake mutations per caller: the 4th call in the window gets 429, a typed error and Retry-After in seconds", async () => {
    const [a, b] = tokens;
    for (let i = 0; i < 3; i++) {
      const ok = await post(t.url, PUBLISH, a, publishInput);
      expect(ok.status).toBe(200);
      // An agent is not a partner: refused, but not yet rate limited.
      expect(JSON.stringify(ok.body)).toMatch(/FORBIDDEN|ForbiddenError/);
    }
    const limited = await post(t.url, PUBLISH, a, publishInput);
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).toBe("60");
    expect(limited.body.data ?? null).toBeNull();
    expect(limited.body.errors).toHaveLength(1);
    expect(limited.body.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: 60 });
    // Another caller has its own budget.
    expect((await post(t.url, PUBLISH, b, publishInput)).status).toBe(200);
  });

  it("limits every caller's operations per window with a general budget", async () => {
    const c = tokens[2];
    for (let i = 0; i < 40; i++) expect((await post(t.url, "{ viewer { id } }", c)).status).toBe(200);
    const limited = await post(t.url, "{ viewer { id } }", c);
    expect(limited.status).toBe(429);
    const seconds = Number(limited.retryAfter);
    expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
    expect(limited.body.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: seconds });
    // The other callers are not affected.
    expect((await post(t.url, "{ viewer { id } }", tokens[1])).status).toBe(200);
  });

  it("file uploads spend the same budget: past it, POST /attachments is 429 and stores nothing", async () => {
    const c = tokens[2]; // already over its budget (previous test)
    const files = async () => (await readdir(t.config.dataDir, { recursive: true }).catch(() => [])).filter((f) => String(f).startsWith("attachments/")).length;
    const before = await files();
    const res = await fetch(new URL("/attachments", t.url), { method: "POST", headers: { authorization: `Bearer ${c}`, "content-type": "text/plain" }, body: "hello" });
    expect(res.status).toBe(429);
    const seconds = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
    expect(await res.json()).toEqual({ error: "rate_limited", retryAfterSeconds: seconds });
    expect(await files()).toBe(before);
    // A caller within its budget uploads.
    expect((await fetch(new URL("/attachments", t.url), { method: "POST", headers: { authorization: `Bearer ${tokens[1]}`, "content-type": "text/plain" }, body: "hello" })).status).toBe(201);
  });

  it("answers over WebSocket with the same typed error and keeps the connection", async () => {
    const client = t.ws(tokens[2]);
    const result = await new Promise<any>((resolve) => client.subscribe({ query: "{ viewer { id } }" }, { next: resolve, error: resolve, complete: () => {} }));
    expect(result.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: expect.any(Number) });
  });
});

// Only with Redis: two servers (as behind a load balancer) share one budget.
if (process.env.REDIS_URL) {
  describe("rate limits in Redis", () => {
    let other: TestServer;
    beforeAll(async () => {
      other = await startTestServer(env);
    });
    afterAll(async () => other?.close());

    it("holds across servers for the same caller (anonymous: by address)", async () => {
      for (let i = 0; i < 20; i++) expect((await post(t.url, "{ __typename }")).status).toBe(200);
      for (let i = 0; i < 20; i++) expect((await post(other.url, "{ __typename }")).status).toBe(200);
      expect((await post(other.url, "{ __typename }")).status).toBe(429);
      expect((await post(t.url, "{ __typename }")).status).toBe(429);
    });
  });
}
