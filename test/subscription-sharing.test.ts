import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toGlobalId } from "../src/schema/ids.js";
import { sharedExecutionStats } from "../src/realtime/shared-execution.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { parse } from "graphql";
import type { Client } from "graphql-ws";

// Inbox S has agents W and N; inbox X only W. One contact (same email) wrote into X, then writes into S.
let t: TestServer;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let a: TestAccount;
const users: Record<"w" | "n" | "twin", { id: string; accountId: string }> = {} as never;
const inbox: Record<"s" | "x", { id: string; channelId: string }> = {} as never;

const SELECTION = `subscription($after: String) {
  messageAdded(after: $after) { text conversation { previousConversations { messages(first: 5) { edges { node { text } } } } } }
}`;
type Row = { messageAdded: { text: string; conversation: { previousConversations: { messages: { edges: { node: { text: string } }[] } }[] } } };
const seen = (row: Row) => row.messageAdded.conversation.previousConversations.flatMap((c) => c.messages.edges.map((e) => e.node.text));

beforeAll(async () => {
  t = await startTestServer();
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
  a = await createTestAccount(t.prisma, { name: "Sharing" });
  users.w = await createTestUser(t.prisma, a.accountId, { firstName: "Wide" });
  users.n = await createTestUser(t.prisma, a.accountId, { firstName: "Narrow" });
  users.twin = await createTestUser(t.prisma, a.accountId, { firstName: "Twin of narrow" });
  const mk = async (key: "s" | "x", userIds: string[]) => {
    const created = await createInbox(t.prisma, a.accountId, { userIds });
    const channel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: created.id, channelAppId: partner.app.id });
    inbox[key] = { id: created.id, channelId: toGlobalId("Channel", channel.id) };
  };
  await mk("s", [users.w.id, users.n.id, users.twin.id]);
  await mk("x", [users.w.id]);
});
afterAll(async () => t?.close());

async function publish(key: "s" | "x", email: string, text: string) {
  const r = await t.client(partner.token).request<{ publishInboundMessage: { __typename: string; conversationId?: string } }>(
    `mutation($input: PublishInboundMessageInput!) { publishInboundMessage(input: $input) { __typename ... on PublishInboundMessageResult { conversationId } } }`,
    { input: { channelId: inbox[key].channelId, externalId: externalId(), threadKey: externalId("thr"), sender: { email, handle: externalId("h"), name: "Pat" }, text } },
  );
  if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r));
  return r.publishInboundMessage.conversationId!;
}

const cursor = async () => (await t.prisma.account.findUniqueOrThrow({ where: { id: a.accountId } })).eventSeq.toString();

/** A subscription over WebSocket or SSE that records rows and can wait for a count. */
interface Sub {
  rows: Row[];
  errors: unknown[];
  waitFor(n: number): Promise<Row[]>;
  ready: Promise<void>;
  close(): void;
}

function overWs(client: Client, after: string): Sub {
  const rows: Row[] = [];
  const errors: unknown[] = [];
  let wake = () => {};
  let acked!: () => void;
  const ready = new Promise<void>((r) => (acked = r));
  client.on("connected", () => acked());
  const dispose = client.subscribe<Row>(
    { query: SELECTION, variables: { after } },
    { next: (v) => (v.errors ? errors.push(v.errors) : rows.push(v.data as Row), wake()), error: (e) => (errors.push(e), wake()), complete: () => {} },
  );
  return { rows, errors, ready, close: dispose, waitFor: (n) => waitUntil(() => rows.length >= n || errors.length > 0, (w) => (wake = w)).then(() => rows) };
}

function overSse(token: string, after: string): Sub {
  const rows: Row[] = [];
  const errors: unknown[] = [];
  let wake = () => {};
  const controller = new AbortController();
  const ready = fetch(t.url, {
    method: "POST",
    signal: controller.signal,
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: SELECTION, variables: { after } }),
  }).then((res) => {
    const reader = res.body!.getReader();
    let buffer = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buffer += new TextDecoder().decode(value);
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (!data || !frame.includes("event: next")) continue;
          const payload = JSON.parse(data.slice(6));
          if (payload.errors) errors.push(payload.errors);
          else rows.push(payload.data);
          wake();
        }
      }
    })();
  });
  return { rows, errors, ready, close: () => controller.abort(), waitFor: (n) => waitUntil(() => rows.length >= n || errors.length > 0, (w) => (wake = w)).then(() => rows) };
}

