// Labels from the user's side: account-wide CRUD (admins only), validation, tenant isolation,
// labels on conversations and tickets, filtering and searching by label, the live push, and the
// list loading labels in its one SQL statement.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  LbAddToConversationDocument,
  LbAddToTicketDocument,
  LbConversationsDocument,
  LbConversationUpdatedDocument,
  LbCreateDocument,
  LbDeleteDocument,
  LbListDocument,
  LbNodeDocument,
  LbRemoveFromConversationDocument,
  LbRemoveFromTicketDocument,
  LbTicketsDocument,
  LbUpdateDocument,
  LbCreateViewDocument,
  LbViewCountsDocument,
  LbViewListDocument,
} from "./generated/graphql.js";
import { readPath } from "../src/db/read-sql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
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
  acc = await createTestAccount(t.prisma, { name: "Labels Co" });
  other = await createTestAccount(t.prisma, { name: "Other Co" });
  asAdmin = t.client(await t.tokenFor(acc.admin));
  asAgent = t.client(await t.tokenFor(acc.agent));
  memberInboxId = (await createInbox(t.prisma, acc.accountId, { name: "Support", userIds: [acc.agent.id] })).id;
  hiddenInboxId = (await createInbox(t.prisma, acc.accountId, { name: "Finance" })).id;
});
afterAll(async () => t?.close());

/** A conversation in `inboxId` of `accountId`, as a chat would start it; returns its global id. */
async function conversationIn(accountId: string, inboxId: string, subject = "Hello") {
  const channel = await createChannel(t.prisma, { accountId, inboxId });
  const c = await t.prisma.conversation.create({ data: { accountId, inboxId, channelId: channel.id, subject, visitorName: "Visitor" } });
  return toGlobalId("Conversation", c.id);
}

async function label(name: string, color = "#336699", client = asAdmin) {
  const r = await client.request(LbCreateDocument, { input: { name, color } });
  if (r.createLabel.__typename !== "LabelResult") throw new Error(JSON.stringify(r.createLabel));
  return r.createLabel.label;
}

describe("label CRUD", () => {
  test("admins create, rename, recolour and delete labels; agents are refused and nothing changes", async () => {
    const refused = await asAgent.request(LbCreateDocument, { input: { name: "Agent made", color: "#000000" } });
    expect(refused.createLabel).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await t.prisma.label.count({ where: { accountId: acc.accountId, name: "Agent made" } })).toBe(0);

    const created = await asAdmin.request(LbCreateDocument, { input: { name: "  Billing ", color: "#AABBCC", description: "Invoices and refunds" } });
    expect(created.createLabel).toMatchObject({ __typename: "LabelResult", label: { name: "Billing", color: "#aabbcc", description: "Invoices and refunds" } });
    if (created.createLabel.__typename !== "LabelResult") throw new Error("not created");
    const id = created.createLabel.label.id;

    // Agents may not edit or delete either.
    expect((await asAgent.request(LbUpdateDocument, { input: { labelId: id, color: "#111111" } })).updateLabel).toMatchObject({ __typename: "ForbiddenError" });
    expect((await asAgent.request(LbDeleteDocument, { input: { labelId: id } })).deleteLabel).toMatchObject({ __typename: "ForbiddenError" });

    const updated = await asAdmin.request(LbUpdateDocument, { input: { labelId: id, name: "Invoices", color: "#112233", description: null } });
    expect(updated.updateLabel).toMatchObject({ __typename: "LabelResult", label: { id, name: "Invoices", color: "#112233", description: null } });
    // Omitted fields keep their value.
    expect((await asAdmin.request(LbUpdateDocument, { input: { labelId: id, description: "Money" } })).updateLabel).toMatchObject({ label: { name: "Invoices", color: "#112233", description: "Money" } });

    expect((await asAgent.request(LbNodeDocument, { id })).node).toMatchObject({ id, name: "Invoices" });
    expect((await asAdmin.request(LbDeleteDocument, { input: { labelId: id } })).deleteLabel).toEqual({ __typename: "DeleteLabelResult", deletedLabelId: id });
    expect((await asAgent.request(LbNodeDocument, { id })).node).toBeNull();
    expect((await asAdmin.request(LbDeleteDocument, { input: { labelId: id } })).deleteLabel).toMatchObject({ __typename: "NotFoundError" });
  });

  test("names are unique per account whatever their case; colours must be #rrggbb; names 1 to 60 characters", async () => {
    const urgent = await label("Urgent");
    expect((await asAdmin.request(LbCreateDocument, { input: { name: "URGENT", color: "#ff0000" } })).createLabel).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });
    const vip = await label("VIP");
    expect((await asAdmin.request(LbUpdateDocument, { input: { labelId: vip.id, name: "urgent" } })).updateLabel).toMatchObject({ __typename: "ConflictError" });
    // Renaming a label to its own name in another case is fine.
    expect((await asAdmin.request(LbUpdateDocument, { input: { labelId: vip.id, name: "vip" } })).updateLabel).toMatchObject({ label: { name: "vip" } });

    for (const color of ["red", "#fff", "#12345g", "112233", "#1122334"]) {
      const r = await asAdmin.request(LbCreateDocument, { input: { name: `Colour ${color}`, color } });
      expect(r.createLabel, color).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "color"] }] });
    }
    for (const name of ["", "   ", "x".repeat(61)]) {
      const r = await asAdmin.request(LbCreateDocument, { input: { name, color: "#123456" } });
      expect(r.createLabel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    }
    expect((await asAdmin.request(LbUpdateDocument, { input: { labelId: urgent.id, color: "blue" } })).updateLabel).toMatchObject({ __typename: "ValidationError" });
    // Another account may use the same name.
    const otherAdmin = t.client(await t.tokenFor(other.admin));
    expect((await otherAdmin.request(LbCreateDocument, { input: { name: "Urgent", color: "#ff0000" } })).createLabel.__typename).toBe("LabelResult");
  });

  test("labels(search:) lists the account's labels by name, ignoring case, and only its own", async () => {
    for (const name of ["zebra", "Alpha", "beta", "Alphabet soup"]) await label(name);
    const otherAdmin = t.client(await t.tokenFor(other.admin));
    await label("Alpha foreign", "#010203", otherAdmin);

    const all = (await asAgent.request(LbListDocument, {})).labels.map((l) => l.name);
    const sorted = [...all].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    expect(all).toEqual(sorted);
    expect(all).toEqual(expect.arrayContaining(["zebra", "Alpha", "beta", "Alphabet soup"]));
    expect(all).not.toContain("Alpha foreign");

    expect((await asAgent.request(LbListDocument, { search: "ALPHA" })).labels.map((l) => l.name)).toEqual(["Alpha", "Alphabet soup"]);
    expect((await asAgent.request(LbListDocument, { search: "bet" })).labels.map((l) => l.name)).toEqual(["Alphabet soup", "beta"]);
    expect((await asAgent.request(LbListDocument, { search: "nothing like it" })).labels).toEqual([]);
  });
});

