import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dkimVerify } from "mailauth";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvReplyDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml, smtpSend } from "./support/email-ingress.js";
import { fakeResolver } from "./support/fake-dns.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { eventually } from "./support/eventually.js";

const fixture = (name: string) => readFile(new URL(`./fixtures/email/${name}`, import.meta.url));

// Outbound signing key: made per run, its public half published in the fake DNS.
const outbound = generateKeyPairSync("rsa", { modulusLength: 2048 });
const dns = fakeResolver({
  "_dmarc.shop.customer.test": "v=DMARC1; p=reject",
  "shop.customer.test": "v=spf1 ip4:127.0.0.1 -all",
  "faraway.test": "v=spf1 ip4:192.0.2.1 -all",
  "_dmarc.faraway.test": "v=DMARC1; p=quarantine",
  "out._domainkey.acme.test": `v=DKIM1; k=rsa; p=${outbound.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`,
});

let t: TestServer;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let worker: { stop(): Promise<void> };
let port: number;
let a: TestAccount;
let inboxId: string;
const ACK = "We got your message.";

beforeAll(async () => {
  dns.set("s1._domainkey.shop.customer.test", (await fixture("dkim-signed.s1._domainkey.txt")).toString().trim());
  sink = await startSmtpSink();
  t = await startTestServer({
    DELIVERY_WORKER: "false",
    SMTP_URL: sink.url,
    SMTP_FROM_DOMAIN: "mail.acme.test",
    SMTP_LISTEN: "127.0.0.1:0",
    DKIM_PRIVATE_KEY: outbound.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    DKIM_SELECTOR: "out",
    DKIM_DOMAIN: "acme.test",
  });
  t.config.transports.email.resolver = dns.resolver;
  worker = startDeliveryWorker(t.server.services, { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 3000 });
  port = t.server.smtp!.port;
  a = await createTestAccount(t.prisma, { name: "Acme Corp" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await sink?.close();
});

const RESULTS = `query($id: ID!) { node(id: $id) { ... on Message { authenticationResults { spf dkim dkimDomains dmarc dmarcPolicy flagged reasons automated spam { spam score source } header } } } }`;

/** SMTP-sends `raw` to the channel and returns the stored message's authenticationResults through the API. */
async function receive(ch: { address: string; rawId: string }, raw: string | Buffer, envelopeFrom: string) {
  await smtpSend(port, { from: envelopeFrom, to: ch.address, raw });
  const id = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.toString())![1];
  const message = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, channelId: ch.rawId, externalId: id } });
  const { node } = await t.client(await t.tokenFor(a.agent)).request<{ node: { authenticationResults: Record<string, unknown> } }>(RESULTS, { id: toGlobalId("Message", message.id) });
  return { message, results: node.authenticationResults };
}

const botReplies = (channelId: string) => t.prisma.message.count({ where: { accountId: a.accountId, channelId, senderType: "BOT" } });

