import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChConnectDocument, ConvReplyDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { signMetaBody } from "../src/transports/meta/signature.js";
import { CONSENT_PAYLOAD, queueBotMessage } from "../src/transports/meta/messenger.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import { startGraphApiFake } from "./support/graph-api-fake.js";
import { eventually } from "./support/eventually.js";

const APP_SECRET = "meta-app-secret-for-tests";
const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 3000 };

let t: TestServer;
let graph: Awaited<ReturnType<typeof startGraphApiFake>>;
let worker: { stop(): Promise<void> };
let a: TestAccount;
let inboxId: string;

beforeAll(async () => {
  graph = await startGraphApiFake();
  t = await startTestServer({ DELIVERY_WORKER: "false", META_APP_SECRET: APP_SECRET, META_VERIFY_TOKEN: "verify-me", GRAPH_API_BASE_URL: graph.url, META_ACCESS_TOKEN: "page-token" });
  worker = startDeliveryWorker(t.server.services, WORKER);
  a = await createTestAccount(t.prisma, { tier: "PROFESSIONAL" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await graph?.close();
});


const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join("").replace(/^0/, "1");

async function connect(input: Record<string, unknown>) {
  const r = await t.client(await t.tokenFor(a.admin)).request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", inboxId), name: "Social", ...input } });
  if (r.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r.connectChannel));
  return fromGlobalId(r.connectChannel.channel.id, "Channel");
}

function post(path: string, body: unknown, signature: string | null = signMetaBody(APP_SECRET, JSON.stringify(body))) {
  return fetch(new URL(path, t.url), { method: "POST", headers: { "content-type": "application/json", ...(signature ? { "x-hub-signature-256": signature } : {}) }, body: JSON.stringify(body) });
}

const messengerEvent = (pageId: string, psid: string, event: Record<string, unknown>) => ({ object: "page", entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), ...event }] }] });
const mid = () => `m_${randomBytes(8).toString("hex")}`;

const whatsAppValue = (display: string, value: Record<string, unknown>) => ({
  object: "whatsapp_business_account",
  entry: [{ id: "WABA-1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: display, phone_number_id: "PNID-777" }, ...value } }] }],
});

async function reply(conversationId: string, text: string) {
  const r = await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId: toGlobalId("Conversation", conversationId), text } });
  if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
  return fromGlobalId(r.reply.sentMessage.id, "Message");
}

const rowCounts = async () => ({
  messages: await t.prisma.message.count({ where: { accountId: a.accountId } }),
  conversations: await t.prisma.conversation.count({ where: { accountId: a.accountId } }),
  contacts: await t.prisma.contact.count({ where: { accountId: a.accountId } }),
});

describe("webhook security", () => {
  test("the verification handshake echoes the challenge only for the right verify token", async () => {
    for (const path of ["/webhooks/messenger", "/webhooks/whatsapp"]) {
      const ok = await fetch(new URL(`${path}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`, t.url));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe("1158201444");
      expect((await fetch(new URL(`${path}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1`, t.url))).status).toBe(403);
      expect((await fetch(new URL(`${path}?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1`, t.url))).status).toBe(403);
    }
  });

  test("unsigned and badly signed webhooks are refused and nothing is stored", async () => {
    const pageId = digits(15);
    await connect({ facebookMessenger: { pageId, pageName: "Acme page" } });
    await connect({ whatsApp: { phoneNumber: "+15550009999" } });
    const m = messengerEvent(pageId, "PSID-intruder", { message: { mid: mid(), text: "let me in" } });
    const w = whatsAppValue("15550009999", { contacts: [{ profile: { name: "X" }, wa_id: "15551112222" }], messages: [{ id: "wamid.intruder", from: "15551112222", timestamp: "1700000000", type: "text", text: { body: "hi" } }] });
    const before = await rowCounts();
    for (const [path, body] of [["/webhooks/messenger", m], ["/webhooks/whatsapp", w]] as const) {
      expect((await post(path, body, null)).status).toBe(401);
      expect((await post(path, body, "sha256=" + "0".repeat(64))).status).toBe(403);
      expect((await post(path, body, signMetaBody("another-secret", JSON.stringify(body)))).status).toBe(403);
    }
    expect(await rowCounts()).toEqual(before);
  });
});

