import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  TkCreatePipelineDocument,
  TkCreateTicketDocument,
  TkPipelinesDocument,
  TkTicketNodeDocument,
  TkTicketsDocument,
  TkUpdateTicketDocument,
  type CreateTicketInput,
  type TicketFilter,
  type UpdateTicketInput,
} from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

let t: TestServer;
let a: TestAccount;
let b: TestAccount;
/** Global ids of account A's default pipeline and its statuses, by name. */
let pipelineId: string;
let status: Record<string, string>;
const gid = toGlobalId;
const as = async (user: { id: string; accountId: string }) => t.client(await t.tokenFor(user));

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Tickets A" });
  b = await createTestAccount(t.prisma, { name: "Tickets B" });
  const { pipelines } = await (await as(a.agent)).request(TkPipelinesDocument);
  pipelineId = pipelines[0].id;
  status = Object.fromEntries(pipelines[0].statuses.map((s) => [s.name, s.id]));
});
afterAll(async () => t?.close());

/** Rows the channels and conversations issues create through their own APIs, inserted directly. */
async function insertInbox(accountId: string, kind: "INBOX" | "HELP_DESK" = "INBOX") {
  const tag = randomBytes(4).toString("hex");
  return t.prisma.inbox.create({ data: { accountId, name: `Inbox ${tag}`, kind, fallbackEmail: `inbox-${tag}@test.local` } });
}
async function insertChannel(accountId: string, inboxId: string, data: Record<string, unknown> = {}) {
  return t.prisma.channel.create({ data: { accountId, inboxId, type: "CHAT", name: `Chat ${randomBytes(3).toString("hex")}`, ...data } });
}
async function insertContact(accountId: string) {
  return t.prisma.contact.create({ data: { accountId, name: "Carla Customer", email: `carla-${randomBytes(4).toString("hex")}@example.test` } });
}
async function insertConversation(accountId: string, inboxId: string, channelId: string, data: { contactId?: string | null; assigneeId?: string | null; subject?: string } = {}) {
  return t.prisma.conversation.create({ data: { accountId, inboxId, channelId, subject: "Order never arrived", ...data } });
}

async function createTicket(user: { id: string; accountId: string }, input: CreateTicketInput) {
  const { createTicket: res } = await (await as(user)).request(TkCreateTicketDocument, { input });
  if (res.__typename !== "TicketResult") throw new Error(`createTicket: ${res.__typename} ${res.message}`);
  return res.ticket;
}
async function updateTicket(user: { id: string; accountId: string }, input: UpdateTicketInput) {
  return (await (await as(user)).request(TkUpdateTicketDocument, { input })).updateTicket;
}

