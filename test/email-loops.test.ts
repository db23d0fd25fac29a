import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvReplyDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml, smtpSend } from "./support/email-ingress.js";
import { fakeResolver } from "./support/fake-dns.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { eventually } from "./support/eventually.js";

const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 3000 };

let t: TestServer;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let worker: { stop(): Promise<void> };
let port: number;
let a: TestAccount;
let inboxId: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestServer({ DELIVERY_WORKER: "false", SMTP_URL: sink.url, SMTP_FROM_DOMAIN: "mail.acme.test", SMTP_LISTEN: "127.0.0.1:0", AUTO_REPLY_MAX_PER_HOUR: "2" });
  t.config.transports.email.resolver = fakeResolver().resolver;
  worker = startDeliveryWorker(t.server.services, WORKER);
  port = t.server.smtp!.port;
  a = await createTestAccount(t.prisma, { name: "Acme Corp" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await sink?.close();
});

const ACK = "Thanks for writing: we answer within a day.";
const autoRepliesTo = (to: string) => sink.received.filter((m) => m.envelope.to.includes(to) && m.parsed.text?.includes(ACK));

/** Sends `lines` (headers first) from `from` to the channel and returns the stored message. */
async function receive(ch: { address: string; rawId: string }, from: string, lines: string[], envelopeFrom = from) {
  const id = `<loop-${externalId()}@${from.split("@")[1]}>`;
  await smtpSend(port, { from: envelopeFrom, to: ch.address, raw: eml([`From: ${from}`, `To: ${ch.address}`, `Message-ID: ${id}`, ...lines]) });
  return t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, channelId: ch.rawId, externalId: id } });
}

