import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { signMetaBody } from "../src/transports/meta/signature.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { ConvPublishDocument } from "./generated/graphql.js";
import { createChannel, createInbox, createPartnerApp } from "./support/conversation-fixtures.js";

/**
 * Hostile input against the transport routes (issue 24): correctly signed Meta webhooks of every
 * wrong shape, raw email with garbage headers, odd attachment names, NUL bytes and huge nested
 * HTML, call events with NUL ids, unknown or undecodable channel ids in the path. No answer may be
 * a 5xx, and `/health` keeps answering while they run (within 500 ms here; see the first test). GraphQL documents, ids and WebSocket tokens are hostile-input.test.ts's.
 */

const APP_SECRET = "hostile-meta-secret";
const PAGE_ID = String(100_000_000_000 + Math.floor(Math.random() * 1e9));
const WA_NUMBER = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
const CALL_NUMBER = `+1556${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

let t: TestServer;
let a: TestAccount;
let emailChannel: string;
let callChannel: string;
const emailSecret = `es_${randomBytes(16).toString("hex")}`;
const callSecret = `cs_${randomBytes(16).toString("hex")}`;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

beforeAll(async () => {
  t = await startTestServer({ DELIVERY_WORKER: "false", META_APP_SECRET: APP_SECRET, META_VERIFY_TOKEN: "v" });
  a = await createTestAccount(t.prisma, { tier: "PROFESSIONAL" });
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  const base = { accountId: a.accountId, inboxId: inbox.id };
  await t.prisma.channel.create({ data: { ...base, type: "FACEBOOK_MESSENGER", name: "Page", facebookPageId: PAGE_ID } });
  await t.prisma.channel.create({ data: { ...base, type: "WHATSAPP", name: "WA", phoneNumber: WA_NUMBER } });
  emailChannel = toGlobalId("Channel", (await t.prisma.channel.create({ data: { ...base, type: "TEAM_EMAIL", name: "Mail", emailAddress: `s-${randomBytes(4).toString("hex")}@acme.test`, inboundSecretHash: sha256(emailSecret) } })).id);
  callChannel = toGlobalId("Channel", (await t.prisma.channel.create({ data: { ...base, type: "CALLING", name: "Phone", phoneNumber: CALL_NUMBER, inboundSecretHash: sha256(callSecret) } })).id);
});
afterAll(async () => t?.close());

/** Every hostile answer, for the "no 5xx" check and the count in the summary. */
const answers: Array<{ label: string; status: number; text: string }> = [];

/** One request; a connection that fails or stays silent for 30 s is recorded as status 0. */
let inFlight = "";

async function send(label: string, path: string, init: RequestInit) {
  inFlight = label;
  let status = 0;
  let text = "";
  try {
    const res = await fetch(new URL(path, t.url), { ...init, signal: AbortSignal.timeout(30_000) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    text = String((err as Error).cause ?? err);
  }
  answers.push({ label, status, text });
  return { status, text };
}

/** A signed Meta webhook; `raw` lets a body carry what JSON.stringify cannot (1e400, NaN-like). */
function meta(label: string, route: "messenger" | "whatsapp", body: unknown, raw?: string) {
  const text = raw ?? JSON.stringify(body);
  return send(label, `/webhooks/${route}`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signMetaBody(APP_SECRET, text) }, body: text });
}

const INF = "__INFINITY__";
const withInfinity = (body: unknown) => JSON.stringify(body).replaceAll(`"${INF}"`, "1e400");
const mid = () => `m_${randomBytes(6).toString("hex")}`;
const page = (entry: unknown) => ({ object: "page", entry });
const event = (e: Record<string, unknown>) => page([{ id: PAGE_ID, time: 1, messaging: [{ sender: { id: "psid-1" }, recipient: { id: PAGE_ID }, timestamp: Date.now(), ...e }] }]);
const wa = (value: unknown) => ({ object: "whatsapp_business_account", entry: [{ id: "WABA", changes: [{ field: "messages", value }] }] });
const waValue = (extra: Record<string, unknown>) => wa({ messaging_product: "whatsapp", metadata: { display_phone_number: WA_NUMBER.slice(1), phone_number_id: "1" }, ...extra });
const waMessage = (m: Record<string, unknown>) => waValue({ messages: [{ id: `wamid.${randomBytes(6).toString("hex")}`, from: "15550009999", type: "text", text: { body: "hi" }, ...m }] });

const MESSENGER_CASES: Array<[string, unknown, string?]> = [
  ["entry number", page(5)],
  ["entry object", page({ id: PAGE_ID })],
  ["entry string", page("x")],
  ["entry [null]", page([null])],
  ["entry [5]", page([5])],
  ["entry id object", page([{ id: {}, messaging: [] }])],
  ["messaging number", page([{ id: PAGE_ID, messaging: 5 }])],
  ["messaging object", page([{ id: PAGE_ID, messaging: {} }])],
  ["messaging [null]", page([{ id: PAGE_ID, messaging: [null] }])],
  ["messaging [5]", page([{ id: PAGE_ID, messaging: [5] }])],
  ["sender number", event({ sender: 5, message: { mid: mid(), text: "x" } })],
  ["sender id number", event({ sender: { id: 12345 }, message: { mid: mid(), text: "x" } })],
  ["sender id object", event({ sender: { id: {} }, message: { mid: mid(), text: "x" } })],
  ["sender id 10k chars", event({ sender: { id: "p".repeat(10_000) }, message: { mid: mid(), text: "x" } })],
  ["message number", event({ message: 5 })],
  ["mid number", event({ message: { mid: 5, text: "x" } })],
  ["mid object", event({ message: { mid: {}, text: "x" } })],
  ["mid 5k chars", event({ message: { mid: "m".repeat(5000), text: "x" } })],
  ["text object", event({ message: { mid: mid(), text: {} } })],
  ["text number", event({ message: { mid: mid(), text: 5 } })],
  ["text NUL", event({ message: { mid: mid(), text: "a\u0000b" } })],
  ["text lone surrogate", event({ message: { mid: mid(), text: "a\ud800b" } })],
  ["key NUL", event({ message: { mid: mid(), text: "k", "x\u0000": 1 } })],
  ["attachments number", event({ message: { mid: mid(), attachments: 5 } })],
  ["attachments [null]", event({ message: { mid: mid(), attachments: [null] } })],
  ["attachment url number", event({ message: { mid: mid(), attachments: [{ type: "image", payload: { url: 5 } }] } })],
  ["attachment type constructor", event({ message: { mid: mid(), attachments: [{ type: "constructor", payload: { url: "https://x.test/a" } }] } })],
  ["attachment payload number", event({ message: { mid: mid(), attachments: [{ type: "image", payload: 5 }] } })],
  ["attachment url NUL", event({ message: { mid: mid(), attachments: [{ type: "image", payload: { url: "https://x.test/\u0000" } }] } })],
  ["quick_reply payload object", event({ message: { mid: mid(), text: "x", quick_reply: { payload: {} } } })],
  ["postback number", event({ postback: 5 })],
  ["postback fields of the wrong type", event({ postback: { payload: {}, title: 5 } })],
  ["delivery mids string", event({ delivery: { mids: "x", watermark: 1 } })],
  ["delivery mids [null]", event({ delivery: { mids: [null] } })],
  ["delivery mids [object]", event({ delivery: { mids: [{}] } })],
  ["delivery watermark string", event({ delivery: { watermark: "abc" } })],
  ["delivery watermark negative", event({ delivery: { watermark: -1e20 } })],
  ["delivery watermark past Date", event({ delivery: { watermark: 8.7e15 } })],
  ["delivery watermark 1e400", null, withInfinity(event({ delivery: { watermark: INF } }))],
  ["read watermark 1e400", null, withInfinity(event({ read: { watermark: INF } }))],
  ["read watermark object", event({ read: { watermark: {} } })],
  ["read watermark past Date", event({ read: { watermark: 9e15 } })],
  ["timestamp 1e400", null, withInfinity(event({ timestamp: INF, postback: { payload: "P", title: "T" } }))],
  ["timestamp object", event({ timestamp: {}, postback: { payload: "P", title: "T" } })],
  ["is_echo string", event({ message: { mid: mid(), text: "x", is_echo: "yes" } })],
  ["nested 10,000 deep", null, `{"object":"page","entry":${"[".repeat(10_000)}${"]".repeat(10_000)}}`],
  ["__proto__ keys", null, `{"object":"page","entry":[{"id":"${PAGE_ID}","__proto__":{"messaging":[1]},"messaging":[{"__proto__":{"x":1},"sender":{"id":"p"}}]}]}`],
];

const WHATSAPP_CASES: Array<[string, unknown]> = [
  ["entry number", { object: "whatsapp_business_account", entry: 5 }],
  ["entry [null]", { object: "whatsapp_business_account", entry: [null] }],
  ["changes number", { object: "whatsapp_business_account", entry: [{ changes: 5 }] }],
  ["changes [null]", { object: "whatsapp_business_account", entry: [{ changes: [null] }] }],
  ["value number", wa(5)],
  ["value string", wa("x")],
  ["metadata number", wa({ metadata: 5, messages: [] })],
  ["display number object", wa({ metadata: { display_phone_number: {} } })],
  ["display number as number", wa({ metadata: { display_phone_number: Number(WA_NUMBER.slice(1)) }, messages: [{ id: "wamid.n1", from: "15550009999", type: "text", text: { body: "n" } }] })],
  ["contacts number", waValue({ contacts: 5, messages: [] })],
  ["contacts [null]", waValue({ contacts: [null], messages: [] })],
  ["contact wa_id number", waValue({ contacts: [{ wa_id: 5 }] })],
  ["messages number", waValue({ messages: 5 })],
  ["messages [null]", waValue({ messages: [null] })],
  ["messages [5]", waValue({ messages: [5] })],
  ["message id number", waMessage({ id: 5 })],
  ["message from number", waMessage({ from: 15550009999 })],
  ["message from letters", waMessage({ from: "abc" })],
  ["message id 5k chars", waMessage({ id: "w".repeat(5000) })],
  ["text number", waMessage({ text: 5 })],
  ["text body object", waMessage({ text: { body: {} } })],
  ["text body NUL", waMessage({ text: { body: "a\u0000b" } })],
  ["image number", waMessage({ type: "image", image: 5 })],
  ["image id object", waMessage({ type: "image", image: { id: {} } })],
  ["type constructor", waMessage({ type: "constructor" })],
  ["type __proto__", waMessage({ type: "__proto__" })],
  ["type number", waMessage({ type: 5 })],
  ["timestamp object", waMessage({ timestamp: {} })],
  ["statuses number", waValue({ statuses: 5 })],
  ["statuses [null]", waValue({ statuses: [null] })],
  ["status id number", waValue({ statuses: [{ id: 5, status: "read" }] })],
  ["status constructor", waValue({ statuses: [{ id: "wamid.x", status: "constructor" }] })],
  ["status object", waValue({ statuses: [{ id: "wamid.x", status: {} }] })],
  ["status errors number", waValue({ statuses: [{ id: "wamid.x", status: "failed", errors: 5 }] })],
  ["status errors [null]", waValue({ statuses: [{ id: "wamid.x", status: "failed", errors: [null] }] })],
  ["status error message object", waValue({ statuses: [{ id: "wamid.x", status: "failed", errors: [{ message: {} }] }] })],
];

const crlf = (lines: string[]) => lines.join("\r\n");
const mail = (headers: string[], body = "Hello", extra: string[] = []) =>
  crlf([`From: Carla <carla-${randomBytes(3).toString("hex")}@customer.test>`, "To: support@acme.test", "Subject: Hi", ...headers, "", body, ...extra]);
const withId = (headers: string[] = [], body?: string) => mail([`Message-ID: <${randomBytes(6).toString("hex")}@customer.test>`, ...headers], body);
const attachmentMail = (disposition: string) =>
  crlf([
    `From: c-${randomBytes(3).toString("hex")}@customer.test`, "To: support@acme.test", "Subject: File", `Message-ID: <${randomBytes(6).toString("hex")}@x.test>`,
    "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="B"', "", "--B", "Content-Type: text/plain", "", "see file", "--B",
    "Content-Type: application/octet-stream", disposition, "Content-Transfer-Encoding: base64", "", "aGVsbG8=", "--B--",
  ]);
const htmlMail = (html: string, alternative: boolean) =>
  crlf([
    `From: h-${randomBytes(3).toString("hex")}@customer.test`, "To: support@acme.test", "Subject: Html", `Message-ID: <${randomBytes(6).toString("hex")}@x.test>`, "MIME-Version: 1.0",
    ...(alternative
      ? ['Content-Type: multipart/alternative; boundary="A"', "", "--A", "Content-Type: text/plain", "", "plain part", "--A", "Content-Type: text/html; charset=utf-8", "", html, "--A--"]
      : ["Content-Type: text/html; charset=utf-8", "", html]),
  ]);

const EMAIL_CASES: Array<[string, string | Buffer]> = [
  ["Message-ID 10k chars", mail([`Message-ID: <${"a".repeat(10_000)}@x.test>`])],
  ["Message-ID with NUL", Buffer.from(mail([`Message-ID: <a\u0000b-${randomBytes(3).toString("hex")}@x.test>`]))],
  ["Message-ID garbage", mail(["Message-ID: <<<>>> ;; \u00ff"])],
  ["Message-ID encoded NUL", mail([`Message-ID: =?utf-8?B?${Buffer.from(`<\u0000${randomBytes(3).toString("hex")}@x>`).toString("base64")}?=`])],
  ["In-Reply-To 10k chars", withId([`In-Reply-To: <${"r".repeat(10_000)}@x.test>`])],
  ["References 5,000 ids", withId([`References: ${Array.from({ length: 5000 }, (_, i) => `<r${i}@x.test>`).join(" ")}`])],
  ["Subject NUL byte", Buffer.from(withId(["Subject: a\u0000b"]))],
  ["Subject encoded NUL", withId(["Subject: =?utf-8?B?YQBi?="])],
  ["Subject UTF-16 lone surrogate", withId(["Subject: =?utf-16be?B?2AA=?="])],
  ["From name encoded NUL", mail([`Message-ID: <${randomBytes(4).toString("hex")}@x>`]).replace(/^From: Carla/, "From: =?utf-8?B?YQBi?=")],
  ["body NUL bytes", Buffer.from(withId([], "a\u0000b\u0000c"))],
  ["body UTF-16 lone surrogate", withId(["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-16be", "Content-Transfer-Encoding: base64"], "2ABkAGU=")],
  ["Date garbage", withId(["Date: 99999999999999"])],
  ["Date far future", withId(["Date: Mon, 1 Jan 275760 00:00:00 +0000"])],
  ["To 2,000 addresses", withId([`Cc: ${Array.from({ length: 2000 }, (_, i) => `u${i}@x.test`).join(", ")}`])],
  ["attachment name NUL", attachmentMail("Content-Disposition: attachment; filename*=utf-8''a%00b.txt")],
  ["attachment name 10k chars", attachmentMail(`Content-Disposition: attachment; filename="${"n".repeat(10_000)}.txt"`)],
  ["attachment name of emoji cut at 255", attachmentMail(`Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent("😀".repeat(200))}`)],
  ["attachment name lone surrogate", attachmentMail("Content-Disposition: attachment; filename==?utf-16be?B?2AA=?=")],
  ["attachment name path", attachmentMail('Content-Disposition: attachment; filename="../../../etc/passwd"')],
  ["attachment name blank", attachmentMail('Content-Disposition: attachment; filename="   "')],
  ["100,000 nested div, HTML only", htmlMail("<div>".repeat(100_000) + "deep" + "</div>".repeat(100_000), false)],
  ["100,000 nested div, with a text part", htmlMail("<div>".repeat(100_000) + "deep" + "</div>".repeat(100_000), true)],
  ["100,000 unclosed span", htmlMail("<span>".repeat(100_000) + "deep", true)],
  ["20,000 nested tables", htmlMail("<table><tr><td>".repeat(20_000) + "x", true)],
  ["1 MB of flat paragraphs", htmlMail("<p>para</p>".repeat(90_000), false)],
  ["HTML of NUL", htmlMail("<b>a\u0000b</b>", false)],
  ["3 MB of plain text", withId([], "word ".repeat(600_000))],
  ["200,000 script tags", htmlMail("<script>x</script>".repeat(200_000), false)],
];

const call = (e: Record<string, unknown>) => ({ callId: `c-${randomBytes(4).toString("hex")}`, event: "STARTED", from: "+15557654321", to: CALL_NUMBER, ...e });
const CALL_CASES: Array<[string, unknown, string?]> = [
  ["callId NUL", call({ callId: "a\u0000b" })],
  ["callId lone surrogate", call({ callId: "a\ud800b" })],
  ["callId number", call({ callId: 5 })],
  ["transcript NUL", call({ event: "ENDED", transcript: "hello\u0000" })],
  ["agentEmail NUL", call({ event: "ANSWERED", agentEmail: "a\u0000@x.test" })],
  ["recordingUrl NUL", call({ event: "ENDED", recordingUrl: "https://rec.test/\u0000" })],
  ["at garbage", call({ at: "garbage" })],
  ["at object", call({ at: {} })],
  ["at 1e400", null, withInfinity(call({ at: INF }))],
  ["at far past", call({ at: -8.64e15 })],
  ["durationSeconds 1e400", null, withInfinity(call({ event: "ENDED", durationSeconds: INF }))],
  ["body number", 5],
  ["body array", [call({})]],
  ["body null", null, "null"],
  ["key NUL", null, JSON.stringify(call({})).replace("{", '{"x\\u0000":1,')],
];

const PATHS = [
  "/inbound/email/%E0%A4%A",
  "/inbound/email/%00",
  `/inbound/email/${Buffer.from("Channel:\u0000").toString("base64")}`,
  `/inbound/email/${"x".repeat(5000)}`,
  "/inbound/email/00000000-0000-0000-0000-000000000000",
  `/inbound/email/${toGlobalId("Channel", "not-a-uuid")}`,
  `/inbound/email/${toGlobalId("Inbox", "00000000-0000-0000-0000-000000000000")}`,
  "/inbound/calls/%",
  "/inbound/calls/%E0%A4%A",
  `/inbound/calls/${Buffer.from("Channel:\u0000").toString("base64")}`,
  "/inbound/calls/00000000-0000-0000-0000-000000000000",
  `/inbound/calls/${"x".repeat(5000)}`,
];

/** Polls /health during `run`; resolves with the slowest answer's latency (ms) and the request then running. */
async function slowestHealthDuring(run: () => Promise<void>) {
  let slowest = 0;
  let during = "";
  let done = false;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      const label = inFlight;
      const ok = await fetch(new URL("/health", t.url), { signal: AbortSignal.timeout(30_000) }).then((r) => r.text().then(() => r.ok), () => false);
      const ms = ok ? performance.now() - started : Infinity;
      if (ms > slowest) [slowest, during] = [ms, label];
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await run();
  } finally {
    done = true;
    await poll;
  }
  return { slowest, during };
}

const emailPost = (label: string, body: string | Buffer, channel = emailChannel) =>
  send(label, `/inbound/email/${channel}`, { method: "POST", headers: { "content-type": "message/rfc822", authorization: `Bearer ${emailSecret}` }, body: typeof body === "string" ? body : new Uint8Array(body) });
const callPost = (label: string, body: unknown, raw?: string) =>
  send(label, `/inbound/calls/${callChannel}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${callSecret}` }, body: raw ?? JSON.stringify(body) });

describe("hostile transport input", () => {
  test("no worst input gets a 5xx, and /health keeps answering (within 500 ms) meanwhile", async () => {
    const { slowest, during } = await slowestHealthDuring(async () => {
      for (const [label, body, raw] of MESSENGER_CASES) await meta(`messenger: ${label}`, "messenger", body, raw);
      for (const [label, body] of WHATSAPP_CASES) await meta(`whatsapp: ${label}`, "whatsapp", body);
      for (const [label, body] of EMAIL_CASES) await emailPost(`email: ${label}`, body);
      for (const [label, body, raw] of CALL_CASES) await callPost(`call: ${label}`, body, raw);
      for (const path of PATHS) {
        const auth = path.startsWith("/inbound/email") ? emailSecret : callSecret;
        const type = path.startsWith("/inbound/email") ? "message/rfc822" : "application/json";
        await send(`path ${path.slice(0, 60)}`, path, { method: "POST", headers: { "content-type": type, authorization: `Bearer ${auth}` }, body: path.startsWith("/inbound/email") ? withId() : JSON.stringify(call({})) });
      }
    });
    const failures = answers.filter((x) => x.status >= 500 || x.status === 0);
    console.log(`hostile transports: ${answers.length} requests, ${failures.length} answered 5xx or not at all; slowest /health ${Math.round(slowest)} ms (during ${during})`);
    expect(failures.map((f) => `${f.label}: ${f.status} ${f.text.slice(0, 120)}`)).toEqual([]);
    // 500 ms, not 200: with the suite's two files at once on two cores (and inbound mail now
    // DKIM/SPF-checked, large bodies hashed on the event loop) the slowest answer reached ~260 ms.
    // What this guards against is a stalled loop (the defect was 5-10 s), not a speed.
    expect(slowest, `the slowest /health answered during "${during}"`).toBeLessThan(500);
    // A path that names no channel: 400 for a malformed escape, else 404 (email) or 401 (calls, as a wrong secret).
    const paths = answers.filter((x) => x.label.startsWith("path "));
    expect(paths.filter((x) => x.label.startsWith("path /inbound/email")).map((x) => x.status).sort()).toEqual([400, 404, 404, 404, 404, 404, 404]);
    expect(paths.filter((x) => x.label.startsWith("path /inbound/calls")).map((x) => x.status).sort()).toEqual([400, 400, 401, 401, 401]);
  }, 180_000);

  test("a signed Messenger body mixing good and malformed entries and events: 200, and the good message lands", async () => {
    const good = mid();
    const res = await meta("messenger: mixed", "messenger", page([
      null,
      { id: PAGE_ID, messaging: 5 },
      { id: PAGE_ID, messaging: [{ sender: { id: {} } }, null, { sender: { id: "psid-mixed" }, recipient: { id: PAGE_ID }, timestamp: Date.now(), message: { mid: good, text: "the good one\u0000" } }, { sender: { id: "psid-mixed" }, delivery: { mids: [null] } }] },
    ]));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ received: true, messages: 1, malformed: 5 });
    const stored = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, externalId: good } });
    expect(stored.text).toBe("the good one");
  });

  test("a signed WhatsApp body mixing good and malformed changes, messages and statuses: 200, and the good message lands", async () => {
    const good = `wamid.${randomBytes(6).toString("hex")}`;
    const res = await meta("whatsapp: mixed", "whatsapp", {
      object: "whatsapp_business_account",
      entry: [5, { changes: [null, { field: "messages", value: { metadata: { display_phone_number: WA_NUMBER.slice(1) }, contacts: [null, { wa_id: "15550004444", profile: { name: "Wanda" } }], messages: [{ id: 5 }, { id: good, from: "15550004444", type: "text", text: { body: "hello \ud800there" } }], statuses: [{ id: "x", status: {} }] } }] }],
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ messages: 1, malformed: 5 });
    const stored = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, externalId: good }, include: { conversation: { include: { contact: true } } } });
    expect(stored.text).toBe("hello \ufffdthere");
    expect(stored.conversation.contact).toMatchObject({ name: "Wanda", phone: "+15550004444" });
  });

  test("an email's NUL bytes are dropped and an unusable Message-ID is replaced by the generated one (a retry is still a duplicate)", async () => {
    const raw = mail([`Message-ID: <${"a".repeat(300)}@x.test>`, "Subject: =?utf-8?B?YQBi?="], "body\u0000text");
    const first = await emailPost("email: NUL and long id", Buffer.from(raw));
    expect(first.status).toBe(202);
    const { messageId } = JSON.parse(first.text);
    const again = await emailPost("email: NUL and long id, again", Buffer.from(raw));
    expect(JSON.parse(again.text)).toMatchObject({ messageId, duplicate: true });
    const stored = await t.prisma.message.findFirstOrThrow({ where: { accountId: a.accountId, externalId: { endsWith: "@generated.invalid>" }, text: "bodytext" }, include: { conversation: true } });
    expect(stored.conversation.subject).toBe("ab");
  });

  test("HTML nested past 512 levels is not kept (the text is, and the metadata says why); large HTML within the limits is sanitized", async () => {
    const deep = await emailPost("email: deep", htmlMail("<div>".repeat(600) + "<b>deep</b> text" + "</div>".repeat(600), false));
    expect(deep.status).toBe(202);
    const dropped = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(JSON.parse(deep.text).messageId, "Message") } });
    expect(dropped).toMatchObject({ richText: null, text: "deep text" });
    expect(dropped.metadata).toMatchObject({ email: { htmlDropped: "HTML nested at most 512 levels deep" } });

    const big = await emailPost("email: big", htmlMail(`<p style="color:#c00">Hello <script>alert(1)</script><b>there</b></p>${"<div>more <i>words</i></div>".repeat(3000)}`, true));
    expect(big.status).toBe(202);
    const kept = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(JSON.parse(big.text).messageId, "Message") } });
    expect(kept.text).toBe("plain part");
    expect(kept.richText).toMatch(/^<p style="color:#c00">Hello <b>there<\/b><\/p><div>more <i>words<\/i><\/div>/);
    expect(kept.richText).not.toContain("script");
  });

  test("a call event with a NUL or an unpaired surrogate is refused with 400 naming the field, and nothing is stored", async () => {
    const before = await t.prisma.message.count({ where: { accountId: a.accountId, kind: "CALL" } });
    for (const [field, value] of [["callId", "a\u0000b"], ["transcript", "x\ud800"]] as const) {
      const res = await callPost(`call: ${field}`, call({ event: "ENDED", [field]: value }));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual({ error: "invalid_event", fields: [{ path: [field], message: expect.stringContaining("cannot be stored") }] });
    }
    expect(await t.prisma.message.count({ where: { accountId: a.accountId, kind: "CALL" } })).toBe(before);
  });

  test("a partner's rich text past 512 levels of nesting or 200,000 characters is a ValidationError on input.richText, answered at once", async () => {
    const inbox = await createInbox(t.prisma, a.accountId);
    const partner = await createPartnerApp(t.prisma, t.server.services.auth, { capabilities: { richText: true } });
    const channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
    const publish = (richText: string) =>
      t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: `rt-${randomBytes(4).toString("hex")}`, sender: { name: "P" }, text: "t", richText } });
    const { slowest } = await slowestHealthDuring(async () => {
      const deep = await publish("<div>".repeat(100_000 / 5) + "x");
      expect(deep.publishInboundMessage).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "richText"], message: "HTML nested at most 512 levels deep" }] });
      const long = await publish("<b>x</b>".repeat(25_001));
      expect(long.publishInboundMessage).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "richText"], message: "At most 200000 characters of HTML" }] });
    });
    expect(slowest).toBeLessThan(200);
    const fine = await publish("<div>".repeat(500) + "<b>kept</b>" + "</div>".repeat(500));
    expect(fine.publishInboundMessage).toMatchObject({ __typename: "PublishInboundMessageResult", inboundMessage: { richText: expect.stringContaining("<b>kept</b>") } });
  });
});