describe("sender authentication", () => {
  test("a DKIM-signed fixture verifies (DKIM, SPF and DMARC pass) and is auto-replied; the same message tampered fails DKIM and DMARC, is flagged and gets no auto-reply", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test`, autoReply: ACK });
    const signed = await fixture("dkim-signed.eml");
    const good = await receive(ch, signed, "sofia@shop.customer.test");
    expect(good.results).toMatchObject({ dkim: "pass", dkimDomains: ["shop.customer.test"], spf: "pass", dmarc: "pass", dmarcPolicy: "reject", flagged: false, reasons: [] });
    expect(good.results.header).toMatch(/dkim=pass/);
    await eventually(async () => expect(await botReplies(ch.rawId)).toBe(1));

    const other = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test`, autoReply: ACK });
    const tampered = signed.toString().replace("#7781", "#7782");
    // Relayed through a server outside the domain's SPF, DMARC rests on the (broken) signature.
    const bad = await receive(other, tampered, "bounces@relay.test");
    expect(bad.results).toMatchObject({ dkim: "fail", dkimDomains: [], spf: "none", dmarc: "fail", flagged: true, reasons: ["dmarc-fail"] });
    // Stored, for the agents to judge, but never answered automatically.
    expect(bad.message.text).toContain("#7782");
    await receive(other, eml(["From: ok@customer.test", `Message-ID: <after-${externalId()}@customer.test>`, "Subject: Hi", "", "Hi"]), "ok@customer.test");
    await eventually(async () => expect(await t.prisma.outboundDelivery.count({ where: { accountId: a.accountId, channelId: other.rawId, state: "DONE" } })).toBe(1));
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, channelId: other.rawId, senderType: "BOT", inReplyToId: bad.message.id } })).toBe(0);
  });

  test("SPF fails for a server the sender's domain does not list; the From domain's DMARC then fails too", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test` });
    const { results } = await receive(ch, eml(["From: Forger <ceo@faraway.test>", `Message-ID: <spf-${externalId()}@faraway.test>`, "Subject: Wire money", "", "Urgent"]), "ceo@faraway.test");
    expect(results).toMatchObject({ spf: "fail", dkim: "none", dmarc: "fail", dmarcPolicy: "quarantine", flagged: true });
  });

  test("an upstream spam filter's verdict is honoured: X-Spam-Flag YES flags the message, X-Spam-Status No keeps its score only", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test`, autoReply: ACK });
    const spam = await receive(ch, eml(["X-Spam-Flag: YES", "X-Spam-Status: Yes, score=9.7 required=5.0", "From: deals@spam.test", `Message-ID: <spam-${externalId()}@spam.test>`, "Subject: Cheap", "", "Buy"]), "deals@spam.test");
    expect(spam.results).toMatchObject({ flagged: true, reasons: ["spam"], spam: { spam: true, score: 9.7, source: "X-Spam-Flag" } });
    const ham = await receive(ch, eml(["X-Spam-Status: No, score=1.2 required=5.0", "From: ok@ham.test", `Message-ID: <ham-${externalId()}@ham.test>`, "Subject: Order", "", "Order"]), "ok@ham.test");
    expect(ham.results).toMatchObject({ flagged: false, spam: { spam: false, score: 1.2, source: "X-Spam-Status" } });
    await eventually(async () => expect(await botReplies(ch.rawId)).toBe(1));
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, senderType: "BOT", inReplyToId: spam.message.id } })).toBe(0);
  });
});

describe("outbound signing", () => {
  test("replies are DKIM-signed with the configured key and verify against its DNS record; tampering breaks the signature", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test` });
    const first = await receive(ch, eml(["From: Nora <nora@customer.test>", `Message-ID: <sign-${externalId()}@customer.test>`, "Subject: Signed reply please", "", "Hello"]), "nora@customer.test");
    const before = sink.received.length;
    await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, { input: { conversationId: toGlobalId("Conversation", first.message.conversationId), text: "Signed and sealed." } });
    await sink.waitFor(before + 1);
    const raw = sink.received[before].raw;
    expect(raw).toMatch(/^DKIM-Signature: .*d=acme\.test/m);
    const verified = await dkimVerify(Buffer.from(raw), { resolver: dns.resolver });
    expect(verified.results.map((r) => [r.signingDomain, r.status.result])).toEqual([["acme.test", "pass"]]);
    const broken = await dkimVerify(Buffer.from(raw.replace("Signed and sealed.", "Signed and changed.")), { resolver: dns.resolver });
    expect(broken.results[0].status).toMatchObject({ result: "neutral", comment: "body hash did not verify" });
  });
});

describe("provider inbound parse", () => {
  test("SendGrid Inbound Parse's raw shape (multipart/form-data, the message in `email`, the secret as Basic password) lands like a raw POST", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: `support-${externalId()}@acme.test` });
    const id = `<sendgrid-${externalId()}@customer.test>`;
    const form = new FormData();
    form.set("to", ch.address);
    form.set("envelope", JSON.stringify({ to: [ch.address], from: "lia@customer.test" }));
    form.set("email", eml(["From: Lia <lia@customer.test>", `To: ${ch.address}`, `Message-ID: ${id}`, "Subject: Through SendGrid", "", "Parsed by SendGrid"]));
    const post = (authorization: string) => fetch(new URL(`/inbound/email/${ch.id}`, t.url), { method: "POST", headers: { authorization }, body: form });
    expect((await post(`Basic ${Buffer.from("inbound:wrong").toString("base64")}`)).status).toBe(401);
    const res = await post(`Basic ${Buffer.from(`inbound:${ch.secret}`).toString("base64")}`);
    expect(res.status).toBe(202);
    const stored = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, channelId: ch.rawId, externalId: id }, include: { conversation: { include: { contact: true } } } });
    expect(stored).toMatchObject({ text: "Parsed by SendGrid", conversation: { subject: "Through SendGrid", contact: { email: "lia@customer.test" } } });
    const noEmail = new FormData();
    noEmail.set("text", "only the parsed fields");
    const missing = await fetch(new URL(`/inbound/email/${ch.id}`, t.url), { method: "POST", headers: { authorization: `Bearer ${ch.secret}` }, body: noEmail });
    expect(missing.status).toBe(400);
  });
});
