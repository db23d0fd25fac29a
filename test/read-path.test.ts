// The one-statement read path (src/db/read-sql.ts): what it returns equals, field by field, what
// the Prisma path it replaced returns for the same requests, and a page costs at most two SQL
// statements (the caller's user and the page) whatever its size and relations.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import pg from "pg";
import { readPath } from "../src/db/read-sql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let token: string;
let agentToken: string;
const conversationIds: string[] = [];
let contactId: string;

const PUBLISH = /* GraphQL */ `
  mutation RpPublish($input: PublishInboundMessageInput!) {
    publishInboundMessage(input: $input) { __typename ... on PublishInboundMessageResult { conversationId } ... on Error { message } }
  }`;
const COMMENT = /* GraphQL */ `
  mutation RpComment($input: AddCommentInput!) { addComment(input: $input) { __typename ... on Error { message } } }`;
const TICKET = /* GraphQL */ `
  mutation RpTicket($input: CreateTicketInput!) { createTicket(input: $input) { __typename ... on Error { message } } }`;

const LIST = /* GraphQL */ `
  query RpList($first: Int, $after: String, $last: Int, $before: String, $filter: ConversationFilter, $search: String) {
    conversations(first: $first, after: $after, last: $last, before: $before, filter: $filter, search: $search) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id subject status visitorName lastActivityAt createdAt lastInboundAt firstResponseAt closedAt ticketId properties
          contact { id name email phone tracked owner { id } }
          assignee { id firstName lastName email }
          inbox { id name }
          channel { id name }
          ticket { id name priority isClosed status { id name } owner { id } }
          lastMessage { id text direction kind senderType createdAt author { id firstName } }
        }
      }
    }
  }`;

const DETAIL = /* GraphQL */ `
  query RpDetail($id: ID!) {
    node(id: $id) {
      id
      ... on Conversation {
        subject status
        contact {
          id name email
          conversations(first: 5) { totalCount edges { node { id subject lastActivityAt } } pageInfo { hasNextPage } }
          tickets(first: 5) { totalCount edges { node { id name isClosed } } }
        }
        tickets { id name status { name } conversations { id } }
        previousConversations(first: 5) { id subject lastActivityAt }
        messages(first: 10) {
          pageInfo { hasNextPage endCursor }
          edges { node { id text direction kind senderType createdAt author { id firstName } attachments { kind url } channel { id } inReplyTo { id } } }
        }
      }
    }
  }`;

const TICKETS = /* GraphQL */ `
  query RpTickets($first: Int, $after: String, $filter: TicketFilter) {
    tickets(first: $first, after: $after, filter: $filter) {
      pageInfo { hasNextPage endCursor }
      edges { node { id name priority isClosed lastActivityAt contact { id name } owner { id } status { name } conversations { id subject } } }
    }
  }`;

const CONTACTS = /* GraphQL */ `
  query RpContacts($first: Int, $after: String, $search: String) {
    contacts(first: $first, after: $after, search: $search) {
      pageInfo { hasNextPage endCursor }
      edges { node { id name email createdAt owner { id } conversations(first: 3) { totalCount edges { node { id } } } tickets(first: 3) { totalCount } } }
    }
  }`;

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

/** The same request through the compiled read path and through Prisma (the path it replaced). */
async function both(tokenToUse: string, query: string, variables: Record<string, unknown>) {
  readPath.compiled = false;
  let before: unknown;
  try {
    before = await t.client(tokenToUse).request(query, variables);
  } finally {
    readPath.compiled = true;
  }
  const after = await t.client(tokenToUse).request(query, variables);
  return { before, after };
}

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Read path" });
  other = await createTestAccount(t.prisma, { name: "Other" });
  const partner = await createPartnerApp(t.prisma, t.server.services.auth);
  const sales = await createInbox(t.prisma, a.accountId, { name: "Sales", userIds: [a.agent.id] });
  const support = await createInbox(t.prisma, a.accountId, { name: "Support" });
  const channels = [
    toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: sales.id, channelAppId: partner.app.id })).id),
    toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: support.id, channelAppId: partner.app.id })).id),
  ];
  const otherInbox = await createInbox(t.prisma, other.accountId);
  const otherChannel = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: other.accountId, inboxId: otherInbox.id, channelAppId: partner.app.id })).id);
  token = await t.tokenFor(a.admin);
  agentToken = await t.tokenFor(a.agent);
  const partnerClient = t.client(partner.token);
  const publish = async (channelId: string, i: number, thread: string) => {
    const r = await partnerClient.request<{ publishInboundMessage: { __typename: string; conversationId?: string; message?: string } }>(PUBLISH, {
      input: { channelId, externalId: externalId(), threadKey: thread, sender: { name: `Customer ${i % 9}`, email: `c${i % 9}@read.test` }, text: `Order ${1000 + i} is late, about parcel ${i}` },
    });
    if (!r.publishInboundMessage.conversationId) throw new Error(JSON.stringify(r));
    return r.publishInboundMessage.conversationId;
  };
  for (let i = 0; i < 60; i++) conversationIds.push(await publish(channels[i % 2], i, `thread-${i}`));
  for (let i = 0; i < 20; i++) await publish(channels[i % 2], 100 + i, `thread-${i}`);
  await publish(otherChannel, 7, "foreign");
  const admin = t.client(token);
  for (const id of conversationIds.slice(0, 12)) {
    await admin.request(COMMENT, { input: { conversationId: id, text: `Note on ${id.slice(-4)}` } });
    await admin.request(TICKET, { input: { conversationId: id } });
  }
  const row = await t.prisma.conversation.findFirstOrThrow({ where: { accountId: a.accountId, contactId: { not: null } }, select: { contactId: true } });
  contactId = row.contactId!;
}, 180_000);
afterAll(async () => t?.close());