describe("labels on conversations and tickets", () => {
  test("agents add and remove labels on conversations they see; the list shows them by name and filters by every given label", async () => {
    const [refund, vip] = [await label("Refund", "#ff8800"), await label("Gold customer", "#ffd700")];
    const one = await conversationIn(acc.accountId, memberInboxId, "one");
    const two = await conversationIn(acc.accountId, memberInboxId, "two");
    await conversationIn(acc.accountId, memberInboxId, "three");

    const added = await asAgent.request(LbAddToConversationDocument, { input: { conversationId: one, labelIds: [refund.id, vip.id] } });
    expect(added.addConversationLabels).toMatchObject({
      __typename: "ConversationResult",
      conversation: { id: one, labels: [{ name: "Gold customer", color: "#ffd700" }, { name: "Refund", color: "#ff8800" }] },
    });
    // Adding again changes nothing.
    expect((await asAgent.request(LbAddToConversationDocument, { input: { conversationId: one, labelIds: [refund.id] } })).addConversationLabels).toMatchObject({ conversation: { labels: [{}, {}] } });
    await asAgent.request(LbAddToConversationDocument, { input: { conversationId: two, labelIds: [refund.id] } });

    const ids = async (filter: object) => (await asAgent.request(LbConversationsDocument, { filter })).conversations.edges.map((e) => e.node.id).sort();
    expect(await ids({ labelIds: [refund.id] })).toEqual([one, two].sort());
    expect(await ids({ labelIds: [refund.id, vip.id] })).toEqual([one]);
    expect(await ids({ labelIds: [vip.id], inboxId: toGlobalId("Inbox", memberInboxId) })).toEqual([one]);

    // Search: a label named exactly the term (any case) matches too.
    const searched = (await asAgent.request(LbConversationsDocument, { search: "gold customer" })).conversations.edges.map((e) => e.node.id);
    expect(searched).toEqual([one]);

    const removed = await asAgent.request(LbRemoveFromConversationDocument, { input: { conversationId: one, labelIds: [vip.id] } });
    expect(removed.removeConversationLabels).toMatchObject({ conversation: { labels: [{ name: "Refund" }] } });
    expect(await ids({ labelIds: [vip.id] })).toEqual([]);

    // Deleting a label takes it off every conversation.
    await asAdmin.request(LbDeleteDocument, { input: { labelId: refund.id } });
    expect(await t.prisma.conversationLabel.count({ where: { accountId: acc.accountId, labelId: refund.id } })).toBe(0);
    expect(await ids({ labelIds: [refund.id] })).toEqual([]);
  });

  test("a hidden or foreign conversation, or a foreign label, is not found and nothing is stored", async () => {
    const mine = await label("Mine");
    const hidden = await conversationIn(acc.accountId, hiddenInboxId);
    const visible = await conversationIn(acc.accountId, memberInboxId);
    const otherInbox = await createInbox(t.prisma, other.accountId);
    const foreignConversation = await conversationIn(other.accountId, otherInbox.id);
    const otherAdmin = t.client(await t.tokenFor(other.admin));
    const foreignLabel = await label("Theirs", "#abcdef", otherAdmin);

    expect((await asAgent.request(LbAddToConversationDocument, { input: { conversationId: hidden, labelIds: [mine.id] } })).addConversationLabels).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(LbAddToConversationDocument, { input: { conversationId: foreignConversation, labelIds: [mine.id] } })).addConversationLabels).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAgent.request(LbAddToConversationDocument, { input: { conversationId: visible, labelIds: [mine.id, foreignLabel.id] } })).addConversationLabels).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(LbUpdateDocument, { input: { labelId: foreignLabel.id, name: "Hijacked" } })).updateLabel).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(LbDeleteDocument, { input: { labelId: foreignLabel.id } })).deleteLabel).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(LbNodeDocument, { id: foreignLabel.id })).node).toBeNull();
    // A label id of another type is refused as input.
    expect((await asAgent.request(LbAddToConversationDocument, { input: { conversationId: visible, labelIds: [visible] } })).addConversationLabels).toMatchObject({ __typename: "ValidationError" });

    const dbId = (g: string) => fromGlobalId(g, "Conversation");
    expect(await t.prisma.conversationLabel.count({ where: { conversationId: { in: [hidden, visible, foreignConversation].map(dbId) } } })).toBe(0);
    expect(await t.prisma.label.findFirst({ where: { accountId: other.accountId, name: "Theirs" } })).not.toBeNull();
    // A foreign label in the filter matches nothing.
    expect((await asAgent.request(LbConversationsDocument, { filter: { labelIds: [foreignLabel.id] } })).conversations.edges).toEqual([]);
  });

  test("tickets carry labels too", async () => {
    const bug = await label("Bug", "#cc0000");
    const foreignAdmin = t.client(await t.tokenFor(other.admin));
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: acc.accountId }, include: { statuses: true } });
    const ticket = await t.prisma.ticket.create({ data: { accountId: acc.accountId, name: "Crash", pipelineId: pipeline.id, statusId: pipeline.statuses[0].id } });
    const ticketId = toGlobalId("Ticket", ticket.id);

    expect((await asAgent.request(LbAddToTicketDocument, { input: { ticketId, labelIds: [bug.id] } })).addTicketLabels).toMatchObject({ __typename: "TicketResult", ticket: { id: ticketId, labels: [{ name: "Bug" }] } });
    const listed = (await asAgent.request(LbTicketsDocument, {})).tickets.edges.find((e) => e.node.id === ticketId);
    expect(listed?.node.labels).toEqual([{ name: "Bug" }]);
    const unlabelled = await t.prisma.ticket.create({ data: { accountId: acc.accountId, name: "Other", pipelineId: pipeline.id, statusId: pipeline.statuses[0].id } });
    const filtered = (await asAgent.request(LbTicketsDocument, { filter: { labelIds: [bug.id] } })).tickets.edges.map((e) => e.node.id);
    expect(filtered).toEqual([ticketId]);
    expect(filtered).not.toContain(toGlobalId("Ticket", unlabelled.id));
    expect((await foreignAdmin.request(LbAddToTicketDocument, { input: { ticketId, labelIds: [] } })).addTicketLabels).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAgent.request(LbRemoveFromTicketDocument, { input: { ticketId, labelIds: [bug.id] } })).removeTicketLabels).toMatchObject({ ticket: { labels: [] } });
  });
  test("a saved view filtered by labels lists and counts the conversations carrying them", async () => {
    const churn = await label("Churn risk", "#990000");
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const [one, two] = [await conversationIn(acc.accountId, inbox.id), await conversationIn(acc.accountId, inbox.id)];
    await conversationIn(acc.accountId, inbox.id);
    for (const conversationId of [one, two]) await asAgent.request(LbAddToConversationDocument, { input: { conversationId, labelIds: [churn.id] } });
    const created = await asAgent.request(LbCreateViewDocument, { input: { name: "Churn", filter: { labelIds: [churn.id], inboxId: toGlobalId("Inbox", inbox.id) } } });
    if (created.createView.__typename !== "ViewResult") throw new Error(JSON.stringify(created.createView));
    const viewId = created.createView.view.id;
    expect((await asAgent.request(LbViewListDocument, { viewId })).conversations.edges.map((e) => e.node.id).sort()).toEqual([one, two].sort());
    expect((await asAgent.request(LbViewCountsDocument, {})).viewCounts.find((c) => c.view.id === viewId)?.count).toBe(2);
  });
});

