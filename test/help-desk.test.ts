import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChMoveDocument, ConvPublishDocument, HdAssignDocument, HdReplyAndStatusDocument, type ReplyAndUpdateTicketStatusInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;

beforeAll(async () => {
  t = await startTestServer();
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
});
afterAll(async () => t?.close());

/** A custom channel of the account in `inboxId` that the partner publishes into. */
async function channelIn(acc: TestAccount, inboxId: string, createTickets = false) {
  const channel = await createChannel(t.prisma, { accountId: acc.accountId, inboxId, channelAppId: partner.app.id });
  if (createTickets) await t.prisma.channel.update({ where: { id: channel.id }, data: { createTickets: true } });
  return toGlobalId("Channel", channel.id);
}

async function publish(channelId: string, sender: Record<string, string>, text = "Hello") {
  const r = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: externalId(), threadKey: externalId("thr"), sender, text } });
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(`publish failed: ${JSON.stringify(r)}`);
  return fromGlobalId(r.publishInboundMessage.conversationId, "Conversation");
}

const ticketOf = async (conversationId: string) => {
  const c = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { ticket: { include: { status: true } } } });
  return c.ticket;
};

describe("automatic tickets", () => {
  test("every new help desk conversation gets a ticket with the channel's defaults, owned by the assignee", async () => {
    const acc = await createTestAccount(t.prisma);
    await t.prisma.inboxUser.create({ data: { accountId: acc.accountId, inboxId: acc.helpDeskId, userId: acc.agent.id } });
    const channelId = await channelIn(acc, acc.helpDeskId);
    const statuses = await t.prisma.pipelineStatus.findMany({ where: { accountId: acc.accountId }, orderBy: { position: "asc" } });
    await t.prisma.channel.update({
      where: { id: fromGlobalId(channelId, "Channel") },
      data: { ticketStatusId: statuses[2].id, ticketPriority: "HIGH", autoAssign: true, routingUsers: { create: [{ userId: acc.agent.id }] } },
    });
    const conversationId = await publish(channelId, { email: "helen@example.test", name: "Helen" }, "My order is late");
    const ticket = await ticketOf(conversationId);
    expect(ticket).toMatchObject({ priority: "HIGH", ownerId: acc.agent.id, status: { name: "Waiting on us" } });
    // The next message in the same thread is activity on the same ticket, not a new one.
    expect(await t.prisma.ticket.count({ where: { accountId: acc.accountId } })).toBe(1);
    const event = await t.prisma.event.findFirst({ where: { accountId: acc.accountId, type: "ticket.created" } });
    expect(event?.payload).toMatchObject({ ticketId: ticket!.id });
  });

  test("inbox channels create tickets only for accounts created before 2024-04-01", async () => {
    for (const [createdAt, expected] of [[new Date("2024-03-31T23:59:59Z"), true], [new Date("2024-04-01T00:00:00Z"), false]] as const) {
      const acc = await createTestAccount(t.prisma, { createdAt });
      const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
      const channelId = await channelIn(acc, inbox.id, true);
      const conversationId = await publish(channelId, { email: `x-${createdAt.getTime()}@example.test` });
      expect(Boolean(await ticketOf(conversationId))).toBe(expected);
    }
  });

  test("a contact at its association limit gets no automatic ticket, and the conversation still arrives", async () => {
    const acc = await createTestAccount(t.prisma);
    await t.prisma.account.update({ where: { id: acc.accountId }, data: { contactAssociationLimit: 1 } });
    const channelId = await channelIn(acc, acc.helpDeskId);
    const first = await publish(channelId, { email: "many@example.test" }, "first");
    const second = await publish(channelId, { email: "many@example.test" }, "second");
    expect(await ticketOf(first)).not.toBeNull();
    expect(await ticketOf(second)).toBeNull();
    expect(await t.prisma.message.count({ where: { conversationId: second } })).toBe(1);
  });

  test("reassigning the conversation moves the ticket owner when they were the same", async () => {
    const acc = await createTestAccount(t.prisma);
    await t.prisma.inboxUser.create({ data: { accountId: acc.accountId, inboxId: acc.helpDeskId, userId: acc.agent.id } });
    const other = await createTestUser(t.prisma, acc.accountId, {});
    // Only a member of the help desk can be assigned its conversations.
    await t.prisma.inboxUser.create({ data: { accountId: acc.accountId, inboxId: acc.helpDeskId, userId: other.id } });
    const channelId = await channelIn(acc, acc.helpDeskId);
    const conversationId = await publish(channelId, { email: "own@example.test" });
    const client = t.client(await t.tokenFor(acc.admin));
    const assign = (userId: string | null) =>
      client.request(HdAssignDocument, { input: { conversationId: toGlobalId("Conversation", conversationId), assigneeId: userId && toGlobalId("User", userId) } });
    await assign(acc.agent.id);
    expect((await ticketOf(conversationId))?.ownerId).toBe(acc.agent.id);
    await assign(other.id);
    expect((await ticketOf(conversationId))?.ownerId).toBe(other.id);
    // A ticket owner set to someone else does not follow.
    await t.prisma.ticket.update({ where: { id: (await ticketOf(conversationId))!.id }, data: { ownerId: acc.admin.id } });
    await assign(acc.agent.id);
    expect((await ticketOf(conversationId))?.ownerId).toBe(acc.admin.id);
  });
});

