import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ConvAddCommentDocument,
  ConvPublishDocument,
  RtConversationUpdatedDocument,
  RtMessageAddedDocument,
  RtMuteDocument,
  RtTicketUpdatedDocument,
  SetInboxMembersDocument,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { heldSubscriptionSlots } from "../src/realtime/limits.js";
import { hubFor } from "../src/realtime/hub.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, createTeam, externalId } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";

let t: TestServer;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let a: TestAccount;
let b: TestAccount;
const inbox: Record<string, { id: string; channelId: string }> = {};
const users: Record<string, { id: string; accountId: string }> = {};

beforeAll(async () => {
  t = await startTestServer();
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
  a = await createTestAccount(t.prisma, { name: "Realtime A" });
  b = await createTestAccount(t.prisma, { name: "Realtime B" });
  for (const name of ["one", "two", "three"]) users[name] = await createTestUser(t.prisma, a.accountId, {});
  users.other = await createTestUser(t.prisma, b.accountId, {});
  const team = await createTeam(t.prisma, a.accountId, [users.two.id]);
  const mk = async (key: string, accountId: string, userIds: string[], teamId?: string) => {
    const created = await createInbox(t.prisma, accountId, { userIds });
    if (teamId) await t.prisma.inboxTeam.create({ data: { accountId, inboxId: created.id, teamId } });
    const channel = await createChannel(t.prisma, { accountId, inboxId: created.id, channelAppId: partner.app.id });
    inbox[key] = { id: created.id, channelId: toGlobalId("Channel", channel.id) };
  };
  await mk("a1", a.accountId, [users.one.id, users.three.id]);
  await mk("a2", a.accountId, [users.three.id], team.id);
  await mk("b1", b.accountId, [users.other.id]);
});
afterAll(async () => t?.close());

async function publish(key: string, text: string, threadKey = externalId("thr")) {
  const r = await t.client(partner.token).request(ConvPublishDocument, {
    input: { channelId: inbox[key].channelId, externalId: externalId(), threadKey, sender: { handle: threadKey, name: "Customer" }, text },
  });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r));
  return r.publishInboundMessage;
}

const texts = (rows: { messageAdded: { text?: string | null } }[]) => rows.map((r) => r.messageAdded.text);

describe("who receives what", () => {
  test("agents in different inboxes and another account each receive exactly their events; comments reach agents", async () => {
    await publish("a1", "to one");
    await publish("a2", "to two");
    await publish("b1", "to other");
    // after: "0" replays the account's events from the start, so no race with subscribing.
    const one = record(t.ws(await t.tokenFor(users.one)), RtMessageAddedDocument, { after: "0" });
    const two = record(t.ws(await t.tokenFor(users.two)), RtMessageAddedDocument, { after: "0" });
    const other = record(t.ws(await t.tokenFor(users.other)), RtMessageAddedDocument, { after: "0" });
    expect(texts(await one.waitFor(1))).toEqual(["to one"]);
    expect(texts(await two.waitFor(1))).toEqual(["to two"]);
    expect(texts(await other.waitFor(1))).toEqual(["to other"]);

    const live = await publish("a1", "live to one");
    await t.client(await t.tokenFor(users.one)).request(ConvAddCommentDocument, { input: { conversationId: live.conversationId, text: "internal note" } });
    await publish("a2", "live to two");
    await publish("b1", "live to other");
    const oneRows = await one.waitFor(3);
    expect(texts(oneRows)).toEqual(["to one", "live to one", "internal note"]);
    expect(oneRows[2].messageAdded.kind).toBe("COMMENT");
    expect(texts(await two.waitFor(2))).toEqual(["to two", "live to two"]);
    expect(texts(await other.waitFor(2))).toEqual(["to other", "live to other"]);
    // Cursors increase strictly within an account.
    const cursors = oneRows.map((r) => BigInt(r.messageAdded.eventCursor!));
    expect([...cursors].sort((x, y) => (x < y ? -1 : 1))).toEqual(cursors);
    for (const r of [one, two, other]) expect(r.errors).toEqual([]);
  });

  test("a muted agent gets conversationUpdated but no messageAdded unless it names the conversation", async () => {
    const token = await t.tokenFor(users.three);
    await t.client(token).request(RtMuteDocument, { input: { muteNewMessageNotifications: true } });
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString();
    const ws = t.ws(token);
    const all = record(ws, RtMessageAddedDocument, { after: start });
    const conversations = record(ws, RtConversationUpdatedDocument, { after: start });
    const first = await publish("a1", "while muted");
    const narrowed = record(ws, RtMessageAddedDocument, { conversationId: first.conversationId, after: start });
    expect(texts(await narrowed.waitFor(1))).toEqual(["while muted"]);
    expect((await conversations.waitFor(1))[0].conversationUpdated.id).toBe(first.conversationId);
    // Unmuting is itself an ordered event: messages after it arrive, the muted one never does.
    await t.client(token).request(RtMuteDocument, { input: { muteNewMessageNotifications: false } });
    await publish("a2", "after unmuting");
    expect(texts(await all.waitFor(1))).toEqual(["after unmuting"]);
  });

  test("removed from an inbox: no more events from it", async () => {
    const token = await t.tokenFor(users.three);
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString();
    const sub = record(t.ws(token), RtMessageAddedDocument, { after: start });
    await publish("a1", "before removal");
    expect(texts(await sub.waitFor(1))).toEqual(["before removal"]);
    const admin = t.client(await t.tokenFor(a.admin));
    await admin.request(SetInboxMembersDocument, { input: { inboxId: toGlobalId("Inbox", inbox.a1.id), userIds: [toGlobalId("User", users.one.id)], teamIds: [] } });
    await publish("a1", "after removal");
    await publish("a2", "still a member here");
    expect(texts(await sub.waitFor(2))).toEqual(["before removal", "still a member here"]);
  });

  test("subscribing to an inbox the caller is not a member of is refused", async () => {
    const sub = record(t.ws(await t.tokenFor(users.one)), RtMessageAddedDocument, { inboxId: toGlobalId("Inbox", inbox.a2.id) });
    await expect.poll(() => sub.errors.length).toBe(1);
    expect(JSON.stringify(sub.errors)).toContain("NOT_FOUND");
  });
});