describe("createTicket", () => {
  test("defaults: the default pipeline's first status, MEDIUM, no owner; agents may create", async () => {
    const ticket = await createTicket(a.agent, { name: "Printer on fire" });
    expect(ticket).toMatchObject({
      name: "Printer on fire",
      description: null,
      priority: "MEDIUM",
      properties: {},
      isClosed: false,
      closedAt: null,
      owner: null,
      contact: null,
      conversations: [],
      pipeline: { id: pipelineId },
      status: { id: status.New, name: "New" },
    });
    const { node } = await (await as(a.admin)).request(TkTicketNodeDocument, { id: ticket.id });
    expect(node).toMatchObject({ __typename: "Ticket", name: "Printer on fire" });
  });

  test("with every field given", async () => {
    const contact = await insertContact(a.accountId);
    const ticket = await createTicket(a.agent, {
      name: "Refund",
      description: "Wants the money back",
      statusId: status["Waiting on us"],
      priority: "URGENT",
      ownerId: gid("User", a.admin.id),
      contactId: gid("Contact", contact.id),
      properties: { orderNumber: "A-17" },
    });
    expect(ticket).toMatchObject({
      description: "Wants the money back",
      priority: "URGENT",
      owner: { email: a.admin.email },
      contact: { id: gid("Contact", contact.id), email: contact.email },
      properties: { orderNumber: "A-17" },
      status: { name: "Waiting on us" },
      pipeline: { id: pipelineId },
    });
  });

  test("a conditional status without its properties is refused and nothing is stored; with them the ticket is closed", async () => {
    const before = await t.prisma.ticket.count({ where: { accountId: a.accountId } });
    const { createTicket: refused } = await (await as(a.agent)).request(TkCreateTicketDocument, {
      input: { name: "Already solved", statusId: status.Closed, properties: { resolution: "  " } },
    });
    expect(refused).toMatchObject({ __typename: "ConditionalStatusError", missingProperties: ["resolution"] });
    expect(await t.prisma.ticket.count({ where: { accountId: a.accountId } })).toBe(before);
    const closed = await createTicket(a.agent, { name: "Already solved", statusId: status.Closed, properties: { resolution: "Rebooted" } });
    expect(closed.isClosed).toBe(true);
    expect(closed.closedAt).not.toBeNull();
  });

  test("from a conversation: contact, assignee as owner, subject as name, and the conversation is linked", async () => {
    const inbox = await insertInbox(a.accountId);
    const channel = await insertChannel(a.accountId, inbox.id);
    const contact = await insertContact(a.accountId);
    const conversation = await insertConversation(a.accountId, inbox.id, channel.id, { contactId: contact.id, assigneeId: a.agent.id });
    const ticket = await createTicket(a.admin, { conversationId: gid("Conversation", conversation.id) });
    expect(ticket).toMatchObject({
      name: "Order never arrived",
      owner: { email: a.agent.email },
      contact: { id: gid("Contact", contact.id) },
      conversations: [{ id: gid("Conversation", conversation.id), subject: "Order never arrived" }],
    });
    const stored = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect(gid("Ticket", stored.ticketId!)).toBe(ticket.id);

    // The agent is no member of that inbox: its conversations stay hidden from them.
    const hidden = await (await as(a.agent)).request(TkTicketNodeDocument, { id: ticket.id });
    expect(hidden.node).toMatchObject({ name: "Order never arrived", conversations: [] });
    const third = await insertConversation(a.accountId, inbox.id, channel.id);
    const notVisible = await (await as(a.agent)).request(TkCreateTicketDocument, { input: { conversationId: gid("Conversation", third.id) } });
    expect(notVisible.createTicket).toMatchObject({ __typename: "NotFoundError", resource: "Conversation" });

    const again = await (await as(a.admin)).request(TkCreateTicketDocument, { input: { name: "Twice", conversationId: gid("Conversation", conversation.id) } });
    expect(again.createTicket.__typename).toBe("ConflictError");

    const other = await insertConversation(a.accountId, inbox.id, channel.id, { contactId: contact.id, assigneeId: a.agent.id });
    const unowned = await createTicket(a.admin, { name: "No owner", ownerId: null, conversationId: gid("Conversation", other.id) });
    expect(unowned.owner).toBeNull();
  });

  test("16.2: from a conversation without a subject (chat, partner message) the name is derived as automatic tickets do", async () => {
    const inbox = await insertInbox(a.accountId);
    const channel = await insertChannel(a.accountId, inbox.id);
    const contact = await insertContact(a.accountId);
    const untitled = (data: { contactId?: string; visitorName?: string }) =>
      t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId: inbox.id, channelId: channel.id, subject: null, ...data } });
    const withContact = await untitled({ contactId: contact.id });
    const withVisitor = await untitled({ visitorName: "Vic Visitor" });
    const anonymous = await untitled({});
    const named = await untitled({ contactId: contact.id });
    expect((await createTicket(a.admin, { conversationId: gid("Conversation", withContact.id) })).name).toBe("Conversation with Carla Customer");
    expect((await createTicket(a.admin, { conversationId: gid("Conversation", withVisitor.id) })).name).toBe("Conversation with Vic Visitor");
    expect((await createTicket(a.admin, { conversationId: gid("Conversation", anonymous.id) })).name).toBe("New conversation");
    expect((await createTicket(a.admin, { name: "Given name", conversationId: gid("Conversation", named.id) })).name).toBe("Given name");
    // Without a conversation the name stays required.
    const nameless = await (await as(a.agent)).request(TkCreateTicketDocument, { input: {} });
    expect(nameless.createTicket).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
  });

  test("validation: empty name, a status of another pipeline than the one given", async () => {
    const blank = await (await as(a.agent)).request(TkCreateTicketDocument, { input: { name: " " } });
    expect(blank.createTicket).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    const { createPipeline } = await (await as(a.admin)).request(TkCreatePipelineDocument, { input: { name: "Bugs", statuses: [{ name: "Triage" }] } });
    if (createPipeline.__typename !== "PipelineResult") throw new Error(createPipeline.__typename);
    const mismatch = await (await as(a.agent)).request(TkCreateTicketDocument, {
      input: { name: "Crash", pipelineId: createPipeline.pipeline.id, statusId: status.New },
    });
    expect(mismatch.createTicket).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statusId"] }] });
    const inBugs = await createTicket(a.agent, { name: "Crash", pipelineId: createPipeline.pipeline.id });
    expect(inBugs.status.name).toBe("Triage");
  });
});