describe("Facebook Messenger", () => {
  test("a customer's messages land in one thread, the instant reply goes out once, agent replies are retried and receipts update their status", async () => {
    const pageId = digits(15);
    const channelId = await connect({ facebookMessenger: { pageId, pageName: "Acme page", greeting: "Hi there!", instantReply: "Thanks for writing! We answer within the hour." } });
    const psid = `PSID-${digits(10)}`;
    const before = graph.requests.length;
    const first = mid();
    const r1 = await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: first, text: "Is my order shipped?", attachments: [{ type: "image", payload: { url: "https://scontent.example.test/photo.jpg" } }] } }));
    expect(r1.status).toBe(200);
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { accountId: a.accountId, channelId, threadKey: psid }, include: { contact: { include: { handles: true } }, messages: { include: { attachments: true }, orderBy: { createdAt: "asc" } } } });
    expect(conversation.contact?.handles.map((h) => h.handle)).toEqual([psid]);
    expect(conversation.messages[0]).toMatchObject({ direction: "INBOUND", externalId: first, text: "Is my order shipped?", attachments: [{ kind: "IMAGE", url: "https://scontent.example.test/photo.jpg" }] });

    await graph.waitFor(before + 1);
    expect(graph.requests[before]).toMatchObject({ path: `/v19.0/${pageId}/messages`, authorization: "Bearer page-token", json: { recipient: { id: psid }, messaging_type: "RESPONSE", message: { text: "Thanks for writing! We answer within the hour." } } });
    await eventually(async () => {
      const bot = await t.prisma.message.findFirstOrThrow({ where: { conversationId: conversation.id, senderType: "BOT" } });
      expect(bot).toMatchObject({ direction: "OUTBOUND", deliveryStatus: "SENT", externalId: expect.stringMatching(/^m_fake/) });
    });

    // A second message and a redelivery of the first: same thread, no second instant reply, no duplicate.
    await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: mid(), text: "Hello?" } }));
    await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: first, text: "Is my order shipped?" } }));
    expect(await t.prisma.conversation.count({ where: { channelId, threadKey: psid } })).toBe(1);
    expect(await t.prisma.message.count({ where: { conversationId: conversation.id, direction: "INBOUND" } })).toBe(2);
    expect(await t.prisma.message.count({ where: { conversationId: conversation.id, senderType: "BOT" } })).toBe(1);

    graph.failNext(500, 503);
    const from = graph.requests.length;
    const replyId = await reply(conversation.id, "Yes, it left our warehouse today.");
    await graph.waitFor(from + 3);
    expect(graph.requests.slice(from, from + 3).map((r) => r.status)).toEqual([500, 503, 200]);
    expect(graph.requests[from + 2].json).toMatchObject({ recipient: { id: psid }, messaging_type: "RESPONSE", message: { text: "Yes, it left our warehouse today." } });
    const sent = await eventually(async () => {
      const m = await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } });
      expect(m).toMatchObject({ deliveryStatus: "SENT", externalId: expect.stringMatching(/^m_fake/) });
      expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: replyId } })).toMatchObject({ kind: "GRAPH_API", state: "DONE", attempts: 3 });
      return m;
    });

    await post("/webhooks/messenger", messengerEvent(pageId, psid, { delivery: { mids: [sent.externalId], watermark: Date.now() } }));
    expect((await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).deliveryStatus).toBe("DELIVERED");
    await post("/webhooks/messenger", messengerEvent(pageId, psid, { read: { watermark: Date.now() + 1000 } }));
    expect((await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).deliveryStatus).toBe("READ");
    // A late delivery receipt never moves READ back.
    await post("/webhooks/messenger", messengerEvent(pageId, psid, { delivery: { mids: [sent.externalId], watermark: Date.now() } }));
    expect((await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).deliveryStatus).toBe("READ");
  });

  test("EXPLICIT GDPR consent: only the consent request is sent until the customer agrees, then the instant reply", async () => {
    const pageId = digits(15);
    const channelId = await connect({ facebookMessenger: { pageId, pageName: "Careful page", instantReply: "Welcome!", gdpr: { mode: "EXPLICIT", consentText: "We store your messages. Do you agree?" } } });
    const psid = `PSID-${digits(10)}`;
    const before = graph.requests.length;
    await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: mid(), text: "Hi" } }));
    await graph.waitFor(before + 1);
    expect(graph.requests[before].json.message).toEqual({ text: "We store your messages. Do you agree?", quick_replies: [{ content_type: "text", title: "I agree", payload: CONSENT_PAYLOAD }] });
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId, threadKey: psid } });
    expect(conversation.properties).toMatchObject({ gdprConsent: "PENDING" });

    await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: mid(), text: "Anyone there?" } }));
    expect(await t.prisma.message.count({ where: { conversationId: conversation.id, direction: "INBOUND" } })).toBe(2);
    expect(await t.prisma.outboundDelivery.count({ where: { channelId } })).toBe(1);

    await post("/webhooks/messenger", messengerEvent(pageId, psid, { message: { mid: mid(), text: "I agree", quick_reply: { payload: CONSENT_PAYLOAD } } }));
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).properties).toMatchObject({ gdprConsent: "GIVEN" });
    await graph.waitFor(before + 2);
    expect(graph.requests[before + 1].json).toMatchObject({ recipient: { id: psid }, message: { text: "Welcome!" } });
  });

  test("automated messages only within 24 hours of the customer's last message", async () => {
    const pageId = digits(15);
    const channelId = await connect({ facebookMessenger: { pageId, pageName: "Late page" } });
    const channel = await t.prisma.channel.findUniqueOrThrow({ where: { id: channelId } });
    const at = new Date(Date.now() - 25 * 3600_000);
    const conversation = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, threadKey: "PSID-late", lastInboundAt: at, firstInboundAt: at, lastActivityAt: at } });
    const queued = await t.prisma.$transaction((tx) => queueBotMessage(tx, channel, conversation.id, "Still there?"));
    expect(queued).toBeNull();
    expect(await t.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);

    // A queued automated send whose window closes before it goes out is FAILED, not sent.
    const recent = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, threadKey: "PSID-recent", lastInboundAt: new Date(), firstInboundAt: new Date() } });
    const before = graph.requests.length;
    // Same transaction: the worker never sees the row before its window is moved into the past.
    const bot = await t.prisma.$transaction(async (tx) => {
      const queuedBot = await queueBotMessage(tx, channel, recent.id, "Hello from the bot");
      await tx.outboundDelivery.updateMany({ where: { messageId: queuedBot!.id }, data: { payload: { platform: "MESSENGER", senderId: pageId, recipient: "PSID-recent", text: "Hello from the bot", automated: true, windowEndsAt: new Date(Date.now() - 1000).toISOString() } } });
      return queuedBot;
    });
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id: bot!.id } })).toMatchObject({ deliveryStatus: "FAILED", deliveryError: expect.stringContaining("24 hours") }));
    expect(graph.requests.slice(before).filter((r) => r.json.message?.text === "Hello from the bot")).toHaveLength(0);
  });
});