describe("the read path returns what the Prisma path returned", () => {
  test("conversations: first page, a cursor page, backwards, filtered, searched; admin and agent", async () => {
    const first = await both(token, LIST, { first: 10 });
    expect(first.after).toEqual(first.before);
    const edges = (first.after as { conversations: { edges: { node: { lastMessage: unknown } }[]; pageInfo: { endCursor: string; startCursor: string } } }).conversations;
    expect(edges.edges).toHaveLength(10);
    expect(edges.edges.every((e) => e.node.lastMessage)).toBe(true);
    const variants: Record<string, unknown>[] = [
      { first: 50 },
      { first: 10, after: edges.pageInfo.endCursor },
      { last: 10, before: edges.pageInfo.endCursor },
      { last: 5 },
      { first: 0 },
      { first: 20, filter: { status: "OPEN" } },
      { first: 20, filter: { unassigned: true } },
      { first: 20, filter: { assigneeId: toGlobalId("User", a.admin.id) } },
      { first: 20, filter: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } },
      { first: 20, search: "parcel 1" },
      { first: 20, search: "Customer 3" },
      { first: 20, search: "c4@read.test" },
    ];
    for (const v of variants) {
      for (const who of [token, agentToken]) {
        const r = await both(who, LIST, v);
        expect(r.after, JSON.stringify(v)).toEqual(r.before);
      }
    }
  });

  test("node(id): a conversation with its side panel; a hidden or foreign one is null on both", async () => {
    for (const id of [...conversationIds.slice(0, 3), conversationIds[1], toGlobalId("Conversation", "missing")]) {
      for (const who of [token, agentToken]) {
        const r = await both(who, DETAIL, { id });
        expect(r.after).toEqual(r.before);
      }
    }
    // The agent sees only Sales: a Support conversation is null for them, not for the admin.
    expect(((await t.client(agentToken).request(DETAIL, { id: conversationIds[1] })) as { node: unknown }).node).toBeNull();
    expect(((await t.client(token).request(DETAIL, { id: conversationIds[1] })) as { node: unknown }).node).not.toBeNull();
  });

  test("tickets and contacts, pages and filters", async () => {
    const t1 = await both(token, TICKETS, { first: 5 });
    expect(t1.after).toEqual(t1.before);
    const cursor = (t1.after as { tickets: { pageInfo: { endCursor: string } } }).tickets.pageInfo.endCursor;
    for (const v of [{ first: 5, after: cursor }, { first: 20, filter: { closed: false } }, { first: 20, filter: { contactId: toGlobalId("Contact", contactId) } }]) {
      const r = await both(token, TICKETS, v);
      expect(r.after).toEqual(r.before);
    }
    for (const v of [{ first: 5 }, { first: 50 }, { first: 3, search: "Customer" }, { first: 10, search: "c2@read.test" }]) {
      for (const who of [token, agentToken]) {
        const r = await both(who, CONTACTS, v);
        expect(r.after).toEqual(r.before);
      }
    }
  });
});

describe("statements per request", () => {
  test.each([10, 50])("a %i-row inbox page with contact, assignee, inbox, channel, ticket and last message: at most 2 statements", async (first) => {
    await t.client(token).request(LIST, { first }); // warm: the document cache, prepared statements
    const { result, statements } = await countStatements(() => t.client(token).request<{ conversations: { edges: unknown[] } }>(LIST, { first }));
    expect(result.conversations.edges).toHaveLength(first);
    expect(statements.length, statements.join("\n---\n")).toBeLessThanOrEqual(2);
  });

  test("the Prisma path it replaced costs more for the same page (the counter counts)", async () => {
    readPath.compiled = false;
    try {
      const { statements } = await countStatements(() => t.client(token).request(LIST, { first: 10 }));
      expect(statements.length).toBeGreaterThan(2);
    } finally {
      readPath.compiled = true;
    }
  });

  // The side panel's previousConversations is a list of its own (one statement more): its rows
  // depend on the conversation's id, which a nested Prisma selection cannot express.
  test("a conversation with its side panel: at most 3; tickets and contacts pages: at most 2 statements", async () => {
    const cases: [string, Record<string, unknown>, number][] = [
      [DETAIL, { id: conversationIds[0] }, 3],
      [TICKETS, { first: 10 }, 2],
      [CONTACTS, { first: 10, search: "Customer" }, 2],
    ];
    for (const [query, variables, most] of cases) {
      await t.client(token).request(query, variables);
      const { statements } = await countStatements(() => t.client(token).request(query, variables));
      expect(statements.length, statements.join("\n---\n")).toBeLessThanOrEqual(most);
    }
  });
});