describe("updateTicket", () => {
  test("entering the conditional Closed status needs the resolution; nothing changes when refused", async () => {
    const ticket = await createTicket(a.agent, { name: "Slow site", properties: { area: "web" } });
    const refused = await updateTicket(a.agent, { ticketId: ticket.id, name: "Renamed", statusId: status.Closed, properties: { resolution: "" } });
    expect(refused).toMatchObject({ __typename: "ConditionalStatusError", missingProperties: ["resolution"] });
    const unchanged = await t.prisma.ticket.findFirstOrThrow({ where: { accountId: a.accountId, name: "Slow site" } });
    expect(gid("PipelineStatus", unchanged.statusId)).toBe(status.New);
    expect(unchanged.properties).toEqual({ area: "web" });

    const closed = await updateTicket(a.agent, { ticketId: ticket.id, statusId: status.Closed, properties: { resolution: "CDN purge" } });
    if (closed.__typename !== "TicketResult") throw new Error(closed.__typename);
    expect(closed.ticket).toMatchObject({ isClosed: true, status: { name: "Closed" }, properties: { area: "web", resolution: "CDN purge" } });
    expect(closed.ticket.closedAt).not.toBeNull();

    const blanking = await updateTicket(a.agent, { ticketId: ticket.id, properties: { resolution: null } });
    expect(blanking).toMatchObject({ __typename: "ConditionalStatusError", missingProperties: ["resolution"] });

    const reopened = await updateTicket(a.agent, { ticketId: ticket.id, statusId: status["Waiting on us"] });
    if (reopened.__typename !== "TicketResult") throw new Error(reopened.__typename);
    expect(reopened.ticket).toMatchObject({ isClosed: false, closedAt: null, status: { name: "Waiting on us" } });
  });

  test("name, description, priority, owner and merged properties", async () => {
    const ticket = await createTicket(a.agent, { name: "Invoice", description: "Wrong VAT", ownerId: gid("User", a.agent.id), properties: { a: 1, b: 2 } });
    const res = await updateTicket(a.agent, { ticketId: ticket.id, name: "Invoice 42", description: null, priority: "HIGH", ownerId: null, properties: { b: 3, c: "x", a: null } });
    if (res.__typename !== "TicketResult") throw new Error(res.__typename);
    expect(res.ticket).toMatchObject({ name: "Invoice 42", description: null, priority: "HIGH", owner: null, properties: { b: 3, c: "x" } });
    expect(res.ticket.properties).not.toHaveProperty("a");
    const owned = await updateTicket(a.admin, { ticketId: ticket.id, ownerId: gid("User", a.admin.id) });
    expect(owned).toMatchObject({ __typename: "TicketResult", ticket: { owner: { email: a.admin.email }, name: "Invoice 42" } });
  });

  test("a status of another pipeline is refused unless the pipeline moves with it", async () => {
    const { createPipeline } = await (await as(a.admin)).request(TkCreatePipelineDocument, {
      input: { name: "Billing", statuses: [{ name: "Open" }, { name: "Paid", isClosed: true }] },
    });
    if (createPipeline.__typename !== "PipelineResult") throw new Error(createPipeline.__typename);
    const billing = createPipeline.pipeline;
    const ticket = await createTicket(a.agent, { name: "Overdue" });
    const refused = await updateTicket(a.agent, { ticketId: ticket.id, statusId: billing.statuses[1].id });
    expect(refused).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statusId"] }] });
    const inconsistent = await updateTicket(a.agent, { ticketId: ticket.id, pipelineId, statusId: billing.statuses[1].id });
    expect(inconsistent.__typename).toBe("ValidationError");

    const moved = await updateTicket(a.agent, { ticketId: ticket.id, pipelineId: billing.id, statusId: billing.statuses[1].id });
    expect(moved).toMatchObject({ __typename: "TicketResult", ticket: { pipeline: { id: billing.id }, status: { name: "Paid" }, isClosed: true } });
    const back = await updateTicket(a.agent, { ticketId: ticket.id, pipelineId });
    expect(back).toMatchObject({ __typename: "TicketResult", ticket: { pipeline: { id: pipelineId }, status: { name: "New" }, closedAt: null } });
  });
});

