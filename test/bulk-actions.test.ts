// bulkUpdateConversations from the user's side: per-item results for mixed valid, hidden, foreign
// and malformed ids; each conversation all-or-nothing; request-wide refusals change nothing;
// every change pushes conversationUpdated over graphql-ws.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BkConversationUpdatedDocument, BkUpdateDocument, LbCreateDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";

let t: TestServer;
let acc: TestAccount;
let other: TestAccount;
let asAdmin: ReturnType<TestServer["client"]>;
let asAgent: ReturnType<TestServer["client"]>;
let memberInboxId: string;
let hiddenInboxId: string;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Bulk Co" });
  other = await createTestAccount(t.prisma, { name: "Other Co" });
  asAdmin = t.client(await t.tokenFor(acc.admin));
  asAgent = t.client(await t.tokenFor(acc.agent));
  memberInboxId = (await createInbox(t.prisma, acc.accountId, { name: "Support", userIds: [acc.agent.id] })).id;
  hiddenInboxId = (await createInbox(t.prisma, acc.accountId, { name: "Finance" })).id;
});
afterAll(async () => t?.close());

async function conversationIn(accountId: string, inboxId: string, data: { status?: "OPEN" | "SPAM" } = {}) {
  const channel = await createChannel(t.prisma, { accountId, inboxId });
  const c = await t.prisma.conversation.create({ data: { accountId, inboxId, channelId: channel.id, visitorName: "Visitor", ...data } });
  return toGlobalId("Conversation", c.id);
}

async function label(name: string, client = asAdmin) {
  const r = await client.request(LbCreateDocument, { input: { name, color: "#224466" } });
  if (r.createLabel.__typename !== "LabelResult") throw new Error(JSON.stringify(r.createLabel));
  return r.createLabel.label.id;
}

const stored = (globalId: string) =>
  t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(globalId, "Conversation") }, include: { labelLinks: true } });

async function bulk(client: ReturnType<TestServer["client"]>, input: object) {
  const r = await client.request(BkUpdateDocument, { input: input as never });
  return r.bulkUpdateConversations;
}

