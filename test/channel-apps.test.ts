import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
  type RegisterChannelAppInput,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

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

/** The GraphQL error code of a request that fails as a whole field (no typed union). */
async function errorCode(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
  } catch (err) {
    if (err instanceof ClientError) return err.response.errors?.[0]?.extensions?.code as string | undefined;
    throw err;
  }
  return undefined;
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
