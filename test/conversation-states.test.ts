import type { GraphQLClient } from "graphql-request";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Prisma } from "../src/generated/prisma/client.js";
import {
  CsConversationDocument,
  CsListDocument,
  CsMessageAddedDocument,
  CsPriorityDocument,
  CsPurgeDocument,
  CsRestoreDocument,
  CsSetStatusDocument,
  CsSnoozeDocument,
  CsSpamDocument,
  CsTrashDocument,
  CsUnsnoozeDocument,
  CsUnspamDocument,
  CsUpdatedDocument,
  WidgetStartChatDocument,
  WidgetVisitorConversationDocument,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml } from "./support/email-ingress.js";
import { eventually } from "./support/eventually.js";
import { record } from "./support/subscriptions.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let inboxId: string;
let mailbox: Awaited<ReturnType<typeof connectTeamEmail>>;
let asAgent: GraphQLClient;
let asAdmin: GraphQLClient;

beforeAll(async () => {
  t = await startTestServer({ DELIVERY_WORKER: "false" });
  a = await createTestAccount(t.prisma, { name: "States Co" });
  other = await createTestAccount(t.prisma, { name: "Other Co" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
  mailbox = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@states.test` });
  asAgent = t.client(await t.tokenFor(a.agent));
  asAdmin = t.client(await t.tokenFor(a.admin));
});
afterAll(async () => t?.close());

/** One email from `from` through POST /inbound/email; returns its conversation's and message's global ids. */
async function email(base: string, mailbox: { id: string; address: string; secret: string }, from: string, opts: { inReplyTo?: string; html?: string; text?: string } = {}) {
  const messageId = `<${externalId()}@mail.test>`;
  const body = opts.html
    ? ["Content-Type: text/html; charset=utf-8", "", opts.html]
    : ["Content-Type: text/plain; charset=utf-8", "", opts.text ?? "Hello there"];
  const raw = eml([`From: ${from}`, `To: ${mailbox.address}`, "Subject: Question", `Message-ID: ${messageId}`, ...(opts.inReplyTo ? [`In-Reply-To: ${opts.inReplyTo}`] : []), "Date: Wed, 2 Dec 2026 10:00:00 +0000", ...body]);
  const res = await fetch(new URL(`/inbound/email/${mailbox.id}`, base), { method: "POST", headers: { "content-type": "message/rfc822", authorization: `Bearer ${mailbox.secret}` }, body: raw });
  if (res.status !== 202) throw new Error(`inbound email: ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { conversationId: string; messageId: string };
  return { ...json, headerId: messageId, raw };
}

const send = (from: string, opts?: Parameters<typeof email>[3]) => email(t.url, mailbox, from, opts);
const conversation = async (id: string, client = asAgent) => (await client.request(CsConversationDocument, { id })).node as { status: string; priority: string; snoozedUntil: string | null; trashedAt: string | null; assignee: { id: string } | null; messages: { edges: { node: { id: string; text: string | null; originalEmail: string | null } }[] } } | null;
const listed = async (filter?: Record<string, unknown>) => (await asAgent.request(CsListDocument, { filter })).conversations.edges.map((e) => e.node.id);
const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("snooze", () => {
  test("snoozes until a future time, is pushed live, and refuses past times, unknown, foreign ids and setConversationStatus SNOOZED", async () => {
    const { conversationId } = await send("Pat <pat@customer.test>");
    const live = record(t.ws(await t.tokenFor(a.agent)), CsUpdatedDocument);
    await new Promise((r) => setTimeout(r, 200));
    const until = inFuture(60 * 60_000);
    const r = await asAgent.request(CsSnoozeDocument, { input: { conversationId, until } });
    expect(r.snoozeConversation).toMatchObject({ __typename: "ConversationResult", conversation: { status: "SNOOZED", snoozedUntil: until } });
    const [pushed] = await live.waitFor(1);
    expect(pushed.conversationUpdated).toMatchObject({ id: conversationId, status: "SNOOZED", snoozedUntil: until });
    live.dispose();

    const past = await asAgent.request(CsSnoozeDocument, { input: { conversationId, until: new Date(Date.now() - 1000).toISOString() } });
    expect(past.snoozeConversation).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "until"], message: "Must be in the future" }] });
    const unknown = await asAgent.request(CsSnoozeDocument, { input: { conversationId: toGlobalId("Conversation", "00000000-0000-0000-0000-000000000000"), until } });
    expect(unknown.snoozeConversation).toMatchObject({ __typename: "NotFoundError" });
    const foreign = await t.client(await t.tokenFor(other.admin)).request(CsSnoozeDocument, { input: { conversationId, until } });
    expect(foreign.snoozeConversation).toMatchObject({ __typename: "NotFoundError" });
    const viaStatus = await asAgent.request(CsSetStatusDocument, { input: { conversationId, status: "SNOOZED" } });
    expect(viaStatus.setConversationStatus).toMatchObject({ __typename: "ValidationError" });
    expect((await conversation(conversationId))?.snoozedUntil).toBe(until);

    // Snoozed conversations stay in the default list; unsnooze reopens at once.
    expect(await listed()).toContain(conversationId);
    expect(await listed({ status: "SNOOZED" })).toEqual([conversationId]);
    expect((await asAgent.request(CsUnsnoozeDocument, { input: { conversationId } })).unsnoozeConversation).toMatchObject({ conversation: { status: "OPEN", snoozedUntil: null } });
    expect((await asAgent.request(CsUnsnoozeDocument, { input: { conversationId } })).unsnoozeConversation).toMatchObject({ __typename: "ValidationError" });
  });

  test("wakes up by itself on time, and at once when the customer writes", async () => {
    const soon = await send("Quinn <quinn@customer.test>");
    const later = await send("Rae <rae@customer.test>");
    await asAgent.request(CsSnoozeDocument, { input: { conversationId: soon.conversationId, until: inFuture(1500) } });
    await asAgent.request(CsSnoozeDocument, { input: { conversationId: later.conversationId, until: inFuture(24 * 60 * 60_000) } });

    // The customer answers the thread snoozed for a day: it is open again.
    await send("Rae <rae@customer.test>", { inReplyTo: later.headerId, text: "Any news?" });
    expect(await conversation(later.conversationId)).toMatchObject({ status: "OPEN", snoozedUntil: null });

    await eventually(async () => expect(await conversation(soon.conversationId)).toMatchObject({ status: "OPEN", snoozedUntil: null }));
    const events = await t.prisma.event.findMany({ where: { accountId: a.accountId, type: "conversation.updated", payload: { path: ["reason"], equals: "woke" } } });
    expect(events.filter((e) => (e.payload as { conversationId: string }).conversationId === fromGlobalId(soon.conversationId, "Conversation"))).toHaveLength(1);
  });

  test("a visitor never sees SNOOZED, SPAM or TRASH", async () => {
    const chat = await t.prisma.channel.create({
      data: { accountId: a.accountId, inboxId, type: "CHAT", name: "Chat", status: "ON", settings: chatSettings.parse({ availability: { mode: "ALWAYS" } }) as Prisma.InputJsonValue },
    });
    const started = await t.client().request(WidgetStartChatDocument, { input: { channelId: toGlobalId("Channel", chat.id), name: "Vic" } });
    if (started.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(started.startChat));
    const { conversationId, visitorToken } = started.startChat;
    const visitor = t.client(visitorToken);
    const seen = async () => (await visitor.request(WidgetVisitorConversationDocument)).visitorConversation?.status;
    await asAgent.request(CsSnoozeDocument, { input: { conversationId, until: inFuture(60_000) } });
    expect(await seen()).toBe("OPEN");
    await asAgent.request(CsSpamDocument, { input: { conversationId } });
    expect(await seen()).toBe("OPEN");
    await asAgent.request(CsTrashDocument, { input: { conversationId } });
    expect(await seen()).toBe("CLOSED");
  });
});