describe("bulkUpdateConversations", () => {
  test("mixed ids: the visible ones change, hidden, foreign and malformed ones fail alone with NOT_FOUND, in the order given", async () => {
    const urgent = await label("Bulk urgent");
    const [a, b] = [await conversationIn(acc.accountId, memberInboxId), await conversationIn(acc.accountId, memberInboxId)];
    const hidden = await conversationIn(acc.accountId, hiddenInboxId);
    const foreign = await conversationIn(other.accountId, (await createInbox(t.prisma, other.accountId)).id);
    const ids = [a, hidden, foreign, "not-an-id", toGlobalId("Label", randomUUID()), b];

    const r = await bulk(asAgent, { conversationIds: ids, assigneeId: toGlobalId("User", acc.agent.id), addLabelIds: [urgent], close: true });
    if (r.__typename !== "BulkUpdateConversationsResult") throw new Error(JSON.stringify(r));
    expect(r.results.map((x) => [x.conversationId, x.ok, x.error && "code" in x.error ? x.error.code : null])).toEqual([
      [a, true, null],
      [hidden, false, "NOT_FOUND"],
      [foreign, false, "NOT_FOUND"],
      ["not-an-id", false, "NOT_FOUND"],
      [ids[4], false, "NOT_FOUND"],
      [b, true, null],
    ]);
    expect({ okCount: r.okCount, failedCount: r.failedCount }).toEqual({ okCount: 2, failedCount: 4 });
    expect(r.results[0].conversation).toEqual({ id: a, status: "CLOSED", assignee: { id: toGlobalId("User", acc.agent.id) }, labels: [{ name: "Bulk urgent" }] });
    expect(r.results[1].conversation).toBeNull();

    for (const id of [a, b]) expect(await stored(id)).toMatchObject({ status: "CLOSED", assigneeId: acc.agent.id, labelLinks: [{ labelId: fromGlobalId(urgent, "Label") }] });
    for (const id of [hidden, foreign]) expect(await stored(id)).toMatchObject({ status: "OPEN", assigneeId: null, labelLinks: [] });
  });

  test("a conversation whose last change fails keeps none of its changes; the others keep theirs", async () => {
    const vip = await label("Bulk vip");
    const fine = await conversationIn(acc.accountId, memberInboxId);
    // A SPAM conversation cannot be snoozed: its snooze fails after its assignment and label were written.
    const spam = await conversationIn(acc.accountId, memberInboxId, { status: "SPAM" });
    const until = new Date(Date.now() + 3600_000).toISOString();
    const r = await bulk(asAdmin, { conversationIds: [spam, fine], assigneeId: toGlobalId("User", acc.agent.id), addLabelIds: [vip], snoozeUntil: until });
    if (r.__typename !== "BulkUpdateConversationsResult") throw new Error(JSON.stringify(r));
    expect(r.results[0]).toMatchObject({ conversationId: spam, ok: false, error: { __typename: "ValidationError", code: "VALIDATION", message: expect.stringMatching(/cannot be snoozed/) }, conversation: null });
    expect(r.results[1]).toMatchObject({ conversationId: fine, ok: true, conversation: { status: "SNOOZED", assignee: { id: toGlobalId("User", acc.agent.id) }, labels: [{ name: "Bulk vip" }] } });
    expect(await stored(spam)).toMatchObject({ status: "SPAM", assigneeId: null, assignedAt: null, labelLinks: [] });
    expect(await stored(fine)).toMatchObject({ status: "SNOOZED", assigneeId: acc.agent.id });
  });

  test("an assignee who cannot see one conversation's inbox fails that item only; unassign and markSpam apply", async () => {
    const bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    const bobsInbox = await createInbox(t.prisma, acc.accountId, { userIds: [bob.id] });
    const seen = await conversationIn(acc.accountId, bobsInbox.id);
    const unseen = await conversationIn(acc.accountId, hiddenInboxId);
    const r = await bulk(asAdmin, { conversationIds: [seen, unseen], assigneeId: toGlobalId("User", bob.id) });
    if (r.__typename !== "BulkUpdateConversationsResult") throw new Error(JSON.stringify(r));
    expect(r.results[0]).toMatchObject({ ok: true, conversation: { assignee: { id: toGlobalId("User", bob.id) } } });
    expect(r.results[1]).toMatchObject({ ok: false, error: { __typename: "ValidationError", fieldErrors: [{ path: ["input", "assigneeId"] }] } });
    expect((await stored(unseen)).assigneeId).toBeNull();

    const unassigned = await bulk(asAdmin, { conversationIds: [seen], unassign: true, markSpam: true });
    expect(unassigned).toMatchObject({ okCount: 1, results: [{ ok: true, conversation: { assignee: null, status: "SPAM" } }] });
  });

  test("refusals about the whole request change nothing: no ids, over 100, a repeat, nothing asked, two status changes, a foreign label, a past snooze", async () => {
    const c = await conversationIn(acc.accountId, memberInboxId);
    const foreignLabel = await label("Theirs", t.client(await t.tokenFor(other.admin)));
    const mine = await label("Bulk mine");
    const many = Array.from({ length: 101 }, () => toGlobalId("Conversation", randomUUID()));
    const cases: [object, string, string[]?][] = [
      [{ conversationIds: [], close: true }, "ValidationError", ["input", "conversationIds"]],
      [{ conversationIds: [c, ...many.slice(0, 100)], close: true }, "ValidationError", ["input", "conversationIds"]],
      [{ conversationIds: [c, c], close: true }, "ValidationError", ["input", "conversationIds", "1"]],
      [{ conversationIds: [c] }, "ValidationError", ["input"]],
      [{ conversationIds: [c], close: true, markSpam: true }, "ValidationError", ["input"]],
      [{ conversationIds: [c], addLabelIds: [mine], removeLabelIds: [mine] }, "ValidationError", ["input", "removeLabelIds"]],
      [{ conversationIds: [c], snoozeUntil: new Date(Date.now() - 1000).toISOString() }, "ValidationError", ["input", "snoozeUntil"]],
      [{ conversationIds: [c], assigneeId: toGlobalId("User", acc.agent.id), unassign: true }, "ValidationError", ["input", "unassign"]],
      [{ conversationIds: [c], close: true, addLabelIds: [mine, foreignLabel] }, "NotFoundError"],
    ];
    for (const [input, typename, path] of cases) {
      const r = await bulk(asAdmin, input);
      expect(r, JSON.stringify(input).slice(0, 120)).toMatchObject({ __typename: typename, ...(path ? { fieldErrors: [{ path }] } : {}) });
    }
    expect(await stored(c)).toMatchObject({ status: "OPEN", assigneeId: null, labelLinks: [] });

    // Exactly 100 is accepted (unknown ones fail alone).
    const hundred = await bulk(asAdmin, { conversationIds: [c, ...many.slice(0, 99)], addLabelIds: [mine] });
    expect(hundred).toMatchObject({ __typename: "BulkUpdateConversationsResult", okCount: 1, failedCount: 99 });
    expect((await stored(c)).labelLinks).toHaveLength(1);
  });

  test("each changed conversation pushes conversationUpdated over graphql-ws; failed items push nothing", async () => {
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const [x, y] = [await conversationIn(acc.accountId, inbox.id), await conversationIn(acc.accountId, inbox.id)];
    const hidden = await conversationIn(acc.accountId, hiddenInboxId);
    const live = record(t.ws(await t.tokenFor(acc.agent)), BkConversationUpdatedDocument, { inboxId: toGlobalId("Inbox", inbox.id), after: "0" });
    const r = await bulk(asAgent, { conversationIds: [x, hidden, y], close: true });
    expect(r).toMatchObject({ okCount: 2, failedCount: 1 });
    const pushed = await live.waitFor(2);
    // One order for both sides (localeCompare and the default sort disagree on base64's cases).
    expect(pushed.map((p) => p.conversationUpdated).sort((p, q) => p.id.localeCompare(q.id))).toEqual(
      [x, y].sort((p, q) => p.localeCompare(q)).map((id) => ({ id, status: "CLOSED", assignee: null, labels: [] })),
    );
    live.dispose();
  });
});
