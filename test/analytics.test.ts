import { randomUUID } from "node:crypto";
import { ClientError } from "graphql-request";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ChannelType, MessageDirection, MessageKind, SenderType } from "../src/generated/prisma/client.js";
import { toGlobalId } from "../src/schema/ids.js";
import { AnalyticsReportDocument, type AnalyticsReportQuery, type AnalyticsReportQueryVariables } from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

// Every figure below is worked out by hand from these rows (all times UTC).
const FROM = "2024-03-01T00:00:00.000Z";
const TO = "2024-03-04T00:00:00.000Z";

let t: TestServer;
let a: TestAccount;
let b: TestAccount;
let salesInboxId: string;
const channels: Record<"chat" | "mail" | "salesMail", string> = { chat: "", mail: "", salesMail: "" };

async function addChannel(accountId: string, inboxId: string, type: ChannelType, name: string) {
  const channel = await t.prisma.channel.create({ data: { accountId, inboxId, type, name } });
  return channel.id;
}

async function addConversation(data: { inboxId: string; channelId: string; createdAt: string; closedAt?: string; assigneeId?: string }) {
  const conversation = await t.prisma.conversation.create({
    data: {
      accountId: a.accountId,
      inboxId: data.inboxId,
      channelId: data.channelId,
      createdAt: new Date(data.createdAt),
      closedAt: data.closedAt ? new Date(data.closedAt) : null,
      status: data.closedAt ? "CLOSED" : "OPEN",
      assigneeId: data.assigneeId ?? null,
    },
  });
  return conversation.id;
}

type Msg = [at: string, direction: MessageDirection, senderType: SenderType, authorId?: string | null, kind?: MessageKind];
const inbound = (at: string): Msg => [at, "INBOUND", "CONTACT"];
const reply = (at: string, authorId: string): Msg => [at, "OUTBOUND", "AGENT", authorId];

