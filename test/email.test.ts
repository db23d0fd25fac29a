import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChConnectDocument, ConvReplyDocument, TrMessageAttachmentsDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { signedDownloadUrl } from "../src/services/attachments-store.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { eventually } from "./support/eventually.js";

const fixture = (name: string) => readFile(new URL(`./fixtures/email/${name}`, import.meta.url));
const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 1500 };

let t: TestServer;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let worker: { stop(): Promise<void> };
let a: TestAccount;
let inboxId: string;

beforeAll(async () => {
  smtp = await startSmtpSink();
  t = await startTestServer({ DELIVERY_WORKER: "false", SMTP_URL: smtp.url, SMTP_FROM_DOMAIN: "mail.acme.test", MAX_ATTACHMENT_BYTES: "1024", MAX_EMAIL_BYTES: "65536" });
  worker = startDeliveryWorker(t.server.services, WORKER);
  a = await createTestAccount(t.prisma, { name: "Acme Corp" });
  await t.prisma.user.update({ where: { id: a.agent.id }, data: { firstName: "Gianna", lastName: "Verdi" } });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await smtp?.close();
});


/** Connects a team email through the API; returns its global id and the inbound secret shown once. */
async function connectTeamEmail(teamEmail: Record<string, unknown> = {}) {
  const r = await t.client(await t.tokenFor(a.admin)).request(ChConnectDocument, {
    input: { inboxId: toGlobalId("Inbox", inboxId), name: "Support mail", teamEmail: { address: `support-${externalId()}@acme.test`, ...teamEmail } },
  });
  if (r.connectChannel.__typename !== "ConnectChannelResult" || !r.connectChannel.inboundEmailSecret) throw new Error(JSON.stringify(r.connectChannel));
  return { id: r.connectChannel.channel.id, secret: r.connectChannel.inboundEmailSecret };
}

