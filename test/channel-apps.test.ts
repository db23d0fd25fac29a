import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHmac } from "node:crypto";
import { ClientError, type GraphQLClient } from "graphql-request";
import {
  ChAgentAppsDocument,
  ChAppChannelsAsAgentDocument,
  ChConnectDocument,
  ChDeleteDocument,
  ChInboxesDocument,
  ChListDocument,
  ChMyAppsDocument,
  ChNodeDocument,
  ChRegisterAppDocument,
  ChUpdateAppDocument,
  ConvReplyDocument,
  PaAgentChannelCredentialsDocument,
  PaConnectedCredentialsDocument,
  PaPartnerChannelDocument,
  PaPublishDocument,
  type RegisterChannelAppInput,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type ReceivedWebhook } from "./support/webhook-receiver.js";

let t: TestServer;
let a: TestAccount;
let b: TestAccount;
let partner1: GraphQLClient;
let partner2: GraphQLClient;
const as = async (user: { id: string; accountId: string }) => t.client(await t.tokenFor(user));

async function partnerClient(name: string) {
  const partner = await t.prisma.partner.create({ data: { name } });
  return t.client(await t.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" }));
}

/**
 * The error code of a refused request: the typed union member's `code` where the field's payload
 * union has one (mutations), else the GraphQL error's (a field without a union).
 */
async function errorCode(request: Promise<unknown>): Promise<string | undefined> {
  let data: unknown;
  try {
    data = await request;
  } catch (err) {
    if (err instanceof ClientError) return err.response.errors?.[0]?.extensions?.code as string | undefined;
    throw err;
  }
  const [root] = Object.values((data ?? {}) as Record<string, { code?: string } | null>);
  return root?.code;
}

const smsApp: RegisterChannelAppInput = {
  name: "Acme SMS",
  description: "Text messages",
  logoUrl: "https://acme.test/logo.png",
  credentialFields: [
    { name: "accountSid", label: "Account SID", required: true },
    { name: "apiKey", label: "API key", secret: true, required: true },
  ],
  capabilities: { messageKinds: ["TEXT", "ATTACHMENT"], attachmentKinds: ["IMAGE", "VOICE_NOTE"], richText: false, maxAttachmentSize: 5_000_000, maxAttachments: 3 },
  threadingModel: "NEW_THREAD_PER_MESSAGE",
  webhookUrl: "https://acme.test/hook",
};

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Alpha" });
  b = await createTestAccount(t.prisma, { name: "Beta" });
  partner1 = await partnerClient("Acme");
  partner2 = await partnerClient("Globex");
});
afterAll(async () => t?.close());

