// Views: built-in and custom (shared/personal) saved filters, conversations(viewId:), viewCounts in
// one statement, and viewCountsChanged pushed live per caller (never merged between callers).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toGlobalId } from "../src/schema/ids.js";
import {
  RsAssignDocument,
  RsCommentDocument,
  RsListDocument,
  RsMarkReadDocument,
  RsPublishDocument,
  VwCountsChangedDocument,
  VwCountsDocument,
  VwCreateDocument,
  VwDeleteDocument,
  VwUpdateDocument,
  VwViewsDocument,
  CsSpamDocument,
} from "./generated/graphql.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";

let t: TestServer;
let acc: TestAccount;
let other: TestAccount;
let partnerToken: string;
let salesChannel: string;
let supportChannel: string;
let otherChannel: string;
let salesInbox: string;
let alice: { id: string; accountId: string };
let alice2: { id: string; accountId: string };
let bob: { id: string; accountId: string };
type Client = ReturnType<TestServer["client"]>;
let asAlice: Client;
let asAlice2: Client;
let asBob: Client;
let asAdmin: Client;
let asOther: Client;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Views" });
  other = await createTestAccount(t.prisma, { name: "Other views" });
  const partner = await createPartnerApp(t.prisma, t.server.services.auth);
  partnerToken = partner.token;
  alice = await createTestUser(t.prisma, acc.accountId, { firstName: "Alice" });
  alice2 = await createTestUser(t.prisma, acc.accountId, { firstName: "Alys" });
  bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
  const sales = await createInbox(t.prisma, acc.accountId, { name: "Sales", userIds: [alice.id, alice2.id] });
  salesInbox = toGlobalId("Inbox", sales.id);
  const support = await createInbox(t.prisma, acc.accountId, { name: "Support", userIds: [bob.id] });
  salesChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: acc.accountId, inboxId: sales.id, channelAppId: partner.app.id })).id);
  supportChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: acc.accountId, inboxId: support.id, channelAppId: partner.app.id })).id);
  const otherInbox = await createInbox(t.prisma, other.accountId, { userIds: [other.agent.id] });
  otherChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: other.accountId, inboxId: otherInbox.id, channelAppId: partner.app.id })).id);
  [asAlice, asAlice2, asBob, asAdmin, asOther] = await Promise.all([alice, alice2, bob, acc.admin, other.agent].map(async (u) => t.client(await t.tokenFor(u))));
}, 120_000);
afterAll(async () => t?.close());

async function publish(channelId: string, thread = `t-${externalId()}`, text = "Hello") {
  const r = await t.client(partnerToken).request(RsPublishDocument, { input: { channelId, externalId: externalId(), threadKey: thread, sender: { name: "Cara", email: "cara@views.test" }, text } });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r));
  return r.publishInboundMessage.conversationId;
}

type Counts = { view: { id: string; name: string; builtIn?: string | null }; count: number; unreadCount: number }[];
const byName = (counts: Counts) => Object.fromEntries(counts.map((c) => [c.view.name, [c.count, c.unreadCount]]));
const counts = async (client: Client) => byName((await client.request(VwCountsDocument)).viewCounts);

/** What the list shows for a view, to check each count against. */
async function listed(client: Client, viewId: string) {
  return (await client.request(RsListDocument, { viewId, first: 100 })).conversations.edges.map((e) => e.node);
}

