import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ChRegisterAppDocument,
  ConvAddCommentDocument,
  ConvAssignDocument,
  ConvDetailDocument,
  ConvListDocument,
  ConvPageDocument,
  ConvPublishDocument,
  ConvSetStatusDocument,
  type ConversationFilter,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
const ids: Record<string, string> = {};
let salesChannel: string;
let supportChannel: string;
let salesInbox: string;
let freeUser: string;

async function publish(channelId: string, sender: Record<string, string>, text: string, threadKey?: string) {
  const r = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: externalId(), sender, text, threadKey } });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
  return r.publishInboundMessage.conversationId;
}

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Search" });
  other = await createTestAccount(t.prisma, { name: "Other" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
  const sales = await createInbox(t.prisma, a.accountId, { name: "Sales", userIds: [a.agent.id] });
  const support = await createInbox(t.prisma, a.accountId, { name: "Support" });
  salesInbox = toGlobalId("Inbox", sales.id);
  salesChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: sales.id, channelAppId: partner.app.id })).id);
  supportChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: support.id, channelAppId: partner.app.id })).id);
  const free = await createTestUser(t.prisma, a.accountId, { seat: "FREE" });
  await t.prisma.inboxUser.create({ data: { accountId: a.accountId, inboxId: sales.id, userId: free.id } });
  freeUser = toGlobalId("User", free.id);
  // Published in this order: latest activity last.
  ids.invoice = await publish(salesChannel, { name: "Olga Invoice", email: "olga@example.test" }, "Where is my invoice for March?", "t-invoice");
  ids.refund = await publish(salesChannel, { name: "Ravi", email: "ravi@example.test" }, "I want a refund please", "t-refund");
  ids.shipping = await publish(supportChannel, { name: "Sam", email: "sam@example.test" }, "Shipping is late", "t-ship");
  ids.olgaAgain = await publish(salesChannel, { name: "Olga Invoice", email: "olga@example.test" }, "Another question", "t-olga-2");
  const otherInbox = await createInbox(t.prisma, other.accountId);
  const otherChannel = await createChannel(t.prisma, { accountId: other.accountId, inboxId: otherInbox.id, channelAppId: partner.app.id });
  ids.foreign = await publish(toGlobalId("Channel", otherChannel.id), { email: "olga@example.test" }, "invoice invoice", "t-foreign");
});
afterAll(async () => t?.close());

const list = async (user: { id: string; accountId: string }, vars: { filter?: ConversationFilter; search?: string; first?: number; after?: string } = {}) =>
  (await t.client(await t.tokenFor(user)).request(ConvListDocument, vars)).conversations;
const listIds = async (user: { id: string; accountId: string }, vars: Parameters<typeof list>[1] = {}) => (await list(user, vars)).edges.map((e) => e.node.id);

