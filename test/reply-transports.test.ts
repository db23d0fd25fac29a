import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvReplyDocument, WidgetSubmitFormDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import { startGraphApiFake } from "./support/graph-api-fake.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { eventually } from "./support/eventually.js";

/**
 * Replies through the built-in transports (Graph API for Messenger and WhatsApp, email over SMTP),
 * against a fake Graph API and a real SMTP sink: issue 16 items 11, 12, 13, 19 and 20.
 */

// A short lease: a row a worker claimed but did not record comes back quickly (item 19). The
// maximum age is long enough for a 1-second Retry-After on a busy machine (item 11).
const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 10_000, leaseMs: 400 };

let t: TestServer;
let graph: Awaited<ReturnType<typeof startGraphApiFake>>;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let worker: { stop(): Promise<void> };

beforeAll(async () => {
  // This file drives its own worker with short delays; the server's built-in one stays off.
  graph = await startGraphApiFake();
  smtp = await startSmtpSink();
  t = await startTestServer({ DELIVERY_WORKER: "false", GRAPH_API_BASE_URL: graph.url, META_ACCESS_TOKEN: "page-token", SMTP_URL: smtp.url });
  worker = startDeliveryWorker(t.server.services, WORKER);
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await graph?.close();
  await smtp?.close();
});

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join("").replace(/^0/, "1");
const gid = (id: string) => toGlobalId("Conversation", id);

/** An account with an inbox holding a Messenger page and a WhatsApp number, and its agent's client. */
async function metaWorld() {
  const a = await createTestAccount(t.prisma);
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  const pageId = digits(15);
  const messenger = await t.prisma.channel.create({ data: { accountId: a.accountId, inboxId: inbox.id, type: "FACEBOOK_MESSENGER", name: "Page", facebookPageId: pageId, settings: { pageId, pageName: "Page" } } });
  const whatsApp = await t.prisma.channel.create({
    data: { accountId: a.accountId, inboxId: inbox.id, type: "WHATSAPP", name: "WhatsApp", phoneNumber: `+1555${digits(7)}`, settings: { phoneNumberId: `PNID-${digits(6)}` } },
  });
  const agent = t.client(await t.tokenFor(a.agent));
  /** A customer's thread on `channel` whose last message was `hoursAgo` hours ago. */
  const thread = async (channel: { id: string }, hoursAgo: number) => {
    const at = new Date(Date.now() - hoursAgo * 3600_000);
    const threadKey = digits(12);
    const c = await t.prisma.conversation.create({
      data: { accountId: a.accountId, inboxId: inbox.id, channelId: channel.id, threadKey, lastInboundAt: at, firstInboundAt: at, lastActivityAt: at, createdAt: at },
    });
    await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: c.id, channelId: channel.id, direction: "INBOUND", senderType: "CONTACT", text: "hello", createdAt: at } });
    return { id: c.id, conversationId: gid(c.id), threadKey, at };
  };
  const reply = async (conversationId: string, text: string) => (await agent.request(ConvReplyDocument, { input: { conversationId, text } })).reply;
  return { a, inbox, messenger, whatsApp, agent, thread, reply };
}

/** The Graph API requests that carried this text. */
const sendsOf = (text: string) => graph.requests.filter((r) => r.json.message?.text === text || r.json.text?.body === text);

async function replied(reply: { __typename: string } & Record<string, any>) {
  if (reply.__typename !== "MessageResult") throw new Error(JSON.stringify(reply));
  return fromGlobalId(reply.sentMessage.id as string, "Message");
}