describe("built-in views and their counts", () => {
  test("every agent has the four built-in views; counts equal what conversations(viewId:) lists; unread follows the read position", async () => {
    const s1 = await publish(salesChannel);
    const s2 = await publish(salesChannel);
    await publish(supportChannel);
    await publish(otherChannel); // another account: never counted
    await asAdmin.request(RsAssignDocument, { input: { conversationId: s1, assigneeId: toGlobalId("User", alice.id) } });
    await asAdmin.request(RsCommentDocument, { input: { conversationId: s2, text: "@Alice", mentionUserIds: [toGlobalId("User", alice.id)] } });

    const views = (await asAlice.request(VwViewsDocument)).views;
    expect(views.map((v) => [v.builtIn, v.name, v.shared])).toEqual([
      ["ASSIGNED_TO_ME", "Assigned to me", true],
      ["UNASSIGNED", "Unassigned", true],
      ["ALL_OPEN", "All open", true],
      ["MENTIONS", "Mentions", true],
    ]);
    expect(views[0].filter).toEqual({ assigneeId: toGlobalId("User", alice.id), status: "OPEN" });

    expect(await counts(asAlice)).toEqual({ "Assigned to me": [1, 1], Unassigned: [1, 1], "All open": [2, 2], Mentions: [1, 1] });
    for (const v of views) {
      const rows = await listed(asAlice, v.id);
      const c = (await asAlice.request(VwCountsDocument)).viewCounts.find((x) => x.view.id === v.id)!;
      expect([rows.length, rows.filter((r) => r.unreadCount > 0).length]).toEqual([c.count, c.unreadCount]);
    }
    // Alys sees the same inbox, but nothing is assigned to or mentions her.
    expect(await counts(asAlice2)).toEqual({ "Assigned to me": [0, 0], Unassigned: [1, 1], "All open": [2, 2], Mentions: [0, 0] });
    // Bob sees Support only; the admin sees every inbox of the account (and no other account's).
    expect(await counts(asBob)).toEqual({ "Assigned to me": [0, 0], Unassigned: [1, 1], "All open": [1, 1], Mentions: [0, 0] });
    // The admin commented on s2: their own comment moved their read position there.
    expect((await counts(asAdmin))["All open"]).toEqual([3, 2]);
    expect((await counts(asOther))["All open"]).toEqual([1, 1]);

    await asAlice.request(RsMarkReadDocument, { input: { conversationId: s2 } });
    expect(await counts(asAlice)).toEqual({ "Assigned to me": [1, 1], Unassigned: [1, 0], "All open": [2, 1], Mentions: [1, 0] });
    expect((await counts(asAlice2))["All open"]).toEqual([2, 2]);
    // Combined with a filter, both apply.
    const assigned = views[0].id;
    expect(await listed(asAlice, assigned)).toHaveLength(1);
    expect((await asAlice.request(RsListDocument, { viewId: assigned, filter: { status: "CLOSED" } })).conversations.edges).toHaveLength(0);
  });
});