describe("listing and search", () => {
  test("sorted by latest activity; agents see only their inboxes, admins all, never another account", async () => {
    expect(await listIds(a.admin)).toEqual([ids.olgaAgain, ids.shipping, ids.refund, ids.invoice]);
    expect(await listIds(a.agent)).toEqual([ids.olgaAgain, ids.refund, ids.invoice]);
    expect(await listIds(other.admin)).toEqual([ids.foreign]);
  });

  test("full-text search over message text, subject and contact name/email", async () => {
    expect(await listIds(a.admin, { search: "invoice" })).toEqual([ids.olgaAgain, ids.invoice]);
    expect(await listIds(a.admin, { search: "refund" })).toEqual([ids.refund]);
    expect(await listIds(a.admin, { search: "sam@example.test" })).toEqual([ids.shipping]);
    expect(await listIds(a.admin, { search: "march invoice" })).toEqual([ids.invoice]);
    expect(await listIds(a.admin, { search: "nothing-matches-this" })).toEqual([]);
  });

  test("each filter: inbox, channel, status, assignee, unassigned, date range", async () => {
    expect(await listIds(a.admin, { filter: { inboxId: salesInbox } })).toEqual([ids.olgaAgain, ids.refund, ids.invoice]);
    expect(await listIds(a.admin, { filter: { channelId: supportChannel } })).toEqual([ids.shipping]);
    const admin = t.client(await t.tokenFor(a.admin));
    await admin.request(ConvSetStatusDocument, { input: { conversationId: ids.refund, status: "CLOSED" } });
    expect(await listIds(a.admin, { filter: { status: "CLOSED" } })).toEqual([ids.refund]);
    expect(await listIds(a.admin, { filter: { status: "OPEN", inboxId: salesInbox } })).toEqual([ids.olgaAgain, ids.invoice]);
    await admin.request(ConvAssignDocument, { input: { conversationId: ids.invoice, assigneeId: toGlobalId("User", a.agent.id) } });
    expect(await listIds(a.admin, { filter: { assigneeId: toGlobalId("User", a.agent.id) } })).toEqual([ids.invoice]);
    expect(await listIds(a.admin, { filter: { unassigned: true } })).toEqual([ids.olgaAgain, ids.shipping, ids.refund]);
    const all = await list(a.admin);
    const shippingAt = all.edges.find((e) => e.node.id === ids.shipping)!.node.lastActivityAt;
    expect(await listIds(a.admin, { filter: { from: shippingAt } })).toEqual([ids.olgaAgain, ids.shipping]);
    expect(await listIds(a.admin, { filter: { to: shippingAt } })).toEqual([ids.refund, ids.invoice]);
  });

  test("cursor pagination walks every conversation once, also with a search", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await list(a.admin, { first: 1, after });
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen).toEqual(await listIds(a.admin));
    const p1 = await list(a.admin, { search: "invoice", first: 1 });
    const p2 = await list(a.admin, { search: "invoice", first: 1, after: p1.pageInfo.endCursor! });
    expect([...p1.edges, ...p2.edges].map((e) => e.node.id)).toEqual([ids.olgaAgain, ids.invoice]);
    expect(p2.pageInfo.hasNextPage).toBe(false);
  });
});

describe("conversation detail and agent operations", () => {
  test("detail shows the contact, messages oldest first and the contact's previous conversations", async () => {
    const { node } = await t.client(await t.tokenFor(a.agent)).request(ConvDetailDocument, { id: ids.olgaAgain });
    expect(node).toMatchObject({ __typename: "Conversation", contact: { name: "Olga Invoice", email: "olga@example.test" }, previousConversations: [{ id: ids.invoice }], ticketId: null, ticket: null, tickets: [] });
    const hidden = await t.client(await t.tokenFor(a.agent)).request(ConvDetailDocument, { id: ids.shipping });
    expect(hidden.node).toBeNull();
    const foreign = await t.client(await t.tokenFor(a.admin)).request(ConvDetailDocument, { id: ids.foreign });
    expect(foreign.node).toBeNull();
  });

  test("assign to a PAID or FREE user or unassign; unknown users and foreign conversations are refused", async () => {
    const admin = t.client(await t.tokenFor(a.admin));
    expect((await admin.request(ConvAssignDocument, { input: { conversationId: ids.olgaAgain, assigneeId: freeUser } })).assignConversation).toMatchObject({ conversation: { assignee: { id: freeUser } } });
    expect((await admin.request(ConvAssignDocument, { input: { conversationId: ids.olgaAgain, assigneeId: null } })).assignConversation).toMatchObject({ conversation: { assignee: null } });
    const bad = await admin.request(ConvAssignDocument, { input: { conversationId: ids.olgaAgain, assigneeId: toGlobalId("User", other.agent.id) } });
    expect(bad.assignConversation).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "assigneeId"] }] });
    const foreign = await admin.request(ConvAssignDocument, { input: { conversationId: ids.foreign, assigneeId: null } });
    expect(foreign.assignConversation).toMatchObject({ __typename: "NotFoundError" });
  });

  test("close sets closedAt, reopen clears it", async () => {
    const admin = t.client(await t.tokenFor(a.admin));
    const closed = await admin.request(ConvSetStatusDocument, { input: { conversationId: ids.shipping, status: "CLOSED" } });
    expect(closed.setConversationStatus).toMatchObject({ conversation: { status: "CLOSED", closedAt: expect.any(String) } });
    const open = await admin.request(ConvSetStatusDocument, { input: { conversationId: ids.shipping, status: "OPEN" } });
    expect(open.setConversationStatus).toMatchObject({ conversation: { status: "OPEN", closedAt: null } });
  });

  test("comments are stored as COMMENT with no delivery, searchable by agents", async () => {
    const agent = t.client(await t.tokenFor(a.agent));
    const r = await agent.request(ConvAddCommentDocument, { input: { conversationId: ids.invoice, text: "Escalated to finance" } });
    expect(r.addComment).toMatchObject({ __typename: "MessageResult", sentMessage: { kind: "COMMENT", text: "Escalated to finance", deliveryStatus: null } });
    expect(await t.prisma.outboundDelivery.count({ where: { accountId: a.accountId } })).toBe(0);
    expect(await listIds(a.agent, { search: "finance" })).toEqual([ids.invoice]);
    const empty = await agent.request(ConvAddCommentDocument, { input: { conversationId: ids.invoice, text: "  " } });
    expect(empty.addComment.__typename).toBe("ValidationError");
  });
});