describe("tenant isolation", () => {
  test("another account's ticket, pipeline, status, user and contact are not found", async () => {
    const theirs = await createTicket(b.agent, { name: "B's ticket" });
    const { pipelines } = await (await as(b.agent)).request(TkPipelinesDocument);
    const theirContact = await insertContact(b.accountId);
    const agent = await as(a.agent);

    const update = await updateTicket(a.agent, { ticketId: theirs.id, name: "Hijacked" });
    expect(update).toMatchObject({ __typename: "NotFoundError", resource: "Ticket" });
    for (const [input, resource] of [
      [{ name: "x", pipelineId: pipelines[0].id }, "Pipeline"],
      [{ name: "x", statusId: pipelines[0].statuses[0].id }, "PipelineStatus"],
      [{ name: "x", ownerId: gid("User", b.agent.id) }, "User"],
      [{ name: "x", contactId: gid("Contact", theirContact.id) }, "Contact"],
    ] as const) {
      const res = await agent.request(TkCreateTicketDocument, { input });
      expect(res.createTicket).toMatchObject({ __typename: "NotFoundError", resource });
    }
    const mine = await createTicket(a.agent, { name: "Mine" });
    const foreignStatus = await updateTicket(a.agent, { ticketId: mine.id, statusId: pipelines[0].statuses[1].id });
    expect(foreignStatus).toMatchObject({ __typename: "NotFoundError", resource: "PipelineStatus" });

    const { node } = await agent.request(TkTicketNodeDocument, { id: theirs.id });
    expect(node).toBeNull();
    const { tickets } = await agent.request(TkTicketsDocument, { first: 100 });
    expect(tickets.edges.map((e) => e.node.id)).not.toContain(theirs.id);
    expect((await t.prisma.ticket.findFirstOrThrow({ where: { name: "B's ticket" } })).name).toBe("B's ticket");
  });
});

