import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { ConvPublishDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";

let t: TestServer;
let account: TestAccount;
let token: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestServer({ WS_INIT_TIMEOUT_MS: "300", WS_MAX_SUBSCRIPTIONS: "3" });
  account = await createTestAccount(t.prisma);
  token = await t.tokenFor(account.agent);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await t?.close();
});

/** A raw graphql-transport-ws socket that records what the server sends and how it closes. */
async function open() {
  const socket = new WebSocket(t.wsUrl, "graphql-transport-ws");
  sockets.push(socket);
  const messages: Array<{ type: string; id?: string; payload?: any }> = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const send = (msg: unknown) => socket.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  /** Resolves with the first recorded message matching `pred` (waiting for it if needed). */
  const next = async (pred: (m: (typeof messages)[number]) => boolean) => {
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const init = async (payload: Record<string, unknown> = { authorization: `Bearer ${token}` }) => {
    send({ type: "connection_init", payload });
    await next((m) => m.type === "connection_ack");
  };
  return { socket, messages, closed, send, next, init };
}

const heartbeat = (id: string, intervalMs = 100) => ({ id, type: "subscribe", payload: { query: `subscription { heartbeat(intervalMs: ${intervalMs}) }` } });

describe("graphql-transport-ws protocol", () => {
  it("closes with 4400 on an invalid message", async () => {
    const c = await open();
    c.send("this is not json");
    expect((await c.closed).code).toBe(4400);
  });

  it("closes with 4401 on subscribe before the connection is acknowledged", async () => {
    const c = await open();
    c.send(heartbeat("1"));
    expect((await c.closed).code).toBe(4401);
  });

  it("closes with 4403 when the connection_init token is refused", async () => {
    const c = await open();
    c.send({ type: "connection_init", payload: { authorization: "Bearer bad" } });
    expect((await c.closed).code).toBe(4403);
  });

  it("closes with 4408 when no connection_init arrives in time", async () => {
    const c = await open();
    expect((await c.closed).code).toBe(4408);
  });

  it("closes with 4409 on a duplicate operation id", async () => {
    const c = await open();
    await c.init();
    c.send(heartbeat("dup"));
    await c.next((m) => m.type === "next" && m.id === "dup");
    c.send(heartbeat("dup"));
    expect((await c.closed).code).toBe(4409);
  });

  it("closes with 4429 on a repeated connection_init", async () => {
    const c = await open();
    await c.init();
    c.send({ type: "connection_init", payload: {} });
    expect((await c.closed).code).toBe(4429);
  });

  it("closes with 1009 when a message exceeds 1 MiB", async () => {
    const c = await open();
    await c.init();
    c.send(JSON.stringify({ id: "big", type: "subscribe", payload: { query: "{ __typename }", variables: { x: "a".repeat(2 * 1024 * 1024) } } }));
    expect((await c.closed).code).toBe(1009);
  });

  it("delivers a heartbeat subscription to an agent and refuses it anonymously", async () => {
    const c = await open();
    await c.init();
    c.send(heartbeat("hb"));
    const first = await c.next((m) => m.type === "next" && m.id === "hb");
    expect(first.payload).toEqual({ data: { heartbeat: 1 } });
    const anon = await open();
    await anon.init({});
    anon.send(heartbeat("a"));
    const refused = await anon.next((m) => m.id === "a" && (m.type === "error" || m.type === "next"));
    expect(JSON.stringify(refused.payload)).toContain("UNAUTHENTICATED");
  });

  it("sends well-formed next frames whatever the operation id holds", async () => {
    // `next` frames are assembled from pieces of JSON: ids with quotes, braces or control characters stay ids.
    const c = await open();
    await c.init();
    const ids = ["\u0001payload", '"}', 'x","payload":{"data":null}'];
    for (const id of ids) c.send(heartbeat(id));
    for (const id of ids) {
      const frame = await c.next((m) => m.type === "next" && m.id === id);
      expect(frame.payload).toEqual({ data: { heartbeat: 1 } });
    }
    for (const id of ids) c.send({ id, type: "complete" });
  });

  it("an event whose row is gone arrives as a masked error with the request id, and the subscription goes on", async () => {
    const inbox = await createInbox(t.prisma, account.accountId, { userIds: [account.agent.id] });
    const partner = await createPartnerApp(t.prisma, t.server.services.auth);
    const channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: account.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
    const publish = (text: string) =>
      t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: externalId("gone"), threadKey: "gone", sender: { name: "Ann" }, text } });
    const first = await publish("soon gone");
    if (first.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(first.publishInboundMessage.__typename);
    await t.prisma.message.delete({ where: { id: fromGlobalId(first.publishInboundMessage.inboundMessage.id, "Message") } });

    const c = await open();
    await c.init();
    // Replays the account's events from the start: the deleted message's event cannot be loaded.
    c.send({ id: "m", type: "subscribe", payload: { query: 'subscription { messageAdded(after: "0") { text } }' } });
    const failed = await c.next((m) => m.type === "next" && m.id === "m");
    expect(failed.payload.data).toBeNull();
    expect(failed.payload.errors).toHaveLength(1);
    expect(failed.payload.errors[0].message).toBe("Unexpected error.");
    expect(failed.payload.errors[0].extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: expect.any(String) });
    expect(JSON.stringify(failed.payload)).not.toMatch(/prisma|findUnique|No record/i);
    await publish("still here");
    const next = await c.next((m) => m.type === "next" && m.id === "m" && m !== failed);
    expect(next.payload).toEqual({ data: { messageAdded: { text: "still here" } } });
  });

  it("refuses subscriptions past the per-connection cap with an error message and keeps the others", async () => {
    const c = await open();
    await c.init();
    for (const id of ["s1", "s2", "s3"]) c.send(heartbeat(id));
    await c.next((m) => m.type === "next" && m.id === "s3");
    c.send(heartbeat("s4"));
    const refused = await c.next((m) => m.id === "s4");
    expect(refused.type).toBe("error");
    expect(refused.payload[0].extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // The connection survives and a freed slot can be reused.
    c.send({ id: "s1", type: "complete" });
    c.send(heartbeat("s5"));
    await c.next((m) => m.type === "next" && m.id === "s5");
    expect(c.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("closes with 4403 when the agent's token expires", async () => {
    const shortLived = await t.tokenFor(account.agent, { expiresIn: "2s" });
    const c = await open();
    await c.init({ authorization: `Bearer ${shortLived}` });
    c.send(heartbeat("exp", 200));
    await c.next((m) => m.type === "next" && m.id === "exp");
    const closed = await c.closed;
    expect(closed).toEqual({ code: 4403, reason: "Token expired" });
  });
});
