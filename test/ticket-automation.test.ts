import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Account, Channel, Conversation } from "../src/generated/prisma/client.js";
import { applyTicketStatus, createTicketForConversation, followConversationOwner } from "../src/services/tickets.js";
import { ConditionalStatusError } from "../src/services/errors.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

// The service calls the intake and reply services make, run inside a transaction as they run them.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

async function insertInbox(accountId: string) {
  const tag = randomBytes(4).toString("hex");
  return t.prisma.inbox.create({ data: { accountId, name: `Inbox ${tag}`, kind: "INBOX", fallbackEmail: `inbox-${tag}@test.local` } });
}
async function insertChannel(accountId: string, inboxId: string, data: Partial<Channel> = {}) {
  return t.prisma.channel.create({
    data: {
      accountId,
      inboxId,
      type: "FORM",
      name: `Form ${randomBytes(3).toString("hex")}`,
      createTickets: data.createTickets ?? false,
      ticketPipelineId: data.ticketPipelineId ?? null,
      ticketStatusId: data.ticketStatusId ?? null,
      ticketPriority: data.ticketPriority ?? null,
      ticketOwnerId: data.ticketOwnerId ?? null,
    },
  });
}
async function insertContact(accountId: string) {
  return t.prisma.contact.create({ data: { accountId, email: `c-${randomBytes(4).toString("hex")}@example.test` } });
}
async function insertConversation(accountId: string, inboxId: string, channelId: string, data: { contactId?: string | null; assigneeId?: string | null } = {}) {
  return t.prisma.conversation.create({ data: { accountId, inboxId, channelId, subject: "Help!", ...data } });
}
const account = (id: string) => t.prisma.account.findUniqueOrThrow({ where: { id } });
const automatic = (acc: Account, conversation: Conversation, channel: Channel) =>
  t.prisma.$transaction((tx) => createTicketForConversation(tx, { accountId: acc.id, conversation, channel, account: acc }));

describe("createTicketForConversation", () => {
  let a: TestAccount;
  beforeAll(async () => {
    a = await createTestAccount(t.prisma, { createdAt: new Date("2025-01-01T00:00:00Z") });
  });

  test("a help desk conversation gets a ticket with the channel's ticket defaults and is linked to it", async () => {
    const pipeline = await t.prisma.pipeline.create({
      data: { accountId: a.accountId, name: "Forms", position: 1, statuses: { create: [{ name: "Received", position: 0 }, { name: "Reviewed", position: 1 }] } },
      include: { statuses: { orderBy: { position: "asc" } } },
    });
    const channel = await insertChannel(a.accountId, a.helpDeskId, {
      ticketPipelineId: pipeline.id,
      ticketStatusId: pipeline.statuses[1].id,
      ticketPriority: "HIGH",
      ticketOwnerId: a.admin.id,
    });
    const contact = await insertContact(a.accountId);
    const conversation = await insertConversation(a.accountId, a.helpDeskId, channel.id, { contactId: contact.id, assigneeId: a.agent.id });
    const ticket = await automatic(await account(a.accountId), conversation, channel);
    expect(ticket).toMatchObject({ name: "Help!", pipelineId: pipeline.id, statusId: pipeline.statuses[1].id, priority: "HIGH", ownerId: a.admin.id, contactId: contact.id, closedAt: null });
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).ticketId).toBe(ticket!.id);
    // Already linked: a second call creates nothing.
    const linked = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect(await automatic(await account(a.accountId), linked, channel)).toBeNull();
  });

  test("without channel defaults: the default pipeline's first status, MEDIUM, owner = the conversation's assignee", async () => {
    const channel = await insertChannel(a.accountId, a.helpDeskId);
    const conversation = await insertConversation(a.accountId, a.helpDeskId, channel.id, { assigneeId: a.agent.id });
    const ticket = await automatic(await account(a.accountId), conversation, channel);
    const first = await t.prisma.pipelineStatus.findFirstOrThrow({ where: { accountId: a.accountId, pipeline: { isDefault: true } }, orderBy: { position: "asc" } });
    expect(ticket).toMatchObject({ statusId: first.id, pipelineId: first.pipelineId, priority: "MEDIUM", ownerId: a.agent.id, contactId: null });
  });

  test("an inbox channel creates no ticket in an account created on or after 2024-04-01, even when asked", async () => {
    const inbox = await insertInbox(a.accountId);
    const channel = await insertChannel(a.accountId, inbox.id, { createTickets: true });
    const conversation = await insertConversation(a.accountId, inbox.id, channel.id);
    expect(await automatic(await account(a.accountId), conversation, channel)).toBeNull();

    const onCutoff = await createTestAccount(t.prisma, { createdAt: new Date("2024-04-01T00:00:00Z") });
    const inbox2 = await insertInbox(onCutoff.accountId);
    const channel2 = await insertChannel(onCutoff.accountId, inbox2.id, { createTickets: true });
    const conversation2 = await insertConversation(onCutoff.accountId, inbox2.id, channel2.id);
    expect(await automatic(await account(onCutoff.accountId), conversation2, channel2)).toBeNull();
    expect(await t.prisma.ticket.count({ where: { accountId: onCutoff.accountId } })).toBe(0);
  });

  test("an inbox channel with ticket creation on, in an account created 2024-03-31, creates one (and not when off)", async () => {
    const old = await createTestAccount(t.prisma, { createdAt: new Date("2024-03-31T12:00:00Z") });
    const inbox = await insertInbox(old.accountId);
    const on = await insertChannel(old.accountId, inbox.id, { createTickets: true });
    const off = await insertChannel(old.accountId, inbox.id, { createTickets: false });
    const acc = await account(old.accountId);
    expect(await automatic(acc, await insertConversation(old.accountId, inbox.id, on.id), on)).not.toBeNull();
    expect(await automatic(acc, await insertConversation(old.accountId, inbox.id, off.id), off)).toBeNull();
    expect(await t.prisma.ticket.count({ where: { accountId: old.accountId } })).toBe(1);
  });

  test("a contact at its association limit gets no ticket; the conversation stays", async () => {
    const limited = await createTestAccount(t.prisma);
    await t.prisma.account.update({ where: { id: limited.accountId }, data: { contactAssociationLimit: 2 } });
    const channel = await insertChannel(limited.accountId, limited.helpDeskId);
    const contact = await insertContact(limited.accountId);
    const acc = await account(limited.accountId);
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await automatic(acc, await insertConversation(limited.accountId, limited.helpDeskId, channel.id, { contactId: contact.id }), channel));
    }
    expect(results.map((r) => r !== null)).toEqual([true, true, false]);
    expect(await t.prisma.conversation.count({ where: { accountId: limited.accountId, contactId: contact.id } })).toBe(3);
    // Another contact is not affected.
    const other = await insertContact(limited.accountId);
    expect(await automatic(acc, await insertConversation(limited.accountId, limited.helpDeskId, channel.id, { contactId: other.id }), channel)).not.toBeNull();
  });
});