describe("custom views", () => {
  test("personal views are their owner's; shared ones are the admins' to manage and everyone's to see; built-in ones cannot change", async () => {
    const mine = await asAlice.request(VwCreateDocument, { input: { name: "  Sales, open  ", filter: { inboxId: salesInbox, status: "OPEN" } } });
    expect(mine.createView).toMatchObject({ __typename: "ViewResult", view: { name: "Sales, open", shared: false, builtIn: null, filter: { inboxId: salesInbox, status: "OPEN" } } });
    const mineId = (mine.createView as { view: { id: string } }).view.id;
    expect((await asAlice.request(VwViewsDocument)).views.map((v) => v.name)).toContain("Sales, open");
    expect((await asAlice2.request(VwViewsDocument)).views.map((v) => v.name)).not.toContain("Sales, open");
    // Another user's personal view is not found, whoever they are.
    for (const client of [asAlice2, asAdmin]) {
      expect((await client.request(VwUpdateDocument, { input: { viewId: mineId, name: "Taken" } })).updateView).toMatchObject({ __typename: "NotFoundError" });
      expect((await client.request(VwDeleteDocument, { input: { viewId: mineId } })).deleteView).toMatchObject({ __typename: "NotFoundError" });
    }
    await expect(asAlice2.request(RsListDocument, { viewId: mineId })).rejects.toThrow(/NOT_FOUND|not found/i);

    expect((await asAlice.request(VwCreateDocument, { input: { name: "Team", filter: {}, shared: true } })).createView).toMatchObject({ __typename: "ForbiddenError" });
    const shared = await asAdmin.request(VwCreateDocument, { input: { name: "Unassigned sales", filter: { inboxId: salesInbox, unassigned: true }, shared: true, position: 2 } });
    expect(shared.createView).toMatchObject({ __typename: "ViewResult", view: { shared: true, position: 2 } });
    const sharedId = (shared.createView as { view: { id: string } }).view.id;
    expect((await asBob.request(VwViewsDocument)).views.map((v) => v.name)).toEqual(["Assigned to me", "Unassigned", "All open", "Mentions", "Unassigned sales"]);
    // Bob cannot see Sales: the shared view counts nothing for him.
    expect((await counts(asBob))["Unassigned sales"]).toEqual([0, 0]);
    expect((await asBob.request(VwUpdateDocument, { input: { viewId: sharedId, name: "Mine now" } })).updateView).toMatchObject({ __typename: "ForbiddenError" });
    expect((await asBob.request(VwDeleteDocument, { input: { viewId: sharedId } })).deleteView).toMatchObject({ __typename: "ForbiddenError" });
    const builtIn = (await asAdmin.request(VwViewsDocument)).views[0].id;
    expect((await asAdmin.request(VwUpdateDocument, { input: { viewId: builtIn, name: "Mine" } })).updateView).toMatchObject({ __typename: "ForbiddenError" });

    // The owner edits and deletes; the view's list and count follow the new filter.
    const renamed = await asAlice.request(VwUpdateDocument, { input: { viewId: mineId, name: "Sales, all", filter: { inboxId: salesInbox } } });
    expect(renamed.updateView).toMatchObject({ view: { name: "Sales, all", filter: { inboxId: salesInbox } } });
    const rows = await listed(asAlice, mineId);
    expect((await counts(asAlice))["Sales, all"][0]).toBe(rows.length);
    expect((await asAdmin.request(VwUpdateDocument, { input: { viewId: sharedId, position: 5 } })).updateView).toMatchObject({ view: { position: 5, name: "Unassigned sales" } });
    expect((await asAlice.request(VwDeleteDocument, { input: { viewId: mineId } })).deleteView).toEqual({ __typename: "DeleteViewResult", deletedViewId: mineId });
    expect(await t.prisma.view.count({ where: { accountId: acc.accountId } })).toBe(1);
  });

  test("a filter is checked on save: typed errors for a bad name, a wrong id, another account's inbox; nothing stored", async () => {
    const before = await t.prisma.view.count();
    const foreignInbox = toGlobalId("Inbox", (await t.prisma.inbox.findFirstOrThrow({ where: { accountId: other.accountId, kind: "INBOX" } })).id);
    const cases: [Record<string, unknown>, string[]][] = [
      [{ name: " ", filter: {} }, ["input", "name"]],
      [{ name: "x".repeat(101), filter: {} }, ["input", "name"]],
      [{ name: "Wrong", filter: { inboxId: toGlobalId("Channel", "nope") } }, ["input", "filter"]],
      [{ name: "Foreign", filter: { inboxId: foreignInbox } }, ["input", "filter", "inboxId"]],
      [{ name: "Ghost", filter: { assigneeId: toGlobalId("User", other.agent.id) } }, ["input", "filter", "assigneeId"]],
      [{ name: "Far", filter: {}, position: -1 }, ["input", "position"]],
    ];
    for (const [input, path] of cases) {
      const r = await asAlice.request(VwCreateDocument, { input: input as never });
      expect(r.createView, JSON.stringify(input)).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path }] });
    }
    expect(await t.prisma.view.count()).toBe(before);
    // Another account's view id is not found either.
    const theirs = await asOther.request(VwCreateDocument, { input: { name: "Theirs", filter: {} } });
    const theirsId = (theirs.createView as { view: { id: string } }).view.id;
    expect((await asAdmin.request(VwDeleteDocument, { input: { viewId: theirsId } })).deleteView).toMatchObject({ __typename: "NotFoundError" });
    expect((await counts(asAdmin)).Theirs).toBeUndefined();
  });

  test("dates in a stored filter decode as dates; a mention view counts its unread mentions", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const r = await asAlice.request(VwCreateDocument, { input: { name: "Future", filter: { from: future } } });
    expect(r.createView).toMatchObject({ view: { filter: { from: future } } });
    expect((await counts(asAlice)).Future).toEqual([0, 0]);
    const past = await asAlice.request(VwCreateDocument, { input: { name: "Mentioned, open", filter: { mentionsMe: true, status: "OPEN", from: "2020-01-01T00:00:00.000Z" } } });
    expect(past.createView.__typename).toBe("ViewResult");
    const c = await counts(asAlice);
    expect(c["Mentioned, open"]).toEqual(c.Mentions);
  });
});

