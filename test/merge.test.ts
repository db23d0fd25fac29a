import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ChConnectDocument,
  ConvPublishDocument,
  ConvReplyDocument,
  MgContactDocument,
  MgContactsDocument,
  MgConversationDocument,
  MgConversationsDocument,
  MgListDocument,
  MgTicketDocument,
  MgTicketsDocument,
  MgUpdatedDocument,
  TkCreateTicketDocument,
  WidgetSendVisitorMessageDocument,
  WidgetStartChatDocument,
  WidgetVisitorConversationDocument,
  type PublishInboundMessageInput,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";
import { chatSettings } from "../src/services/channel-settings.js";
import type { Prisma } from "../src/generated/prisma/client.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let channelId: string;
let secondPageId: string;
let hiddenChannelId: string;
let foreignChannelId: string;
let inboxId: string;

beforeAll(async () => {
  t = await startTestServer();
  // Created before 2024-04-01: inbox conversations may still get tickets.
  a = await createTestAccount(t.prisma, { name: "Merge Co", createdAt: new Date("2023-06-01T00:00:00Z") });
  other = await createTestAccount(t.prisma, { name: "Other Co" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  inboxId = inbox.id;
  channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
  secondPageId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
  const hidden = await createInbox(t.prisma, a.accountId, { userIds: [] });
  hiddenChannelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: hidden.id, channelAppId: partner.app.id })).id);
  const foreignInbox = await createInbox(t.prisma, other.accountId, { userIds: [other.agent.id] });
  foreignChannelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: other.accountId, inboxId: foreignInbox.id, channelAppId: partner.app.id })).id);
});
afterAll(async () => t?.close());

async function publish(input: Partial<PublishInboundMessageInput>) {
  const r = await t.client(partner.token).request(ConvPublishDocument, {
    input: { channelId, externalId: externalId(), sender: { name: "Ann", email: "ann@example.test" }, text: "Hello", ...input },
  });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
  return r.publishInboundMessage;
}

const agent = async () => t.client(await t.tokenFor(a.agent));
const messagesOf = async (id: string) => {
  const r = await (await agent()).request(MgConversationDocument, { id });
  const node = r.node as { messages: { edges: { node: { id: string; text: string | null; kind: string; createdAt: string } }[] } } | null;
  return node?.messages.edges.map((e) => e.node) ?? [];
};
const storedCounts = async () => ({
  messages: await t.prisma.message.count({ where: { accountId: a.accountId } }),
  conversations: await t.prisma.conversation.count({ where: { accountId: a.accountId } }),
});