function postEmail(channelId: string, body: Buffer | string, secret?: string, contentType = "message/rfc822") {
  return fetch(new URL(`/inbound/email/${channelId}`, t.url), {
    method: "POST",
    headers: { "content-type": contentType, ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
}

const counts = async () => ({
  messages: await t.prisma.message.count({ where: { accountId: a.accountId } }),
  conversations: await t.prisma.conversation.count({ where: { accountId: a.accountId } }),
  contacts: await t.prisma.contact.count({ where: { accountId: a.accountId } }),
  attachments: await t.prisma.attachment.count({ where: { accountId: a.accountId } }),
  files: (await readdir(path.join(t.config.dataDir, "attachments", a.accountId)).catch(() => [])).length,
});

const mail = (lines: string[]) => Buffer.from(lines.join("\r\n"));

describe("inbound email", () => {
  test("a wrong secret, an oversized body, a wrong content type and malformed MIME are refused with nothing stored", async () => {
    const ch = await connectTeamEmail();
    const good = await fixture("with-attachment.eml");
    const before = await counts();
    expect((await postEmail(ch.id, good)).status).toBe(401);
    expect((await postEmail(ch.id, good, "not-the-secret")).status).toBe(401);
    expect((await postEmail(ch.id, Buffer.concat([good, Buffer.alloc(70_000, 0x41)]), ch.secret)).status).toBe(413);
    expect((await postEmail(ch.id, good, ch.secret, "text/plain")).status).toBe(415);
    const noFrom = await postEmail(ch.id, await fixture("malformed-no-from.eml"), ch.secret);
    expect(noFrom.status).toBe(400);
    expect(await noFrom.json()).toMatchObject({ error: "malformed_email" });
    expect((await postEmail(ch.id, Buffer.from([0, 1, 2, 3, 0xff, 0xfe]), ch.secret)).status).toBe(400);
    expect((await postEmail(toGlobalId("Channel", "00000000-0000-0000-0000-000000000000"), good, ch.secret)).status).toBe(404);
    expect(await counts()).toEqual(before);
  });

  test("a MIME message with attachments becomes a conversation; the kept attachment downloads through its signed URL, expired or forged URLs are refused", async () => {
    const ch = await connectTeamEmail();
    const res = await postEmail(ch.id, await fixture("with-attachment.eml"), ch.secret);
    expect(res.status).toBe(202);
    const { messageId, conversationId, duplicate } = await res.json();
    expect(duplicate).toBe(false);
    const conversation = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(conversationId, "Conversation") }, include: { contact: true } });
    expect(conversation).toMatchObject({ subject: "Invoice question", threadKey: "<invoice-1@customer.test>", channelId: fromGlobalId(ch.id, "Channel"), contact: { email: "carla@customer.test", name: "Carla Rossi" } });

    const { node } = await t.client(await t.tokenFor(a.agent)).request(TrMessageAttachmentsDocument, { id: messageId });
    if (node?.__typename !== "Message") throw new Error("no message");
    // scan.bin (3000 bytes) is over MAX_ATTACHMENT_BYTES (1024): skipped, and the text says so.
    expect(node.attachments).toEqual([{ kind: "FILE", name: "invoice-2024-117.pdf", mimeType: "application/pdf", size: 53, url: null, downloadUrl: expect.stringMatching(/^\/attachments\/[0-9a-f-]{36}\?expires=\d+&signature=/) }]);
    expect(node.text).toContain("the attached invoice shows the wrong amount");
    expect(node.text).toContain("scan.bin");

    const download = await fetch(new URL(node.attachments[0].downloadUrl!, t.url));
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toContain("invoice-2024-117.pdf");
    expect(Buffer.from(await download.arrayBuffer()).toString()).toContain("fake invoice 2024-117");

    const forged = node.attachments[0].downloadUrl!.replace(/signature=./, (m) => (m.endsWith("A") ? m.slice(0, -1) + "B" : m.slice(0, -1) + "A"));
    expect((await fetch(new URL(forged, t.url))).status).toBe(403);
    const attachmentId = node.attachments[0].downloadUrl!.split("/attachments/")[1].split("?")[0];
    const expired = await signedDownloadUrl(t.config, attachmentId, 60, Date.now() - 120_000);
    expect((await fetch(new URL(expired, t.url))).status).toBe(403);
    const otherId = await signedDownloadUrl(t.config, "00000000-0000-0000-0000-000000000000");
    expect((await fetch(new URL(otherId.replace(/\/attachments\/[^?]+/, `/attachments/${attachmentId}`), t.url))).status).toBe(403);

    // The same Message-ID again (a retried delivery) stores nothing new.
    const before = await counts();
    const again = await postEmail(ch.id, await fixture("with-attachment.eml"), ch.secret);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ messageId, duplicate: true });
    expect(await counts()).toEqual(before);
  });

  test("forwarded mail is logged on the original sender, or on the forwarder when the channel turns that off", async () => {
    const on = await connectTeamEmail();
    const off = await connectTeamEmail({ logToOriginalSender: false });
    const contactOf = async (res: Response) => {
      expect(res.status).toBe(202);
      const { conversationId } = await res.json();
      return (await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(conversationId, "Conversation") }, include: { contact: true } })).contact;
    };
    expect(await contactOf(await postEmail(on.id, await fixture("forwarded.eml"), on.secret))).toMatchObject({ email: "alice@original.test", name: "Alice Original" });
    expect(await contactOf(await postEmail(on.id, await fixture("forwarded-attached.eml"), on.secret))).toMatchObject({ email: "dario@client.test" });
    expect(await contactOf(await postEmail(off.id, await fixture("forwarded.eml"), off.secret))).toMatchObject({ email: "bruno@agency.test" });
  });
});

