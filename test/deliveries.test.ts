import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphQLClient } from "graphql-request";
import { ConvAddCommentDocument, ConvPublishDocument, ConvReplyDocument, ConvUpdateDeliveryStatusDocument, RtMessageUpdatedDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import type { Auth } from "../src/auth.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp } from "./support/conversation-fixtures.js";
import { startWebhookReceiver } from "./support/webhook-receiver.js";
import { startRestartableServer } from "./support/restart.js";
import { eventually } from "./support/eventually.js";
import { record } from "./support/subscriptions.js";

const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 1500 };

let t: TestServer;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let worker: { stop(): Promise<void> };
const leftovers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  // This file drives its own worker with short delays; the server's built-in one stays off.
  t = await startTestServer({ DELIVERY_WORKER: "false" });
  receiver = await startWebhookReceiver();
  worker = startDeliveryWorker(t.server.services, WORKER);
});
afterAll(async () => {
  await worker?.stop();
  for (const f of leftovers.reverse()) await f();
  await receiver?.close();
  await t?.close();
});


/** An account with a custom channel whose app posts to `webhookUrl`, one customer thread, and an agent client. */
async function world(prisma: PrismaClient, auth: Auth, url: string, webhookUrl: string) {
  const a = await createTestAccount(prisma);
  const app = await createPartnerApp(prisma, auth, { webhookUrl });
  const inbox = await createInbox(prisma, a.accountId, { userIds: [a.agent.id] });
  const channel = await createChannel(prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: app.app.id });
  const partnerClient = new GraphQLClient(url, { headers: { authorization: `Bearer ${app.token}` } });
  const pub = await partnerClient.request(ConvPublishDocument, {
    input: { channelId: toGlobalId("Channel", channel.id), externalId: "customer-msg-1", threadKey: "thread-42", sender: { name: "Cleo", email: "cleo@example.test", handle: "cleo-1" }, text: "Hello?" },
  });
  if (pub.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error("publish failed");
  const agent = new GraphQLClient(url, { headers: { authorization: `Bearer ${await auth.sign({ typ: "agent", userId: a.agent.id, accountId: a.accountId })}` } });
  return { a, app, channel, conversationId: pub.publishInboundMessage.conversationId, agent };
}

async function sendReply(agent: GraphQLClient, conversationId: string, text: string) {
  const r = await agent.request(ConvReplyDocument, { input: { conversationId, text } });
  if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
  return r.reply.sentMessage.id;
}