describe("followConversationOwner", () => {
  test("the ticket owner follows a reassignment only when it was the previous assignee", async () => {
    const a = await createTestAccount(t.prisma);
    const channel = await insertChannel(a.accountId, a.helpDeskId);
    const acc = await account(a.accountId);
    const conversation = await insertConversation(a.accountId, a.helpDeskId, channel.id, { assigneeId: a.agent.id });
    const ticket = (await automatic(acc, conversation, channel))!;
    expect(ticket.ownerId).toBe(a.agent.id);

    const follow = (previousAssigneeId: string | null, newAssigneeId: string | null) =>
      t.prisma.$transaction((tx) => followConversationOwner(tx, { accountId: a.accountId, conversationId: conversation.id, previousAssigneeId, newAssigneeId }));
    expect((await follow(a.agent.id, a.admin.id))?.ownerId).toBe(a.admin.id);
    // The ticket now belongs to the admin; a reassignment from someone else leaves it.
    expect(await follow(a.agent.id, a.superAdmin.id)).toBeNull();
    expect((await t.prisma.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).ownerId).toBe(a.admin.id);
    // Unassigning moves an owned ticket to nobody.
    expect((await follow(a.admin.id, null))?.ownerId).toBeNull();
    // Wrong account: nothing happens.
    const b = await createTestAccount(t.prisma);
    expect(await t.prisma.$transaction((tx) => followConversationOwner(tx, { accountId: b.accountId, conversationId: conversation.id, previousAssigneeId: null, newAssigneeId: b.agent.id }))).toBeNull();
  });
});

describe("applyTicketStatus", () => {
  test("refuses a conditional status without its properties inside the caller's transaction, then applies it", async () => {
    const a = await createTestAccount(t.prisma);
    const channel = await insertChannel(a.accountId, a.helpDeskId);
    const conversation = await insertConversation(a.accountId, a.helpDeskId, channel.id);
    const ticket = (await automatic(await account(a.accountId), conversation, channel))!;
    const closed = await t.prisma.pipelineStatus.findFirstOrThrow({ where: { accountId: a.accountId, name: "Closed" } });
    const attempt = t.prisma.$transaction(async (tx) => {
      await tx.conversation.update({ where: { id: conversation.id }, data: { subject: "changed in the same transaction" } });
      return applyTicketStatus(tx, { accountId: a.accountId, ticketId: ticket.id, statusId: closed.id, properties: {} });
    });
    await expect(attempt).rejects.toBeInstanceOf(ConditionalStatusError);
    await expect(attempt).rejects.toMatchObject({ missingProperties: ["resolution"] });
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).subject).toBe("Help!");

    const done = await t.prisma.$transaction((tx) => applyTicketStatus(tx, { accountId: a.accountId, ticketId: ticket.id, statusId: closed.id, properties: { resolution: "fixed" } }));
    expect(done).toMatchObject({ statusId: closed.id, properties: { resolution: "fixed" } });
    expect(done.closedAt).toBeInstanceOf(Date);
  });
});