function waitUntil(done: () => boolean, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), 15_000);
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        resolve();
      }
    };
    onWake(check);
    check();
  });
}

type Transport = "ws" | "sse";
async function subscribe(user: { id: string; accountId: string }, transport: Transport, after: string): Promise<Sub> {
  const token = await t.tokenFor(user);
  const sub = transport === "ws" ? overWs(t.ws(token), after) : overSse(token, after);
  await sub.ready;
  return sub;
}

describe("a shared subscription result never crosses inbox membership", () => {
  for (const transport of ["ws", "sse"] as const) {
    for (const order of ["wide first", "narrow first"] as const) {
      test(`${transport}, ${order}: each agent sees exactly the previous conversations it can see`, async () => {
        const email = `${externalId("pat")}@example.test`;
        await publish("x", email, `secret in X (${transport} ${order})`);
        const after = await cursor();
        const first = order === "wide first" ? users.w : users.n;
        const second = order === "wide first" ? users.n : users.w;
        const subs = { [first.id]: await subscribe(first, transport, after), [second.id]: await subscribe(second, transport, after) };
        await publish("s", email, "hello in S");
        const [wide] = await subs[users.w.id].waitFor(1);
        const [narrow] = await subs[users.n.id].waitFor(1);
        for (const s of Object.values(subs)) expect(s.errors).toEqual([]);
        expect(wide.messageAdded.text).toBe("hello in S");
        expect(seen(wide)).toEqual([`secret in X (${transport} ${order})`]);
        expect(narrow.messageAdded.text).toBe("hello in S");
        expect(seen(narrow)).toEqual([]);
        for (const s of Object.values(subs)) s.close();
      });
    }
  }

  test("agents who see the same inboxes still share one execution", async () => {
    const email = `${externalId("pat")}@example.test`;
    await publish("x", email, "not for the twins");
    const after = await cursor();
    const narrow = await subscribe(users.n, "ws", after);
    const twin = await subscribe(users.twin, "ws", after);
    const before = { ...sharedExecutionStats };
    await publish("s", email, "to both twins");
    const [[n], [tw]] = await Promise.all([narrow.waitFor(1), twin.waitFor(1)]);
    expect(seen(n)).toEqual([]);
    expect(tw).toEqual(n);
    // The twins' event ran once and was shared (the message event's execution).
    expect(sharedExecutionStats.executed - before.executed).toBe(1);
    expect(sharedExecutionStats.shared - before.shared).toBeGreaterThanOrEqual(1);
    narrow.close();
    twin.close();
  });

  test("a resumed subscriber (another `after`) shares live executions, and still gets its own replay", async () => {
    const email = `${externalId("pat")}@example.test`;
    const early = await cursor();
    await publish("s", email, "missed by the twin");
    const now = await cursor();
    const narrow = await subscribe(users.n, "ws", now);
    const twin = await subscribe(users.twin, "ws", early);
    expect((await twin.waitFor(1)).map((r) => r.messageAdded.text)).toEqual(["missed by the twin"]);
    const before = { ...sharedExecutionStats };
    await publish("s", email, "live to both");
    const [[n], tw] = await Promise.all([narrow.waitFor(1), twin.waitFor(2)]);
    expect(n.messageAdded.text).toBe("live to both");
    expect(tw[1]).toEqual(n);
    expect(sharedExecutionStats.executed - before.executed).toBe(1);
    narrow.close();
    twin.close();
  });

  test("variables that shape the result are never left out of the group", async () => {
    const { variablesResultsDependOn } = await import("../src/realtime/subscriber-scope.js");
    const { getSchema } = await import("../src/schema/index.js");
    const schema = getSchema();
    const doc = parse("subscription($after: String, $inbox: ID) { messageAdded(after: $after, inboxId: $inbox) { text } }");
    expect(variablesResultsDependOn(schema, doc, null, { after: "7", inbox: "I" })).toEqual({ inbox: "I" });
    // $after also used below the root field: kept.
    const reused = parse("subscription($after: String) { messageAdded(after: $after) { conversation { messages(after: $after) { edges { node { text } } } } } }");
    expect(variablesResultsDependOn(schema, reused, null, { after: "7" })).toEqual({ after: "7" });
  });

  for (const transport of ["ws", "sse"] as const) {
    test(`${transport}: a membership or role change mid-stream changes what later results show`, async () => {
      const email = `${externalId("pat")}@example.test`;
      await publish("x", email, "earlier in X");
      const after = await cursor();
      const admin = t.client(await t.tokenFor(a.admin));
      const setMembers = (userIds: string[]) =>
        admin.request(`mutation($input: SetInboxMembersInput!) { setInboxMembers(input: $input) { __typename } }`, {
          input: { inboxId: toGlobalId("Inbox", inbox.x.id), userIds: userIds.map((id) => toGlobalId("User", id)), teamIds: [] },
        });
      const narrow = await subscribe(users.n, transport, after);
      const wide = await subscribe(users.w, transport, after);
      await publish("s", email, "1: N cannot see X");
      await setMembers([users.w.id, users.n.id]);
      await publish("s", email, "2: N was added to X");
      await setMembers([users.w.id]);
      await publish("s", email, "3: N was removed from X");
      await admin.request(`mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }`, {
        input: { userId: toGlobalId("User", users.n.id), role: "ADMIN" },
      });
      await publish("s", email, "4: N is an admin");
      const n = await narrow.waitFor(4);
      const w = await wide.waitFor(4);
      expect(narrow.errors).toEqual([]);
      expect(wide.errors).toEqual([]);
      const texts = (rows: Row[]) => rows.map((r) => r.messageAdded.text);
      expect(texts(n)).toEqual(["1: N cannot see X", "2: N was added to X", "3: N was removed from X", "4: N is an admin"]);
      expect(n.map((r) => seen(r).includes("earlier in X"))).toEqual([false, true, false, true]);
      expect(w.map((r) => seen(r).includes("earlier in X"))).toEqual([true, true, true, true]);
      narrow.close();
      wide.close();
      await admin.request(`mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }`, { input: { userId: toGlobalId("User", users.n.id), role: "AGENT" } });
    });
  }
});

