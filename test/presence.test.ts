import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphQLClient } from "graphql-request";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { User } from "../src/generated/prisma/client.js";
import { PresChangedDocument, PresSetAvailabilityDocument, PresUserDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { startServer, type RunningServer } from "../src/server.js";
import { redisPresenceStore } from "../src/realtime/presence-store.js";
import { createLogger } from "../src/log.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { record, type Recorder } from "./support/subscriptions.js";

const leftovers: Array<() => Promise<unknown> | unknown> = [];
let t: TestServer;
let acc: TestAccount;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Presence Co" });
});
afterAll(async () => {
  for (const f of leftovers.reverse()) await f();
  await t?.close();
});

/** A graphql-ws client whose connection was acknowledged (its socket counts for presence once this resolves). */
async function connect(url: string, token: string): Promise<Client> {
  let acked!: () => void;
  const connected = new Promise<void>((resolve) => (acked = resolve));
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` }, on: { connected: () => acked() }, onNonLazyError: () => {} });
  leftovers.push(() => client.dispose());
  await connected;
  return client;
}

type Change = { presenceChanged: { presence: string; user: { id: string; firstName: string } } };
const changesOf = (rec: Recorder<Change>, user: Pick<User, "id">) => rec.results.filter((r) => r.presenceChanged.user.id === toGlobalId("User", user.id)).map((r) => r.presenceChanged.presence);

/** Subscribes and proves the subscription is live: a probe user's availability is set until its change arrives. */
async function watch(server: { client(token: string): GraphQLClient; ws: (token: string) => Client }, watcher: User, probe: User, tokenFor: (u: User) => Promise<string>) {
  const rec = record(server.ws(await tokenFor(watcher)), PresChangedDocument);
  const probeClient = server.client(await tokenFor(probe));
  for (let i = 0; changesOf(rec, probe).length === 0 && i < 50; i++) {
    await probeClient.request(PresSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    await rec.waitFor(1, 200).catch(() => undefined);
  }
  expect(changesOf(rec, probe)).toEqual(["OFFLINE"]);
  return rec;
}

describe("presence", () => {
  test("ONLINE while one socket is open, OFFLINE pushed when the last closes; AWAY follows availability, which presence never changes", async () => {
    const bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    const probe = await createTestUser(t.prisma, acc.accountId, { firstName: "Probe" });
    const rec = await watch(t, acc.admin, probe, (u) => t.tokenFor(u));
    const admin = t.client(await t.tokenFor(acc.admin));
    const presenceOf = async () => (await admin.request(PresUserDocument, { id: toGlobalId("User", bob.id) })).node as { presence: string; availability: string; lastSeenAt: string | null };
    expect(await presenceOf()).toMatchObject({ presence: "OFFLINE", lastSeenAt: null });

    const bobToken = await t.tokenFor(bob);
    const first = await connect(t.wsUrl, bobToken);
    await expect.poll(() => changesOf(rec, bob)).toEqual(["ONLINE"]);
    expect(await presenceOf()).toMatchObject({ presence: "ONLINE" });
    const second = await connect(t.wsUrl, bobToken);
    await first.dispose();
    // One socket left: still ONLINE. Setting AWAY proves the server has seen the close by then
    // (it is pushed as AWAY, not OFFLINE) and is the agent's choice.
    const bobClient = t.client(bobToken);
    await bobClient.request(PresSetAvailabilityDocument, { input: { availability: "AWAY" } });
    await expect.poll(() => changesOf(rec, bob)).toEqual(["ONLINE", "AWAY"]);
    expect(await presenceOf()).toMatchObject({ presence: "AWAY", availability: "AWAY" });
    await bobClient.request(PresSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    await expect.poll(() => changesOf(rec, bob)).toEqual(["ONLINE", "AWAY", "ONLINE"]);

    await second.dispose();
    await expect.poll(() => changesOf(rec, bob)).toEqual(["ONLINE", "AWAY", "ONLINE", "OFFLINE"]);
    const after = await presenceOf();
    expect(after).toMatchObject({ presence: "OFFLINE", availability: "AVAILABLE" });
    expect(after.lastSeenAt).not.toBeNull();
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: bob.id } })).availability).toBe("AVAILABLE");
  });

  test("another account's watcher hears nothing of this account's users", async () => {
    const other = await createTestAccount(t.prisma, { name: "Other" });
    const otherProbe = await createTestUser(t.prisma, other.accountId, { firstName: "OtherProbe" });
    const rec = await watch(t, other.admin, otherProbe, (u) => t.tokenFor(u));
    const carol = await createTestUser(t.prisma, acc.accountId, { firstName: "Carol" });
    const sameAccountProbe = await createTestUser(t.prisma, acc.accountId, { firstName: "Probe2" });
    const mine = await watch(t, acc.admin, sameAccountProbe, (u) => t.tokenFor(u));
    const socket = await connect(t.wsUrl, await t.tokenFor(carol));
    await expect.poll(() => changesOf(mine, carol)).toEqual(["ONLINE"]);
    await socket.dispose();
    await expect.poll(() => changesOf(mine, carol)).toEqual(["ONLINE", "OFFLINE"]);
    expect(rec.results.every((r) => r.presenceChanged.user.id === toGlobalId("User", otherProbe.id))).toBe(true);
  });

  test("a subscription without an agent token is refused", async () => {
    const rec = record(t.ws(), PresChangedDocument);
    await expect.poll(() => rec.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(rec.errors)).toMatch(/UNAUTHENTICATED|FORBIDDEN|Not authorized|not authorized/i);
  });
});

// Two processes share a database only on PostgreSQL, and presence crosses servers through Redis.
describe.runIf(Boolean(process.env.DATABASE_URL && process.env.REDIS_URL))("presence across two servers (PostgreSQL and Redis)", () => {
  test("a socket on server A is ONLINE as seen from server B, and OFFLINE there once it closes", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-presence-b-"));
    const b: RunningServer = await startServer({ ...t.config, port: 0, dataDir });
    leftovers.push(async () => {
      await b.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const onB = { client: (token: string) => new GraphQLClient(b.url, { headers: { authorization: `Bearer ${token}` } }), ws: (token: string) => {
      const c = createClient({ url: b.url.replace("http", "ws"), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${token}` }, onNonLazyError: () => {} });
      leftovers.push(() => c.dispose());
      return c;
    } };
    const dave = await createTestUser(t.prisma, acc.accountId, { firstName: "Dave" });
    const probe = await createTestUser(t.prisma, acc.accountId, { firstName: "ProbeB" });
    const rec = await watch(onB, acc.admin, probe, (u) => t.tokenFor(u));
    const adminOnB = onB.client(await t.tokenFor(acc.admin));
    const presenceOnB = async () => ((await adminOnB.request(PresUserDocument, { id: toGlobalId("User", dave.id) })).node as { presence: string }).presence;

    const daveToken = await t.tokenFor(dave);
    const onA = await connect(t.wsUrl, daveToken);
    await expect.poll(() => changesOf(rec, dave)).toEqual(["ONLINE"]);
    expect(await presenceOnB()).toBe("ONLINE");
    // A second socket, on B: closing the one on A leaves Dave ONLINE.
    const alsoOnB = await connect(b.url.replace("http", "ws"), daveToken);
    await onA.dispose();
    await t.client(daveToken).request(PresSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await presenceOnB()).toBe("ONLINE");
    await alsoOnB.dispose();
    await expect.poll(() => changesOf(rec, dave)).toEqual(["ONLINE", "OFFLINE"]);
    expect(await presenceOnB()).toBe("OFFLINE");
  });

  test("a crashed server's sockets lapse: a live server reports the user offline", async () => {
    const logger = createLogger({ level: "silent" });
    const lapsed: string[] = [];
    const crashed = redisPresenceStore(process.env.REDIS_URL!, { logger, onLapsed: () => {}, ttlMs: 400, heartbeatMs: 100 });
    const live = redisPresenceStore(process.env.REDIS_URL!, { logger, onLapsed: (a, u) => void lapsed.push(`${a}:${u}`), ttlMs: 400, heartbeatMs: 100 });
    leftovers.push(() => live.close());
    const accountId = `crash-${Date.now()}`;
    expect(await crashed.connect(accountId, "u1")).toBe(true);
    expect(await live.connect(accountId, "u2")).toBe(true);
    expect([...(await live.connected(accountId, ["u1", "u2"]))].sort()).toEqual(["u1", "u2"]);
    crashed.abandon();
    await expect.poll(() => lapsed, { timeout: 5_000 }).toEqual([`${accountId}:u1`]);
    expect([...(await live.connected(accountId, ["u1", "u2"]))]).toEqual(["u2"]);
  });
});