describe("16.1: backward paging and first: 0", () => {
  const page = async (vars: { first?: number; after?: string; last?: number; before?: string }) =>
    (await t.client(await t.tokenFor(a.admin)).request(ConvPageDocument, vars)).conversations;
  const idsOf = (p: Awaited<ReturnType<typeof page>>) => p.edges.map((e) => e.node.id);

  test("last and before page backwards, newest first within the page, with Relay's pageInfo", async () => {
    const all = idsOf(await page({}));
    expect(all).toHaveLength(4);
    const tail = await page({ last: 2 });
    expect(idsOf(tail)).toEqual(all.slice(2));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const above = await page({ last: 2, before: tail.pageInfo.startCursor! });
    expect(idsOf(above)).toEqual(all.slice(0, 2));
    expect(above.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const one = await page({ last: 1, before: tail.pageInfo.startCursor! });
    expect(idsOf(one)).toEqual([all[1]]);
    expect(one.pageInfo.hasPreviousPage).toBe(true);
    // Walking backwards from the end visits every conversation once.
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const p = await page({ last: 1, before });
      seen.unshift(...idsOf(p));
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor!;
    }
    expect(seen).toEqual(all);
  });

  test("first: 0 and last: 0 give no edges but say whether rows follow", async () => {
    const none = await page({ first: 0 });
    expect(none.edges).toEqual([]);
    expect(none.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    const noneBack = await page({ last: 0 });
    expect(noneBack.edges).toEqual([]);
    expect(noneBack.pageInfo).toMatchObject({ hasPreviousPage: true });
  });

  test("mixing directions is refused with a validation error", async () => {
    const { pageInfo } = await page({ first: 1 });
    await expect(page({ last: 1, after: pageInfo.endCursor! })).rejects.toMatchObject({ response: { errors: [{ extensions: { code: "VALIDATION" } }] } });
    await expect(page({ first: 1, before: pageInfo.endCursor! })).rejects.toMatchObject({ response: { errors: [{ extensions: { code: "VALIDATION" } }] } });
  });
});

describe("16.4: assignment never grants access", () => {
  test("assigning someone who is no member of the conversation's inbox is refused, naming them; members and admins are accepted", async () => {
    const admin = t.client(await t.tokenFor(a.admin));
    const outsider = await createTestUser(t.prisma, a.accountId, { email: `outsider-${externalId()}@example.test` });
    const refused = await admin.request(ConvAssignDocument, { input: { conversationId: ids.invoice, assigneeId: toGlobalId("User", outsider.id) } });
    expect(refused.assignConversation).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "assigneeId"], message: expect.stringContaining(outsider.email) }],
    });
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(ids.invoice, "Conversation") } })).assigneeId).not.toBe(outsider.id);
    const viaTeam = await t.prisma.team.create({ data: { accountId: a.accountId, name: `Sales team ${externalId()}`, members: { create: [{ userId: outsider.id }] } } });
    await t.prisma.inboxTeam.create({ data: { accountId: a.accountId, inboxId: fromGlobalId(salesInbox, "Inbox"), teamId: viaTeam.id } });
    expect((await admin.request(ConvAssignDocument, { input: { conversationId: ids.invoice, assigneeId: toGlobalId("User", outsider.id) } })).assignConversation).toMatchObject({
      conversation: { assignee: { id: toGlobalId("User", outsider.id) } },
    });
    expect((await admin.request(ConvAssignDocument, { input: { conversationId: ids.shipping, assigneeId: toGlobalId("User", a.admin.id) } })).assignConversation).toMatchObject({
      conversation: { assignee: { id: toGlobalId("User", a.admin.id) } },
    });
    await admin.request(ConvAssignDocument, { input: { conversationId: ids.shipping, assigneeId: null } });
  });
});

