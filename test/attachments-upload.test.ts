import { randomBytes } from "node:crypto";
import { readdir, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UpReplyDocument, type ReplyInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import type { ChannelType } from "../src/generated/prisma/client.js";
import { startDeliveryWorker } from "../src/services/deliveries.js";
import { attachmentPath, readUpload, removeUnusedFiles, signUpload } from "../src/services/attachments-store.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";
import { startGraphApiFake } from "./support/graph-api-fake.js";
import { startSmtpSink } from "./support/smtp-sink.js";
import { eventually } from "./support/eventually.js";

const PUBLIC_URL = "https://inbox.acme.test";
const MAX_BYTES = 64 * 1024;
const WORKER = { pollIntervalMs: 25, baseDelayMs: 30, maxDelayMs: 200, maxAgeMs: 5000 };

let t: TestServer;
let graph: Awaited<ReturnType<typeof startGraphApiFake>>;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let worker: { stop(): Promise<void> };
let a: TestAccount;
let b: TestAccount;
let inboxId: string;

beforeAll(async () => {
  graph = await startGraphApiFake();
  smtp = await startSmtpSink();
  t = await startTestServer({
    DELIVERY_WORKER: "false",
    SMTP_URL: smtp.url,
    GRAPH_API_BASE_URL: graph.url,
    META_ACCESS_TOKEN: "page-token",
    PUBLIC_URL,
    MAX_ATTACHMENT_BYTES: String(MAX_BYTES),
    // The browser inbox of the cross-origin upload test below (src/http/cors.ts).
    CORS_ORIGINS: "https://inbox-ui.example",
  });
  worker = startDeliveryWorker(t.server.services, WORKER);
  a = await createTestAccount(t.prisma, { name: "Uploads" });
  b = await createTestAccount(t.prisma, { name: "Other" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await graph?.close();
  await smtp?.close();
});

interface Uploaded {
  upload: string;
  name: string;
  mimeType: string;
  size: number;
}

/** POST /attachments with the raw bytes, as an agent UI would. */
function postUpload(body: Buffer, opts: { token?: string; name?: string; type?: string; query?: string } = {}) {
  return fetch(new URL(`/attachments${opts.query ?? ""}`, t.url), {
    method: "POST",
    headers: {
      "content-type": opts.type ?? "application/octet-stream",
      ...(opts.name ? { "x-filename": opts.name } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: new Uint8Array(body),
  });
}

async function upload(bytes: Buffer, name: string, type: string, user = a.agent): Promise<Uploaded> {
  const res = await postUpload(bytes, { token: await t.tokenFor(user), name, type });
  expect(res.status).toBe(201);
  return (await res.json()) as Uploaded;
}

const storedFiles = async (accountId: string) => (await readdir(path.join(t.config.dataDir, "attachments", accountId)).catch(() => [])).length;

/** Downloads a link the server handed out (absolute under PUBLIC_URL) from the test server itself. */
async function download(link: string) {
  expect(link.startsWith(`${PUBLIC_URL}/attachments/`)).toBe(true);
  const url = new URL(link);
  const res = await fetch(new URL(url.pathname + url.search, t.url));
  expect(res.status).toBe(200);
  return { type: res.headers.get("content-type"), bytes: Buffer.from(await res.arrayBuffer()) };
}

const reply = async (input: ReplyInput) => (await t.client(await t.tokenFor(a.agent)).request(UpReplyDocument, { input })).reply;

/** A channel of the account and a conversation on it with a recent customer message. */
async function conversationOn(type: ChannelType, opts: { threadKey?: string; email?: string; channel?: Record<string, unknown>; channelAppId?: string } = {}) {
  const channel = await createChannel(t.prisma, { accountId: a.accountId, inboxId, type, channelAppId: opts.channelAppId, emailAddress: type === "TEAM_EMAIL" ? `support-${externalId()}@acme.test` : undefined });
  if (opts.channel) await t.prisma.channel.update({ where: { id: channel.id }, data: opts.channel });
  const contact = await t.prisma.contact.create({ data: { accountId: a.accountId, name: "Carla", email: opts.email ?? null } });
  const now = new Date();
  const conversation = await t.prisma.conversation.create({
    data: { accountId: a.accountId, inboxId, channelId: channel.id, contactId: contact.id, threadKey: opts.threadKey ?? null, subject: "Invoice", lastInboundAt: now, firstInboundAt: now, lastActivityAt: now },
  });
  await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: conversation.id, channelId: channel.id, direction: "INBOUND", senderType: "CONTACT", text: "Can you send it?" } });
  return { channelId: channel.id, conversationId: toGlobalId("Conversation", conversation.id), id: conversation.id };
}

describe("POST /attachments", () => {
  test("stores the file and answers a token; 401 without a valid agent token, 413 over MAX_ATTACHMENT_BYTES, nothing stored on a refusal", async () => {
    const bytes = randomBytes(2000);
    const before = await storedFiles(a.accountId);
    expect((await postUpload(bytes, { name: "x.bin" })).status).toBe(401);
    expect((await postUpload(bytes, { token: "not-a-jwt" })).status).toBe(401);
    const partnerToken = await t.server.services.auth.sign({ typ: "partner", partnerId: "00000000-0000-0000-0000-000000000000" });
    expect((await postUpload(bytes, { token: partnerToken })).status).toBe(401);
    const tooLarge = await postUpload(randomBytes(MAX_BYTES + 1), { token: await t.tokenFor(a.agent), name: "big.bin" });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: "payload_too_large", limit: MAX_BYTES });
    expect(await storedFiles(a.accountId)).toBe(before);

    const res = await postUpload(bytes, { token: await t.tokenFor(a.agent), type: "application/pdf; charset=binary", query: "?name=invoice%20march.pdf" });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ upload: expect.stringMatching(/^up1\.[\w-]+\.[\w-]+$/), name: "invoice march.pdf", mimeType: "application/pdf", size: 2000 });
    expect(await storedFiles(a.accountId)).toBe(before + 1);
  });

  test("a browser inbox on another origin may upload: the preflight is answered and the answer names its origin", async () => {
    const origin = "https://inbox-ui.example";
    const preflight = await fetch(new URL("/attachments", t.url), {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-filename" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-filename");
    const res = await fetch(new URL("/attachments", t.url), {
      method: "POST",
      headers: { origin, authorization: `Bearer ${await t.tokenFor(a.agent)}`, "content-type": "text/plain", "x-filename": "note.txt" },
      body: "hello",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("vary")).toBe("Origin");
    // Without an Origin (not a browser), no CORS headers.
    expect((await postUpload(Buffer.from("x"), { token: await t.tokenFor(a.agent) })).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("replies with uploads", () => {
  test("email: the upload goes as a MIME attachment with the same bytes, a link attachment stays a link, the agent gets a downloadUrl", async () => {
    const { conversationId } = await conversationOn("TEAM_EMAIL", { email: `carla-${externalId()}@example.test` });
    const bytes = randomBytes(5000);
    const up = await upload(bytes, "invoice.pdf", "application/pdf");
    const r = await reply({ conversationId, text: "Here it is.", attachments: [{ kind: "FILE", upload: up.upload }, { kind: "IMAGE", url: "https://cdn.acme.test/logo.png", name: "logo.png" }] });
    if (r.__typename !== "MessageResult") throw new Error(JSON.stringify(r));
    expect(r.sentMessage.attachments).toMatchObject([
      { kind: "FILE", name: "invoice.pdf", mimeType: "application/pdf", size: 5000, url: null, downloadUrl: expect.any(String) },
      { kind: "IMAGE", name: "logo.png", url: "https://cdn.acme.test/logo.png", downloadUrl: null },
    ]);
    expect((await download(r.sentMessage.attachments[0].downloadUrl!)).bytes.equals(bytes)).toBe(true);

    await smtp.waitFor(1);
    const mail = smtp.received.at(-1)!.parsed;
    expect(mail.attachments.map((x) => [x.filename, x.contentType])).toEqual([["invoice.pdf", "application/pdf"]]);
    expect(mail.attachments[0].content.equals(bytes)).toBe(true);
    expect(mail.text).toContain("Here it is.");
    expect(mail.text).toContain("logo.png: https://cdn.acme.test/logo.png");
    expect(mail.text).not.toContain("invoice.pdf");
    await eventually(async () => expect((await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.sentMessage.id, "Message") } })).deliveryStatus).toBe("SENT"));
  });

  test("Messenger: the text, then one media message per attachment; the upload's link downloads the same bytes", async () => {
    const psid = `PSID-${externalId()}`;
    const { conversationId } = await conversationOn("FACEBOOK_MESSENGER", { threadKey: psid, channel: { facebookPageId: `page-${externalId()}` } });
    const bytes = randomBytes(3000);
    const up = await upload(bytes, "photo.png", "image/png");
    const from = graph.requests.length;
    const r = await reply({ conversationId, text: "The photo and the manual", attachments: [{ kind: "IMAGE", upload: up.upload }, { kind: "FILE", url: "https://cdn.acme.test/manual.pdf" }] });
    if (r.__typename !== "MessageResult") throw new Error(JSON.stringify(r));
    await graph.waitFor(from + 3);
    const [text, image, file] = graph.requests.slice(from).map((x) => x.json);
    expect(text).toEqual({ recipient: { id: psid }, messaging_type: "RESPONSE", message: { text: "The photo and the manual" } });
    expect(image).toMatchObject({ recipient: { id: psid }, message: { attachment: { type: "image", payload: { url: expect.any(String), is_reusable: true } } } });
    expect(file).toMatchObject({ recipient: { id: psid }, message: { attachment: { type: "file", payload: { url: "https://cdn.acme.test/manual.pdf", is_reusable: true } } } });
    const got = await download(image.message.attachment.payload.url);
    expect(got.type).toBe("image/png");
    expect(got.bytes.equals(bytes)).toBe(true);
    await eventually(async () => expect(await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.sentMessage.id, "Message") } })).toMatchObject({ deliveryStatus: "SENT", externalId: expect.stringMatching(/^m_fake/) }));
    expect(graph.requests.length).toBe(from + 3);
  });

  test("WhatsApp: the text, then a document with its filename and an audio message, linked to the uploaded bytes", async () => {
    const waId = `3934${randomBytes(4).readUInt32BE() % 10_000_000}`;
    const { conversationId } = await conversationOn("WHATSAPP", { threadKey: waId, channel: { settings: { phoneNumberId: "PNID-UP" } } });
    const doc = randomBytes(4000);
    const voice = randomBytes(1500);
    const [upDoc, upVoice] = [await upload(doc, "manual.pdf", "application/pdf"), await upload(voice, "note.ogg", "audio/ogg")];
    const from = graph.requests.length;
    const r = await reply({ conversationId, text: "Manual and a note", attachments: [{ kind: "FILE", upload: upDoc.upload }, { kind: "VOICE_NOTE", upload: upVoice.upload }] });
    if (r.__typename !== "MessageResult") throw new Error(JSON.stringify(r));
    await graph.waitFor(from + 3);
    const sent = graph.requests.slice(from);
    expect(sent.map((x) => x.path)).toEqual(["/v19.0/PNID-UP/messages", "/v19.0/PNID-UP/messages", "/v19.0/PNID-UP/messages"]);
    expect(sent[0].json).toMatchObject({ messaging_product: "whatsapp", to: waId, type: "text", text: { body: "Manual and a note" } });
    expect(sent[1].json).toMatchObject({ messaging_product: "whatsapp", to: waId, type: "document", document: { link: expect.any(String), filename: "manual.pdf" } });
    expect(sent[2].json).toMatchObject({ messaging_product: "whatsapp", to: waId, type: "audio", audio: { link: expect.any(String) } });
    expect(sent[2].json.audio.filename).toBeUndefined();
    expect((await download(sent[1].json.document.link)).bytes.equals(doc)).toBe(true);
    expect((await download(sent[2].json.audio.link)).bytes.equals(voice)).toBe(true);
    await eventually(async () => expect((await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.sentMessage.id, "Message") } })).deliveryStatus).toBe("SENT"));
  });

  test("a retry after a failed media request sends only what is left: the text goes once", async () => {
    const psid = `PSID-${externalId()}`;
    const { conversationId } = await conversationOn("FACEBOOK_MESSENGER", { threadKey: psid, channel: { facebookPageId: `page-${externalId()}` } });
    const up = await upload(randomBytes(100), "a.png", "image/png");
    const from = graph.requests.length;
    graph.failNext(200, 503);
    const r = await reply({ conversationId, text: "Only once", attachments: [{ kind: "IMAGE", upload: up.upload }] });
    if (r.__typename !== "MessageResult") throw new Error(JSON.stringify(r));
    await graph.waitFor(from + 3);
    const sent = graph.requests.slice(from);
    expect(sent.map((x) => [x.status, x.json.message.text ?? x.json.message.attachment.type])).toEqual([[200, "Only once"], [503, "image"], [200, "image"]]);
    const messageId = fromGlobalId(r.sentMessage.id, "Message");
    await eventually(async () => {
      expect(await t.prisma.outboundDelivery.findFirstOrThrow({ where: { messageId } })).toMatchObject({ state: "DONE", attempts: 2 });
      expect((await t.prisma.message.findUniqueOrThrow({ where: { id: messageId } })).deliveryStatus).toBe("SENT");
    });
    expect(graph.requests.length).toBe(from + 3);
  });

  test("upload tokens of another account, altered or expired, and attachments with neither or both of url and upload are ValidationErrors; no message is written", async () => {
    const { conversationId, id } = await conversationOn("TEAM_EMAIL", { email: `vera-${externalId()}@example.test` });
    const own = await upload(randomBytes(64), "ok.txt", "text/plain");
    const foreign = await upload(randomBytes(64), "theirs.txt", "text/plain", b.agent);
    const [prefix, body, signature] = own.upload.split(".");
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    const altered = `${prefix}.${Buffer.from(JSON.stringify({ ...claims, s: 1 })).toString("base64url")}.${signature}`;
    const badSignature = `${prefix}.${body}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    const expired = await signUpload(t.config, { accountId: claims.a, storageKey: claims.k, name: claims.n, mimeType: claims.m, size: claims.s }, 60, Date.now() - 2 * 86_400_000);
    const outbound = () => t.prisma.message.count({ where: { conversationId: id, direction: "OUTBOUND" } });

    for (const [token, message] of [[foreign.upload, /not a valid upload/i], [altered, /not a valid upload/i], [badSignature, /not a valid upload/i], ["garbage", /not a valid upload/i], [expired, /expired/]] as const) {
      const r = await reply({ conversationId, text: "x", attachments: [{ kind: "FILE", url: "https://cdn.acme.test/fine.txt" }, { kind: "FILE", upload: token }] });
      expect(r).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "attachments", "1", "upload"], message: expect.stringMatching(message) }] });
    }
    const neither = await reply({ conversationId, text: "x", attachments: [{ kind: "FILE" }] });
    expect(neither).toMatchObject({ __typename: "ValidationError" });
    if (neither.__typename !== "ValidationError") throw new Error("expected a ValidationError");
    expect(neither.fieldErrors.map((e) => e.path.join("."))).toEqual(["input.attachments.0.url", "input.attachments.0.upload"]);
    const both = await reply({ conversationId, text: "x", attachments: [{ kind: "FILE", upload: own.upload, url: "https://cdn.acme.test/x" }] });
    if (both.__typename !== "ValidationError") throw new Error("expected a ValidationError");
    expect(both.fieldErrors.map((e) => e.path.join("."))).toEqual(["input.attachments.0.url", "input.attachments.0.upload"]);

    // A partner channel takes links only.
    const partner = await createPartnerApp(t.prisma, t.server.services.auth);
    const custom = await conversationOn("CUSTOM", { channelAppId: partner.app.id, threadKey: externalId() });
    const onCustom = await reply({ conversationId: custom.conversationId, text: "x", attachments: [{ kind: "FILE", upload: own.upload }] });
    expect(onCustom).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "attachments", "0", "upload"] }] });

    expect(await outbound()).toBe(0);
    expect(await t.prisma.message.count({ where: { conversationId: fromGlobalId(custom.conversationId, "Conversation"), direction: "OUTBOUND" } })).toBe(0);
    // The valid token still works.
    expect((await reply({ conversationId, text: "x", attachments: [{ kind: "FILE", upload: own.upload }] })).__typename).toBe("MessageResult");
  });
});

describe("unused uploads", () => {
  test("files no attachment names are removed once older than an upload's life; used and recent ones stay", async () => {
    const { conversationId } = await conversationOn("TEAM_EMAIL", { email: `dora-${externalId()}@example.test` });
    const unused = await upload(randomBytes(100), "never-sent.txt", "text/plain");
    const used = await upload(randomBytes(100), "sent.txt", "text/plain");
    const r = await reply({ conversationId, text: "Attached.", attachments: [{ kind: "FILE", upload: used.upload }] });
    if (r.__typename !== "MessageResult") throw new Error(JSON.stringify(r));
    const fresh = await upload(randomBytes(100), "just-now.txt", "text/plain");
    const keyOf = async (token: string) => {
      const read = await readUpload(t.config, token, a.accountId);
      if (!read.ok) throw new Error(read.reason);
      return read.upload.storageKey;
    };
    const [unusedKey, usedKey, freshKey] = [await keyOf(unused.upload), await keyOf(used.upload), await keyOf(fresh.upload)];
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    for (const key of [unusedKey, usedKey]) await utimes(attachmentPath(t.config, key), twoDaysAgo, twoDaysAgo);
    const exists = (key: string) => stat(attachmentPath(t.config, key)).then(() => true, () => false);

    expect(await removeUnusedFiles(t.prisma, t.config)).toBe(1);
    expect(await exists(unusedKey)).toBe(false);
    expect(await exists(usedKey)).toBe(true);
    expect(await exists(freshKey)).toBe(true);
    expect(await removeUnusedFiles(t.prisma, t.config)).toBe(0);
  });
});