describe("mergeConversations", () => {
  test("messages move in order with their external ids; a retried external id is still a duplicate; the source's thread continues in the target; one audit comment; the source leaves the list", async () => {
    const [keyA, keyB] = [externalId("thread-a"), externalId("thread-b")];
    const [extA1, extB1, extA2] = [externalId("a1"), externalId("b1"), externalId("a2")];
    const a1 = await publish({ threadKey: keyA, externalId: extA1, text: "a1" });
    const b1 = await publish({ threadKey: keyB, externalId: extB1, text: "b1", sender: { name: "Ann", email: "ann-other@example.test" } });
    await publish({ threadKey: keyA, externalId: extA2, text: "a2" });
    const target = a1.conversationId;
    const source = b1.conversationId;
    expect(source).not.toBe(target);

    const label = await t.prisma.label.create({ data: { accountId: a.accountId, name: "Urgent", nameKey: "urgent", color: "#ff0000" } });
    await t.prisma.conversationLabel.create({ data: { accountId: a.accountId, conversationId: fromGlobalId(source, "Conversation"), labelId: label.id } });
    const ws = t.ws(await t.tokenFor(a.agent));
    const live = record(ws, MgUpdatedDocument, { after: "0" });
    const merged = await (await agent()).request(MgConversationsDocument, { input: { targetId: target, sourceIds: [source] } });
    expect(merged.mergeConversations).toMatchObject({
      __typename: "MergeConversationsResult",
      mergedConversationIds: [source],
      conversation: { id: target },
      auditMessage: { kind: "COMMENT", text: expect.stringMatching(/merged 1 conversation into this one/) },
    });

    const texts = (await messagesOf(target)).map((m) => m.text);
    expect(texts.slice(0, 3)).toEqual(["a1", "b1", "a2"]);
    expect(texts[3]).toMatch(/merged 1 conversation/);
    expect(texts).toHaveLength(4);
    expect(await t.prisma.conversationLabel.count({ where: { conversationId: fromGlobalId(target, "Conversation"), labelId: label.id } })).toBe(1);
    const stored = await t.prisma.message.findFirst({ where: { accountId: a.accountId, externalId: extB1 } });
    expect(stored?.conversationId).toBe(fromGlobalId(target, "Conversation"));

    // The source is a tombstone pointing at the target, and gone from the list.
    const node = (await (await agent()).request(MgConversationDocument, { id: source })).node as { mergedInto: { id: string } | null; mergedAt: string | null; messages: { edges: unknown[] } };
    expect(node.mergedInto).toEqual({ id: target });
    // The tombstone is closed: it counts against no one's capacity and no backlog.
    expect(await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(source, "Conversation") } })).toMatchObject({ status: "CLOSED", closedAt: expect.any(Date) });
    expect(node.mergedAt).toBeTruthy();
    expect(node.messages.edges).toHaveLength(0);
    const listed = (await (await agent()).request(MgListDocument, { first: 100 })).conversations.edges.map((e) => e.node.id);
    expect(listed).toContain(target);
    expect(listed).not.toContain(source);

    // A tombstone takes no writes: replies go to the target.
    expect((await (await agent()).request(ConvReplyDocument, { input: { conversationId: source, text: "to the tombstone" } })).reply.__typename).toBe("NotFoundError");

    // Subscribers hear of both.
    await expect.poll(() => live.results.some((r) => r.conversationUpdated.id === source && r.conversationUpdated.mergedInto?.id === target), { timeout: 10_000 }).toBe(true);
    live.dispose();
    await ws.dispose();

    // Idempotency: a retried publish of the source's external id is the duplicate, nothing stored.
    const before = await storedCounts();
    const retry = await publish({ threadKey: keyB, externalId: extB1, text: "b1 again" });
    expect(retry).toMatchObject({ duplicate: true, conversationId: target });
    expect(await storedCounts()).toEqual(before);

    // Threading: a new message on the source's thread key lands in the target.
    const later = await publish({ threadKey: keyB, text: "b2, later" });
    expect(later).toMatchObject({ duplicate: false, conversationCreated: false, conversationId: target });
    expect((await messagesOf(target)).map((m) => m.text)).toContain("b2, later");
    expect((await storedCounts()).conversations).toBe(before.conversations);
  });

  test("messages published on the source's thread while it is merged all end in the target, none in the tombstone", async () => {
    const [keyT, keyS] = [externalId("race-t"), externalId("race-s")];
    const target = (await publish({ threadKey: keyT })).conversationId;
    const source = (await publish({ threadKey: keyS })).conversationId;
    const [merged, ...published] = await Promise.all([
      (await agent()).request(MgConversationsDocument, { input: { targetId: target, sourceIds: [source] } }),
      ...Array.from({ length: 6 }, (_, i) => publish({ threadKey: keyS, text: `race ${i}` })),
    ]);
    expect(merged.mergeConversations.__typename).toBe("MergeConversationsResult");
    expect(published.every((p) => !p.duplicate)).toBe(true);
    expect(await t.prisma.message.count({ where: { conversationId: fromGlobalId(source, "Conversation") } })).toBe(0);
    const texts = (await messagesOf(target)).map((m) => m.text);
    for (let i = 0; i < 6; i++) expect(texts).toContain(`race ${i}`);
  });

  test("a conversation merged into one that is merged later still threads into the final target", async () => {
    const [k1, k2, k3] = [externalId("k1"), externalId("k2"), externalId("k3")];
    const c1 = (await publish({ threadKey: k1 })).conversationId;
    const c2 = (await publish({ threadKey: k2 })).conversationId;
    const c3 = (await publish({ threadKey: k3 })).conversationId;
    const c1Row = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(c1, "Conversation") } });
    const comment = await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: c1Row.id, channelId: c1Row.channelId, direction: "OUTBOUND", kind: "COMMENT", senderType: "AGENT", authorId: a.admin.id, text: "@Agent look" } });
    await t.prisma.messageMention.create({ data: { accountId: a.accountId, messageId: comment.id, conversationId: c1Row.id, userId: a.agent.id } });
    const client = await agent();
    expect((await client.request(MgConversationsDocument, { input: { targetId: c2, sourceIds: [c1] } })).mergeConversations.__typename).toBe("MergeConversationsResult");
    expect((await client.request(MgConversationsDocument, { input: { targetId: c3, sourceIds: [c2] } })).mergeConversations.__typename).toBe("MergeConversationsResult");
    expect((await publish({ threadKey: k1, text: "via the first" })).conversationId).toBe(c3);
    const node = (await client.request(MgConversationDocument, { id: c1 })).node as { mergedInto: { id: string } };
    expect(node.mergedInto.id).toBe(c3);
    // The mention moved with its comment.
    expect((await t.prisma.messageMention.findFirstOrThrow({ where: { messageId: comment.id } })).conversationId).toBe(fromGlobalId(c3, "Conversation"));
    // Purging the final target (trash is purged after 30 days) takes its tombstones along.
    const finalId = fromGlobalId(c3, "Conversation");
    await t.prisma.$transaction([
      t.prisma.messageMention.deleteMany({ where: { conversationId: finalId } }),
      t.prisma.message.deleteMany({ where: { conversationId: finalId } }),
      t.prisma.conversation.delete({ where: { id: finalId } }),
    ]);
    expect(await t.prisma.conversation.count({ where: { id: { in: [c1Row.id, fromGlobalId(c2, "Conversation")] } } })).toBe(0);
  });

  test("email threading: a reply to a merged email conversation lands in the target, even on another channel; the same email again is a duplicate", async () => {
    const connected = await t.client(await t.tokenFor(a.admin)).request(ChConnectDocument, {
      input: { inboxId: toGlobalId("Inbox", inboxId), name: "Mail", teamEmail: { address: `support-${externalId()}@acme.test` } },
    });
    if (connected.connectChannel.__typename !== "ConnectChannelResult" || !connected.connectChannel.inboundEmailSecret) throw new Error(JSON.stringify(connected.connectChannel));
    const { id: mailChannel } = connected.connectChannel.channel;
    const secret = connected.connectChannel.inboundEmailSecret;
    const post = (lines: string[]) =>
      fetch(new URL(`/inbound/email/${mailChannel}`, t.url), { method: "POST", headers: { "content-type": "message/rfc822", authorization: `Bearer ${secret}` }, body: lines.join("\r\n") });
    const first = `<${externalId("m")}@customer.test>`;
    const mail = (id: string, text: string, extra: string[] = []) => [
      "From: Carla <carla@customer.test>", "To: support@acme.test", "Subject: Broken order", `Message-ID: ${id}`, "Date: Wed, 02 Dec 2026 10:00:00 +0000", ...extra, "", text,
    ];
    expect((await post(mail(first, "My order is broken"))).status).toBeLessThan(300);
    const emailConversation = await t.prisma.conversation.findFirstOrThrow({ where: { accountId: a.accountId, threadKey: first } });
    const chat = (await publish({ threadKey: externalId("chat"), text: "Also on chat" })).conversationId;
    const merged = await (await agent()).request(MgConversationsDocument, { input: { targetId: chat, sourceIds: [toGlobalId("Conversation", emailConversation.id)] } });
    expect(merged.mergeConversations.__typename).toBe("MergeConversationsResult");

    const before = await storedCounts();
    expect((await post(mail(first, "My order is broken"))).status).toBeLessThan(300);
    expect(await storedCounts()).toEqual(before);

    const reply = `<${externalId("r")}@customer.test>`;
    expect((await post(mail(reply, "Any news?", [`In-Reply-To: ${first}`, `References: ${first}`]))).status).toBeLessThan(300);
    const landed = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, externalId: reply } });
    expect(landed.conversationId).toBe(fromGlobalId(chat, "Conversation"));
    expect((await storedCounts()).conversations).toBe(before.conversations);
  });

  test("a website chat merged into another conversation: the visitor's next message lands in the target and the visitor sees the target's replies", async () => {
    const chatChannel = await t.prisma.channel.create({
      data: { accountId: a.accountId, inboxId, type: "CHAT", name: "Chat", status: "ON", settings: chatSettings.parse({ availability: { mode: "ALWAYS" } }) as Prisma.InputJsonValue },
    });
    const started = await t.client().request(WidgetStartChatDocument, { input: { channelId: toGlobalId("Channel", chatChannel.id), name: "Vera" } });
    if (started.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(started.startChat));
    const visitor = t.client(started.startChat.visitorToken);
    const send = (text: string) => visitor.request(WidgetSendVisitorMessageDocument, { input: { text, clientMessageId: externalId("client") } });
    expect((await send("Before the merge")).sendVisitorMessage.__typename).toBe("SendVisitorMessageResult");
    const target = (await publish({ threadKey: externalId("vera"), text: "Vera, by the partner app" })).conversationId;
    const merged = await (await agent()).request(MgConversationsDocument, { input: { targetId: target, sourceIds: [started.startChat.conversationId] } });
    expect(merged.mergeConversations.__typename).toBe("MergeConversationsResult");

    expect((await send("After the merge")).sendVisitorMessage.__typename).toBe("SendVisitorMessageResult");
    const landed = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, text: "After the merge" } });
    expect(landed.conversationId).toBe(fromGlobalId(target, "Conversation"));
    expect((await (await agent()).request(ConvReplyDocument, { input: { conversationId: target, text: "Agent answer" } })).reply.__typename).toBe("MessageResult");
    const view = (await visitor.request(WidgetVisitorConversationDocument)).visitorConversation;
    expect(view.status).toBe("OPEN");
    const seen = view.messages.map((m) => m.text);
    expect(seen).toEqual(expect.arrayContaining(["Before the merge", "After the merge", "Agent answer"]));
    expect(seen.some((m) => m?.includes("merged"))).toBe(false);
  });

  test("bad input: into itself, empty, foreign, hidden, already merged; a refused merge moves nothing", async () => {
    const client = await agent();
    const mine = (await publish({})).conversationId;
    const mine2 = (await publish({})).conversationId;
    const refuse = async (input: { targetId: string; sourceIds: string[] }) => (await client.request(MgConversationsDocument, { input })).mergeConversations;

    expect(await refuse({ targetId: mine, sourceIds: [mine] })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "sourceIds"] }] });
    expect(await refuse({ targetId: mine, sourceIds: [] })).toMatchObject({ __typename: "ValidationError" });

    const foreign = (await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: foreignChannelId, externalId: externalId(), sender: { email: "x@example.test" }, text: "elsewhere" } })).publishInboundMessage as { conversationId: string };
    expect(await refuse({ targetId: mine, sourceIds: [foreign.conversationId] })).toMatchObject({ __typename: "NotFoundError" });
    expect(await refuse({ targetId: foreign.conversationId, sourceIds: [mine] })).toMatchObject({ __typename: "NotFoundError" });

    const hidden = (await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: hiddenChannelId, externalId: externalId(), sender: { email: "h@example.test" }, text: "hidden" } })).publishInboundMessage as { conversationId: string };
    const before = await t.prisma.message.findMany({ where: { accountId: a.accountId }, select: { id: true, conversationId: true }, orderBy: { id: "asc" } });
    // A valid source next to a hidden one: the whole merge is refused and nothing moves.
    expect(await refuse({ targetId: mine, sourceIds: [mine2, hidden.conversationId] })).toMatchObject({ __typename: "NotFoundError" });
    expect(await t.prisma.message.findMany({ where: { accountId: a.accountId }, select: { id: true, conversationId: true }, orderBy: { id: "asc" } })).toEqual(before);
    expect(await t.prisma.conversation.count({ where: { accountId: a.accountId, mergedIntoId: fromGlobalId(mine, "Conversation") } })).toBe(0);

    // An admin sees the hidden inbox and may merge it.
    const asAdmin = t.client(await t.tokenFor(a.admin));
    expect((await asAdmin.request(MgConversationsDocument, { input: { targetId: mine, sourceIds: [hidden.conversationId] } })).mergeConversations.__typename).toBe("MergeConversationsResult");
    expect(await refuse({ targetId: mine2, sourceIds: [hidden.conversationId] })).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(MgConversationsDocument, { input: { targetId: mine2, sourceIds: [hidden.conversationId] } })).mergeConversations).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "sourceIds"], message: expect.stringMatching(/already merged/) }],
    });
  });
});