describe("live and fast", () => {
  test("adding, removing, renaming and deleting labels pushes conversationUpdated over graphql-ws with the labels as they are", async () => {
    const billing = await label("Live billing", "#00aa00");
    // A fresh inbox, replayed from the start: the subscription sees exactly this test's changes.
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const conversationId = await conversationIn(acc.accountId, inbox.id);
    const live = record(t.ws(await t.tokenFor(acc.agent)), LbConversationUpdatedDocument, { inboxId: toGlobalId("Inbox", inbox.id), after: "0" });
    await asAgent.request(LbAddToConversationDocument, { input: { conversationId, labelIds: [billing.id] } });
    const [first] = await live.waitFor(1);
    expect(first.conversationUpdated).toEqual({ id: conversationId, labels: [{ name: "Live billing" }] });

    await asAgent.request(LbRemoveFromConversationDocument, { input: { conversationId, labelIds: [billing.id] } });
    expect((await live.waitFor(2))[1].conversationUpdated).toEqual({ id: conversationId, labels: [] });

    // A no-op (removing a label it lacks) pushes nothing; deleting a label it carries does.
    await asAgent.request(LbRemoveFromConversationDocument, { input: { conversationId, labelIds: [billing.id] } });
    await asAgent.request(LbAddToConversationDocument, { input: { conversationId, labelIds: [billing.id] } });
    expect((await live.waitFor(3))[2].conversationUpdated.labels).toEqual([{ name: "Live billing" }]);
    // Renaming pushes the new name; a description change alone pushes nothing.
    await asAdmin.request(LbUpdateDocument, { input: { labelId: billing.id, description: "Only the description" } });
    await asAdmin.request(LbUpdateDocument, { input: { labelId: billing.id, name: "Live invoices" } });
    expect((await live.waitFor(4))[3].conversationUpdated.labels).toEqual([{ name: "Live invoices" }]);
    await asAdmin.request(LbDeleteDocument, { input: { labelId: billing.id } });
    expect((await live.waitFor(5))[4].conversationUpdated).toEqual({ id: conversationId, labels: [] });
    expect(live.results).toHaveLength(5);
    expect(live.errors).toEqual([]);
    live.dispose();
  });

  test("a page of conversations with their labels is one SQL statement (after the caller's user)", async () => {
    const labels = [await label("Fast one"), await label("Fast two")];
    for (let i = 0; i < 5; i++) {
      const id = await conversationIn(acc.accountId, memberInboxId, `fast ${i}`);
      await asAgent.request(LbAddToConversationDocument, { input: { conversationId: id, labelIds: labels.map((l) => l.id) } });
    }
    const { result, statements } = await countStatements(() => asAgent.request(LbConversationsDocument, { filter: { labelIds: [labels[0].id] } }));
    expect(result.conversations.edges).toHaveLength(5);
    for (const e of result.conversations.edges) expect(e.node.labels.map((l) => l.name)).toEqual(["Fast one", "Fast two"]);
    expect(statements.length, statements.join("\n---\n")).toBeLessThanOrEqual(2);
    // The counter counts: the Prisma path (the read path's fallback) needs more for the same page.
    readPath.compiled = false;
    try {
      expect((await countStatements(() => asAgent.request(LbConversationsDocument, { filter: { labelIds: [labels[0].id] } }))).statements.length).toBeGreaterThan(2);
    } finally {
      readPath.compiled = true;
    }
  });
});

/** The SQL statements the server sends while `fn` runs (the event outbox's pollers left out), as test/read-path.test.ts counts them. */
async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    const text = typeof config === "string" ? config : config?.text;
    if (typeof text === "string" && !/"Event"|"OutboundDelivery"|pg_advisory|LISTEN|pg_notify/i.test(text)) statements.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    return { result: await fn(), statements };
  } finally {
    pg.Client.prototype.query = original;
  }
}
