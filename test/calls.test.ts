import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MsgDetailsDocument, WidgetRotateSecretDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import type { CallMetadata } from "../src/services/calls.js";

let t: TestServer;
let acc: TestAccount;
let channelId: string;
let channelGlobalId: string;
let secret: string;

const OUR_NUMBER = "+15550001000";
const CUSTOMER = "+15557654321";

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Calls", tier: "PROFESSIONAL" });
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "CALLING", name: "Phone", phoneNumber: OUR_NUMBER, settings: { phoneNumber: OUR_NUMBER, recordCalls: true } },
  });
  channelId = channel.id;
  channelGlobalId = toGlobalId("Channel", channel.id);
  const r = await t.client(await t.tokenFor(acc.admin)).request(WidgetRotateSecretDocument, { input: { channelId: channelGlobalId } });
  if (r.rotateChannelInboundSecret.__typename !== "RotateChannelInboundSecretResult") throw new Error(JSON.stringify(r));
  expect(r.rotateChannelInboundSecret.webhookPath).toBe(`/inbound/calls/${channelGlobalId}`);
  secret = r.rotateChannelInboundSecret.inboundSecret;
});
afterAll(async () => t?.close());

function post(body: unknown, opts: { secret?: string | null; path?: string; raw?: string } = {}) {
  const auth: Record<string, string> = opts.secret === null ? {} : { authorization: `Bearer ${opts.secret ?? secret}` };
  return fetch(`${t.url.replace(/\/graphql$/, "")}${opts.path ?? `/inbound/calls/${channelGlobalId}`}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: opts.raw ?? JSON.stringify(body),
  });
}

const event = (callId: string, type: "STARTED" | "ANSWERED" | "ENDED" | "RECORDING" | "TRANSCRIPT", extra: Record<string, unknown> = {}) => ({ callId, event: type, from: CUSTOMER, to: OUR_NUMBER, ...extra });
const stored = () => t.prisma.message.count({ where: { accountId: acc.accountId, channelId } });
const eventRows = () => t.prisma.event.count({ where: { accountId: acc.accountId } });

describe("call events webhook", () => {
  test("a call's events become ONE call entry in the contact's thread, updated as the call goes on", async () => {
    const started = await post(event("call-1", "STARTED", { at: "2024-05-02T10:00:00Z" }));
    expect(started.status).toBe(200);
    const first = (await started.json()) as { messageId: string; conversationId: string; created: boolean };
    expect(first.created).toBe(true);

    let message = await t.prisma.message.findFirstOrThrow({ where: { channelId, externalId: "call-call-1" }, include: { conversation: { include: { contact: true } } } });
    expect(message).toMatchObject({ kind: "CALL", direction: "INBOUND", text: `Call from ${CUSTOMER} · ringing` });
    expect(message.conversation.contact?.phone).toBe(CUSTOMER);
    expect(message.metadata).toMatchObject({ status: "STARTED", startedAt: "2024-05-02T10:00:00.000Z", callDirection: "INBOUND" });

    expect((await post(event("call-1", "ANSWERED", { at: "2024-05-02T10:00:05Z", agentEmail: acc.agent.email.toUpperCase() }))).status).toBe(200);
    const before = await eventRows();
    const ended = await post(event("call-1", "ENDED", { at: "2024-05-02T10:01:40Z", durationSeconds: 95, recordingUrl: "https://rec.example.test/call-1.mp3", transcript: "Hello, I would like to change my plan." }));
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { created: boolean }).created).toBe(false);
    expect(await eventRows()).toBe(before + 1);
    const update = await t.prisma.event.findFirstOrThrow({ where: { accountId: acc.accountId }, orderBy: { seq: "desc" } });
    expect(update).toMatchObject({ type: "conversation.updated", payload: { conversationId: message.conversationId, messageId: message.id, reason: "call.ended" } });

    message = await t.prisma.message.findFirstOrThrow({ where: { channelId, externalId: "call-call-1" }, include: { conversation: { include: { contact: true } } } });
    expect(message.text).toBe(`Call from ${CUSTOMER} · ended · 1:35`);
    const meta = message.metadata as unknown as CallMetadata;
    expect(meta).toMatchObject({
      status: "ENDED",
      answeredAt: "2024-05-02T10:00:05.000Z",
      endedAt: "2024-05-02T10:01:40.000Z",
      durationSeconds: 95,
      recordingUrl: "https://rec.example.test/call-1.mp3",
      transcript: "Hello, I would like to change my plan.",
      agentId: acc.agent.id,
    });
    expect(await t.prisma.message.count({ where: { channelId, externalId: "call-call-1" } })).toBe(1);

    // A late or replayed event changes nothing: status only moves forward, nothing is recorded.
    const replay = await eventRows();
    expect((await post(event("call-1", "ENDED", { at: "2024-05-02T10:01:40Z", durationSeconds: 95, recordingUrl: "https://rec.example.test/call-1.mp3", transcript: "Hello, I would like to change my plan." }))).status).toBe(200);
    expect((await post(event("call-1", "STARTED", { at: "2024-05-02T10:00:00Z" }))).status).toBe(200);
    expect(await eventRows()).toBe(replay);
    expect(((await t.prisma.message.findFirstOrThrow({ where: { externalId: "call-call-1" } })).metadata as unknown as CallMetadata).status).toBe("ENDED");

    // The next call from the same number joins the contact's thread (by raw channel id too).
    const next = await post(event("call-2", "ENDED", { durationSeconds: 0 }), { path: `/inbound/calls/${channelId}` });
    expect(next.status).toBe(200);
    const second = await t.prisma.message.findFirstOrThrow({ where: { channelId, externalId: "call-call-2" } });
    expect(second).toMatchObject({ kind: "CALL", conversationId: message.conversationId });
    expect(second.text).toBe(`Call from ${CUSTOMER} · missed · 0:00`);
  });

  test("events of one call arriving at once still make one call entry with everything merged", async () => {
    const responses = await Promise.all([
      post(event("race-1", "ENDED", { durationSeconds: 42, recordingUrl: "https://rec.example.test/race-1.mp3" })),
      post(event("race-1", "STARTED")),
      post(event("race-1", "ANSWERED")),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const rows = await t.prisma.message.findMany({ where: { channelId, externalId: "call-race-1" } });
    expect(rows).toHaveLength(1);
    expect(rows[0].kind).toBe("CALL");
    expect(rows[0].metadata).toMatchObject({ status: "ENDED", durationSeconds: 42, recordingUrl: "https://rec.example.test/race-1.mp3" });
    expect(Object.keys(rows[0].metadata as object)).toEqual(expect.arrayContaining(["startedAt", "answeredAt", "endedAt"]));
  });

  test("a call placed from the channel's number is an outgoing call entry for the number called", async () => {
    const r = await post({ callId: "out-1", event: "STARTED", from: OUR_NUMBER, to: "+15559990000" });
    expect(r.status).toBe(200);
    const message = await t.prisma.message.findFirstOrThrow({ where: { channelId, externalId: "call-out-1" }, include: { conversation: { include: { contact: true } } } });
    expect(message).toMatchObject({ kind: "CALL", direction: "OUTBOUND", senderType: "AGENT", text: "Call to +15559990000 · ringing" });
    expect(message.conversation.contact?.phone).toBe("+15559990000");
  });

  test("wrong or missing secret, unknown channel, oversized or malformed bodies are refused and nothing is stored", async () => {
    const before = await stored();
    const events = await eventRows();
    expect((await post(event("bad-1", "STARTED"), { secret: "wrong" })).status).toBe(401);
    expect((await post(event("bad-2", "STARTED"), { secret: null })).status).toBe(401);
    expect((await post(event("bad-3", "STARTED"), { path: `/inbound/calls/${toGlobalId("Channel", "00000000-0000-4000-8000-000000000000")}` })).status).toBe(401);
    expect((await post(event("bad-4", "STARTED"), { path: "/inbound/calls/garbage" })).status).toBe(401);
    const big = await post(event("bad-5", "ENDED", { transcript: "x".repeat(300 * 1024) }));
    expect(big.status).toBe(413);
    expect((await post(null, { raw: "{not json" })).status).toBe(400);
    const invalid = await post({ callId: "bad-6", event: "RINGING", from: "12345", to: OUR_NUMBER });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { fields: { path: string[] }[] }).fields.map((f) => f.path.join("."))).toEqual(["event", "from"]);
    expect(await stored()).toBe(before);
    expect(await eventRows()).toBe(events);
  });

  test("rotating the secret: ADMIN+ only, the old secret stops working at once, only calling/email channels", async () => {
    const agent = await t.client(await t.tokenFor(acc.agent)).request(WidgetRotateSecretDocument, { input: { channelId: channelGlobalId } });
    expect(agent.rotateChannelInboundSecret.__typename).toBe("ForbiddenError");
    const r = await t.client(await t.tokenFor(acc.superAdmin)).request(WidgetRotateSecretDocument, { input: { channelId: channelGlobalId } });
    if (r.rotateChannelInboundSecret.__typename !== "RotateChannelInboundSecretResult") throw new Error(JSON.stringify(r));
    const fresh = r.rotateChannelInboundSecret.inboundSecret;
    expect((await post(event("rot-1", "STARTED"))).status).toBe(401);
    expect((await post(event("rot-2", "STARTED"), { secret: fresh })).status).toBe(200);
    secret = fresh;

    const inbox = await createInbox(t.prisma, acc.accountId);
    const chat = await t.prisma.channel.create({ data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Chat" } });
    const wrongType = await t.client(await t.tokenFor(acc.admin)).request(WidgetRotateSecretDocument, { input: { channelId: toGlobalId("Channel", chat.id) } });
    expect(wrongType.rotateChannelInboundSecret.__typename).toBe("ValidationError");

    const other = await createTestAccount(t.prisma, { name: "Calls other" });
    const foreign = await t.client(await t.tokenFor(other.admin)).request(WidgetRotateSecretDocument, { input: { channelId: channelGlobalId } });
    expect(foreign.rotateChannelInboundSecret.__typename).toBe("NotFoundError");
  });

  test("an OFF calling channel refuses call events", async () => {
    await t.prisma.channel.update({ where: { id: channelId }, data: { status: "OFF" } });
    const before = await stored();
    expect((await post(event("off-1", "STARTED"))).status).toBe(409);
    expect(await stored()).toBe(before);
    await t.prisma.channel.update({ where: { id: channelId }, data: { status: "ON" } });
  });
});

describe("item 15: the call on the message", () => {
  const details = async (messageId: string) => {
    const { node } = await t.client(await t.tokenFor(acc.agent)).request(MsgDetailsDocument, { id: messageId });
    if (node?.__typename !== "Message") throw new Error(JSON.stringify(node));
    return node;
  };

  test("item 15: Message.call exposes the recording, transcript, duration and answering agent; RECORDING and TRANSCRIPT sent after ENDED update it", async () => {
    const started = (await (await post(event("late-1", "STARTED", { at: "2024-06-01T09:00:00Z" }))).json()) as { messageId: string };
    await post(event("late-1", "ANSWERED", { at: "2024-06-01T09:00:04Z", agentEmail: acc.agent.email }));
    await post(event("late-1", "ENDED", { at: "2024-06-01T09:02:04Z", durationSeconds: 120 }));
    expect((await details(started.messageId)).call).toMatchObject({ status: "ENDED", durationSeconds: 120, recordingUrl: null, transcript: null });

    // The provider's separate callbacks, without from/to, as they usually come.
    const before = await eventRows();
    const recording = await post({ callId: "late-1", event: "RECORDING", recordingUrl: "https://rec.example.test/late-1.mp3" });
    expect(recording.status).toBe(200);
    expect(await recording.json()).toMatchObject({ messageId: started.messageId, created: false });
    const transcript = await post({ callId: "late-1", event: "TRANSCRIPT", transcript: "I'd like to move my appointment to Friday." });
    expect(transcript.status).toBe(200);
    expect(await eventRows()).toBe(before + 2);
    const update = await t.prisma.event.findFirstOrThrow({ where: { accountId: acc.accountId }, orderBy: { seq: "desc" } });
    expect(update).toMatchObject({ type: "conversation.updated", payload: { reason: "call.transcript" } });

    const message = await details(started.messageId);
    expect(message).toMatchObject({ kind: "CALL", text: `Call from ${CUSTOMER} · ended · 2:00`, formSubmission: null });
    expect(message.call).toEqual({
      callId: "late-1",
      direction: "INBOUND",
      from: CUSTOMER,
      to: OUR_NUMBER,
      status: "ENDED",
      missed: false,
      startedAt: "2024-06-01T09:00:00.000Z",
      answeredAt: "2024-06-01T09:00:04.000Z",
      endedAt: "2024-06-01T09:02:04.000Z",
      durationSeconds: 120,
      recordingUrl: "https://rec.example.test/late-1.mp3",
      transcript: "I'd like to move my appointment to Friday.",
      agentEmail: acc.agent.email,
      answeredBy: { id: toGlobalId("User", acc.agent.id), email: acc.agent.email },
    });
    // A replayed callback changes nothing.
    const replay = await eventRows();
    expect((await post({ callId: "late-1", event: "RECORDING", recordingUrl: "https://rec.example.test/late-1.mp3" })).status).toBe(200);
    expect(await eventRows()).toBe(replay);
  });

  test("item 15: a recording of a call never seen needs from and to; with them it makes an ended call entry", async () => {
    const before = await stored();
    const unknown = await post({ callId: "ghost-1", event: "RECORDING", recordingUrl: "https://rec.example.test/ghost-1.mp3" });
    expect(unknown.status).toBe(404);
    expect(await stored()).toBe(before);
    const missing = await post({ callId: "ghost-2", event: "TRANSCRIPT", from: CUSTOMER, to: OUR_NUMBER });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { fields: { path: string[] }[] }).fields.map((f) => f.path.join("."))).toEqual(["transcript"]);
    const first = await post({ callId: "ghost-3", event: "RECORDING", from: CUSTOMER, to: OUR_NUMBER, recordingUrl: "https://rec.example.test/ghost-3.mp3" });
    expect(first.status).toBe(200);
    const { messageId, created } = (await first.json()) as { messageId: string; created: boolean };
    expect(created).toBe(true);
    expect((await details(messageId)).call).toMatchObject({ callId: "ghost-3", status: "ENDED", recordingUrl: "https://rec.example.test/ghost-3.mp3", answeredBy: null });
  });
});