async function addMessages(conversationId: string, channelId: string, messages: Msg[]) {
  await t.prisma.message.createMany({
    data: messages.map(([at, direction, senderType, authorId, kind]) => ({
      id: randomUUID(),
      accountId: a.accountId,
      conversationId,
      channelId,
      direction,
      senderType,
      authorId: authorId ?? null,
      kind: kind ?? "MESSAGE",
      text: "hello",
      createdAt: new Date(at),
    })),
  });
}

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Account A" });
  b = await createTestAccount(t.prisma, { name: "Account B" });
  const sales = await t.prisma.inbox.create({ data: { accountId: a.accountId, name: "Sales", fallbackEmail: `sales-${randomUUID()}@example.test` } });
  salesInboxId = sales.id;
  channels.chat = await addChannel(a.accountId, a.helpDeskId, "CHAT", "Website chat");
  channels.mail = await addChannel(a.accountId, a.helpDeskId, "TEAM_EMAIL", "Support email");
  channels.salesMail = await addChannel(a.accountId, salesInboxId, "TEAM_EMAIL", "Sales email");
  // Account B has its own channel and a conversation in the same range: A must never see it.
  const bChannel = await addChannel(b.accountId, b.helpDeskId, "WHATSAPP", "B WhatsApp");
  const bConversation = await t.prisma.conversation.create({
    data: { accountId: b.accountId, inboxId: b.helpDeskId, channelId: bChannel, createdAt: new Date("2024-03-02T10:00:00Z") },
  });
  await t.prisma.message.create({
    data: { accountId: b.accountId, conversationId: bConversation.id, channelId: bChannel, direction: "INBOUND", senderType: "CONTACT", createdAt: new Date("2024-03-02T10:00:00Z") },
  });

  const { agent, admin } = a;
  const help = a.helpDeskId;
  // C1: chat; a comment and a bot message come before the agent's reply and must not count. FRT 600 s, closed after 3600 s.
  const c1 = await addConversation({ inboxId: help, channelId: channels.chat, createdAt: "2024-03-01T09:00:00Z", closedAt: "2024-03-01T10:00:00Z", assigneeId: agent.id });
  await addMessages(c1, channels.chat, [
    inbound("2024-03-01T09:00:00Z"),
    ["2024-03-01T09:01:00Z", "OUTBOUND", "AGENT", admin.id, "COMMENT"],
    ["2024-03-01T09:02:00Z", "OUTBOUND", "BOT", null],
    reply("2024-03-01T09:10:00Z", agent.id),
    reply("2024-03-01T09:20:00Z", agent.id),
  ]);
  // C2: 23:30 UTC on 1 March is 00:30 on 2 March in Berlin. Admin answers after 1800 s.
  const c2 = await addConversation({ inboxId: help, channelId: channels.mail, createdAt: "2024-03-01T23:30:00Z", assigneeId: admin.id });
  await addMessages(c2, channels.mail, [inbound("2024-03-01T23:30:00Z"), reply("2024-03-02T00:00:00Z", admin.id)]);
  // C3: two inbound messages; the agent answers after 3600 s, the admin follows up; closed a day later.
  const c3 = await addConversation({ inboxId: help, channelId: channels.chat, createdAt: "2024-03-02T12:00:00Z", closedAt: "2024-03-03T12:00:00Z", assigneeId: admin.id });
  await addMessages(c3, channels.chat, [
    inbound("2024-03-02T12:00:00Z"),
    inbound("2024-03-02T12:05:00Z"),
    reply("2024-03-02T13:00:00Z", agent.id),
    reply("2024-03-02T13:05:00Z", admin.id),
  ]);
  // C4: Sales inbox, never answered, open and unassigned.
  const c4 = await addConversation({ inboxId: salesInboxId, channelId: channels.salesMail, createdAt: "2024-03-03T08:00:00Z" });
  await addMessages(c4, channels.salesMail, [inbound("2024-03-03T08:00:00Z")]);
  // C5: opened and first answered before the range; a later reply and inbound message fall inside it.
  const c5 = await addConversation({ inboxId: help, channelId: channels.chat, createdAt: "2024-02-28T10:00:00Z" });
  await addMessages(c5, channels.chat, [
    inbound("2024-02-28T10:00:00Z"),
    reply("2024-02-28T11:00:00Z", agent.id),
    inbound("2024-03-01T11:30:00Z"),
    reply("2024-03-01T12:00:00Z", agent.id),
  ]);
  // C6: the agent writes first; the first response is measured from the customer's first message (900 s).
  const c6 = await addConversation({ inboxId: help, channelId: channels.mail, createdAt: "2024-03-02T09:00:00Z", assigneeId: agent.id });
  await addMessages(c6, channels.mail, [reply("2024-03-02T09:00:00Z", agent.id), inbound("2024-03-02T10:00:00Z"), reply("2024-03-02T10:15:00Z", agent.id)]);
  // C7: exactly at `to`: outside the range, but part of the backlog.
  const c7 = await addConversation({ inboxId: help, channelId: channels.chat, createdAt: TO });
  await addMessages(c7, channels.chat, [inbound(TO)]);
  // C8: opened long before, closed at 23:30 UTC on 3 March (00:30 on 4 March in Berlin).
  await addConversation({ inboxId: help, channelId: channels.chat, createdAt: "2024-02-20T00:00:00Z", closedAt: "2024-03-03T23:30:00Z", assigneeId: agent.id });
});
afterAll(async () => t?.close());

async function analytics(user: { id: string; accountId: string }, vars: Partial<AnalyticsReportQueryVariables> = {}): Promise<AnalyticsReportQuery["analytics"]> {
  const data = await t.client(await t.tokenFor(user)).request(AnalyticsReportDocument, { from: FROM, to: TO, ...vars });
  return data.analytics;
}

async function analyticsError(user: { id: string; accountId: string }, vars: Partial<AnalyticsReportQueryVariables>) {
  try {
    await analytics(user, vars);
  } catch (err) {
    if (err instanceof ClientError) return err.response.errors?.[0];
    throw err;
  }
  throw new Error("expected the request to fail");
}

const rowOf = (report: AnalyticsReportQuery["analytics"], user: { id: string }) => report.agents.find((r) => r.agent.id === toGlobalId("User", user.id));