describe("item 11: Graph API errors", () => {
  test("item 11: a Graph API refusal (HTTP 4xx) is FAILED at once with Meta's reason, never retried", async () => {
    const w = await metaWorld();
    const th = await w.thread(w.messenger, 1);
    graph.failNext({ status: 400, error: { message: "(#100) No matching user found", type: "OAuthException", code: 100, error_subcode: 2018001 } });
    const id = await replied(await w.reply(th.conversationId, "Are you still there?"));
    await eventually(async () =>
      expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "FAILED", deliveryError: expect.stringContaining("(#100) No matching user found") }),
    );
    expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: id } })).toMatchObject({ state: "FAILED", attempts: 1, lastError: "HTTP 400: (#100) No matching user found" });
    expect(sendsOf("Are you still there?")).toHaveLength(1);
  });

  test("item 11: 5xx, 408 and Meta's throttling are retried; 429 waits for its Retry-After", async () => {
    const w = await metaWorld();
    const th = await w.thread(w.whatsApp, 1);
    graph.failNext({ status: 500 }, { status: 408 }, { status: 400, error: { message: "(#4) Application request limit reached", code: 4, is_transient: true } });
    const id = await replied(await w.reply(th.conversationId, "Retried until it goes"));
    await eventually(async () => expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: id } })).toMatchObject({ state: "DONE", attempts: 4 }));
    expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT", externalId: expect.stringMatching(/^wamid\.fake/) });
    expect(sendsOf("Retried until it goes").map((r) => r.status)).toEqual([500, 408, 400, 200]);

    graph.failNext({ status: 429, headers: { "retry-after": "1" }, error: { message: "(#613) Calls to this api have exceeded the rate limit.", code: 613 } });
    const later = await replied(await w.reply(th.conversationId, "After the rate limit"));
    const done = await eventually(async () => {
      const d = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: later } });
      expect(d).toMatchObject({ state: "DONE", attempts: 2 });
      return d;
    });
    // The retry was scheduled a second after the refusal (the backoff alone would have said 30 ms).
    expect(done.nextAttemptAt.getTime() - done.createdAt.getTime()).toBeGreaterThanOrEqual(1000);
    expect(sendsOf("After the rate limit").map((r) => r.status)).toEqual([429, 200]);
  });
});

describe("item 12: messaging windows", () => {
  test("item 12: a Messenger reply 2 days after the customer's last message goes out tagged HUMAN_AGENT; within 24 hours as RESPONSE", async () => {
    const w = await metaWorld();
    const old = await w.thread(w.messenger, 48);
    const id = await replied(await w.reply(old.conversationId, "Sorry for the wait"));
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT" }));
    expect(sendsOf("Sorry for the wait").map((r) => r.json)).toEqual([
      { recipient: { id: old.threadKey }, messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT", message: { text: "Sorry for the wait" } },
    ]);

    const fresh = await w.thread(w.messenger, 2);
    const quick = await replied(await w.reply(fresh.conversationId, "Right away"));
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id: quick } })).toMatchObject({ deliveryStatus: "SENT" }));
    expect(sendsOf("Right away").map((r) => r.json)).toEqual([{ recipient: { id: fresh.threadKey }, messaging_type: "RESPONSE", message: { text: "Right away" } }]);

    const tooLate = await w.thread(w.messenger, 8 * 24);
    expect(await w.reply(tooLate.conversationId, "A week later")).toMatchObject({ __typename: "MessagingWindowClosedError", code: "MESSAGING_WINDOW_CLOSED" });
  });

  test("item 12: WhatsApp refuses a free-form reply more than 24 hours after the customer's last message, saying a template is needed", async () => {
    const w = await metaWorld();
    const closed = await w.thread(w.whatsApp, 25);
    const refused = await w.reply(closed.conversationId, "Still interested?");
    expect(refused).toMatchObject({ __typename: "MessagingWindowClosedError", code: "MESSAGING_WINDOW_CLOSED", message: expect.stringMatching(/24 hours.*template/) });
    if (refused.__typename !== "MessagingWindowClosedError") throw new Error("not refused");
    expect(new Date(refused.windowEndedAt as string).getTime()).toBe(closed.at.getTime() + 24 * 3600_000);
    expect(await t.prisma.message.count({ where: { conversationId: closed.id, direction: "OUTBOUND" } })).toBe(0);
    expect(await t.prisma.outboundDelivery.count({ where: { channelId: w.whatsApp.id } })).toBe(0);

    const open = await w.thread(w.whatsApp, 23);
    const id = await replied(await w.reply(open.conversationId, "Yes, we open at nine"));
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT" }));
    expect(sendsOf("Still interested?")).toHaveLength(0);
  });
});