describe("viewCountsChanged", () => {
  test("pushes each caller's own counts at once and after events of inboxes they see; never one caller's counts to another", async () => {
    // Something assigned to Alice, so that Alice's and Alys's counts differ although they see the same inboxes.
    await asAdmin.request(RsAssignDocument, { input: { conversationId: await publish(salesChannel), assigneeId: toGlobalId("User", alice.id) } });
    const wsAlice = t.ws(await t.tokenFor(alice));
    const wsAlice2 = t.ws(await t.tokenFor(alice2));
    const wsBob = t.ws(await t.tokenFor(bob));
    const ra = record(wsAlice, VwCountsChangedDocument);
    const ra2 = record(wsAlice2, VwCountsChangedDocument);
    const rb = record(wsBob, VwCountsChangedDocument);
    try {
      const [a0, a20, b0] = await Promise.all([ra.waitFor(1), ra2.waitFor(1), rb.waitFor(1)]);
      const first = (r: { viewCountsChanged: Counts }[]) => byName(r[0].viewCountsChanged);
      expect(first(a0)).toEqual(await counts(asAlice));
      expect(first(a20)).toEqual(await counts(asAlice2));
      expect(first(b0)).toEqual(await counts(asBob));
      // Same role and inboxes, same document: still not merged (Assigned to me differs).
      expect(first(a0)["Assigned to me"]).not.toEqual(first(a20)["Assigned to me"]);

      // A new Sales conversation assigned to Alice: both Sales agents get a push with their own counts.
      const id = await publish(salesChannel);
      await asAdmin.request(RsAssignDocument, { input: { conversationId: id, assigneeId: toGlobalId("User", alice.id) } });
      const expectAlice = await counts(asAlice);
      const expectAlice2 = await counts(asAlice2);
      await eventuallyEqual(() => byName(ra.results.at(-1)!.viewCountsChanged), expectAlice);
      await eventuallyEqual(() => byName(ra2.results.at(-1)!.viewCountsChanged), expectAlice2);
      // Bob sees no Sales event: his last push is still his counts, unchanged.
      expect(byName(rb.results.at(-1)!.viewCountsChanged)).toEqual(first(b0));
      // A Support conversation reaches Bob.
      await publish(supportChannel);
      await eventuallyEqual(() => byName(rb.results.at(-1)!.viewCountsChanged)["All open"], [first(b0)["All open"][0] + 1, first(b0)["All open"][1] + 1]);

      // A burst of events is coalesced: far fewer pushes than events.
      const pushesBefore = ra.results.length;
      for (let i = 0; i < 6; i++) await publish(salesChannel);
      const expectBurst = await counts(asAlice);
      await eventuallyEqual(() => byName(ra.results.at(-1)!.viewCountsChanged), expectBurst);
      expect(ra.results.length - pushesBefore).toBeLessThanOrEqual(3);
      // Reading moves Alice's unread counts and pushes them to her.
      await asAlice.request(RsMarkReadDocument, { input: { conversationId: id } });
      const afterRead = await counts(asAlice);
      expect(afterRead["Assigned to me"][1]).toBe(expectBurst["Assigned to me"][1] - 1);
      await eventuallyEqual(() => byName(ra.results.at(-1)!.viewCountsChanged), afterRead);
      expect([...ra.errors, ...ra2.errors, ...rb.errors]).toEqual([]);
    } finally {
      for (const r of [ra, ra2, rb]) r.dispose();
      // Closed before the server closes (as test/event-catalogue.test.ts does): a client still
      // open then keeps t.close() waiting.
      for (const ws of [wsAlice, wsAlice2, wsBob]) await ws.dispose();
    }
  }, 60_000);
});

async function eventuallyEqual(actual: () => unknown, expected: unknown, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    let value: unknown;
    try {
      value = actual();
    } catch {
      value = undefined;
    }
    if (JSON.stringify(value) === JSON.stringify(expected)) return;
    if (Date.now() > until) expect(value).toEqual(expected);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("views of SPAM and TRASH", () => {
  // Last in the file: marking spam lists the sender (every message here is from Cara).
  test("a view naming status SPAM lists the spam the default list leaves out; its count agrees", async () => {
    const spam = await publish(salesChannel);
    expect((await asAlice.request(CsSpamDocument, { input: { conversationId: spam } })).markConversationSpam.__typename).toBe("ConversationResult");
    const v = await asAlice.request(VwCreateDocument, { input: { name: "Spam", filter: { status: "SPAM" } } });
    if (v.createView.__typename !== "ViewResult") throw new Error(JSON.stringify(v.createView));
    const inView = (await listed(asAlice, v.createView.view.id)).map((n) => n.id);
    expect(inView).toContain(spam);
    expect(inView.length).toBe((await counts(asAlice)).Spam[0]);
    // The default list (no status named) still leaves it out.
    expect((await asAlice.request(RsListDocument, { first: 100 })).conversations.edges.map((e) => e.node.id)).not.toContain(spam);
  });
});
