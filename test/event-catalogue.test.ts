import { createHmac } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { buildSchema, type GraphQLObjectType } from "graphql";
import type { Prisma } from "../src/generated/prisma/client.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { ConversationUpdatedDocument, createInboxClient, MessageAddedDocument, MessageUpdatedDocument, ReplyDocument, TicketUpdatedDocument, unwrap, type InboxClient } from "../client/src/index.js";
import {
  ChConnectDocument,
  ChDeleteDocument,
  ChRegisterAppDocument,
  CollChangedDocument,
  CollSetActivityDocument,
  ConvPublishDocument,
  ConvUpdateDeliveryStatusDocument,
  HardeningHeartbeatDocument,
  PresChangedDocument,
  PresSetAvailabilityDocument,
  TkCreateTicketDocument,
  TypingChangedDocument,
  TypingSetDocument,
  TypingVisitorChangedDocument,
  TypingVisitorSetDocument,
  WaChatWidgetChangedDocument,
  WaUpdateChatDocument,
  WidgetStartChatDocument,
  WidgetVisitorMessageAddedDocument,
  VwCountsChangedDocument,
} from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { eventually } from "./support/eventually.js";
import { record } from "./support/subscriptions.js";
import { startWebhookReceiver, type ReceivedWebhook } from "./support/webhook-receiver.js";

// Captures the real bodies behind docs/events.md: every partner webhook the server sends and one
// result of every subscription, from a real server, a real webhook receiver and real sockets.
// `WRITE_EVENT_EXAMPLES=1 npx vitest run test/event-catalogue.test.ts` rewrites the doc's examples
// with what was captured; without it the test fails when an example no longer has the shape of
// the real output, or when a subscription or webhook is missing from the doc.

const DOC = path.join(import.meta.dirname, "..", "docs", "events.md");

let t: TestServer;
let acc: TestAccount;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let signingSecret: string;
const clients: InboxClient[] = [];
const captured = new Map<string, unknown>();
const webhooks = new Map<string, ReceivedWebhook>();

/** Retries `act` until the live-only subscription `recorder` has a result (such signals are never replayed). */
async function liveOnce<T>(recorder: { results: T[]; waitFor(n: number, ms?: number): Promise<T[]> }, act: () => Promise<unknown>) {
  for (let i = 0; recorder.results.length === 0 && i < 50; i++) {
    await act();
    await recorder.waitFor(1, 200).catch(() => undefined);
  }
  return (await recorder.waitFor(1, 1000))[0];
}

/** Polls until `check` holds (the delivery worker and the dispatcher run meanwhile). */
const waitUntil = (check: () => boolean | Promise<boolean>) =>
  eventually(async () => {
    if (!(await check())) throw new Error(`still waiting: ${check}`);
  });