describe("tickets list", () => {
  let c: TestAccount;
  let ids: Record<string, string>;
  let contactId: string;
  let closedStatusId: string;

  beforeAll(async () => {
    c = await createTestAccount(t.prisma, { name: "Tickets C" });
    const { pipelines } = await (await as(c.agent)).request(TkPipelinesDocument);
    const st = Object.fromEntries(pipelines[0].statuses.map((s) => [s.name, s.id]));
    closedStatusId = st.Closed;
    const contact = await insertContact(c.accountId);
    contactId = gid("Contact", contact.id);
    const specs: Array<[string, CreateTicketInput]> = [
      ["t1", { name: "t1", priority: "LOW", ownerId: gid("User", c.agent.id) }],
      ["t2", { name: "t2", priority: "HIGH", contactId }],
      ["t3", { name: "t3", statusId: st.Closed, properties: { resolution: "done" }, ownerId: gid("User", c.admin.id) }],
      ["t4", { name: "t4", statusId: st["Waiting on contact"], priority: "URGENT", contactId }],
      ["t5", { name: "t5", ownerId: gid("User", c.agent.id) }],
    ];
    ids = {};
    for (const [i, [key, input]] of specs.entries()) {
      const ticket = await createTicket(c.agent, input);
      ids[key] = ticket.id;
      // Activity order t3 > t1 > t5 > t2 > t4 (by minutes); creation dates one day apart from 2025-01-01.
      const minutes = { t1: 40, t2: 20, t3: 50, t4: 10, t5: 30 }[key]!;
      await t.prisma.ticket.updateMany({
        where: { accountId: c.accountId, name: key },
        data: { lastActivityAt: new Date(Date.UTC(2025, 5, 1, 12, minutes)), createdAt: new Date(Date.UTC(2025, 0, 1 + i)) },
      });
    }
  });

  const list = async (filter?: TicketFilter, first = 20, after?: string) => (await (await as(c.agent)).request(TkTicketsDocument, { filter, first, after })).tickets;
  const names = async (filter?: TicketFilter) => (await list(filter)).edges.map((e) => e.node.name);

  test("sorted by last activity, paged with cursors", async () => {
    expect(await names()).toEqual(["t3", "t1", "t5", "t2", "t4"]);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await list(undefined, 2, after);
      seen.push(...page.edges.map((e) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? undefined;
    }
    expect(seen).toEqual(["t3", "t1", "t5", "t2", "t4"]);
  });

  test("every filter", async () => {
    expect(await names({ pipelineId: (await (await as(c.agent)).request(TkPipelinesDocument)).pipelines[0].id })).toHaveLength(5);
    expect(await names({ statusId: closedStatusId })).toEqual(["t3"]);
    expect(await names({ ownerId: gid("User", c.agent.id) })).toEqual(["t1", "t5"]);
    expect(await names({ unowned: true })).toEqual(["t2", "t4"]);
    expect(await names({ priority: "URGENT" })).toEqual(["t4"]);
    expect(await names({ closed: true })).toEqual(["t3"]);
    expect(await names({ closed: false })).toEqual(["t1", "t5", "t2", "t4"]);
    expect(await names({ contactId })).toEqual(["t2", "t4"]);
    expect(await names({ from: "2025-01-02T00:00:00Z", to: "2025-01-04T00:00:00Z" })).toEqual(["t3", "t2"]);
    expect(await names({ contactId, priority: "HIGH" })).toEqual(["t2"]);
    const both = await (await as(c.agent)).request(TkTicketsDocument, { filter: { unowned: true, ownerId: gid("User", c.agent.id) } }).catch((e: Error) => e);
    expect(both).toBeInstanceOf(Error);
  });

  test("first is capped at 100", async () => {
    const st = await t.prisma.pipelineStatus.findFirstOrThrow({ where: { accountId: c.accountId, name: "New" } });
    await t.prisma.ticket.createMany({
      data: Array.from({ length: 101 }, (_, i) => ({ accountId: c.accountId, name: `bulk ${i}`, pipelineId: st.pipelineId, statusId: st.id })),
    });
    const page = await list(undefined, 100);
    expect(page.edges).toHaveLength(100);
    expect(page.pageInfo.hasNextPage).toBe(true);
    // Above the cap the request is refused (the server's page-size limit) or clamped, never larger.
    const over = await list(undefined, 500).catch((e: { response?: { errors?: Array<{ extensions?: { code?: string } }> } }) => e);
    if ("edges" in over) expect(over.edges).toHaveLength(100);
    else expect(over.response?.errors?.[0]?.extensions?.code).toBe("PAGE_SIZE_TOO_LARGE");
  });
});
