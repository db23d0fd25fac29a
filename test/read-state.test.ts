// Read state and mentions: per-agent read positions (markConversationRead), Conversation.unreadCount
// loaded by the read path in the list's one statement, and comment mentions (addComment's
// mentionUserIds, the mentionsMe filter).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { readPath } from "../src/db/read-sql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { RsAssignDocument, RsCommentDocument, RsConversationDocument, RsListDocument, RsMarkReadDocument, RsPublishDocument, RsReplyDocument } from "./generated/graphql.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let acc: TestAccount;
let other: TestAccount;
let partnerToken: string;
let salesChannel: string;
let otherChannel: string;
let alice: { id: string };
let bob: { id: string };
let asAlice: ReturnType<TestServer["client"]>;
let asBob: ReturnType<TestServer["client"]>;
let asAdmin: ReturnType<TestServer["client"]>;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Read state" });
  other = await createTestAccount(t.prisma, { name: "Other" });
  const partner = await createPartnerApp(t.prisma, t.server.services.auth);
  partnerToken = partner.token;
  alice = await createTestUser(t.prisma, acc.accountId, { firstName: "Alice" });
  bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
  const sales = await createInbox(t.prisma, acc.accountId, { name: "Sales", userIds: [alice.id] });
  await createInbox(t.prisma, acc.accountId, { name: "Support", userIds: [bob.id] });
  salesChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: acc.accountId, inboxId: sales.id, channelAppId: partner.app.id })).id);
  const otherInbox = await createInbox(t.prisma, other.accountId, { userIds: [other.agent.id] });
  otherChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: other.accountId, inboxId: otherInbox.id, channelAppId: partner.app.id })).id);
  [asAlice, asBob, asAdmin] = await Promise.all([alice, bob, acc.admin].map(async (u) => t.client(await t.tokenFor(u as never))));
}, 120_000);
afterAll(async () => t?.close());

async function publish(channelId: string, thread: string, text = "Hello") {
  const r = await t.client(partnerToken).request(RsPublishDocument, { input: { channelId, externalId: externalId(), threadKey: thread, sender: { name: "Cara", email: "cara@read.test" }, text } });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r));
  return { conversationId: r.publishInboundMessage.conversationId, messageId: r.publishInboundMessage.inboundMessage.id };
}

const unread = async (client: typeof asAlice, id: string) => {
  const r = await client.request(RsConversationDocument, { id });
  return (r.node as { unreadCount: number } | null)?.unreadCount;
};

describe("read position and unreadCount", () => {
  test("counts messages after the position that are not the caller's; never moves backwards; own replies move it; comments count only with a mention", async () => {
    const thread = `t-${externalId()}`;
    const first = await publish(salesChannel, thread, "First");
    const second = await publish(salesChannel, thread, "Second");
    const id = first.conversationId;
    expect(await unread(asAlice, id)).toBe(2);
    expect(await unread(asAdmin, id)).toBe(2);

    const toFirst = await asAlice.request(RsMarkReadDocument, { input: { conversationId: id, messageId: first.messageId } });
    expect(toFirst.markConversationRead).toMatchObject({ __typename: "ConversationResult", conversation: { id, unreadCount: 1 } });
    // Everything, then the first message again: the position stays at the latest.
    await asAlice.request(RsMarkReadDocument, { input: { conversationId: id } });
    expect(await unread(asAlice, id)).toBe(0);
    await asAlice.request(RsMarkReadDocument, { input: { conversationId: id, messageId: first.messageId } });
    expect(await unread(asAlice, id)).toBe(0);
    const row = await t.prisma.conversationRead.findUniqueOrThrow({ where: { userId_conversationId: { userId: alice.id, conversationId: fromGlobal(id) } } });
    expect(row.lastReadMessageId).toBe(fromGlobal(second.messageId));
    // The admin's position is their own.
    expect(await unread(asAdmin, id)).toBe(2);

    await publish(salesChannel, thread, "Third");
    expect(await unread(asAlice, id)).toBe(1);
    // Alice's own reply moves her position: nothing unread, and her reply is not news to her.
    expect((await asAlice.request(RsReplyDocument, { input: { conversationId: id, text: "On it" } })).reply.__typename).toBe("MessageResult");
    expect(await unread(asAlice, id)).toBe(0);
    // Another agent's reply is.
    await asAdmin.request(RsReplyDocument, { input: { conversationId: id, text: "Admin here" } });
    expect(await unread(asAlice, id)).toBe(1);
    await asAlice.request(RsMarkReadDocument, { input: { conversationId: id } });

    // A comment without a mention is not unread; one mentioning Alice is, until she reads it.
    await asAdmin.request(RsCommentDocument, { input: { conversationId: id, text: "Internal note" } });
    expect(await unread(asAlice, id)).toBe(0);
    const mention = await asAdmin.request(RsCommentDocument, { input: { conversationId: id, text: "@Alice look", mentionUserIds: [toGlobalId("User", alice.id)] } });
    expect(mention.addComment.__typename).toBe("MessageResult");
    expect(await unread(asAlice, id)).toBe(1);
    const mine = await asAlice.request(RsListDocument, { filter: { mentionsMe: true } });
    expect(mine.conversations.edges.map((e) => e.node)).toEqual([{ id, unreadCount: 1 }]);
    await asAlice.request(RsMarkReadDocument, { input: { conversationId: id } });
    expect(await unread(asAlice, id)).toBe(0);
    const stored = await t.prisma.messageMention.findMany({ where: { userId: alice.id } });
    expect(stored).toHaveLength(1);
    expect(stored[0].readAt).not.toBeNull();
    // Read mentions still match mentionsMe; nobody else is mentioned.
    expect((await asAlice.request(RsListDocument, { filter: { mentionsMe: true } })).conversations.edges).toHaveLength(1);
    expect((await asAdmin.request(RsListDocument, { filter: { mentionsMe: true } })).conversations.edges).toHaveLength(0);
  });

  test("the list loads unreadCount in its one statement, and the Prisma path gives the same numbers", async () => {
    for (let i = 0; i < 3; i++) await publish(salesChannel, `list-${i}-${externalId()}`, `List ${i}`);
    await asAlice.request(RsListDocument, { first: 20 }); // warm: document cache, prepared statements
    const { result, statements } = await countStatements(() => asAlice.request(RsListDocument, { first: 20 }));
    expect(result.conversations.edges.length).toBeGreaterThanOrEqual(4);
    expect(result.conversations.edges.some((e) => e.node.unreadCount > 0)).toBe(true);
    // The caller's user and the page (as test/read-path.test.ts counts them).
    expect(statements.length, statements.join("\n---\n")).toBeLessThanOrEqual(2);
    expect(statements.some((s) => s.includes('"ConversationRead"'))).toBe(true);
    readPath.compiled = false;
    try {
      expect(await asAlice.request(RsListDocument, { first: 20 })).toEqual(result);
    } finally {
      readPath.compiled = true;
    }
  });
});