beforeAll(async () => {
  t = await startTestServer();
  receiver = await startWebhookReceiver();
  acc = await createTestAccount(t.prisma, { name: "Acme Support" });
  const superAdmin = t.client(await t.tokenFor(acc.superAdmin));
  const agentToken = await t.tokenFor(acc.agent);
  const agent = createInboxClient({ url: t.url, token: agentToken, webSocketImpl: WebSocket });
  clients.push(agent);

  // A partner registers its app, an account connects it.
  const { token: partnerToken } = await createPartnerApp(t.prisma, t.server.services.auth);
  const partner = t.client(partnerToken);
  const registered = (
    await partner.request(ChRegisterAppDocument, {
      input: {
        name: "Acme SMS",
        webhookUrl: receiver.url,
        credentialFields: [
          { name: "accountSid", label: "Account SID" },
          { name: "apiKey", label: "API key", secret: true },
        ],
      },
    })
  ).registerChannelApp;
  if (registered.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(registered));
  signingSecret = registered.webhookSigningSecret;
  const inbox = await createInbox(t.prisma, acc.accountId, { name: "SMS", userIds: [acc.agent.id] });
  const connected = (
    await superAdmin.request(ChConnectDocument, {
      input: {
        inboxId: toGlobalId("Inbox", inbox.id),
        name: "SMS line",
        custom: {
          channelAppId: registered.app.id,
          credentials: [
            { name: "accountSid", value: "AC-1234" },
            { name: "apiKey", value: "k-secret" },
          ],
        },
      },
    })
  ).connectChannel;
  if (connected.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(connected));
  const channelId = connected.channel.id;

  // The agent's four resumable subscriptions, through the typed client.
  const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: acc.accountId } })).eventSeq.toString();
  const firsts = new Map<string, unknown>();
  const keep = (name: string) => ({ next: (data: unknown) => void (firsts.has(name) || firsts.set(name, data)) });
  const subs = [
    agent.subscribe(MessageAddedDocument, {}, keep("messageAdded"), { after: start }),
    agent.subscribe(ConversationUpdatedDocument, {}, keep("conversationUpdated"), { after: start }),
    agent.subscribe(MessageUpdatedDocument, {}, { next: (data) => data.messageUpdated.deliveryStatus === "DELIVERED" && firsts.set("messageUpdated", data) }, { after: start }),
    agent.subscribe(TicketUpdatedDocument, {}, keep("ticketUpdated"), { after: start }),
  ];

  // A customer writes, the agent replies (a message.created webhook), the partner reports DELIVERED.
  const threadKey = externalId("thr");
  const published = (
    await partner.request(ConvPublishDocument, { input: { channelId, externalId: "sms-0001", threadKey, sender: { handle: "+15550100", name: "Dana Customer" }, text: "Is my order on its way?" } })
  ).publishInboundMessage;
  if (published.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(published));
  const { sentMessage } = unwrap((await agent.request(ReplyDocument, { input: { conversationId: published.conversationId, text: "Yes, it ships today." } })).reply);
  await waitUntil(() => receiver.received.some((r) => r.json.type === "message.created"));
  await waitUntil(async () => (await t.prisma.message.count({ where: { id: fromGlobalId(sentMessage.id, "Message"), deliveryStatus: "SENT" } })) === 1);
  await partner.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: sentMessage.id, status: "DELIVERED" } });
  await t.client(agentToken).request(TkCreateTicketDocument, { input: { conversationId: published.conversationId, name: "Order status" } });
  await waitUntil(() => ["messageAdded", "conversationUpdated", "messageUpdated", "ticketUpdated"].every((n) => firsts.has(n)));
  for (const sub of subs) sub.dispose();
  for (const [name, data] of firsts) captured.set(`subscription ${name}`, data);

  // The account removes the channel: channel.disconnected.
  await superAdmin.request(ChDeleteDocument, { input: { channelId } });
  await waitUntil(() => receiver.received.some((r) => r.json.type === "channel.disconnected"));
  for (const hook of receiver.received) if (!webhooks.has(hook.json.type)) webhooks.set(hook.json.type, hook);
  for (const [type, hook] of webhooks) captured.set(`webhook ${type}`, hook.json);

  // The website chat: the visitor's subscriptions, and the agent's typing one.
  const chatInbox = await createInbox(t.prisma, acc.accountId, { name: "Website", userIds: [acc.agent.id] });
  const chatChannel = await t.prisma.channel.create({
    data: {
      accountId: acc.accountId,
      inboxId: chatInbox.id,
      type: "CHAT",
      name: "Website chat",
      status: "ON",
      settings: chatSettings.parse({ availability: { mode: "ALWAYS" } }) as Prisma.InputJsonValue,
    },
  });
  const chatChannelId = toGlobalId("Channel", chatChannel.id);
  const chat = (await t.client().request(WidgetStartChatDocument, { input: { channelId: chatChannelId, name: "Vic Visitor" } })).startChat;
  if (chat.__typename !== "StartChatResult") throw new Error(JSON.stringify(chat));
  const visitor = t.client(chat.visitorToken);
  const visitorWs = t.ws(chat.visitorToken);
  const visitorMessages = record(visitorWs, WidgetVisitorMessageAddedDocument, { after: (await t.prisma.account.findUniqueOrThrow({ where: { id: acc.accountId } })).eventSeq.toString() });
  await agent.request(ReplyDocument, { input: { conversationId: chat.conversationId, text: "Hello Vic, how can I help?" } });
  captured.set("subscription visitorMessageAdded", (await visitorMessages.waitFor(1))[0]);

  const agentTyping = record(t.ws(agentToken), TypingChangedDocument, { conversationId: chat.conversationId });
  captured.set("subscription typingChanged", await liveOnce(agentTyping, () => visitor.request(TypingVisitorSetDocument, { typing: true })));
  const visitorTyping = record(visitorWs, TypingVisitorChangedDocument, {});
  captured.set(
    "subscription visitorTypingChanged",
    await liveOnce(visitorTyping, () => t.client(agentToken).request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } })),
  );

  const widget = record(t.ws(), WaChatWidgetChangedDocument, { channelId: chatChannelId });
  let color = 0;
  captured.set(
    "subscription chatWidgetChanged",
    await liveOnce(widget, () => superAdmin.request(WaUpdateChatDocument, { input: { channelId: chatChannelId, chat: { color: ["#0055ff", "#0066ff"][color++ % 2] } } })),
  );
  captured.set("subscription heartbeat", (await record(t.ws(agentToken), HardeningHeartbeatDocument, { intervalMs: 100 }).waitFor(1))[0]);

  // Presence and collision: the agent (connected through the typed client) as the super admin sees them.
  const superAdminToken = await t.tokenFor(acc.superAdmin);
  const presence = record(t.ws(superAdminToken), PresChangedDocument, {});
  captured.set("subscription presenceChanged", await liveOnce(presence, () => t.client(agentToken).request(PresSetAvailabilityDocument, { input: { availability: "AVAILABLE" } })));
  const activity = record(t.ws(superAdminToken), CollChangedDocument, { conversationId: chat.conversationId });
  await t.client(agentToken).request(CollSetActivityDocument, { input: { conversationId: chat.conversationId, activity: "VIEWING" } });
  await waitUntil(() => activity.results.some((r) => r.conversationActivityChanged.agents.length > 0));
  captured.set("subscription conversationActivityChanged", activity.results.find((r) => r.conversationActivityChanged.agents.length > 0));
  // View counts: the caller's own, pushed at once on subscribing.
  captured.set("subscription viewCountsChanged", (await record(t.ws(agentToken), VwCountsChangedDocument).waitFor(1))[0]);
});

