import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvContactsDocument, ConvCreateContactDocument, ConvDetailDocument, ConvPublishDocument, ConvSetStatusDocument, type PublishInboundMessageInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let channelId: string;
let channelRow: { id: string };

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Intake" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth, {
    capabilities: { attachmentKinds: ["IMAGE", "FILE"], richText: false, maxAttachmentSize: 1000, maxAttachments: 2 },
  });
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  channelRow = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id });
  channelId = toGlobalId("Channel", channelRow.id);
});
afterAll(async () => t?.close());

const publish = (input: Partial<PublishInboundMessageInput> & { externalId?: string }, token = partner.token) =>
  t.client(token).request(ConvPublishDocument, { input: { channelId, externalId: externalId(), sender: { name: "Ann", email: "ann@example.test" }, text: "Hello", ...input } });

function ok<T extends { __typename: string }>(r: T) {
  if (r.__typename !== "PublishInboundMessageResult") throw new Error(`expected a result, got ${JSON.stringify(r)}`);
  return r as Extract<T, { __typename: "PublishInboundMessageResult" }>;
}

describe("idempotent intake", () => {
  test("a retried publish with the same externalId returns the first message and writes nothing", async () => {
    const ext = externalId("retry");
    const first = ok((await publish({ externalId: ext, text: "first try" })).publishInboundMessage);
    const events = await t.prisma.event.count({ where: { accountId: a.accountId } });
    const second = ok((await publish({ externalId: ext, text: "second try" })).publishInboundMessage);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.inboundMessage.id).toBe(first.inboundMessage.id);
    expect(second.inboundMessage.text).toBe("first try");
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, externalId: ext } })).toBe(1);
    expect(await t.prisma.event.count({ where: { accountId: a.accountId } })).toBe(events);
  });

  test("concurrent duplicate publishes end with one message", async () => {
    const ext = externalId("race");
    const results = await Promise.all(Array.from({ length: 6 }, () => publish({ externalId: ext, threadKey: `race-${ext}`, sender: { name: "Racer", email: `racer-${ext}@example.test` } })));
    const ids = new Set(results.map((r) => ok(r.publishInboundMessage).inboundMessage.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !ok(r.publishInboundMessage).duplicate)).toHaveLength(1);
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, externalId: ext } })).toBe(1);
    expect(await t.prisma.conversation.count({ where: { accountId: a.accountId, threadKey: `race-${ext}` } })).toBe(1);
    expect(await t.prisma.contact.count({ where: { accountId: a.accountId, email: `racer-${ext}@example.test` } })).toBe(1);
  });

  test("concurrent first messages of one thread from one new address share a conversation and a contact", async () => {
    const key = externalId("thread");
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => publish({ threadKey: key, text: `part ${i}`, sender: { email: `burst-${key}@example.test` } })));
    expect(new Set(results.map((r) => ok(r.publishInboundMessage).conversationId)).size).toBe(1);
    expect(await t.prisma.contact.count({ where: { accountId: a.accountId, email: `burst-${key}@example.test` } })).toBe(1);
  });

  test("concurrent first messages from one new address and handle in different threads end on one contact", async () => {
    const key = externalId("spread");
    const sender = { email: `spread-${key}@example.test`, handle: `h-${key}` };
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => publish({ threadKey: `${key}-${i}`, text: `part ${i}`, sender })));
    const ids = await t.prisma.conversation.findMany({ where: { id: { in: results.map((r) => ok(r.publishInboundMessage).conversationId).map((id) => fromGlobalId(id, "Conversation")) } }, select: { contactId: true } });
    expect(ids).toHaveLength(6);
    expect(new Set(ids.map((c) => c.contactId)).size).toBe(1);
    expect(await t.prisma.contact.count({ where: { accountId: a.accountId, email: sender.email } })).toBe(1);
    expect(await t.prisma.contactHandle.count({ where: { accountId: a.accountId, handle: sender.handle } })).toBe(1);
  });
});

describe("threading", () => {
  test("THREAD_KEY: messages with the same key join the thread; another key starts one; a closed thread reopens", async () => {
    const key = externalId("tk");
    const m1 = ok((await publish({ threadKey: key, text: "one" })).publishInboundMessage);
    const m2 = ok((await publish({ threadKey: key, text: "two" })).publishInboundMessage);
    const other = ok((await publish({ threadKey: `${key}-other`, text: "three" })).publishInboundMessage);
    expect(m1.conversationCreated).toBe(true);
    expect(m2.conversationCreated).toBe(false);
    expect(m2.conversationId).toBe(m1.conversationId);
    expect(other.conversationId).not.toBe(m1.conversationId);

    const agent = t.client(await t.tokenFor(a.admin));
    const closed = await agent.request(ConvSetStatusDocument, { input: { conversationId: m1.conversationId, status: "CLOSED" } });
    expect(closed.setConversationStatus).toMatchObject({ conversation: { status: "CLOSED" } });
    const m4 = ok((await publish({ threadKey: key, text: "back again" })).publishInboundMessage);
    expect(m4.conversationId).toBe(m1.conversationId);
    const { node } = await agent.request(ConvDetailDocument, { id: m1.conversationId });
    expect(node).toMatchObject({ status: "OPEN", closedAt: null });
    if (node?.__typename !== "Conversation") throw new Error("no conversation");
    expect(node.messages.edges.map((e) => e.node.text)).toEqual(["one", "two", "back again"]);
  });

  test("NEW_THREAD_PER_MESSAGE: every message starts a conversation, whatever its key", async () => {
    const app2 = await createPartnerApp(t.prisma, t.server.services.auth, { threadingModel: "NEW_THREAD_PER_MESSAGE" });
    const inbox = await createInbox(t.prisma, a.accountId);
    const ch = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: app2.app.id });
    const input = { channelId: toGlobalId("Channel", ch.id), threadKey: "same", sender: { handle: "u-1" }, text: "x" };
    const r1 = ok((await publish({ ...input, externalId: externalId() }, app2.token)).publishInboundMessage);
    const r2 = ok((await publish({ ...input, externalId: externalId() }, app2.token)).publishInboundMessage);
    expect(r1.conversationCreated && r2.conversationCreated).toBe(true);
    expect(r1.conversationId).not.toBe(r2.conversationId);
  });
});