describe("16.10: authorization failures are the payload's ForbiddenError", () => {
  test("a partner calling an agent mutation, and an agent calling a partner mutation, get ForbiddenError in the payload", async () => {
    const asPartner = await t.client(partner.token).request(ConvAssignDocument, { input: { conversationId: ids.invoice, assigneeId: null } });
    expect(asPartner.assignConversation).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    const asAgent = await t.client(await t.tokenFor(a.agent)).request(ChRegisterAppDocument, {
      input: { name: "Sneaky", webhookUrl: "https://example.test/hook" },
    });
    expect(asAgent.registerChannelApp).toMatchObject({ __typename: "ForbiddenError" });
  });

  test("without a token the failure stays a top-level UNAUTHENTICATED error (no union has it)", async () => {
    await expect(t.client().request(ConvAssignDocument, { input: { conversationId: ids.invoice, assigneeId: null } })).rejects.toMatchObject({
      response: { errors: [{ extensions: { code: "UNAUTHENTICATED" } }] },
    });
  });
});

describe("16.3: a result's message selects beside Error.message without an alias", () => {
  const natural = /* GraphQL */ `
    mutation ($input: AddCommentInput!) {
      addComment(input: $input) {
        __typename
        ... on MessageResult { sentMessage { id text } }
        ... on Error { code message }
      }
    }`;
  type Payload = { addComment: { __typename: string; sentMessage?: { id: string; text: string }; code?: string; message?: string } };

  test("addComment, reply and publishInboundMessage: the natural selection validates and carries the message or the error", async () => {
    const agent = t.client(await t.tokenFor(a.agent));
    const ok = await agent.request<Payload>(natural, { input: { conversationId: ids.invoice, text: "Natural selection" } });
    expect(ok.addComment).toMatchObject({ __typename: "MessageResult", sentMessage: { text: "Natural selection" } });
    const refused = await agent.request<Payload>(natural, { input: { conversationId: ids.invoice, text: " " } });
    expect(refused.addComment).toMatchObject({ __typename: "ValidationError", code: "VALIDATION", message: expect.any(String) });
    const published = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: salesChannel, externalId: externalId(), sender: { email: "olga@example.test" }, text: "Natural too", threadKey: "t-natural" } });
    expect(published.publishInboundMessage).toMatchObject({ __typename: "PublishInboundMessageResult", inboundMessage: { text: "Natural too" } });
    const stale = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: toGlobalId("Channel", "00000000-0000-0000-0000-000000000000"), externalId: externalId(), sender: { email: "x@example.test" }, text: "lost" } });
    expect(stale.publishInboundMessage).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  test("the former field still answers for a release (deprecated)", async () => {
    const agent = t.client(await t.tokenFor(a.agent));
    const old = await agent.request<{ addComment: { message: { text: string } } }>(
      `mutation ($input: AddCommentInput!) { addComment(input: $input) { ... on MessageResult { message { text } } } }`,
      { input: { conversationId: ids.invoice, text: "Old clients" } },
    );
    expect(old.addComment.message.text).toBe("Old clients");
  });
});
