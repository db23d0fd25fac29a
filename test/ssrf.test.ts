import dns from "node:dns";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GraphQLClient } from "graphql-request";
import { ChRegisterAppDocument, ChUpdateAppDocument, ConvPublishDocument, ConvReplyDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { startWebhookReceiver } from "./support/webhook-receiver.js";
import { eventually } from "./support/eventually.js";

// maxAgeMs is long: a refused delivery must end FAILED after one attempt, not by ageing out.
const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 10 * 60_000 };
const PUBLIC = "93.184.216.34";

let t: TestServer;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let worker: { stop(): Promise<void> };
const leftovers: Array<() => Promise<unknown>> = [];

/** What the fake DNS answers per name, one answer per lookup (the last one repeats). */
const dnsAnswers = new Map<string, string[][]>();
async function fakeLookup(hostname: string): Promise<string[]> {
  const answers = dnsAnswers.get(hostname);
  if (!answers) return (await dns.promises.lookup(hostname, { all: true })).map((a) => a.address);
  return answers.length > 1 ? answers.shift()! : answers[0];
}

beforeAll(async () => {
  // The allowlist the other test files run with (loopback) is off here: this is production's rule.
  t = await startTestServer({ DELIVERY_WORKER: "false", WEBHOOK_ALLOW_PRIVATE: "false" });
  t.config.outbound.lookup = fakeLookup;
  receiver = await startWebhookReceiver();
  worker = startDeliveryWorker(t.server.services, WORKER);
});
afterAll(async () => {
  await worker?.stop();
  for (const f of leftovers.reverse()) await f();
  await receiver?.close();
  await t?.close();
});

async function partnerClient(server: TestServer) {
  const partner = await server.prisma.partner.create({ data: { name: `Partner ${externalId()}` } });
  return { partner, client: server.client(await server.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" })) };
}

const app = (webhookUrl: string) => ({ name: "Hooks", webhookUrl });

/** A custom channel of `appId` in a new account, one customer thread on it, and an agent's reply: returns the reply's id. */
async function replyThrough(server: TestServer, appId: string, partnerToken: string) {
  const a = await createTestAccount(server.prisma);
  const inbox = await createInbox(server.prisma, a.accountId, { userIds: [a.agent.id] });
  const channel = await createChannel(server.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: appId });
  const partner = new GraphQLClient(server.url, { headers: { authorization: `Bearer ${partnerToken}` } });
  const pub = await partner.request(ConvPublishDocument, {
    input: { channelId: toGlobalId("Channel", channel.id), externalId: externalId(), threadKey: "t-1", sender: { name: "Cleo", handle: "cleo" }, text: "Hello?" },
  });
  if (pub.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(pub));
  const r = await server.client(await server.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId: pub.publishInboundMessage.conversationId, text: "Our reply" } });
  if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
  return fromGlobalId(r.reply.sentMessage.id, "Message");
}

describe("registering a webhook URL", () => {
  test("URLs of loopback, private, link-local, metadata and other non-public addresses are refused, naming the field", async () => {
    const { partner, client } = await partnerClient(t);
    dnsAnswers.set("internal.localtest", [["10.1.2.3"]]);
    dnsAnswers.set("mixed.localtest", [[PUBLIC, "127.0.0.1"]]);
    const refused = [
      receiver.url, // http://127.0.0.1:<port>/webhook
      "http://[::1]/hook",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.5/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://[::ffff:a9fe:a9fe]/hook",
      "http://0.0.0.0/hook",
      "http://2130706433/hook", // 127.0.0.1 as one number
      "http://0x7f.1/hook",
      "http://[fd00::1]/hook",
      "http://[fe80::1]/hook",
      "http://100.64.0.1/hook",
      "http://192.168.1.1/hook",
      "http://172.16.5.4/hook",
      "http://224.0.0.1/hook",
      "http://[ff02::1]/hook",
      "http://[64:ff9b::7f00:1]/hook", // NAT64 of 127.0.0.1
      "http://localhost:8080/hook",
      "http://api.localhost/hook",
      "http://internal.localtest/hook", // a name resolving to 10.1.2.3
      "http://mixed.localtest/hook", // one of its addresses is loopback
    ];
    for (const webhookUrl of refused) {
      const r = (await client.request(ChRegisterAppDocument, { input: app(webhookUrl) })).registerChannelApp;
      expect(r, webhookUrl).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "webhookUrl"], message: expect.stringMatching(/not a public address/) }] });
    }
    expect(await t.prisma.channelApp.count({ where: { partnerId: partner.id } })).toBe(0);

    // A public address is accepted; so is a name that does not resolve yet (checked again when sending).
    dnsAnswers.set("hooks.partner.localtest", [[PUBLIC]]);
    for (const webhookUrl of ["https://hooks.partner.localtest/in", `http://${PUBLIC}/in`, "https://not-yet.invalid/in"]) {
      const r = (await client.request(ChRegisterAppDocument, { input: app(webhookUrl) })).registerChannelApp;
      expect(r, webhookUrl).toMatchObject({ __typename: "RegisterChannelAppResult", app: { webhookUrl } });
    }
  });

  test("updating an app's webhook URL to an internal address is refused and the stored URL stays", async () => {
    const { client } = await partnerClient(t);
    dnsAnswers.set("hooks.partner.localtest", [[PUBLIC]]);
    const r = (await client.request(ChRegisterAppDocument, { input: app("https://hooks.partner.localtest/in") })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    const u = (await client.request(ChUpdateAppDocument, { input: { appId: r.app.id, webhookUrl: "http://169.254.169.254/latest/meta-data/" } })).updateChannelApp;
    expect(u).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "webhookUrl"] }] });
    const stored = await t.prisma.channelApp.findUniqueOrThrow({ where: { id: fromGlobalId(r.app.id, "ChannelApp") } });
    expect(stored.webhookUrl).toBe("https://hooks.partner.localtest/in");
    // Other fields still update (the URL given is checked, not the stored one).
    const renamed = (await client.request(ChUpdateAppDocument, { input: { appId: r.app.id, name: "Renamed" } })).updateChannelApp;
    expect(renamed).toMatchObject({ __typename: "ChannelAppResult", app: { name: "Renamed" } });
  });
});