describe("bad input and isolation", () => {
  test("a hidden or foreign conversation is not found; a message of another conversation is a ValidationError", async () => {
    const a = await publish(salesChannel, `iso-${externalId()}`);
    const b = await publish(salesChannel, `iso-${externalId()}`);
    const foreign = await publish(otherChannel, `iso-${externalId()}`);
    expect((await asBob.request(RsMarkReadDocument, { input: { conversationId: a.conversationId } })).markConversationRead).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(RsMarkReadDocument, { input: { conversationId: foreign.conversationId } })).markConversationRead).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAlice.request(RsMarkReadDocument, { input: { conversationId: a.conversationId, messageId: b.messageId } })).markConversationRead).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "messageId"] }],
    });
    expect((await asAlice.request(RsMarkReadDocument, { input: { conversationId: a.conversationId, messageId: foreign.messageId } })).markConversationRead).toMatchObject({ __typename: "ValidationError" });
    expect(await t.prisma.conversationRead.count({ where: { conversationId: { in: [a, foreign].map((x) => fromGlobal(x.conversationId)) } } })).toBe(0);
  });

  test("mentions: only users of the account who can see the conversation; nothing stored otherwise", async () => {
    const { conversationId } = await publish(salesChannel, `m-${externalId()}`);
    const before = await t.prisma.message.count({ where: { accountId: acc.accountId } });
    const cases = [
      { ids: [toGlobalId("User", bob.id)], path: ["input", "mentionUserIds", "0"], message: /Bob cannot see/ }, // not in Sales
      { ids: [toGlobalId("User", alice.id), toGlobalId("User", other.agent.id)], path: ["input", "mentionUserIds", "1"], message: /Unknown user/ }, // another account's
      { ids: [toGlobalId("Inbox", alice.id)], path: ["input", "mentionUserIds", "0"], message: /Not a User id/ },
    ];
    for (const c of cases) {
      const r = await asAdmin.request(RsCommentDocument, { input: { conversationId, text: "Hi", mentionUserIds: c.ids } });
      expect(r.addComment).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: c.path }] });
      expect((r.addComment as { fieldErrors: { message: string }[] }).fieldErrors[0].message).toMatch(c.message);
    }
    expect(await t.prisma.message.count({ where: { accountId: acc.accountId } })).toBe(before);
    // An admin sees every inbox, so they may be mentioned anywhere; duplicates count once.
    const ok = await asAlice.request(RsCommentDocument, { input: { conversationId, text: "Boss?", mentionUserIds: [toGlobalId("User", acc.admin.id), toGlobalId("User", acc.admin.id)] } });
    expect(ok.addComment.__typename).toBe("MessageResult");
    expect(await t.prisma.messageMention.count({ where: { conversationId: fromGlobal(conversationId) } })).toBe(1);
    // Assigning does not change anyone's read state.
    await asAdmin.request(RsAssignDocument, { input: { conversationId, assigneeId: toGlobalId("User", alice.id) } });
    expect(await unread(asAdmin, conversationId)).toBe(2); // the inbound message and the mention
  });
});

function fromGlobal(id: string): string {
  return Buffer.from(id, "base64").toString("utf8").split(":").slice(1).join(":");
}

/** The SQL statements the server sends while `fn` runs (background pollers of the event outbox left out). */
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