describe("loops", () => {
  test("a new conversation gets the channel's auto-reply (marked Auto-Submitted); an auto-reply, a list, a mailer daemon or our own address gets none", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test`, autoReply: ACK });
    const before = sink.received.length;
    const human = await receive(ch, "gina@customer.test", ["Subject: A question", "", "Hi there"]);
    await sink.waitFor(before + 1);
    const [ack] = autoRepliesTo("gina@customer.test");
    expect(ack.parsed.headers.get("auto-submitted")).toBe("auto-replied");
    expect(ack.parsed.inReplyTo).toBe(human.externalId);
    expect(ack.parsed.replyTo?.value[0].address).toBe(ch.address);
    const bot = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, inReplyToId: human.id } });
    expect(bot).toMatchObject({ senderType: "BOT", direction: "OUTBOUND", conversationId: human.conversationId, text: ACK });

    // The other side's responder answers our auto-reply (a new thread, as many do): no answer back.
    const automated = [
      ["gina@customer.test", ["Auto-Submitted: auto-replied", "Subject: Out of office", "", "I am away"]],
      ["list@lists.customer.test", ["Precedence: bulk", "Subject: Newsletter", "", "News"]],
      ["news@customer.test", ["List-Id: <news.customer.test>", "Subject: Digest", "", "Digest"]],
      ["MAILER-DAEMON@mx.customer.test", ["Subject: Warning", "", "A warning without DSN fields"]],
      ["robot@mail.acme.test", ["Subject: From ourselves", "", "Our own mail back"]],
      ["oof@customer.test", ["X-Auto-Response-Suppress: All", "Subject: Automatic reply", "", "Exchange OOF"]],
    ] as const;
    for (const [from, lines] of automated) {
      const m = await receive(ch, from, [...lines]);
      expect((m.metadata as { email: { authentication: { flagged: boolean; automated: string } } }).email.authentication, from).toMatchObject({ flagged: true, automated: expect.any(String) });
    }
    // A last human message proves the worker ran past the automated ones.
    await receive(ch, "hugo@customer.test", ["Subject: Another question", "", "Hello"]);
    await eventually(async () => expect(autoRepliesTo("hugo@customer.test")).toHaveLength(1));
    for (const [from] of automated) expect(autoRepliesTo(from.toLowerCase()).length, from).toBe(from === "gina@customer.test" ? 1 : 0);
    // A message joining a thread is no new conversation: no second auto-reply.
    await receive(ch, "gina@customer.test", ["Subject: Re: A question", `In-Reply-To: ${human.externalId}`, "", "More details"]);
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, channelId: ch.rawId, senderType: "BOT", metadata: { path: ["autoReply", "to"], equals: "gina@customer.test" } } })).toBe(1);
  });

  test("a per-sender bound: a responder that sets no header and keeps opening conversations gets at most AUTO_REPLY_MAX_PER_HOUR auto-replies", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test`, autoReply: ACK });
    for (let i = 0; i < 5; i++) await receive(ch, "pingpong@customer.test", [`Subject: Ticket #${i} received`, "", "We got your message"]);
    await eventually(async () => expect(await t.prisma.outboundDelivery.count({ where: { accountId: a.accountId, channelId: ch.rawId, state: "DONE" } })).toBe(2));
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, channelId: ch.rawId, senderType: "BOT" } })).toBe(2);
    // Another sender has its own budget.
    await receive(ch, "other@customer.test", ["Subject: Hi", "", "Hi"]);
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, channelId: ch.rawId, senderType: "BOT" } })).toBe(3);
  });

  test("an away contact owner is not notified about automated mail, but is about a person's", async () => {
    const owner = await t.prisma.user.create({ data: { accountId: a.accountId, email: `owner-${externalId()}@acme.test`, firstName: "Olga", availability: "AWAY" } });
    await t.prisma.inboxUser.create({ data: { accountId: a.accountId, inboxId, userId: owner.id } });
    await t.prisma.contact.createMany({ data: ["vip@owned.test", "vip-bot@owned.test"].map((email) => ({ accountId: a.accountId, email, ownerId: owner.id, tracked: true })) });
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test` });
    await t.prisma.channel.update({ where: { id: ch.rawId }, data: { autoAssign: true, routingTarget: "CONTACT_OWNER" } });
    const auto = await receive(ch, "vip-bot@owned.test", ["Auto-Submitted: auto-generated", "Subject: Report", "", "Weekly report"]);
    const person = await receive(ch, "vip@owned.test", ["Subject: Call me", "", "Please call"]);
    const notes = await t.prisma.outboundDelivery.findMany({ where: { accountId: a.accountId, kind: "NOTIFICATION_EMAIL", userId: owner.id } });
    expect(notes.map((n) => n.messageId)).toEqual([person.id]);
    // Both are still assigned to the owner.
    const conversations = await t.prisma.conversation.findMany({ where: { id: { in: [auto.conversationId, person.conversationId] } } });
    expect(conversations.map((c) => c.assigneeId)).toEqual([owner.id, owner.id]);
  });
});

describe("bounces", () => {
  test("a DSN for an agent's reply marks the reply FAILED with the reason and opens no conversation; a delay notice changes nothing", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test` });
    const first = await receive(ch, "gone@customer.test", ["Subject: Hello", "", "Hello"]);
    const before = sink.received.length;
    const r = await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId: toGlobalId("Conversation", first.conversationId), text: "Hi, how can we help?" } });
    if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
    const replyId = fromGlobalId(r.reply.sentMessage.id, "Message");
    await sink.waitFor(before + 1);
    const sentId = sink.received[before].parsed.messageId!;
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).toMatchObject({ deliveryStatus: "SENT" }));
    const conversations = await t.prisma.conversation.count({ where: { accountId: a.accountId } });

    const dsn = (action: string, status: string) =>
      eml([
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>",
        `To: ${ch.address}`,
        "Subject: Undelivered Mail Returned to Sender",
        "Auto-Submitted: auto-replied",
        `Message-ID: <dsn-${externalId()}@mx.customer.test>`,
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        "",
        "--B",
        "Content-Type: text/plain",
        "",
        "This is the mail system. Your message could not be delivered.",
        "--B",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.customer.test",
        "",
        "Final-Recipient: rfc822; gone@customer.test",
        `Action: ${action}`,
        `Status: ${status}`,
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.test>: Recipient address rejected: User unknown",
        "--B",
        "Content-Type: text/rfc822-headers",
        "",
        `From: ${ch.address}`,
        "To: gone@customer.test",
        "Subject: Re: Hello",
        `Message-ID: ${sentId}`,
        "--B--",
      ]);
    // A bounce has a null envelope sender.
    await smtpSend(port, { from: "", to: ch.address, raw: dsn("delayed", "4.4.1") });
    expect(await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).toMatchObject({ deliveryStatus: "SENT" });
    await smtpSend(port, { from: "", to: ch.address, raw: dsn("failed", "5.1.1") });
    expect(await t.prisma.message.findUniqueOrThrow({ where: { id: replyId } })).toMatchObject({
      deliveryStatus: "FAILED",
      deliveryError: expect.stringMatching(/^Email bounced: 5\.1\.1 550 5\.1\.1 <gone@customer\.test>: Recipient address rejected/),
    });
    expect(await t.prisma.conversation.count({ where: { accountId: a.accountId } })).toBe(conversations);
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, channelId: ch.rawId, direction: "INBOUND" } })).toBe(1);
  });
});