describe("outbound email", () => {
  test("an agent's reply goes out over SMTP with From, Subject, threading headers and the signature; the customer's answer joins the thread", async () => {
    const ch = await connectTeamEmail({ signature: "{{sender.fullName}}\nAcme support team" });
    const first = await postEmail(ch.id, mail(["From: Paolo <paolo@customer.test>", "To: support@acme.test", "Subject: Delivery date", "Message-ID: <ask-1@customer.test>", "", "When does my order arrive?"]), ch.secret);
    const { conversationId } = await first.json();
    const before = smtp.received.length;
    const r = await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId, text: "It ships tomorrow." } });
    if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
    expect(r.reply.sentMessage.deliveryStatus).toBe("PENDING");
    await smtp.waitFor(before + 1);
    const sent = smtp.received[before];
    expect(sent.envelope.to).toEqual(["paolo@customer.test"]);
    expect(sent.parsed.from?.value[0]).toMatchObject({ name: "Gianna Verdi (Acme Corp)", address: expect.stringMatching(/^support-.*@acme\.test$/) });
    expect(sent.parsed.subject).toBe("Re: Delivery date");
    expect(sent.parsed.inReplyTo).toBe("<ask-1@customer.test>");
    expect([sent.parsed.references].flat()).toContain("<ask-1@customer.test>");
    expect(sent.parsed.text).toContain("It ships tomorrow.");
    expect(sent.parsed.text).toContain("Gianna Verdi\nAcme support team");
    expect(sent.parsed.messageId).toMatch(/@mail\.acme\.test>$/);

    const stored = await eventually(async () => {
      const m = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.reply.__typename === "MessageResult" ? r.reply.sentMessage.id : "", "Message") } });
      expect(m).toMatchObject({ deliveryStatus: "SENT", externalId: sent.parsed.messageId });
      return m;
    });
    const answer = await postEmail(ch.id, mail(["From: Paolo <paolo@customer.test>", "Subject: Re: Delivery date", `Message-ID: <ask-2@customer.test>`, `In-Reply-To: ${stored.externalId}`, `References: <ask-1@customer.test> ${stored.externalId}`, "", "Great, thanks!"]), ch.secret);
    expect(await answer.json()).toMatchObject({ conversationId, duplicate: false });
    const unrelated = await postEmail(ch.id, mail(["From: Paolo <paolo@customer.test>", "Subject: Another topic", "Message-ID: <ask-3@customer.test>", "", "New question"]), ch.secret);
    expect((await unrelated.json()).conversationId).not.toBe(conversationId);
  });

  test("the company-only From name", async () => {
    const ch = await connectTeamEmail({ fromName: "COMPANY_ONLY" });
    const { conversationId } = await (await postEmail(ch.id, mail(["From: nina@customer.test", "Subject: Hi", "Message-ID: <nina-1@customer.test>", "", "Hello"]), ch.secret)).json();
    const before = smtp.received.length;
    await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId, text: "Hello Nina" } });
    await smtp.waitFor(before + 1);
    expect(smtp.received[before].parsed.from?.value[0].name).toBe("Acme Corp");
  });

  test("SMTP failures are retried; a reply still failing at the maximum age ends FAILED with the reason", async () => {
    const ch = await connectTeamEmail();
    const { conversationId } = await (await postEmail(ch.id, mail(["From: Ugo <ugo@customer.test>", "Subject: Retry", "Message-ID: <ugo-1@customer.test>", "", "Hello"]), ch.secret)).json();
    const agent = t.client(await t.tokenFor(a.agent));
    const before = smtp.received.length;
    smtp.failNext(2);
    const ok = await agent.request(ConvReplyDocument, { input: { conversationId, text: "Third time lucky" } });
    if (ok.reply.__typename !== "MessageResult") throw new Error("reply failed");
    await smtp.waitFor(before + 1);
    const okId = fromGlobalId(ok.reply.sentMessage.id, "Message");
    await eventually(async () => expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: okId } })).toMatchObject({ kind: "EMAIL", state: "DONE", attempts: 3 }));

    smtp.failNext(1000);
    try {
      const doomed = await agent.request(ConvReplyDocument, { input: { conversationId, text: "Nobody home" } });
      if (doomed.reply.__typename !== "MessageResult") throw new Error("reply failed");
      const doomedId = fromGlobalId(doomed.reply.sentMessage.id, "Message");
      await eventually(async () => {
        expect(await t.prisma.message.findUniqueOrThrow({ where: { id: doomedId } })).toMatchObject({ deliveryStatus: "FAILED", deliveryError: expect.stringMatching(/^Email delivery failed: .*451/) });
        expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId: doomedId } })).toMatchObject({ state: "FAILED" });
      });
    } finally {
      smtp.clearFailures();
    }
  });

  test("a contact owner who is away gets the customer's email as a notification, and the customer's message keeps no delivery status", async () => {
    const owner = await t.prisma.user.create({ data: { accountId: a.accountId, email: `owner-${externalId()}@acme.test`, firstName: "Olga", availability: "AWAY" } });
    // Routing picks only users who can see the channel's inbox.
    await t.prisma.inboxUser.create({ data: { accountId: a.accountId, inboxId, userId: owner.id } });
    await t.prisma.contact.create({ data: { accountId: a.accountId, email: "vip@customer.test", name: "Vip", ownerId: owner.id, tracked: true } });
    const ch = await connectTeamEmail();
    await t.prisma.channel.update({ where: { id: fromGlobalId(ch.id, "Channel") }, data: { autoAssign: true, routingTarget: "CONTACT_OWNER" } });
    const before = smtp.received.length;
    const res = await postEmail(ch.id, mail(["From: Vip <vip@customer.test>", "Subject: Urgent renewal", "Message-ID: <vip-1@customer.test>", "", "Please call me back today."]), ch.secret);
    const { messageId } = await res.json();
    await smtp.waitFor(before + 1);
    const note = smtp.received[before];
    expect(note.envelope.to).toEqual([owner.email]);
    expect(note.parsed.from?.value[0].address).toBe("notifications@mail.acme.test");
    expect(note.parsed.subject).toBe("New message from Vip");
    expect(note.parsed.text).toContain("Please call me back today.");
    await eventually(async () => expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { kind: "NOTIFICATION_EMAIL", userId: owner.id } })).toMatchObject({ state: "DONE" }));
    expect(await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(messageId, "Message") } })).toMatchObject({ deliveryStatus: null, externalId: "<vip-1@customer.test>" });
  });
});