describe("analytics for an admin", () => {
  test("per-agent figures: replies, conversations, closings and first response times", async () => {
    const report = await analytics(a.admin);
    expect(report.agents.map((r) => r.agent.email).sort()).toEqual([a.superAdmin.email, a.admin.email, a.agent.email].sort());
    expect(rowOf(report, a.agent)).toMatchObject({
      repliesSent: 6,
      conversationsRepliedTo: 4,
      conversationsClosed: 2,
      firstResponseTime: { median: 900, p90: 3060, count: 3 },
    });
    expect(rowOf(report, a.admin)).toMatchObject({
      repliesSent: 2,
      conversationsRepliedTo: 2,
      conversationsClosed: 1,
      firstResponseTime: { median: 1800, p90: 1800, count: 1 },
    });
    expect(rowOf(report, a.superAdmin)).toMatchObject({
      repliesSent: 0,
      conversationsRepliedTo: 0,
      conversationsClosed: 0,
      firstResponseTime: { median: null, p90: null, count: 0 },
    });
  });

  test("team figures", async () => {
    const report = await analytics(a.superAdmin);
    expect(report.team).toEqual({
      conversationsOpened: 5,
      conversationsClosed: 3,
      // First responses 600, 900, 1800 and 3600 s: p90 = 1800 + 0.7 * (3600 - 1800).
      firstResponseTime: { median: 1350, p90: 3060, count: 4 },
      // Samples 3600, 86400 and 1121400 (C8: 12 days 23.5 h, 2024 is a leap year); p90 = 86400 + 0.8 * (1121400 - 86400).
      timeToClose: { median: 86400, p90: 914400, count: 3 },
      unassignedBacklog: 3,
    });
  });

  test("inbound conversations and messages per channel and per channel type", async () => {
    const report = await analytics(a.admin);
    const byName = Object.fromEntries(report.channels.map((c) => [c.channel.name, [c.inboundConversations, c.inboundMessages]]));
    expect(byName).toEqual({ "Website chat": [3, 4], "Support email": [2, 2], "Sales email": [1, 1] });
    expect(report.channelTypes).toEqual([
      { type: "CHAT", inboundConversations: 3, inboundMessages: 4 },
      { type: "TEAM_EMAIL", inboundConversations: 3, inboundMessages: 3 },
    ]);
  });

  test("the daily series defaults to UTC days", async () => {
    const report = await analytics(a.admin);
    expect(report.timeZone).toBe("UTC");
    expect(report.daily).toEqual([
      { date: "2024-03-01", opened: 2, closed: 1, firstResponseTimeMedian: 600 },
      { date: "2024-03-02", opened: 2, closed: 0, firstResponseTimeMedian: 1800 },
      { date: "2024-03-03", opened: 1, closed: 2, firstResponseTimeMedian: null },
    ]);
  });

  test("in Europe/Berlin, 23:30 UTC lands on the next local day and the range spans four local days", async () => {
    const report = await analytics(a.admin, { timeZone: "Europe/Berlin" });
    expect(report.timeZone).toBe("Europe/Berlin");
    expect(report.daily).toEqual([
      { date: "2024-03-01", opened: 1, closed: 1, firstResponseTimeMedian: 600 },
      { date: "2024-03-02", opened: 3, closed: 0, firstResponseTimeMedian: 1800 },
      { date: "2024-03-03", opened: 1, closed: 1, firstResponseTimeMedian: null },
      { date: "2024-03-04", opened: 0, closed: 1, firstResponseTimeMedian: null },
    ]);
    // Totals do not depend on the time zone.
    expect(report.team?.conversationsOpened).toBe(5);
  });

  test("an inbox filter keeps only that inbox's conversations", async () => {
    const report = await analytics(a.admin, { inboxId: toGlobalId("Inbox", salesInboxId) });
    expect(report.team).toEqual({
      conversationsOpened: 1,
      conversationsClosed: 0,
      firstResponseTime: { median: null, p90: null, count: 0 },
      timeToClose: { median: null, p90: null, count: 0 },
      unassignedBacklog: 1,
    });
    expect(report.channels.map((c) => [c.channel.name, c.inboundConversations, c.inboundMessages])).toEqual([["Sales email", 1, 1]]);
    expect(report.channelTypes).toEqual([{ type: "TEAM_EMAIL", inboundConversations: 1, inboundMessages: 1 }]);
    expect(rowOf(report, a.agent)).toMatchObject({ repliesSent: 0, conversationsRepliedTo: 0, conversationsClosed: 0 });
    expect(report.daily.map((d) => d.opened)).toEqual([0, 0, 1]);
  });

  test("filtering by the help desk keeps its four answered conversations and its two channels", async () => {
    const report = await analytics(a.admin, { inboxId: toGlobalId("Inbox", a.helpDeskId) });
    expect(report.team).toMatchObject({ conversationsOpened: 4, conversationsClosed: 3, firstResponseTime: { median: 1350, p90: 3060, count: 4 }, unassignedBacklog: 2 });
    expect(report.channels.map((c) => [c.channel.name, c.inboundConversations, c.inboundMessages])).toEqual([
      ["Website chat", 3, 4],
      ["Support email", 2, 2],
    ]);
    expect(rowOf(report, a.agent)).toMatchObject({ repliesSent: 6, conversationsRepliedTo: 4, conversationsClosed: 2 });
  });
});

