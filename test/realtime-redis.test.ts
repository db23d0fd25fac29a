import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ConvPublishDocument, RtMessageAddedDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { startServer, type RunningServer } from "../src/server.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";
import { GraphQLClient } from "graphql-request";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const leftovers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of leftovers.reverse()) await f();
});

async function setup(t: TestServer) {
  const partner = await createPartnerApp(t.prisma, t.server.services.auth);
  const acc = await createTestAccount(t.prisma);
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const channel = await createChannel(t.prisma, { accountId: acc.accountId, inboxId: inbox.id, channelAppId: partner.app.id });
  const publish = (client: GraphQLClient, text: string) =>
    client.request(ConvPublishDocument, { input: { channelId: toGlobalId("Channel", channel.id), externalId: externalId(), threadKey: "t1", sender: { handle: "h1" }, text } });
  return { partner, acc, publish };
}

test("with Redis unreachable, intake still commits and a resumed subscription catches up from the database", async () => {
  // Port 1 on loopback: nothing listens, so every Redis command waits in the client's queue.
  const t = await startTestServer({ REDIS_URL: "redis://127.0.0.1:1" });
  leftovers.push(() => t.close());
  const { partner, acc, publish } = await setup(t);
  const client = t.client(partner.token);
  for (const text of ["one", "two", "three"]) {
    const r = await publish(client, text);
    expect(r.publishInboundMessage.__typename).toBe("PublishInboundMessageResult");
  }
  expect(await t.prisma.message.count({ where: { accountId: acc.accountId } })).toBe(3);
  const sub = record(t.ws(await t.tokenFor(acc.agent)), RtMessageAddedDocument, { after: "0" });
  expect((await sub.waitFor(3)).map((r) => r.messageAdded.text)).toEqual(["one", "two", "three"]);
});

// Two processes can share a database only on PostgreSQL (the embedded one is in-process), and
// fan-out across servers needs Redis: CI's second run sets both.
describe.runIf(Boolean(process.env.DATABASE_URL && process.env.REDIS_URL))("two servers sharing PostgreSQL and Redis", () => {
  test("an agent connected to server B receives a message published through server A, and the other way round", async () => {
    const a = await startTestServer();
    leftovers.push(() => a.close());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-b-"));
    const b: RunningServer = await startServer({ ...a.config, port: 0, dataDir }, { log: () => {} });
    leftovers.push(async () => {
      await b.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const { partner, acc, publish } = await setup(a);
    const token = await a.tokenFor(acc.agent);
    const wsB = createClient({ url: b.url.replace("http", "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const wsA = a.ws(token);
    leftovers.push(async () => wsB.dispose());
    const start = (await a.prisma.account.findUniqueOrThrow({ where: { id: acc.accountId } })).eventSeq.toString();
    const onB = record(wsB, RtMessageAddedDocument, { after: start });
    const onA = record(wsA, RtMessageAddedDocument, { after: start });
    await publish(a.client(partner.token), "through A");
    await publish(new GraphQLClient(b.url, { headers: { authorization: `Bearer ${partner.token}` } }), "through B");
    expect((await onB.waitFor(2)).map((r) => r.messageAdded.text)).toEqual(["through A", "through B"]);
    expect((await onA.waitFor(2)).map((r) => r.messageAdded.text)).toEqual(["through A", "through B"]);
    // Published once per event: one dispatcher claimed each outbox row.
    const events = await a.prisma.event.findMany({ where: { accountId: acc.accountId, type: "message.added" } });
    expect(events.every((e) => e.publishedAt !== null)).toBe(true);
  });
});