describe("contacts", () => {
  test("matched by email, by phone and by channel handle; created when unknown", async () => {
    const tag = externalId("c");
    const byEmail1 = ok((await publish({ sender: { name: "Bea", email: `Bea-${tag}@Example.test` } })).publishInboundMessage);
    const byEmail2 = ok((await publish({ sender: { email: `bea-${tag}@example.test` } })).publishInboundMessage);
    const contacts = await t.prisma.contact.findMany({ where: { accountId: a.accountId, email: `bea-${tag}@example.test` } });
    expect(contacts).toHaveLength(1);
    expect(contacts[0].name).toBe("Bea");

    await publish({ sender: { name: "Phil", phone: `+3900${tag.length}${Date.now() % 100000}`, handle: `h-${tag}` } });
    const phil = await t.prisma.contact.findFirstOrThrow({ where: { accountId: a.accountId, handles: { some: { handle: `h-${tag}` } } } });
    await publish({ sender: { phone: phil.phone } });
    await publish({ sender: { handle: `h-${tag}`, name: "Someone else" } });
    const convs = await t.prisma.conversation.findMany({ where: { accountId: a.accountId, contactId: phil.id } });
    expect(convs).toHaveLength(3);
    expect(await t.prisma.contact.count({ where: { accountId: a.accountId, name: "Someone else" } })).toBe(0);

    const agent = t.client(await t.tokenFor(a.agent));
    const list = await agent.request(ConvContactsDocument, { search: `bea-${tag}` });
    expect(list.contacts.edges.map((e) => e.node.email)).toEqual([`bea-${tag}@example.test`]);
    expect(byEmail1.conversationId).not.toBe(byEmail2.conversationId);
  });

  test("an unknown visitor gets no contact until an agent creates one from the conversation", async () => {
    const r = ok((await publish({ sender: { name: "Mystery Visitor" } })).publishInboundMessage);
    const agent = t.client(await t.tokenFor(a.agent));
    const before = await agent.request(ConvDetailDocument, { id: r.conversationId });
    expect(before.node).toMatchObject({ contact: null, visitorName: "Mystery Visitor" });
    const created = await agent.request(ConvCreateContactDocument, { input: { conversationId: r.conversationId, email: "mystery@example.test" } });
    expect(created.createContactFromConversation).toMatchObject({ __typename: "ContactResult", contact: { name: "Mystery Visitor", email: "mystery@example.test" } });
    const again = await agent.request(ConvCreateContactDocument, { input: { conversationId: r.conversationId, name: "X" } });
    expect(again.createContactFromConversation).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "conversationId"] }] });
  });
});

describe("refusals", () => {
  test("attachments and rich text are checked against the app's capabilities, naming the field", async () => {
    const r = await publish({
      richText: "<b>hi</b>",
      attachments: [
        { kind: "IMAGE", url: "https://cdn.example.test/a.png", size: 10 },
        { kind: "VIDEO", url: "https://cdn.example.test/b.mp4", size: 5000 },
      ],
    });
    expect(r.publishInboundMessage.__typename).toBe("ValidationError");
    const paths = r.publishInboundMessage.__typename === "ValidationError" ? r.publishInboundMessage.fieldErrors.map((e) => e.path.join(".")) : [];
    expect(paths.sort()).toEqual(["input.attachments.1.kind", "input.attachments.1.size", "input.richText"]);
    const good = ok((await publish({ attachments: [{ kind: "IMAGE", url: "https://cdn.example.test/a.png", name: "a.png", mimeType: "image/png", size: 10 }] })).publishInboundMessage);
    expect(good.inboundMessage.attachments).toEqual([{ kind: "IMAGE", url: "https://cdn.example.test/a.png", name: "a.png", mimeType: "image/png", size: 10 }]);
  });

  test("OFF and deleted channels refuse intake; other partners' and non-custom channels are not found", async () => {
    const inbox = await createInbox(t.prisma, a.accountId);
    const off = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id, status: "OFF" });
    const deleted = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id, deleted: true });
    const chat = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, type: "CHAT" });
    const stranger = await createPartnerApp(t.prisma, t.server.services.auth);
    const ext = externalId("refused");
    expect((await publish({ channelId: toGlobalId("Channel", off.id), externalId: ext })).publishInboundMessage).toMatchObject({ code: "CHANNEL_OFF" });
    expect((await publish({ channelId: toGlobalId("Channel", deleted.id), externalId: ext })).publishInboundMessage).toMatchObject({ code: "CHANNEL_OFF" });
    expect((await publish({ channelId: toGlobalId("Channel", chat.id), externalId: ext })).publishInboundMessage).toMatchObject({ code: "NOT_FOUND" });
    expect((await publish({ externalId: ext }, stranger.token)).publishInboundMessage).toMatchObject({ code: "NOT_FOUND" });
    expect(await t.prisma.message.count({ where: { externalId: ext } })).toBe(0);
  });

  test("agents cannot publish (the payload's ForbiddenError)", async () => {
    const r = await publish({}, await t.tokenFor(a.agent));
    expect(r.publishInboundMessage).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });
});