describe("item 19: recording a send", () => {
  test("item 19: a send Meta accepted is never sent again, even when its message id cannot be recorded", async () => {
    const w = await metaWorld();
    const th = await w.thread(w.messenger, 1);
    const taken = `m_dup${digits(10)}`;
    // Another message of the page already carries the id Meta is about to give the reply (e.g. its echo, stored first).
    await t.prisma.message.create({ data: { accountId: w.a.accountId, conversationId: th.id, channelId: w.messenger.id, direction: "OUTBOUND", senderType: "AGENT", text: "echo", externalId: taken } });
    graph.failNext({ status: 200, messageId: taken });
    const id = await replied(await w.reply(th.conversationId, "Only once, please"));
    await eventually(async () => {
      expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT" });
      expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: id } })).toMatchObject({ state: "DONE", attempts: 1 });
    });
    // Three leases later no worker has claimed it again.
    await new Promise((r) => setTimeout(r, 3 * WORKER.leaseMs));
    expect(sendsOf("Only once, please")).toHaveLength(1);
    expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: id } })).toMatchObject({ state: "DONE", attempts: 1 });
    expect(await t.prisma.message.count({ where: { channelId: w.messenger.id, externalId: taken } })).toBe(1);
  });
});

/** An account with an inbox (its fallback address), a form channel there and, optionally, a team email. */
async function formWorld(opts: { teamEmail?: boolean } = {}) {
  const a = await createTestAccount(t.prisma);
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  const fields = [
    { name: "name", label: "Your name", type: "TEXT", required: true, hidden: false, options: [] },
    { name: "email", label: "Email", type: "EMAIL", required: false, hidden: false, options: [] },
    { name: "phone", label: "Phone", type: "PHONE", required: false, hidden: false, options: [] },
  ];
  const form = await t.prisma.form.create({ data: { accountId: a.accountId, name: "Request a demo", fields } });
  await t.prisma.channel.create({ data: { accountId: a.accountId, inboxId: inbox.id, type: "FORM", name: "Demo form", formId: form.id } });
  const address = `sales-${digits(6)}@acme.test`;
  if (opts.teamEmail) {
    await t.prisma.channel.create({
      data: { accountId: a.accountId, inboxId: inbox.id, type: "TEAM_EMAIL", name: "Sales", emailAddress: address, settings: { address, provider: "OTHER", fromName: "AGENT_AND_COMPANY", companyName: "Acme Sales" } },
    });
  }
  const submit = async (values: Record<string, string>) => {
    const r = await t.client().request(WidgetSubmitFormDocument, { input: { formId: toGlobalId("Form", form.id), values: Object.entries(values).map(([name, value]) => ({ name, value })) } });
    if (r.submitForm.__typename !== "SubmitFormResult") throw new Error(JSON.stringify(r.submitForm));
    const m = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.submitForm.submissionId, "Message") } });
    return gid(m.conversationId);
  };
  const agent = t.client(await t.tokenFor(a.agent));
  const reply = async (conversationId: string, text: string, channelId?: string) => (await agent.request(ConvReplyDocument, { input: { conversationId, text, channelId } })).reply;
  return { a, inbox, address, submit, reply };
}