describe("priority", () => {
  test("defaults to NORMAL, is set and filtered by", async () => {
    const { conversationId } = await send("Sol <sol@customer.test>");
    expect((await conversation(conversationId))?.priority).toBe("NORMAL");
    expect((await asAgent.request(CsPriorityDocument, { input: { conversationId, priority: "URGENT" } })).setConversationPriority).toMatchObject({ conversation: { priority: "URGENT" } });
    expect(await listed({ priority: "URGENT" })).toEqual([conversationId]);
    expect(await listed({ priority: "LOW" })).toEqual([]);
    const foreign = await t.client(await t.tokenFor(other.admin)).request(CsPriorityDocument, { input: { conversationId, priority: "LOW" } });
    expect(foreign.setConversationPriority).toMatchObject({ __typename: "NotFoundError" });
    expect((await conversation(conversationId))?.priority).toBe("URGENT");
  });
});

describe("spam", () => {
  test("marking puts the sender on the spam list: their next message lands in SPAM, unassigned and unnotified; others are unaffected; unmarking undoes it", async () => {
    const first = await send("Spammy <SPAM@junk.test>");
    const marked = await asAgent.request(CsSpamDocument, { input: { conversationId: first.conversationId } });
    expect(marked.markConversationSpam).toMatchObject({ conversation: { status: "SPAM" } });
    expect(await t.prisma.spamSender.findMany({ where: { accountId: a.accountId }, select: { email: true } })).toEqual([{ email: "spam@junk.test" }]);
    expect(await listed()).not.toContain(first.conversationId);
    expect(await listed({ status: "SPAM" })).toContain(first.conversationId);

    const live = record(t.ws(await t.tokenFor(a.agent)), CsMessageAddedDocument);
    await new Promise((r) => setTimeout(r, 200));
    const next = await send("Spammy <spam@junk.test>", { text: "Buy now" });
    const fine = await send("Tess <tess@customer.test>", { text: "A real question" });
    const [arrived] = await live.waitFor(1);
    expect(arrived.messageAdded.text).toBe("A real question");
    expect(await conversation(next.conversationId)).toMatchObject({ status: "SPAM", assignee: null });
    expect(await conversation(fine.conversationId)).toMatchObject({ status: "OPEN" });
    // A reply in the spam thread keeps it there.
    await send("Spammy <spam@junk.test>", { inReplyTo: first.headerId, text: "Still here" });
    expect((await conversation(first.conversationId))?.status).toBe("SPAM");
    await new Promise((r) => setTimeout(r, 300));
    expect(live.results.map((r) => r.messageAdded.text)).toEqual(["A real question"]);
    live.dispose();

    // The shortcut must not catch a sender who merely resembles the listed one.
    expect((await conversation((await send("Other <spam@junk.test.example>")).conversationId))?.status).toBe("OPEN");

    const unmarked = await asAgent.request(CsUnspamDocument, { input: { conversationId: first.conversationId } });
    expect(unmarked.unmarkConversationSpam).toMatchObject({ conversation: { status: "OPEN" } });
    expect(await t.prisma.spamSender.count({ where: { accountId: a.accountId } })).toBe(0);
    expect((await conversation((await send("Spammy <spam@junk.test>")).conversationId))?.status).toBe("OPEN");
    expect((await asAgent.request(CsUnspamDocument, { input: { conversationId: first.conversationId } })).unmarkConversationSpam).toMatchObject({ __typename: "ValidationError" });
    const foreign = await t.client(await t.tokenFor(other.admin)).request(CsSpamDocument, { input: { conversationId: fine.conversationId } });
    expect(foreign.markConversationSpam).toMatchObject({ __typename: "NotFoundError" });
  });
});