afterAll(async () => {
  for (const c of clients) await c.dispose();
  await receiver?.close();
  await t?.close();
});

/** The JSON block after each `<!-- example: NAME -->` marker in the doc. */
const EXAMPLE = /<!-- example: ([^>]+?) -->\n```json\n([\s\S]*?)\n```/g;

/** Keys and JSON types, recursively (the first element stands for an array's). */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as object)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  return typeof value;
}

describe("docs/events.md", () => {
  test("every example is a real body: the same keys and types as the server's output", async () => {
    let doc = await readFile(DOC, "utf8");
    if (process.env.WRITE_EVENT_EXAMPLES) {
      doc = doc.replace(EXAMPLE, (whole, name: string) => (captured.has(name) ? `<!-- example: ${name} -->\n\`\`\`json\n${JSON.stringify(captured.get(name), null, 2)}\n\`\`\`` : whole));
      await writeFile(DOC, doc);
    }
    const documented = new Map([...doc.matchAll(EXAMPLE)].map((m) => [m[1], JSON.parse(m[2]) as unknown]));
    expect([...documented.keys()].sort()).toEqual([...captured.keys()].sort());
    for (const [name, real] of captured) expect({ name, shape: shape(documented.get(name)) }).toEqual({ name, shape: shape(real) });
  });

  test("every subscription of the schema and every webhook type has an example", async () => {
    const schema = buildSchema(await readFile(path.join(import.meta.dirname, "..", "schema.graphql"), "utf8"));
    const fields = Object.keys((schema.getSubscriptionType() as GraphQLObjectType).getFields()).map((f) => `subscription ${f}`);
    expect([...captured.keys()].filter((k) => k.startsWith("subscription ")).sort()).toEqual(fields.sort());
    expect([...webhooks.keys()].sort()).toEqual(["channel.connected", "channel.disconnected", "message.created"]);
  });

  test("webhooks are signed as documented: sha256= HMAC-SHA256(secret, timestamp + '.' + body), with the delivery id", () => {
    for (const hook of webhooks.values()) {
      const timestamp = String(hook.headers["x-inbox-timestamp"]);
      expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(120);
      expect(hook.headers["x-inbox-signature"]).toBe(`sha256=${createHmac("sha256", signingSecret).update(`${timestamp}.${hook.body}`).digest("hex")}`);
      expect(hook.headers["x-inbox-delivery-id"]).toBe(hook.json.deliveryId);
      expect(hook.headers["content-type"]).toBe("application/json");
    }
  });
});