describe("fields that depend on more of the caller", () => {
  test("selectsPerCallerField finds a marked field through fragments, interfaces and nesting", async () => {
    const { selectsPerCallerField } = await import("../src/realtime/subscriber-scope.js");
    const { GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLInterfaceType } = await import("graphql");
    const Node = new GraphQLInterfaceType({ name: "Thing", fields: { id: { type: GraphQLString } } });
    const Mine = new GraphQLObjectType({ name: "Mine", interfaces: [Node], fields: { id: { type: GraphQLString }, readByMe: { type: GraphQLString, extensions: { perCaller: true } } } });
    const Event = new GraphQLObjectType({ name: "Event", fields: { text: { type: GraphQLString }, thing: { type: Node } } });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: "Query", fields: { x: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({ name: "Subscription", fields: { event: { type: Event } } }),
      types: [Mine],
    });
    expect(selectsPerCallerField(schema, parse("subscription { event { text thing { id } } }"))).toBe(false);
    expect(selectsPerCallerField(schema, parse("subscription { event { thing { ... on Mine { readByMe } } } }"))).toBe(true);
    expect(selectsPerCallerField(schema, parse("subscription { event { ...F } } fragment F on Event { thing { ...G } } fragment G on Mine { readByMe }"))).toBe(true);
  });

  test("an unmarked field that reads who the caller is fails instead of using another subscriber's identity", async () => {
    const { setSubscriberScope, sharedContextFor, CallerSpecificReadError } = await import("../src/realtime/subscriber-scope.js");
    const user = await t.prisma.user.findUniqueOrThrow({ where: { id: users.n.id } });
    const ctx = { ...t.server.services, requestId: "r", kind: "agent" as const, accountId: a.accountId, user };
    setSubscriberScope(ctx, { role: "AGENT", inboxIds: new Set([inbox.s.id]) });
    const shared = sharedContextFor(ctx, false);
    if (shared.kind !== "agent") throw new Error("expected an agent context");
    expect(shared.user.role).toBe("AGENT");
    expect(shared.visibleInboxIds).toEqual([inbox.s.id]);
    expect(() => shared.user.id).toThrow(CallerSpecificReadError);
    const own = sharedContextFor(ctx, true);
    if (own.kind !== "agent") throw new Error("expected an agent context");
    expect(own.user.id).toBe(users.n.id);
  });
});
