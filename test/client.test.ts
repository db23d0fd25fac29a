import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "graphql";
import WebSocket from "ws";
import {
  createInboxClient,
  MessageAddedDocument,
  NotFoundError,
  ReplyDocument,
  RequestError,
  unwrap,
  ValidationError,
  ViewerDocument,
  type InboxClient,
  type MessageAddedSubscription,
} from "../client/src/index.js";
import { startServer, type RunningServer } from "../src/server.js";
import { toGlobalId } from "../src/schema/ids.js";
import { ConvPublishDocument } from "./generated/graphql.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { createTestAccount, testServerConfig, type TestAccount } from "./support/server.js";

// One database for the file (PGlite in a data directory, or a throwaway PostgreSQL database with
// DATABASE_URL), kept across the servers started on it.
let setup: Awaited<ReturnType<typeof testServerConfig>>;
let server: RunningServer;
let port: number;
let account: TestAccount;
let partnerToken: string;
let inboxId: string;
let channelId: string;
const clients: InboxClient[] = [];

const quiet = { log: () => {} };
const start = (onPort: number) => startServer({ ...setup.config, port: onPort }, quiet);

beforeAll(async () => {
  setup = await testServerConfig("inbox-client-", { DELIVERY_WORKER: "false" });
  server = await start(0);
  port = Number(new URL(server.url).port);
  account = await createTestAccount(server.prisma, { name: "Client" });
  const partner = await createPartnerApp(server.prisma, server.services.auth);
  partnerToken = partner.token;
  const inbox = await createInbox(server.prisma, account.accountId, { userIds: [account.agent.id] });
  inboxId = toGlobalId("Inbox", inbox.id);
  channelId = toGlobalId("Channel", (await createChannel(server.prisma, { accountId: account.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server?.close();
  await setup?.database?.drop();
  if (setup) await rm(setup.dataDir, { recursive: true, force: true });
});

function client(url: string, token: () => Promise<string> | string, retry = { baseDelayMs: 50, maxDelayMs: 300 }) {
  const c = createInboxClient({ url, token, webSocketImpl: WebSocket, retry });
  clients.push(c);
  return c;
}

/** A customer's message through the partner API of the server at `url`, in one thread. */
async function publish(url: string, text: string, threadKey: string) {
  const partner = client(url, () => partnerToken);
  const result = unwrap(
    (await partner.request(ConvPublishDocument, { input: { channelId, externalId: externalId(), threadKey, sender: { handle: threadKey, name: "Customer" }, text } })).publishInboundMessage,
  );
  await partner.dispose();
  if (result.__typename !== "PublishInboundMessageResult") throw new Error(`unexpected ${result.__typename}`);
  return result;
}

/** Collects a resumable subscription's events, with a way to wait for a count. */
function collect() {
  const events: { text: string | null; cursor: string | null }[] = [];
  const reconnects: { attempt: number; cause: unknown }[] = [];
  const failures: unknown[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  return {
    events,
    reconnects,
    failures,
    handlers: {
      next(data: MessageAddedSubscription, cursor: string | null) {
        events.push({ text: data.messageAdded.text, cursor });
        if (waiter && events.length >= waiter.n) waiter.resolve();
      },
      error: (err: unknown) => failures.push(err),
      reconnecting: (info: { attempt: number; cause: unknown }) => reconnects.push(info),
    },
    waitFor(n: number, ms = 45_000) {
      if (events.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${n} events, got ${JSON.stringify(events)}; failures ${JSON.stringify(failures)}`)), ms);
        waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
      });
    },
  };
}

const currentCursor = async () => (await server.prisma.account.findUniqueOrThrow({ where: { id: account.accountId } })).eventSeq.toString();

describe("typed client", () => {
  test("queries, unwraps a mutation's result union and throws its typed errors", async () => {
    const token = await server.services.auth.sign({ typ: "agent", userId: account.agent.id, accountId: account.accountId }, { expiresIn: "1h" });
    const agent = client(server.url, async () => token);
    expect((await agent.request(ViewerDocument)).viewer).toMatchObject({ email: account.agent.email, role: "AGENT", account: { name: "Client" } });

    const { conversationId } = await publish(server.url, "Hello there", externalId("thr"));
    const { sentMessage } = unwrap((await agent.request(ReplyDocument, { input: { conversationId, text: "Hi, how can I help?" } })).reply);
    expect(sentMessage).toMatchObject({ text: "Hi, how can I help?", direction: "OUTBOUND", conversation: { id: conversationId } });

    const missing = await agent.request(ReplyDocument, { input: { conversationId: toGlobalId("Conversation", "c_missing"), text: "x" } });
    const notFound = (() => {
      try {
        unwrap(missing.reply);
      } catch (err) {
        return err;
      }
    })();
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toMatchObject({ code: "NOT_FOUND", typename: "NotFoundError" });

    const empty = await agent.request(ReplyDocument, { input: { conversationId, text: "" } });
    expect(() => unwrap(empty.reply)).toThrow(ValidationError);

    const anonymous = client(server.url, () => "");
    const refused = await anonymous.request(ViewerDocument).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RequestError);
    expect(refused).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  test("a subscription resumes across a server restart: every event exactly once, in order", async () => {
    let tokensIssued = 0;
    const agent = client(server.url, () => {
      tokensIssued++;
      return server.services.auth.sign({ typ: "agent", userId: account.agent.id, accountId: account.accountId }, { expiresIn: "1h" });
    });
    const thread = externalId("thr");
    const got = collect();
    const sub = agent.subscribe(MessageAddedDocument, { inboxId }, got.handlers, { after: await currentCursor() });

    const sent = ["before 1", "before 2"];
    for (const text of sent) await publish(server.url, text, thread);
    await got.waitFor(2);

    // The server goes away; the client starts reconnecting (refused while nothing listens).
    await server.close();
    // Meanwhile the same database takes writes through another server.
    const other = await start(0);
    for (const text of ["while away 1", "while away 2", "while away 3"]) sent.push((await publish(other.url, text, thread)).inboundMessage.text!);
    await other.close();
    expect(got.events).toHaveLength(2);

    // Back on the same port; more messages arrive while the client resubscribes.
    server = await start(port);
    const racing = ["after restart 1", "after restart 2"];
    for (const text of racing) sent.push((await publish(server.url, text, thread)).inboundMessage.text!);

    await got.waitFor(sent.length);
    // Anything extra (a duplicate) would arrive right behind: give it a moment to show.
    await publish(server.url, "last", thread);
    sent.push("last");
    await got.waitFor(sent.length);

    expect(got.failures).toEqual([]);
    expect(got.events.map((e) => e.text)).toEqual(sent);
    const cursors = got.events.map((e) => BigInt(e.cursor!));
    expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(sub.cursor).toBe(got.events.at(-1)!.cursor);
    expect(got.reconnects.length).toBeGreaterThanOrEqual(1);
    expect(got.reconnects[0].cause).toMatchObject({ code: 1001 });
    // The token was asked again for the new connection.
    expect(tokensIssued).toBeGreaterThanOrEqual(2);
    sub.dispose();
  }, 120_000);

  test("an expired token closes the socket (4403) and a refreshed one resumes without a gap", async () => {
    let issued = 0;
    const agent = client(server.url, () => {
      issued++;
      // The first token runs out in two seconds; the refreshed ones last.
      return server.services.auth.sign({ typ: "agent", userId: account.agent.id, accountId: account.accountId }, { expiresIn: issued === 1 ? "2s" : "1h" });
    });
    const thread = externalId("thr");
    const got = collect();
    const sub = agent.subscribe(MessageAddedDocument, { inboxId }, got.handlers, { after: await currentCursor() });
    const sent = ["fresh token"];
    await publish(server.url, sent[0], thread);
    await got.waitFor(1);
    // Published around the expiry, before and after the reconnect.
    const deadline = Date.now() + 3_500;
    while (Date.now() < deadline) {
      sent.push(`tick ${sent.length}`);
      await publish(server.url, sent.at(-1)!, thread);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await got.waitFor(sent.length);
    expect(got.failures).toEqual([]);
    expect(got.reconnects.map((r) => (r.cause as { code: number; reason: string }).reason)).toContain("Token expired");
    expect(got.events.map((e) => e.text)).toEqual(sent);
    expect(issued).toBeGreaterThanOrEqual(2);
    sub.dispose();
  });

  test("a subscription document without $after or eventCursor is refused at once", () => {
    const agent = client(server.url, () => "");
    const noCursor = parse("subscription ($after: String) { messageAdded(after: $after) { id text } }") as typeof MessageAddedDocument;
    expect(() => agent.subscribe(noCursor, {}, collect().handlers)).toThrow(/select `eventCursor` on `messageAdded`/);
    const noAfter = parse("subscription { messageAdded { id eventCursor } }") as typeof MessageAddedDocument;
    expect(() => agent.subscribe(noAfter, {}, collect().handlers)).toThrow(/\$after/);
  });
});