describe("partner webhook delivery", () => {
  test("a reply is POSTed with a valid signature; comments never reach the partner", async () => {
    const w = await world(t.prisma, t.server.services.auth, t.url, receiver.url);
    const before = receiver.received.length;
    const comment = await w.agent.request(ConvAddCommentDocument, { input: { conversationId: w.conversationId, text: "internal: VIP customer" } });
    expect(comment.addComment.__typename).toBe("MessageResult");
    const messageId = await sendReply(w.agent, w.conversationId, "Hi Cleo, we are on it");
    await receiver.waitFor(before + 1);
    const hit = receiver.received[before];

    const timestamp = String(hit.headers["x-inbox-timestamp"]);
    const expected = `sha256=${createHmac("sha256", w.app.app.webhookSecret).update(`${timestamp}.${hit.body}`).digest("hex")}`;
    expect(hit.headers["x-inbox-signature"]).toBe(expected);
    expect(hit.headers["x-inbox-delivery-id"]).toBe(hit.json.deliveryId);
    expect(hit.json).toMatchObject({
      type: "message.created",
      message: { id: messageId, text: "Hi Cleo, we are on it", conversationId: w.conversationId, threadKey: "thread-42", inReplyToExternalId: "customer-msg-1", attachments: [] },
      channel: { id: toGlobalId("Channel", w.channel.id) },
      contact: { name: "Cleo", email: "cleo@example.test" },
    });
    await eventually(async () => {
      const m = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(messageId, "Message") } });
      expect(m.deliveryStatus).toBe("SENT");
    });
    const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: fromGlobalId(messageId, "Message") } });
    expect(d).toMatchObject({ state: "DONE", attempts: 1 });
    // Only the reply went out: the comment has no delivery and the receiver never saw its text.
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.received.slice(before).map((h) => h.json.message.text)).toEqual(["Hi Cleo, we are on it"]);
    expect(await t.prisma.outboundDelivery.count({ where: { accountId: w.a.accountId } })).toBe(1);
  });

  test("retries with backoff after the receiver fails twice, reusing the delivery id", async () => {
    const w = await world(t.prisma, t.server.services.auth, t.url, receiver.url);
    const before = receiver.received.length;
    receiver.failNext(500, 503);
    const messageId = await sendReply(w.agent, w.conversationId, "Third time lucky");
    await receiver.waitFor(before + 3);
    const hits = receiver.received.slice(before, before + 3);
    expect(hits.map((h) => h.status)).toEqual([500, 503, 200]);
    expect(new Set(hits.map((h) => h.json.deliveryId)).size).toBe(1);
    await eventually(async () => {
      const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: fromGlobalId(messageId, "Message") } });
      expect(d).toMatchObject({ state: "DONE", attempts: 3 });
    });
  });

  test("a delivery still failing at its maximum age is FAILED, and so is the message", async () => {
    const dead = await startWebhookReceiver();
    leftovers.push(() => dead.close());
    dead.failNext(...Array.from({ length: 100 }, () => 500));
    const w = await world(t.prisma, t.server.services.auth, t.url, dead.url);
    const messageId = await sendReply(w.agent, w.conversationId, "Nobody home");
    await eventually(async () => {
      const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: fromGlobalId(messageId, "Message") } });
      expect(d).toMatchObject({ state: "FAILED", lastError: "HTTP 500" });
    });
    const m = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(messageId, "Message") } });
    expect(m.deliveryStatus).toBe("FAILED");
    expect(m.deliveryError).toMatch(/HTTP 500/);
    expect(dead.received.length).toBeGreaterThanOrEqual(2);
  });
});