describe("analytics for an agent", () => {
  test("an agent sees only their own row; team, channel and daily figures are admin-only", async () => {
    const report = await analytics(a.agent, { timeZone: "Europe/Berlin" });
    expect(report.agents).toEqual([
      {
        agent: { id: toGlobalId("User", a.agent.id), email: a.agent.email },
        repliesSent: 6,
        conversationsRepliedTo: 4,
        conversationsClosed: 2,
        firstResponseTime: { median: 900, p90: 3060, count: 3 },
      },
    ]);
    expect(report.team).toBeNull();
    expect(report.channels).toEqual([]);
    expect(report.channelTypes).toEqual([]);
    expect(report.daily).toEqual([]);
  });

  test("an agent cannot filter by an inbox they do not belong to", async () => {
    const error = await analyticsError(a.agent, { inboxId: toGlobalId("Inbox", salesInboxId) });
    expect(error?.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("tenancy", () => {
  test("account B sees none of account A's data", async () => {
    const report = await analytics(b.admin);
    expect(report.agents.map((r) => r.agent.email).sort()).toEqual([b.superAdmin.email, b.admin.email, b.agent.email].sort());
    expect(report.agents.every((r) => r.repliesSent === 0 && r.conversationsClosed === 0)).toBe(true);
    expect(report.team).toEqual({
      conversationsOpened: 1,
      conversationsClosed: 0,
      firstResponseTime: { median: null, p90: null, count: 0 },
      timeToClose: { median: null, p90: null, count: 0 },
      unassignedBacklog: 1,
    });
    expect(report.channels.map((c) => [c.channel.name, c.inboundConversations, c.inboundMessages])).toEqual([["B WhatsApp", 1, 1]]);
    expect(report.channelTypes).toEqual([{ type: "WHATSAPP", inboundConversations: 1, inboundMessages: 1 }]);
  });

  test("account B cannot filter by account A's inbox", async () => {
    const error = await analyticsError(b.admin, { inboxId: toGlobalId("Inbox", salesInboxId) });
    expect(error?.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("argument validation", () => {
  test.each([
    ["an unknown time zone", { timeZone: "Mars/Olympus_Mons" }],
    ["an offset instead of a zone name", { timeZone: "+01:00" }],
    ["from equal to to", { from: TO, to: TO }],
    ["from after to", { from: TO, to: FROM }],
    ["a range longer than a year", { from: "2023-01-01T00:00:00Z", to: "2024-03-01T00:00:00Z" }],
  ])("%s is a validation error", async (_name, vars) => {
    const error = await analyticsError(a.admin, vars);
    expect(error?.extensions?.code).toBe("VALIDATION");
  });

  test("anonymous callers are refused", async () => {
    const error = await t
      .client()
      .request(AnalyticsReportDocument, { from: FROM, to: TO })
      .then(
        () => undefined,
        (err: ClientError) => err.response.errors?.[0],
      );
    expect(error?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