describe("partners register and update channel apps", () => {
  test("register returns the app and its webhook signing secret once", async () => {
    const r = (await partner1.request(ChRegisterAppDocument, { input: smsApp })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    expect(r.app).toMatchObject({
      name: "Acme SMS",
      description: "Text messages",
      logoUrl: "https://acme.test/logo.png",
      threadingModel: "NEW_THREAD_PER_MESSAGE",
      webhookUrl: "https://acme.test/hook",
      credentialFields: [
        { name: "accountSid", label: "Account SID", secret: false, required: true },
        { name: "apiKey", label: "API key", secret: true, required: true },
      ],
      capabilities: { messageKinds: ["TEXT", "ATTACHMENT"], attachmentKinds: ["IMAGE", "VOICE_NOTE"], richText: false, maxAttachmentSize: 5_000_000, maxAttachments: 3 },
    });
    expect(r.webhookSigningSecret).toMatch(/^whsec_[\w-]{40,}$/);
    const row = await t.prisma.channelApp.findUniqueOrThrow({ where: { id: fromGlobalId(r.app.id, "ChannelApp") } });
    expect(row.webhookSecret).toBe(r.webhookSigningSecret);
    // Nothing else ever returns it.
    expect(JSON.stringify(await partner1.request(ChMyAppsDocument))).not.toContain(r.webhookSigningSecret);
  });

  test("invalid apps are refused and nothing is stored", async () => {
    const before = await t.prisma.channelApp.count();
    const bad = (await partner1.request(ChRegisterAppDocument, { input: { ...smsApp, webhookUrl: "ftp://nope" } })).registerChannelApp;
    expect(bad).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "webhookUrl"] }] });
    const dup = (await partner1.request(ChRegisterAppDocument, { input: { ...smsApp, credentialFields: [{ name: "k", label: "K" }, { name: "k", label: "K2" }] } })).registerChannelApp;
    expect(dup).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "credentialFields", "1", "name"] }] });
    expect(await t.prisma.channelApp.count()).toBe(before);
  });

  test("update changes only the given fields, and only the partner's own apps", async () => {
    const r = (await partner1.request(ChRegisterAppDocument, { input: { ...smsApp, name: "Acme Voice" } })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    const u = (await partner1.request(ChUpdateAppDocument, { input: { appId: r.app.id, description: "Calls", capabilities: { richText: true } } })).updateChannelApp;
    expect(u).toMatchObject({ __typename: "ChannelAppResult", app: { name: "Acme Voice", description: "Calls", webhookUrl: "https://acme.test/hook", capabilities: { richText: true, maxAttachments: 3 } } });
    const other = (await partner2.request(ChUpdateAppDocument, { input: { appId: r.app.id, name: "Stolen" } })).updateChannelApp;
    expect(other.__typename).toBe("NotFoundError");
    expect((await t.prisma.channelApp.findUniqueOrThrow({ where: { id: fromGlobalId(r.app.id, "ChannelApp") } })).name).toBe("Acme Voice");
  });

  test("agents cannot register or update apps (the field is partner-only: a FORBIDDEN error)", async () => {
    const before = await t.prisma.channelApp.count();
    const agent = await as(a.superAdmin);
    expect(await errorCode(agent.request(ChRegisterAppDocument, { input: smsApp }))).toBe("FORBIDDEN");
    const app = await t.prisma.channelApp.findFirstOrThrow();
    expect(await errorCode(agent.request(ChUpdateAppDocument, { input: { appId: toGlobalId("ChannelApp", app.id), name: "Mine" } }))).toBe("FORBIDDEN");
    expect(await t.prisma.channelApp.count()).toBe(before);
    expect((await t.prisma.channelApp.findUniqueOrThrow({ where: { id: app.id } })).name).toBe(app.name);
  });
});