describe("replyAndUpdateTicketStatus", () => {
  let acc: TestAccount;
  let channelId: string;
  let closed: { id: string };
  let waiting: { id: string };
  beforeAll(async () => {
    acc = await createTestAccount(t.prisma);
    await t.prisma.inboxUser.create({ data: { accountId: acc.accountId, inboxId: acc.helpDeskId, userId: acc.agent.id } });
    channelId = await channelIn(acc, acc.helpDeskId);
    closed = await t.prisma.pipelineStatus.findFirstOrThrow({ where: { accountId: acc.accountId, name: "Closed" } });
    waiting = await t.prisma.pipelineStatus.findFirstOrThrow({ where: { accountId: acc.accountId, name: "Waiting on contact" } });
  });
  const run = async (input: ReplyAndUpdateTicketStatusInput) =>
    (await t.client(await t.tokenFor(acc.agent)).request(HdReplyAndStatusDocument, { input })).replyAndUpdateTicketStatus;
  const outbound = (conversationId: string) => t.prisma.message.count({ where: { conversationId, direction: "OUTBOUND" } });

  test("a conditional status without its properties is refused and leaves no reply behind", async () => {
    const conversationId = await publish(channelId, { email: "c1@example.test" });
    const before = await ticketOf(conversationId);
    const r = await run({ conversationId: toGlobalId("Conversation", conversationId), text: "Solved!", ticketStatusId: toGlobalId("PipelineStatus", closed.id) });
    expect(r).toMatchObject({ __typename: "ConditionalStatusError", missingProperties: ["resolution"] });
    expect(await outbound(conversationId)).toBe(0);
    expect((await ticketOf(conversationId))?.statusId).toBe(before?.statusId);
    expect(await t.prisma.outboundDelivery.count({ where: { message: { conversationId } } })).toBe(0);
  });

  test("with its properties both happen: the reply is stored and the ticket is closed", async () => {
    const conversationId = await publish(channelId, { email: "c2@example.test" });
    const r = await run({
      conversationId: toGlobalId("Conversation", conversationId),
      text: "Refunded, closing.",
      ticketStatusId: toGlobalId("PipelineStatus", closed.id),
      ticketProperties: { resolution: "refund" },
    });
    expect(r).toMatchObject({ __typename: "ReplyAndUpdateTicketStatusResult", sentMessage: { text: "Refunded, closing.", direction: "OUTBOUND" }, ticket: { status: { name: "Closed" }, properties: { resolution: "refund" } } });
    expect(r.__typename === "ReplyAndUpdateTicketStatusResult" && r.ticket.closedAt).toBeTruthy();
    expect(await outbound(conversationId)).toBe(1);
  });

  test("a refused reply leaves the ticket status unchanged", async () => {
    const conversationId = await publish(channelId, { email: "c3@example.test" });
    const before = await ticketOf(conversationId);
    await t.prisma.channel.update({ where: { id: fromGlobalId(channelId, "Channel") }, data: { status: "OFF" } });
    try {
      const r = await run({ conversationId: toGlobalId("Conversation", conversationId), text: "Hello?", ticketStatusId: toGlobalId("PipelineStatus", waiting.id) });
      expect(r.__typename).toBe("ChannelOffError");
    } finally {
      await t.prisma.channel.update({ where: { id: fromGlobalId(channelId, "Channel") }, data: { status: "ON" } });
    }
    expect((await ticketOf(conversationId))?.statusId).toBe(before?.statusId);
    expect(await outbound(conversationId)).toBe(0);
  });

  test("a closed Messenger window refuses the reply and the status change", async () => {
    const messenger = await createChannel(t.prisma, { accountId: acc.accountId, inboxId: acc.helpDeskId, type: "FACEBOOK_MESSENGER" });
    const contact = await t.prisma.contact.create({ data: { accountId: acc.accountId, name: "Late" } });
    const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    const conversation = await t.prisma.conversation.create({
      data: { accountId: acc.accountId, inboxId: acc.helpDeskId, channelId: messenger.id, contactId: contact.id, lastInboundAt: old, firstInboundAt: old, lastActivityAt: old },
    });
    await t.prisma.message.create({ data: { accountId: acc.accountId, conversationId: conversation.id, channelId: messenger.id, direction: "INBOUND", senderType: "CONTACT", text: "hi", createdAt: old } });
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: acc.accountId } });
    const ticket = await t.prisma.ticket.create({ data: { accountId: acc.accountId, name: "Late", pipelineId: pipeline.id, statusId: waiting.id, contactId: contact.id } });
    await t.prisma.conversation.update({ where: { id: conversation.id }, data: { ticketId: ticket.id } });
    const r = await run({
      conversationId: toGlobalId("Conversation", conversation.id),
      text: "Sorry for the delay",
      ticketStatusId: toGlobalId("PipelineStatus", closed.id),
      ticketProperties: { resolution: "late" },
    });
    expect(r.__typename).toBe("MessagingWindowClosedError");
    expect((await t.prisma.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).statusId).toBe(waiting.id);
    expect(await outbound(conversation.id)).toBe(0);
  });

  test("a conversation without a ticket is refused with nothing stored", async () => {
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const conversationId = await publish(await channelIn(acc, inbox.id), { email: "c4@example.test" });
    const r = await run({ conversationId: toGlobalId("Conversation", conversationId), text: "Hi", ticketStatusId: toGlobalId("PipelineStatus", waiting.id) });
    expect(r).toMatchObject({ __typename: "ValidationError", code: "VALIDATION" });
    expect(await outbound(conversationId)).toBe(0);
  });
});