describe("delivering to a webhook URL", () => {
  test("a name that resolved to a public address at registration and to 127.0.0.1 when sending is refused: FAILED once, with the reason", async () => {
    const { client, partner } = await partnerClient(t);
    const port = new URL(receiver.url).port;
    dnsAnswers.set("rebind.localtest", [[PUBLIC], ["127.0.0.1"]]);
    const r = (await client.request(ChRegisterAppDocument, { input: app(`http://rebind.localtest:${port}/webhook`) })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    const token = await t.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" });
    const before = receiver.received.length;
    const messageId = await replyThrough(t, fromGlobalId(r.app.id, "ChannelApp"), token);
    await eventually(async () => {
      const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId } });
      expect(d).toMatchObject({ state: "FAILED", attempts: 1, lastError: expect.stringMatching(/^refused: rebind\.localtest resolves to 127\.0\.0\.1, which is not a public address \(loopback/) });
    });
    const m = await t.prisma.message.findUniqueOrThrow({ where: { id: messageId } });
    expect(m).toMatchObject({ deliveryStatus: "FAILED", deliveryError: expect.stringMatching(/^Webhook delivery failed: refused: rebind\.localtest resolves to 127\.0\.0\.1/) });
    expect(receiver.received.length).toBe(before);
  });

  test("URLs stored before the rule (localhost, a loopback or metadata address) are refused when sending, never retried", async () => {
    const port = new URL(receiver.url).port;
    const before = receiver.received.length;
    for (const webhookUrl of [`http://localhost:${port}/webhook`, receiver.url, "http://169.254.169.254/latest/meta-data/", `http://[::ffff:127.0.0.1]:${port}/webhook`]) {
      const stored = await createPartnerApp(t.prisma, t.server.services.auth, { webhookUrl });
      const messageId = await replyThrough(t, stored.app.id, stored.token);
      await eventually(async () => {
        const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId } });
        expect(d, webhookUrl).toMatchObject({ state: "FAILED", attempts: 1, lastError: expect.stringMatching(/^refused: .*not a public address/) });
      });
    }
    expect(receiver.received.length).toBe(before);
  });
});

describe("the operator's allowlist", () => {
  test("WEBHOOK_ALLOW_PRIVATE with a CIDR range lets that range through, connecting to the checked address under the URL's host; other ranges stay refused", async () => {
    const other = await startTestServer({ DELIVERY_WORKER: "false", WEBHOOK_ALLOW_PRIVATE: "127.0.0.0/8" });
    leftovers.push(() => other.close());
    other.config.outbound.lookup = fakeLookup;
    const otherWorker = startDeliveryWorker(other.server.services, WORKER);
    leftovers.push(() => otherWorker.stop());
    const { client, partner } = await partnerClient(other);
    const port = new URL(receiver.url).port;
    dnsAnswers.set("hooks.localtest", [["127.0.0.1"]]);
    expect((await client.request(ChRegisterAppDocument, { input: app("http://10.0.0.5/hook") })).registerChannelApp).toMatchObject({ __typename: "ValidationError" });
    expect((await client.request(ChRegisterAppDocument, { input: app("http://[::1]/hook") })).registerChannelApp).toMatchObject({ __typename: "ValidationError" });
    const r = (await client.request(ChRegisterAppDocument, { input: app(`http://hooks.localtest:${port}/webhook`) })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    const before = receiver.received.length;
    const token = await other.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" });
    const messageId = await replyThrough(other, fromGlobalId(r.app.id, "ChannelApp"), token);
    await receiver.waitFor(before + 1);
    expect(receiver.received[before].headers.host).toBe(`hooks.localtest:${port}`);
    expect(receiver.received[before].json).toMatchObject({ type: "message.created", message: { text: "Our reply" } });
    await eventually(async () => expect(await other.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId } })).toMatchObject({ state: "DONE" }));
  });

  test("under NODE_ENV=production a webhook URL must be https", async () => {
    const prod = await startTestServer({ NODE_ENV: "production", DELIVERY_WORKER: "false" });
    leftovers.push(() => prod.close());
    prod.config.outbound.lookup = fakeLookup;
    dnsAnswers.set("hooks.partner.localtest", [[PUBLIC]]);
    const { client } = await partnerClient(prod);
    const plain = (await client.request(ChRegisterAppDocument, { input: app("http://hooks.partner.localtest/in") })).registerChannelApp;
    expect(plain).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "webhookUrl"], message: "Must be an https URL" }] });
    const secure = (await client.request(ChRegisterAppDocument, { input: app("https://hooks.partner.localtest/in") })).registerChannelApp;
    expect(secure).toMatchObject({ __typename: "RegisterChannelAppResult" });
  });
});