describe("WhatsApp", () => {
  test("customer messages come in on the number's channel, replies go out through the Graph API, statuses update delivery", async () => {
    const channelId = await connect({ whatsApp: { phoneNumber: "+15550001234" } });
    const waId = `39340${digits(7)}`;
    const r = await post("/webhooks/whatsapp", whatsAppValue("1 555-000-1234", {
      contacts: [{ profile: { name: "Lucia Bianchi" }, wa_id: waId }],
      messages: [
        { id: `wamid.${randomBytes(6).toString("hex")}`, from: waId, timestamp: "1700000000", type: "text", text: { body: "Ciao, is the shop open on Sunday?" } },
        { id: `wamid.${randomBytes(6).toString("hex")}`, from: waId, timestamp: "1700000001", type: "image", image: { id: "MEDIA-1", mime_type: "image/jpeg", caption: "This one" } },
      ],
    }));
    expect(r.status).toBe(200);
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId, threadKey: waId }, include: { contact: true, messages: { include: { attachments: true }, orderBy: { createdAt: "asc" } } } });
    expect(conversation.contact).toMatchObject({ name: "Lucia Bianchi", phone: `+${waId}` });
    expect(conversation.messages.map((m) => m.text)).toEqual(["Ciao, is the shop open on Sunday?", "This one"]);
    expect(conversation.messages[1].attachments).toMatchObject([{ kind: "IMAGE", mimeType: "image/jpeg", url: `${graph.url}/MEDIA-1` }]);

    const before = graph.requests.length;
    const replyId = await reply(conversation.id, "Yes, 10:00 to 13:00.");
    await graph.waitFor(before + 1);
    expect(graph.requests[before]).toMatchObject({ path: "/v19.0/PNID-777/messages", authorization: "Bearer page-token", json: { messaging_product: "whatsapp", to: waId, type: "text", text: { body: "Yes, 10:00 to 13:00." } } });
    const sent = await eventually(async () => {
      const m = await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } });
      expect(m).toMatchObject({ deliveryStatus: "SENT", externalId: expect.stringMatching(/^wamid\.fake/) });
      return m;
    });
    const status = (s: string, extra: Record<string, unknown> = {}) => post("/webhooks/whatsapp", whatsAppValue("15550001234", { statuses: [{ id: sent.externalId, status: s, timestamp: "1700000100", recipient_id: waId, ...extra }] }));
    await status("delivered");
    expect((await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).deliveryStatus).toBe("DELIVERED");
    await status("read");
    expect((await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).deliveryStatus).toBe("READ");

    const second = await reply(conversation.id, "Anything else?");
    const secondSent = await eventually(async () => {
      const m = await t.prisma.message.findUniqueOrThrow({ where: { id: second } });
      expect(m.deliveryStatus).toBe("SENT");
      return m;
    });
    await post("/webhooks/whatsapp", whatsAppValue("15550001234", { statuses: [{ id: secondSent.externalId, status: "failed", recipient_id: waId, errors: [{ code: 131047, title: "Re-engagement message", message: "More than 24 hours have passed" }] }] }));
    expect(await t.prisma.message.findUniqueOrThrow({ where: { id: second } })).toMatchObject({ deliveryStatus: "FAILED", deliveryError: "More than 24 hours have passed" });
  });
});
