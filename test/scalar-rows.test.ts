import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findScalarRow } from "../src/db/scalar-rows.js";
import { createChannel, createInbox } from "./support/conversation-fixtures.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

// Live events read their row through `pg` when the selection has no relation (findScalarRow):
// the row must be the one Prisma's findUniqueOrThrow returns, every type included.
describe("scalar rows through pg", () => {
  let t: TestServer;
  let acc: TestAccount;
  let other: TestAccount;
  const ids = { message: "", conversation: "", ticket: "" };

  beforeAll(async () => {
    t = await startTestServer();
    acc = await createTestAccount(t.prisma);
    other = await createTestAccount(t.prisma);
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const channel = await createChannel(t.prisma, { accountId: acc.accountId, inboxId: inbox.id });
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: acc.accountId }, include: { statuses: { orderBy: { position: "asc" } } } });
    const ticket = await t.prisma.ticket.create({
      data: { accountId: acc.accountId, name: "Refund", pipelineId: pipeline.id, statusId: pipeline.statuses[0].id, priority: "HIGH", ownerId: acc.agent.id, properties: { order: 42, tags: ["a", "é"] } },
    });
    const conversation = await t.prisma.conversation.create({
      data: { accountId: acc.accountId, inboxId: inbox.id, channelId: channel.id, subject: "Where is it?", threadKey: "k", assigneeId: acc.agent.id, assignedAt: new Date("2026-01-02T03:04:05.678Z"), ticketId: ticket.id, properties: { vip: true } },
    });
    const message = await t.prisma.message.create({
      data: { accountId: acc.accountId, conversationId: conversation.id, channelId: channel.id, direction: "INBOUND", kind: "MESSAGE", senderType: "CONTACT", text: "it's late", richText: "<p>it's <b>late</b></p>", externalId: "x-1", metadata: { n: 1, nested: { ok: true } } },
    });
    Object.assign(ids, { message: message.id, conversation: conversation.id, ticket: ticket.id });
  });
  afterAll(async () => t?.close());

  const viaPrismaNotUsed = () => Promise.reject(new Error("read through Prisma"));

  it("returns what findUniqueOrThrow returns for a message, a conversation and a ticket", async () => {
    expect(await findScalarRow(t.prisma, "Message", acc.accountId, ids.message, viaPrismaNotUsed)).toEqual(await t.prisma.message.findUniqueOrThrow({ where: { id: ids.message } }));
    expect(await findScalarRow(t.prisma, "Conversation", acc.accountId, ids.conversation, viaPrismaNotUsed)).toEqual(
      await t.prisma.conversation.findUniqueOrThrow({ where: { id: ids.conversation } }),
    );
    expect(await findScalarRow(t.prisma, "Ticket", acc.accountId, ids.ticket, viaPrismaNotUsed)).toEqual(await t.prisma.ticket.findUniqueOrThrow({ where: { id: ids.ticket } }));
  });

  it("finds nothing of another account, and rejects like findUniqueOrThrow", async () => {
    await expect(findScalarRow(t.prisma, "Message", other.accountId, ids.message, viaPrismaNotUsed)).rejects.toThrow("No Message found");
    await expect(findScalarRow(t.prisma, "Ticket", acc.accountId, "00000000-0000-0000-0000-000000000000", viaPrismaNotUsed)).rejects.toThrow("No Ticket found");
  });
});