describe("trash", () => {
  test("trash leaves the default list, restore returns the previous status, purge is for admins and trashed conversations only", async () => {
    const { conversationId } = await send("Uma <uma@customer.test>");
    await asAgent.request(CsSetStatusDocument, { input: { conversationId, status: "CLOSED" } });
    const trashed = await asAgent.request(CsTrashDocument, { input: { conversationId } });
    expect(trashed.trashConversation).toMatchObject({ conversation: { status: "TRASH" } });
    expect((trashed.trashConversation as { conversation: { trashedAt: string } }).conversation.trashedAt).toBeTruthy();
    expect(await listed()).not.toContain(conversationId);
    expect(await listed({ status: "TRASH" })).toContain(conversationId);
    expect((await asAgent.request(CsRestoreDocument, { input: { conversationId } })).restoreConversation).toMatchObject({ conversation: { status: "CLOSED", trashedAt: null } });
    expect((await asAgent.request(CsRestoreDocument, { input: { conversationId } })).restoreConversation).toMatchObject({ __typename: "ValidationError" });
    expect(await listed()).toContain(conversationId);

    expect((await asAdmin.request(CsPurgeDocument, { input: { conversationId } })).purgeConversation).toMatchObject({ __typename: "ValidationError" });
    await asAgent.request(CsTrashDocument, { input: { conversationId } });
    expect((await asAgent.request(CsPurgeDocument, { input: { conversationId } })).purgeConversation).toMatchObject({ __typename: "ForbiddenError" });
    expect((await t.client(await t.tokenFor(other.admin)).request(CsPurgeDocument, { input: { conversationId } })).purgeConversation).toMatchObject({ __typename: "NotFoundError" });
    expect((await asAdmin.request(CsPurgeDocument, { input: { conversationId } })).purgeConversation).toMatchObject({ purgedConversationId: conversationId });
    expect(await conversation(conversationId, asAdmin)).toBeNull();
    expect(await t.prisma.message.count({ where: { conversationId: fromGlobalId(conversationId, "Conversation") } })).toBe(0);
  });
});

describe("original email", () => {
  test("an email whose HTML is over the limits keeps its original, downloadable by agents; other messages have none", async () => {
    const deep = `<html><body>${"<div>".repeat(600)}Deep news${"</div>".repeat(600)}</body></html>`;
    const big = await send("Vera <vera@customer.test>", { html: deep });
    const plain = await send("Walt <walt@customer.test>");
    const [message] = (await conversation(big.conversationId))!.messages.edges;
    expect(message.node.originalEmail).toMatch(/\/attachments\/[0-9a-f-]{36}\?expires=\d+&signature=/);
    const res = await fetch(new URL(message.node.originalEmail!, t.url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("message/rfc822");
    expect(await res.text()).toBe(big.raw);
    expect((await conversation(plain.conversationId))!.messages.edges[0].node.originalEmail).toBeNull();
    // Another account cannot see the message at all.
    expect(await conversation(big.conversationId, t.client(await t.tokenFor(other.admin)))).toBeNull();
  });
});