describe("transports and resume", () => {
  test("SSE delivers messageAdded", async () => {
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: b.accountId } })).eventSeq.toString();
    const controller = new AbortController();
    const res = await fetch(t.url, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${await t.tokenFor(users.other)}` },
      body: JSON.stringify({ query: "subscription($after: String) { messageAdded(after: $after) { text } }", variables: { after: start } }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await publish("b1", "over SSE");
    const reader = res.body!.getReader();
    let buffer = "";
    while (!buffer.includes("over SSE")) buffer += new TextDecoder().decode((await reader.read()).value);
    expect(buffer).toContain('{"data":{"messageAdded":{"text":"over SSE"}}}');
    controller.abort();
  });

  test("resume after a forced disconnect while messages keep arriving: nothing missing, nothing doubled", async () => {
    const token = await t.tokenFor(users.one);
    const thread = externalId("thr");
    const first = record(t.ws(token), RtMessageAddedDocument, { inboxId: toGlobalId("Inbox", inbox.a1.id), after: (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString() });
    await publish("a1", "m0", thread);
    const [got] = await first.waitFor(1);
    const cursor = got.messageAdded.eventCursor!;
    first.dispose();
    const sent = ["m0"];
    // Messages keep arriving while the client is away, and while it resubscribes.
    for (let i = 1; i <= 5; i++) sent.push((await publish("a1", `m${i}`, thread)).inboundMessage.text!);
    const resumed = record(t.ws(token), RtMessageAddedDocument, { inboxId: toGlobalId("Inbox", inbox.a1.id), after: cursor });
    const racing = Promise.all([6, 7, 8].map(async (i) => (await publish("a1", `m${i}`, thread)).inboundMessage.text!));
    sent.push(...(await racing));
    const rows = await resumed.waitFor(8);
    const received = texts(rows);
    expect(received.slice(0, 5)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect([...received].sort()).toEqual(sent.slice(1).sort());
    expect(new Set(received).size).toBe(received.length);
  });

  test("ticketUpdated follows ticket changes in the caller's inboxes", async () => {
    const token = await t.tokenFor(a.superAdmin);
    const start = (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString();
    const sub = record(t.ws(token), RtTicketUpdatedDocument, { after: start });
    const helpDeskChannel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: a.helpDeskId, channelAppId: partner.app.id });
    inbox.hd = { id: a.helpDeskId, channelId: toGlobalId("Channel", helpDeskChannel.id) };
    const published = await publish("hd", "please open a ticket");
    const [row] = await sub.waitFor(1);
    const conversation = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(published.conversationId, "Conversation") } });
    expect(row.ticketUpdated.id).toBe(toGlobalId("Ticket", conversation.ticketId!));
  });

  test("1,000 subscribe/unsubscribe cycles leave nothing behind", async () => {
    const client = t.ws(await t.tokenFor(users.one));
    const baseline = heldSubscriptionSlots();
    const hub = hubFor(t.server.services.pubsub);
    const hubBefore = hub.size;
    const heap = () => {
      global.gc!();
      return process.memoryUsage().heapUsed;
    };
    const settled = async (slots: number) => {
      while (heldSubscriptionSlots() !== slots) await new Promise((r) => setTimeout(r, 1));
    };
    // Each cycle: subscribe, wait until the server holds it, unsubscribe, wait until it is freed.
    const cycles = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const dispose = client.subscribe({ query: "subscription { messageAdded { id } }" }, { next: () => {}, error: () => {}, complete: () => {} });
        await settled(baseline + 1);
        dispose();
        await settled(baseline);
      }
    };
    // Warm up first (compiled code, caches), then measure over 1,000 more.
    await cycles(200);
    const memoryBefore = heap();
    await cycles(1000);
    // No account feed kept open for subscriptions that ended, no listener left on the pubsub.
    await expect.poll(() => hub.size, { timeout: 10_000 }).toEqual(hubBefore);
    // The heap after 1,000 cycles is about where it started (a leak of even 5 KiB a cycle shows).
    const grown = heap() - memoryBefore;
    console.log(`1,000 subscribe/unsubscribe cycles: heap grew ${(grown / 1024).toFixed(0)} KiB`);
    expect(grown).toBeLessThan(5 * 1024 * 1024);
    // Still fully working afterwards.
    const sub = record(client, RtMessageAddedDocument, { after: (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString() });
    await publish("a1", "after the cycles");
    expect(texts(await sub.waitFor(1))).toEqual(["after the cycles"]);
  });
});