describe("mergeTickets", () => {
  test("the source's conversations move to the target, missing properties are taken over, the source is deleted; foreign tickets are not found", async () => {
    const client = await agent();
    const c1 = (await publish({})).conversationId;
    const c2 = (await publish({})).conversationId;
    const create = async (name: string, conversationId: string, properties: Record<string, unknown>) => {
      const r = await client.request(TkCreateTicketDocument, { input: { name, conversationId, properties } });
      if (r.createTicket.__typename !== "TicketResult") throw new Error(JSON.stringify(r.createTicket));
      return r.createTicket.ticket.id;
    };
    const target = await create("Order broken", c1, { order: "42" });
    const source = await create("Order broken (again)", c2, { order: "43", resolution: "refund" });
    const label = await t.prisma.label.create({ data: { accountId: a.accountId, name: "Refund", nameKey: "refund", color: "#00ff00" } });
    await t.prisma.ticketLabel.create({ data: { accountId: a.accountId, ticketId: fromGlobalId(source, "Ticket"), labelId: label.id } });
    const r = await client.request(MgTicketsDocument, { input: { targetId: target, sourceIds: [source] } });
    expect(r.mergeTickets).toMatchObject({ __typename: "MergeTicketsResult", mergedTicketIds: [source], ticket: { id: target, name: "Order broken", properties: { order: "42", resolution: "refund" } } });
    const ticket = (await client.request(MgTicketDocument, { id: target })).node as { conversations: { id: string }[] };
    expect(ticket.conversations.map((c) => c.id).sort()).toEqual([c1, c2].sort());
    expect((await client.request(MgTicketDocument, { id: source })).node).toBeNull();
    expect(await t.prisma.ticketLabel.count({ where: { ticketId: fromGlobalId(target, "Ticket"), labelId: label.id } })).toBe(1);

    expect((await client.request(MgTicketsDocument, { input: { targetId: target, sourceIds: [target] } })).mergeTickets.__typename).toBe("ValidationError");
    const foreign = await t.client(await t.tokenFor(other.agent)).request(TkCreateTicketDocument, { input: { name: "Theirs" } });
    if (foreign.createTicket.__typename !== "TicketResult") throw new Error(JSON.stringify(foreign.createTicket));
    expect((await client.request(MgTicketsDocument, { input: { targetId: target, sourceIds: [foreign.createTicket.ticket.id] } })).mergeTickets.__typename).toBe("NotFoundError");
    expect(await t.prisma.ticket.count({ where: { id: fromGlobalId(foreign.createTicket.ticket.id, "Ticket") } })).toBe(1);
  });
});