describe("delivery status live", () => {
  test("agents see a reply go SENT, then DELIVERED and READ as the partner reports them, over messageUpdated", async () => {
    const w = await world(t.prisma, t.server.services.auth, t.url, receiver.url);
    const agentToken = await t.server.services.auth.sign({ typ: "agent", userId: w.a.agent.id, accountId: w.a.accountId });
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: w.a.accountId } })).eventSeq.toString();
    const updates = record(t.ws(agentToken), RtMessageUpdatedDocument, { conversationId: w.conversationId, after: start });
    const messageId = await sendReply(w.agent, w.conversationId, "Tracked reply");
    const sent = await updates.waitFor(1);
    expect(sent[0].messageUpdated).toMatchObject({ id: messageId, deliveryStatus: "SENT" });

    const partner = new GraphQLClient(t.url, { headers: { authorization: `Bearer ${w.app.token}` } });
    for (const status of ["DELIVERED", "READ"] as const) {
      const r = await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId, status } });
      expect(r.updateDeliveryStatus.__typename).toBe("MessageResult");
    }
    // The same status again is no change and no event.
    await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId, status: "READ" } });
    const second = await sendReply(w.agent, w.conversationId, "Another tracked reply");
    await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: second, status: "SENT" } });
    const failed = await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: second, status: "FAILED", reason: "Blocked by the recipient" } });
    expect(failed.updateDeliveryStatus).toMatchObject({ sentMessage: { deliveryStatus: "FAILED", deliveryError: "Blocked by the recipient" } });
    const rows = await updates.waitFor(5);
    expect(rows.map((r) => [r.messageUpdated.id === messageId ? "first" : "second", r.messageUpdated.deliveryStatus])).toEqual([
      ["first", "SENT"],
      ["first", "DELIVERED"],
      ["first", "READ"],
      ["second", "SENT"],
      ["second", "FAILED"],
    ]);
    expect(rows[4].messageUpdated.deliveryError).toBe("Blocked by the recipient");
    await new Promise((r) => setTimeout(r, 300));
    expect(updates.results).toHaveLength(5);
    expect(updates.errors).toEqual([]);
    updates.dispose();
  });

  test("item 18: delivery statuses never go backwards: DELIVERED after READ, and FAILED after DELIVERED, are ignored without error", async () => {
    const w = await world(t.prisma, t.server.services.auth, t.url, receiver.url);
    const agentToken = await t.server.services.auth.sign({ typ: "agent", userId: w.a.agent.id, accountId: w.a.accountId });
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: w.a.accountId } })).eventSeq.toString();
    const updates = record(t.ws(agentToken), RtMessageUpdatedDocument, { conversationId: w.conversationId, after: start });
    const messageId = await sendReply(w.agent, w.conversationId, "Monotonic");
    await updates.waitFor(1);
    const partner = new GraphQLClient(t.url, { headers: { authorization: `Bearer ${w.app.token}` } });
    const report = async (status: "SENT" | "DELIVERED" | "READ" | "FAILED", reason?: string) =>
      (await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId, status, reason } })).updateDeliveryStatus;

    expect(await report("READ")).toMatchObject({ __typename: "MessageResult", sentMessage: { deliveryStatus: "READ" } });
    // Each regression answers the message as it is: READ, no error.
    for (const late of ["DELIVERED", "SENT"] as const) expect(await report(late)).toMatchObject({ __typename: "MessageResult", sentMessage: { deliveryStatus: "READ", deliveryError: null } });
    expect(await report("FAILED", "Too late")).toMatchObject({ __typename: "MessageResult", sentMessage: { deliveryStatus: "READ", deliveryError: null } });
    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(messageId, "Message") } });
    expect(stored).toMatchObject({ deliveryStatus: "READ", deliveryError: null });
    // Only SENT and READ were pushed to agents.
    await updates.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(updates.results.map((r) => r.messageUpdated.deliveryStatus)).toEqual(["SENT", "READ"]);
    updates.dispose();
  });

  test("a delivery that ends FAILED is pushed to agents with its reason", async () => {
    const dead = await startWebhookReceiver();
    leftovers.push(() => dead.close());
    dead.failNext(...Array.from({ length: 100 }, () => 500));
    const w = await world(t.prisma, t.server.services.auth, t.url, dead.url);
    const agentToken = await t.server.services.auth.sign({ typ: "agent", userId: w.a.agent.id, accountId: w.a.accountId });
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: w.a.accountId } })).eventSeq.toString();
    const updates = record(t.ws(agentToken), RtMessageUpdatedDocument, { after: start });
    const messageId = await sendReply(w.agent, w.conversationId, "Nobody home either");
    const [failed] = await updates.waitFor(1);
    expect(failed.messageUpdated).toMatchObject({ id: messageId, deliveryStatus: "FAILED", deliveryError: expect.stringMatching(/HTTP 500/) });
    updates.dispose();
  });
});

describe("restart", () => {
  test("a delivery pending when the server stops is delivered by the next server on the same database", async () => {
    const rs = await startRestartableServer();
    leftovers.push(() => rs.close());
    const w = await world(rs.server.prisma, rs.server.services.auth, rs.server.url, receiver.url);
    const before = receiver.received.length;
    // No worker runs on this first server: the reply's delivery stays PENDING.
    const messageId = await sendReply(w.agent, w.conversationId, "Survives a restart");
    const pending = await rs.server.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: fromGlobalId(messageId, "Message") } });
    expect(pending.state).toBe("PENDING");

    const next = await rs.restart();
    const nextWorker = startDeliveryWorker(next.services, WORKER);
    leftovers.push(() => nextWorker.stop());
    await receiver.waitFor(before + 1);
    expect(receiver.received[before].json).toMatchObject({ deliveryId: pending.id, message: { id: messageId, text: "Survives a restart" } });
    await eventually(async () => {
      const d = await next.prisma.outboundDelivery.findUniqueOrThrow({ where: { id: pending.id } });
      expect(d.state).toBe("DONE");
    });
    await nextWorker.stop();
  });
});