describe("what partners and agents see", () => {
  let appId: string;
  let channelA: string;
  let channelB: string;

  beforeAll(async () => {
    const r = (await partner1.request(ChRegisterAppDocument, { input: { ...smsApp, name: "Acme Chat" } })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    appId = r.app.id;
    const creds = [{ name: "accountSid", value: "AC1" }, { name: "apiKey", value: "sk_secret_value" }];
    for (const [account, target] of [[a, "A"], [b, "B"]] as const) {
      const c = (await (await as(account.superAdmin)).request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", account.helpDeskId), name: `SMS ${target}`, custom: { channelAppId: appId, credentials: creds } } })).connectChannel;
      if (c.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(c));
      if (target === "A") channelA = c.channel.id;
      else channelB = c.channel.id;
    }
  });

  test("agents list every app they can connect, without partner-only data", async () => {
    const { channelApps } = await (await as(a.agent)).request(ChAgentAppsDocument);
    const mine = channelApps.find((app) => app.id === appId);
    expect(mine).toMatchObject({ name: "Acme Chat", webhookUrl: null });
    expect(await errorCode((await as(a.admin)).request(ChAppChannelsAsAgentDocument))).toBe("FORBIDDEN");
  });

  test("a partner sees its apps' channels across accounts: id, name, status and account name only", async () => {
    const { myChannelApps } = await partner1.request(ChMyAppsDocument);
    const app = myChannelApps.find((x) => x.id === appId)!;
    expect(app.connectedChannels).toEqual([
      { id: channelA, name: "SMS A", type: "CUSTOM", status: "ON", account: { id: toGlobalId("Account", a.accountId), name: "Alpha" } },
      { id: channelB, name: "SMS B", type: "CUSTOM", status: "ON", account: { id: toGlobalId("Account", b.accountId), name: "Beta" } },
    ]);
    expect(JSON.stringify(myChannelApps)).not.toContain("sk_secret_value");
    // A deleted channel is no longer listed.
    await (await as(b.superAdmin)).request(ChDeleteDocument, { input: { channelId: channelB } });
    const again = (await partner1.request(ChMyAppsDocument)).myChannelApps.find((x) => x.id === appId)!;
    expect(again.connectedChannels.map((c) => c.id)).toEqual([channelA]);
  });

  test("another partner sees neither the app nor its channels", async () => {
    const { myChannelApps } = await partner2.request(ChMyAppsDocument);
    expect(myChannelApps).toEqual([]);
    expect((await partner2.request(ChNodeDocument, { id: appId })).node).toBeNull();
  });

  test("a partner token cannot read or change anything of an account", async () => {
    expect(await errorCode(partner1.request(ChListDocument, {}))).toBe("FORBIDDEN");
    expect(await errorCode(partner1.request(ChInboxesDocument))).toBe("FORBIDDEN");
    expect((await partner1.request(ChNodeDocument, { id: channelA })).node).toBeNull();
    expect((await partner1.request(ChNodeDocument, { id: toGlobalId("Account", a.accountId) })).node).toBeNull();
    expect(await errorCode(partner1.request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", a.helpDeskId), name: "Sneaky", chat: {} } }))).toBe("FORBIDDEN");
    expect(await errorCode(partner1.request(ChDeleteDocument, { input: { channelId: channelA } }))).toBe("FORBIDDEN");
    expect(await t.prisma.channel.count({ where: { name: "Sneaky" } })).toBe(0);
    expect((await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(channelA, "Channel") } })).deletedAt).toBeNull();
  });
});

describe("partners read their channels' credentials and hear of connections", () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let partner: GraphQLClient;
  let appId: string;
  let secret: string;
  let channelId: string;
  const creds = [{ name: "accountSid", value: "AC-connected" }, { name: "apiKey", value: "sk_live_entered_by_account" }];

  /** The webhooks of one type the receiver got, after checking each one's signature. */
  const hooks = (type: string): ReceivedWebhook[] =>
    receiver.received.filter((h) => {
      if (h.json.type !== type) return false;
      const timestamp = String(h.headers["x-inbox-timestamp"]);
      expect(h.headers["x-inbox-signature"]).toBe(`sha256=${createHmac("sha256", secret).update(`${timestamp}.${h.body}`).digest("hex")}`);
      expect(h.headers["x-inbox-delivery-id"]).toBe(h.json.deliveryId);
      return true;
    });
  const waitForHook = async (type: string, n = 1) => {
    for (let i = 0; i < 200 && hooks(type).length < n; i++) await new Promise((r) => setTimeout(r, 50));
    return hooks(type);
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    partner = await partnerClient("Initech");
    const r = (await partner.request(ChRegisterAppDocument, { input: { ...smsApp, name: "Initech SMS", webhookUrl: receiver.url } })).registerChannelApp;
    if (r.__typename !== "RegisterChannelAppResult") throw new Error(JSON.stringify(r));
    appId = r.app.id;
    secret = r.webhookSigningSecret;
    const c = (await (await as(a.superAdmin)).request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", a.helpDeskId), name: "Initech line", custom: { channelAppId: appId, credentials: creds } } })).connectChannel;
    if (c.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(c));
    channelId = c.channel.id;
  });
  afterAll(async () => receiver?.close());

  test("a signed channel.connected webhook names the channel, app and account, with non-secret values only", async () => {
    const [hook] = await waitForHook("channel.connected");
    expect(hook.json).toEqual({
      deliveryId: expect.any(String),
      type: "channel.connected",
      channel: { id: channelId, name: "Initech line", status: "ON", createdAt: expect.any(String) },
      app: { id: appId },
      account: { id: toGlobalId("Account", a.accountId), name: "Alpha" },
      credentials: [
        { name: "accountSid", secret: false, isSet: true, value: "AC-connected" },
        { name: "apiKey", secret: true, isSet: true, value: null },
      ],
    });
    // The secret value never sits in the queued body.
    expect(hook.body).not.toContain("sk_live_entered_by_account");
    const row = await t.prisma.outboundDelivery.findUniqueOrThrow({ where: { id: hook.json.deliveryId } });
    expect(JSON.stringify(row.payload)).not.toContain("sk_live_entered_by_account");
  });

  test("the app's partner reads every credential the account entered, secret ones included; agents still see secrets masked", async () => {
    const { partnerChannel } = await partner.request(PaPartnerChannelDocument, { id: channelId });
    expect(partnerChannel).toEqual({
      id: channelId,
      name: "Initech line",
      status: "ON",
      account: { id: toGlobalId("Account", a.accountId), name: "Alpha" },
      app: { id: appId, name: "Initech SMS" },
      credentials: [
        { name: "accountSid", label: "Account SID", secret: false, isSet: true, value: "AC-connected" },
        { name: "apiKey", label: "API key", secret: true, isSet: true, value: "sk_live_entered_by_account" },
      ],
    });
    const listed = (await partner.request(PaConnectedCredentialsDocument)).myChannelApps.find((app) => app.id === appId)!;
    expect(listed.connectedChannels).toEqual([{ id: channelId, credentials: [{ name: "accountSid", value: "AC-connected" }, { name: "apiKey", value: "sk_live_entered_by_account" }] }]);
    // Reached from a published message, the channel shows the partner the same values.
    const pub = (await partner.request(PaPublishDocument, { input: { channelId, externalId: "cred-1", sender: { handle: "u-1" }, text: "hi" } })).publishInboundMessage;
    if (pub.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(pub));
    expect(pub.inboundMessage.channel.custom?.credentials).toEqual([{ name: "accountSid", value: "AC-connected" }, { name: "apiKey", value: "sk_live_entered_by_account" }]);

    const agentView = (await (await as(a.superAdmin)).request(PaAgentChannelCredentialsDocument, { id: channelId })).node;
    expect(agentView).toEqual({ custom: { credentials: [{ name: "accountSid", secret: false, isSet: true, value: "AC-connected" }, { name: "apiKey", secret: true, isSet: true, value: null }] } });
  });

  test("another partner reads none of it", async () => {
    expect((await partner2.request(PaPartnerChannelDocument, { id: channelId })).partnerChannel).toBeNull();
    expect((await partner2.request(PaPartnerChannelDocument, { id: "bogus" })).partnerChannel).toBeNull();
    const pub = (await partner2.request(PaPublishDocument, { input: { channelId, externalId: "cred-2", sender: { handle: "u-2" }, text: "hi" } })).publishInboundMessage;
    expect(pub).toMatchObject({ __typename: "NotFoundError" });
  });

  test("the reply webhook names the recipient's handle, phone and email", async () => {
    const pub = (await partner.request(PaPublishDocument, {
      input: { channelId, externalId: "recipient-1", sender: { name: "Rita", handle: "rita-77", phone: "+15550102030", email: "rita@customer.test" }, text: "Where is my order?" },
    })).publishInboundMessage;
    if (pub.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(pub));
    const sent = (await (await as(a.superAdmin)).request(ConvReplyDocument, { input: { conversationId: pub.conversationId, text: "On its way" } })).reply;
    if (sent.__typename !== "MessageResult") throw new Error(JSON.stringify(sent));
    const replies = await waitForHook("message.created");
    const hook = replies.find((h) => h.json.message.text === "On its way")!;
    expect(hook.json.recipient).toEqual({ handle: "rita-77", phone: "+15550102030", email: "rita@customer.test" });
    expect(hook.json.contact).toMatchObject({ name: "Rita", phone: "+15550102030", email: "rita@customer.test" });
  });

  test("deleting the channel sends a signed channel.disconnected webhook, once", async () => {
    const admin = await as(a.superAdmin);
    const del = (await admin.request(ChDeleteDocument, { input: { channelId } })).deleteChannel;
    expect(del).toMatchObject({ __typename: "DeleteChannelResult", deletedChannelId: channelId });
    const [hook] = await waitForHook("channel.disconnected");
    expect(hook.json).toEqual({
      deliveryId: expect.any(String),
      type: "channel.disconnected",
      channel: { id: channelId, name: "Initech line", disconnectedAt: expect.any(String) },
      app: { id: appId },
      account: { id: toGlobalId("Account", a.accountId), name: "Alpha" },
    });
    // Deleting again finds no channel and tells the partner nothing more.
    expect((await admin.request(ChDeleteDocument, { input: { channelId } })).deleteChannel.__typename).toBe("NotFoundError");
    await new Promise((r) => setTimeout(r, 300));
    expect(hooks("channel.disconnected")).toHaveLength(1);
    expect(await t.prisma.outboundDelivery.count({ where: { channelId: fromGlobalId(channelId, "Channel"), kind: "PARTNER_WEBHOOK", messageId: null } })).toBe(2);
    // The partner's lookup no longer answers for it.
    expect((await partner.request(PaPartnerChannelDocument, { id: channelId })).partnerChannel).toBeNull();
  });
});