describe("item 13: replies that would go nowhere", () => {
  test("item 13: an agent's reply to a form submission is emailed to the submitter from the inbox's team email", async () => {
    const w = await formWorld({ teamEmail: true });
    const conversationId = await w.submit({ name: "Ada Lovelace", email: "ada@example.test" });
    const before = smtp.received.length;
    const r = await w.reply(conversationId, "Thanks Ada, when suits you?");
    expect(r).toMatchObject({ __typename: "MessageResult", sentMessage: { deliveryStatus: "PENDING" } });
    const id = await replied(r);
    await smtp.waitFor(before + 1);
    const mail = smtp.received[before];
    expect(mail.envelope.to).toEqual(["ada@example.test"]);
    expect(mail.parsed.from?.value[0]).toMatchObject({ address: w.address, name: `${w.a.agent.firstName} ${w.a.agent.lastName}`.trim() + " (Acme Sales)" });
    expect(mail.parsed.subject).toBe("Re: Request a demo");
    expect(mail.parsed.text).toContain("Thanks Ada, when suits you?");
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT", externalId: mail.parsed.messageId }));
  });

  test("item 13: without a team email the reply goes from the inbox's fallback address", async () => {
    const w = await formWorld();
    const conversationId = await w.submit({ name: "Bob", email: "bob@example.test" });
    const before = smtp.received.length;
    const id = await replied(await w.reply(conversationId, "Hello Bob"));
    await smtp.waitFor(before + 1);
    expect(smtp.received[before].envelope.to).toEqual(["bob@example.test"]);
    expect(smtp.received[before].parsed.from?.value[0].address).toBe(w.inbox.fallbackEmail);
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ deliveryStatus: "SENT" }));
  });

  test("item 13: a submission without an email, and a calling thread, refuse the reply naming the fix; nothing is stored", async () => {
    const w = await formWorld();
    const conversationId = await w.submit({ name: "Phone only", phone: "+39 340 123 4567" });
    const refused = await w.reply(conversationId, "Hello?");
    expect(refused).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "channelId"], message: expect.stringMatching(/no email address.*another channel/) }] });

    const calling = await t.prisma.channel.create({ data: { accountId: w.a.accountId, inboxId: w.inbox.id, type: "CALLING", name: "Phone", phoneNumber: `+1555${digits(7)}` } });
    const contact = await t.prisma.contact.create({ data: { accountId: w.a.accountId, name: "Caller", phone: "+15550001111" } });
    const call = await t.prisma.conversation.create({ data: { accountId: w.a.accountId, inboxId: w.inbox.id, channelId: calling.id, contactId: contact.id, threadKey: "phone:+15550001111" } });
    const byCall = await w.reply(gid(call.id), "Call me back");
    expect(byCall).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "channelId"], message: expect.stringMatching(/calls, not written replies.*team email/) }] });
    // The audit of the other types: a team email reply needs an address to go to.
    const address = `team-${digits(6)}@acme.test`;
    const team = await t.prisma.channel.create({ data: { accountId: w.a.accountId, inboxId: w.inbox.id, type: "TEAM_EMAIL", name: "Team", emailAddress: address, settings: { address } } });
    const noEmail = await t.prisma.conversation.create({ data: { accountId: w.a.accountId, inboxId: w.inbox.id, channelId: team.id, contactId: contact.id } });
    const byEmail = await w.reply(gid(noEmail.id), "Hello by email");
    expect(byEmail).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "channelId"], message: expect.stringMatching(/no email address/) }] });
    expect(await t.prisma.message.count({ where: { accountId: w.a.accountId, direction: "OUTBOUND" } })).toBe(0);
  });
});

describe("item 20: team email From name", () => {
  test("item 20: the From name uses the company name the admin typed; Office 365 sends the bare address", async () => {
    const a = await createTestAccount(t.prisma, { name: "Acme Holding S.p.A." });
    const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
    const agent = t.client(await t.tokenFor(a.agent));
    const sendThrough = async (settings: Record<string, unknown>) => {
      const address = `team-${digits(6)}@acme.test`;
      const channel = await t.prisma.channel.create({ data: { accountId: a.accountId, inboxId: inbox.id, type: "TEAM_EMAIL", name: "Team", emailAddress: address, settings: { address, ...settings } } });
      const contact = await t.prisma.contact.create({ data: { accountId: a.accountId, name: "Rita", email: `rita-${digits(4)}@example.test` } });
      const c = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId: inbox.id, channelId: channel.id, contactId: contact.id, subject: "Quote", lastInboundAt: new Date() } });
      const before = smtp.received.length;
      await replied((await agent.request(ConvReplyDocument, { input: { conversationId: gid(c.id), text: "Here is the quote" } })).reply);
      await smtp.waitFor(before + 1);
      return { from: smtp.received[before].parsed.from?.value[0], raw: smtp.received[before].raw, address };
    };
    const agentName = `${a.agent.firstName} ${a.agent.lastName}`.trim();
    const both = await sendThrough({ provider: "GMAIL", fromName: "AGENT_AND_COMPANY", companyName: "Acme Support" });
    expect(both.from).toEqual({ name: `${agentName} (Acme Support)`, address: both.address });
    const companyOnly = await sendThrough({ provider: "OTHER", fromName: "COMPANY_ONLY", companyName: "Acme Support" });
    expect(companyOnly.from).toEqual({ name: "Acme Support", address: companyOnly.address });
    // Without a typed company name: the account's name.
    const untyped = await sendThrough({ provider: "OTHER", fromName: "COMPANY_ONLY" });
    expect(untyped.from).toEqual({ name: "Acme Holding S.p.A.", address: untyped.address });
    // Office 365 has no From-name feature, whatever an older channel stored.
    const office = await sendThrough({ provider: "OFFICE365", fromName: "AGENT_AND_COMPANY" });
    expect(office.from).toEqual({ name: "", address: office.address });
    expect(office.raw).toMatch(new RegExp(`^From: <?${office.address.replace(/[.]/g, "\\.")}>?\\r?$`, "m"));
  });
});
