import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { User } from "../src/generated/prisma/client.js";
import { CollChangedDocument, CollSetActivityDocument, CollSetTypingDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox } from "./support/conversation-fixtures.js";
import { record, type Recorder } from "./support/subscriptions.js";
import { heldSubscriptionSlots } from "../src/realtime/limits.js";
import { startServer } from "../src/server.js";

// Activities lapse after 1.5 s here (30 s in production) so that expiry is tested in real time.
process.env.CONVERSATION_ACTIVITY_TTL_MS = "1500";

let t: TestServer;
let acc: TestAccount;
const leftovers: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Collision Co" });
});
afterAll(async () => {
  for (const f of leftovers.reverse()) await f();
  await t?.close();
});

async function conversationFor(accountId: string, userIds: string[]) {
  const inbox = await createInbox(t.prisma, accountId, { userIds });
  const channel = await createChannel(t.prisma, { accountId, inboxId: inbox.id });
  const c = await t.prisma.conversation.create({ data: { accountId, inboxId: inbox.id, channelId: channel.id } });
  return toGlobalId("Conversation", c.id);
}

async function connect(token: string, url = t.wsUrl): Promise<Client> {
  let acked!: () => void;
  const connected = new Promise<void>((resolve) => (acked = resolve));
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` }, on: { connected: () => acked() }, onNonLazyError: () => {} });
  leftovers.push(() => client.dispose());
  await connected;
  return client;
}

type Changed = { conversationActivityChanged: { conversationId: string; agents: { activity: string; user: { id: string; firstName: string } }[] } };
const lists = (rec: Recorder<Changed> | Changed[]) => ("results" in rec ? rec.results : rec).map((r) => r.conversationActivityChanged.agents.map((a) => `${a.user.firstName}:${a.activity}`).join(","));

describe("collision detection", () => {
  let alice: User;
  let bob: User;
  let carol: User;
  beforeAll(async () => {
    alice = await createTestUser(t.prisma, acc.accountId, { firstName: "Alice" });
    bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    carol = await createTestUser(t.prisma, acc.accountId, { firstName: "Carol" });
  });

  test("each agent sees the OTHER agents viewing or replying: one document and scope, different results (never shared)", async () => {
    const conversationId = await conversationFor(acc.accountId, [alice.id, bob.id]);
    const aliceToken = await t.tokenFor(alice);
    const bobToken = await t.tokenFor(bob);
    const aliceWs = await connect(aliceToken);
    const bobWs = await connect(bobToken);
    const aliceRec = record(aliceWs, CollChangedDocument, { conversationId });
    const bobRec = record(bobWs, CollChangedDocument, { conversationId });
    // The current list comes at once (nobody yet).
    expect(lists(await aliceRec.waitFor(1))).toEqual([""]);
    expect(lists(await bobRec.waitFor(1))).toEqual([""]);

    const set = (token: string, activity: "VIEWING" | "REPLYING" | "NONE") => t.client(token).request(CollSetActivityDocument, { input: { conversationId, activity } }).then((r) => r.setConversationActivity);
    expect(await set(bobToken, "VIEWING")).toMatchObject({ __typename: "SetConversationActivityResult", conversationId, activity: "VIEWING" });
    await expect.poll(() => lists(aliceRec)).toEqual(["", "Bob:VIEWING"]);
    await set(aliceToken, "REPLYING");
    await expect.poll(() => lists(bobRec)).toEqual(["", "Alice:REPLYING"]);
    // Alice's own list was not changed by her own activity: she still sees only Bob.
    await set(bobToken, "NONE");
    await expect.poll(() => lists(aliceRec)).toEqual(["", "Bob:VIEWING", ""]);
    expect(lists(bobRec)).toEqual(["", "Alice:REPLYING"]);
    await set(aliceToken, "NONE");
    await expect.poll(() => lists(bobRec)).toEqual(["", "Alice:REPLYING", ""]);
    aliceRec.dispose();
    bobRec.dispose();
    await aliceWs.dispose();
    await bobWs.dispose();
  });

  test("an agent who cannot see the conversation gets NOT_FOUND and no events; another account's ids are not found either", async () => {
    const conversationId = await conversationFor(acc.accountId, [alice.id]);
    const carolToken = await t.tokenFor(carol);
    expect((await t.client(carolToken).request(CollSetActivityDocument, { input: { conversationId, activity: "VIEWING" } })).setConversationActivity).toMatchObject({ __typename: "NotFoundError" });
    const carolWs = await connect(carolToken);
    const carolRec = record(carolWs, CollChangedDocument, { conversationId });
    await expect.poll(() => carolRec.errors.length).toBe(1);
    expect(JSON.stringify(carolRec.errors)).toContain("NOT_FOUND");

    const other = await createTestAccount(t.prisma, { name: "Other" });
    const foreign = await conversationFor(other.accountId, [other.agent.id]);
    expect((await t.client(await t.tokenFor(acc.superAdmin)).request(CollSetActivityDocument, { input: { conversationId: foreign, activity: "VIEWING" } })).setConversationActivity).toMatchObject({
      __typename: "NotFoundError",
    });

    // Alice's activity there reaches nobody outside: the subscription that failed got nothing.
    await t.client(await t.tokenFor(alice)).request(CollSetActivityDocument, { input: { conversationId, activity: "VIEWING" } });
    await new Promise((r) => setTimeout(r, 200));
    expect(carolRec.results).toEqual([]);
    await carolWs.dispose();
  });

  test("an activity lapses by itself, ends when the agent's last socket closes, and typing counts as REPLYING", async () => {
    const conversationId = await conversationFor(acc.accountId, [alice.id, bob.id]);
    const aliceRec = record(await connect(await t.tokenFor(alice)), CollChangedDocument, { conversationId });
    await aliceRec.waitFor(1);
    const bobToken = await t.tokenFor(bob);
    const bobClient = t.client(bobToken);
    const set = (activity: "VIEWING" | "REPLYING" | "NONE") => bobClient.request(CollSetActivityDocument, { input: { conversationId, activity } });

    // Not renewed: gone after the TTL (1.5 s here), pushed without anyone calling.
    await set("VIEWING");
    await expect.poll(() => lists(aliceRec)).toEqual(["", "Bob:VIEWING"]);
    await expect.poll(() => lists(aliceRec), { timeout: 5_000 }).toEqual(["", "Bob:VIEWING", ""]);

    // Typing in the conversation reads as REPLYING while the indicator holds.
    await bobClient.request(CollSetTypingDocument, { input: { conversationId, typing: true } });
    await expect.poll(() => lists(aliceRec).at(-1)).toBe("Bob:REPLYING");
    await bobClient.request(CollSetTypingDocument, { input: { conversationId, typing: false } });
    await expect.poll(() => lists(aliceRec).at(-1)).toBe("");

    // Bob connected, viewing; his last socket closes: the activity ends at once.
    const bobSocket = await connect(bobToken);
    await set("VIEWING");
    await expect.poll(() => lists(aliceRec).at(-1)).toBe("Bob:VIEWING");
    const before = lists(aliceRec).length;
    await bobSocket.dispose();
    await expect.poll(() => lists(aliceRec).length, { timeout: 700 }).toBe(before + 1);
    expect(lists(aliceRec).at(-1)).toBe("");
    aliceRec.dispose();
    await expect.poll(() => heldSubscriptionSlots()).toBe(0);
  });
});

describe.runIf(Boolean(process.env.DATABASE_URL && process.env.REDIS_URL))("collision across two servers (PostgreSQL and Redis)", () => {
  test("an agent on server B sees an agent of server A viewing, and the view end when that agent's last socket (on A) closes", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-collision-b-"));
    const b = await startServer({ ...t.config, port: 0, dataDir });
    leftovers.push(async () => {
      await b.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const dora = await createTestUser(t.prisma, acc.accountId, { firstName: "Dora" });
    const eve = await createTestUser(t.prisma, acc.accountId, { firstName: "Eve" });
    const conversationId = await conversationFor(acc.accountId, [dora.id, eve.id]);
    const eveOnB = record(await connect(await t.tokenFor(eve), b.url.replace("http", "ws")), CollChangedDocument, { conversationId });
    await eveOnB.waitFor(1);
    const doraToken = await t.tokenFor(dora);
    const doraOnA = await connect(doraToken);
    await t.client(doraToken).request(CollSetActivityDocument, { input: { conversationId, activity: "VIEWING" } });
    await expect.poll(() => lists(eveOnB)).toEqual(["", "Dora:VIEWING"]);
    await doraOnA.dispose();
    await expect.poll(() => lists(eveOnB), { timeout: 1_000 }).toEqual(["", "Dora:VIEWING", ""]);
    eveOnB.dispose();
  });
});
