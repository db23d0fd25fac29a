import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Prisma } from "../src/generated/prisma/client.js";
import { ArAssignDocument, ArCommentDocument, ArReplyDocument, ArSettingsDocument, WidgetStartChatDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";

let t: TestServer;
let acc: TestAccount;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Assignee Co" });
});
afterAll(async () => t?.close());

/** A chat conversation in an inbox whose members are `userIds` (plus the account's admin, who sees all). */
async function conversationIn(userIds: string[]) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds });
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Chat", status: "ON", settings: chatSettings.parse({ availability: { mode: "ALWAYS" } }) as Prisma.InputJsonValue },
  });
  const r = await t.client().request(WidgetStartChatDocument, { input: { channelId: toGlobalId("Channel", channel.id), name: "Cara" } });
  if (r.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(r.startChat));
  return r.startChat.conversationId;
}

describe("only the assignee may reply", () => {
  test("with the setting on, others get a ForbiddenError naming the assignee and may still comment; the assignee and unassigned conversations are unaffected; admins override explicitly", async () => {
    const alice = await createTestUser(t.prisma, acc.accountId, { firstName: "Alice" });
    const bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    const [asAlice, asBob, asAdmin] = await Promise.all([alice, bob, acc.admin].map(async (u) => t.client(await t.tokenFor(u))));
    const conversationId = await conversationIn([alice.id, bob.id]);
    await asAdmin.request(ArAssignDocument, { input: { conversationId, assigneeId: toGlobalId("User", alice.id) } });

    // Off (the default): anyone who sees the conversation replies.
    expect((await asBob.request(ArReplyDocument, { input: { conversationId, text: "Bob, before" } })).reply.__typename).toBe("MessageResult");

    const on = await asAdmin.request(ArSettingsDocument, { input: { onlyAssigneeMayReply: true } });
    expect(on.updateAccountSettings).toMatchObject({ __typename: "AccountResult", account: { onlyAssigneeMayReply: true } });

    const refused = await asBob.request(ArReplyDocument, { input: { conversationId, text: "Bob, after", overrideAssignee: true } });
    expect(refused.reply).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN", assignee: { id: toGlobalId("User", alice.id), firstName: "Alice" } });
    expect((refused.reply as { message: string }).message).toMatch(/^Only Alice, the assignee, may reply/);
    expect((await asBob.request(ArCommentDocument, { input: { conversationId, text: "Alice, can you take this?" } })).addComment.__typename).toBe("MessageResult");
    expect((await asAlice.request(ArReplyDocument, { input: { conversationId, text: "Alice here" } })).reply.__typename).toBe("MessageResult");

    // An admin is refused too unless they override on purpose.
    expect((await asAdmin.request(ArReplyDocument, { input: { conversationId, text: "Admin" } })).reply).toMatchObject({ __typename: "ForbiddenError", assignee: { firstName: "Alice" } });
    expect((await asAdmin.request(ArReplyDocument, { input: { conversationId, text: "Admin, overriding", overrideAssignee: true } })).reply.__typename).toBe("MessageResult");

    // Nothing of the refused replies was stored.
    const texts = (await t.prisma.message.findMany({ where: { accountId: acc.accountId, direction: "OUTBOUND", senderType: "AGENT" }, select: { text: true } })).map((m) => m.text);
    expect(texts).toEqual(expect.arrayContaining(["Bob, before", "Alice here", "Admin, overriding"]));
    expect(texts).not.toContain("Bob, after");
    expect(texts).not.toContain("Admin");

    // Unassigned: open to every agent who sees it.
    const open = await conversationIn([bob.id]);
    expect((await asBob.request(ArReplyDocument, { input: { conversationId: open, text: "Anyone may" } })).reply.__typename).toBe("MessageResult");
    await asAdmin.request(ArSettingsDocument, { input: { onlyAssigneeMayReply: false } });
    expect((await asBob.request(ArReplyDocument, { input: { conversationId, text: "Bob, off again" } })).reply.__typename).toBe("MessageResult");
  });

  test("a retried reply (same idempotency key) returns the first one even after the conversation was reassigned", async () => {
    const dana = await createTestUser(t.prisma, acc.accountId, { firstName: "Dana" });
    const eve = await createTestUser(t.prisma, acc.accountId, { firstName: "Eve" });
    const asDana = t.client(await t.tokenFor(dana));
    const asAdmin = t.client(await t.tokenFor(acc.admin));
    const conversationId = await conversationIn([dana.id, eve.id]);
    await asAdmin.request(ArAssignDocument, { input: { conversationId, assigneeId: toGlobalId("User", dana.id) } });
    await asAdmin.request(ArSettingsDocument, { input: { onlyAssigneeMayReply: true } });
    const first = await asDana.request(ArReplyDocument, { input: { conversationId, text: "Sent once", idempotencyKey: "dana-1" } });
    await asAdmin.request(ArAssignDocument, { input: { conversationId, assigneeId: toGlobalId("User", eve.id) } });
    const retry = await asDana.request(ArReplyDocument, { input: { conversationId, text: "Sent once", idempotencyKey: "dana-1" } });
    expect(retry.reply).toEqual(first.reply);
    expect((await asDana.request(ArReplyDocument, { input: { conversationId, text: "New one" } })).reply).toMatchObject({ __typename: "ForbiddenError", assignee: { firstName: "Eve" } });
    await asAdmin.request(ArSettingsDocument, { input: { onlyAssigneeMayReply: false } });
  });

  test("only admins change the setting", async () => {
    const r = await t.client(await t.tokenFor(acc.agent)).request(ArSettingsDocument, { input: { onlyAssigneeMayReply: true } });
    expect(r.updateAccountSettings).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect((await t.prisma.account.findUniqueOrThrow({ where: { id: acc.accountId } })).onlyAssigneeMayReply).toBe(false);
  });
});