describe("item 16: move a custom channel to the help desk", () => {
  test("item 16: an admin moves a custom channel with its history; new messages on it become tickets; an agent may not", async () => {
    const acc = await createTestAccount(t.prisma);
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const channelId = await channelIn(acc, inbox.id);
    const before = await publish(channelId, { name: "Mia", email: "mia@example.test" }, "Before the move");

    const byAgent = await t.client(await t.tokenFor(acc.agent)).request(ChMoveDocument, { input: { channelId } });
    expect(byAgent.moveChannelToHelpDesk.__typename).toBe("ForbiddenError");

    const r = await t.client(await t.tokenFor(acc.admin)).request(ChMoveDocument, { input: { channelId, bringHistory: true, createTicketsForHistory: true } });
    expect(r.moveChannelToHelpDesk).toMatchObject({
      __typename: "MoveChannelToHelpDeskResult",
      movedConversations: 1,
      createdTickets: 1,
      channel: { id: channelId, inbox: { id: toGlobalId("Inbox", acc.helpDeskId), kind: "HELP_DESK" }, ticketDefaults: { createTickets: true } },
    });
    const moved = await t.prisma.conversation.findUniqueOrThrow({ where: { id: before } });
    expect(moved.inboxId).toBe(acc.helpDeskId);
    expect(moved.ticketId).not.toBeNull();

    // The partner keeps publishing into the same channel: each new conversation is a help desk ticket.
    const after = await publish(channelId, { name: "Nico", email: "nico@example.test" }, "After the move");
    const conversation = await t.prisma.conversation.findUniqueOrThrow({ where: { id: after } });
    expect(conversation.inboxId).toBe(acc.helpDeskId);
    expect(await ticketOf(after)).not.toBeNull();
  });
});