describe("mergeContacts", () => {
  test("Messenger-style duplicates (one person, two pages, no email): everything moves to the target, later messages from either handle match it", async () => {
    const client = await agent();
    const person = externalId("psid");
    const onPage1 = await publish({ sender: { name: "Dario", handle: `${person}-1` }, text: "from page 1" });
    const onPage2 = await publish({ channelId: secondPageId, sender: { name: "Dario R.", handle: `${person}-2`, phone: "+39 333 1234567" }, text: "from page 2" });
    const ids = async (conversationId: string) => ((await client.request(MgConversationDocument, { id: conversationId })).node as { contact: { id: string } }).contact.id;
    const [target, source] = [await ids(onPage1.conversationId), await ids(onPage2.conversationId)];
    expect(target).not.toBe(source);
    const ticket = await client.request(TkCreateTicketDocument, { input: { name: "Dario's ticket", contactId: source } });
    expect(ticket.createTicket.__typename).toBe("TicketResult");

    const merged = await client.request(MgContactsDocument, { input: { targetId: target, sourceIds: [source] } });
    expect(merged.mergeContacts).toMatchObject({ __typename: "MergeContactsResult", mergedContactIds: [source], contact: { id: target, name: "Dario", phone: "+393331234567" } });
    expect((await client.request(MgContactDocument, { id: source })).node).toBeNull();
    const contact = (await client.request(MgContactDocument, { id: target })).node as {
      conversations: { totalCount: number; edges: { node: { id: string } }[] };
      tickets: { edges: unknown[] };
      notes: { edges: { node: { body: string; author: { id: string } } }[] };
    };
    expect(contact.conversations.edges.map((e) => e.node.id).sort()).toEqual([onPage1.conversationId, onPage2.conversationId].sort());
    expect(contact.tickets.edges).toHaveLength(1);
    expect(contact.notes.edges).toHaveLength(1);
    expect(contact.notes.edges[0].node).toMatchObject({ body: expect.stringMatching(/^Merged 1 contact into this one: Dario R\./), author: { id: toGlobalId("User", a.agent.id) } });

    // A new thread from the second page's handle is the target's now.
    const again = await publish({ channelId: secondPageId, sender: { handle: `${person}-2` }, text: "page 2 again" });
    expect(await ids(again.conversationId)).toBe(target);
  });

  test("two emails: the target keeps its own and the note names the other; foreign contacts are not found; into itself is refused", async () => {
    const client = await agent();
    const tag = externalId("mail");
    const c1 = await publish({ sender: { name: "Eva", email: `eva-${tag}@example.test` } });
    const c2 = await publish({ sender: { name: "", email: `eva.work-${tag}@example.test` } });
    const contactOf = async (conversationId: string) => ((await client.request(MgConversationDocument, { id: conversationId })).node as { contact: { id: string } }).contact.id;
    const [target, source] = [await contactOf(c1.conversationId), await contactOf(c2.conversationId)];
    const r = await client.request(MgContactsDocument, { input: { targetId: target, sourceIds: [source] } });
    expect(r.mergeContacts).toMatchObject({ __typename: "MergeContactsResult", contact: { email: `eva-${tag}@example.test` } });
    const note = await t.prisma.contactNote.findFirstOrThrow({ where: { contactId: fromGlobalId(target, "Contact") } });
    expect(note.body).toContain(`Not kept (the contact has its own): eva.work-${tag}@example.test`);

    const foreign = (await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: foreignChannelId, externalId: externalId(), sender: { email: `f-${tag}@example.test` }, text: "x" } })).publishInboundMessage as { conversationId: string };
    const foreignContact = await t.prisma.conversation.findFirstOrThrow({ where: { id: fromGlobalId(foreign.conversationId, "Conversation") } });
    expect((await client.request(MgContactsDocument, { input: { targetId: target, sourceIds: [toGlobalId("Contact", foreignContact.contactId!)] } })).mergeContacts.__typename).toBe("NotFoundError");
    expect(await t.prisma.contact.count({ where: { id: foreignContact.contactId! } })).toBe(1);
    expect((await client.request(MgContactsDocument, { input: { targetId: target, sourceIds: [target] } })).mergeContacts).toMatchObject({ __typename: "ValidationError" });
  });

  test("an agent of another account cannot merge this account's contacts", async () => {
    const contact = await t.prisma.contact.create({ data: { accountId: a.accountId, name: "Z" } });
    const contact2 = await t.prisma.contact.create({ data: { accountId: a.accountId, name: "Z2" } });
    const outsider = await createTestUser(t.prisma, other.accountId, { role: "ADMIN" });
    const r = await t.client(await t.tokenFor(outsider)).request(MgContactsDocument, { input: { targetId: toGlobalId("Contact", contact.id), sourceIds: [toGlobalId("Contact", contact2.id)] } });
    expect(r.mergeContacts.__typename).toBe("NotFoundError");
    expect(await t.prisma.contact.count({ where: { id: { in: [contact.id, contact2.id] } } })).toBe(2);
  });
});
