import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClientError } from "graphql-request";
import type { Prisma } from "../src/generated/prisma/client.js";
import {
  WaChatWidgetChangedDocument,
  WaChatWidgetDocument,
  WaConnectChatDocument,
  WaEndChatDocument,
  WaUpdateChatDocument,
  WidgetAddCommentDocument,
  WidgetAgentConversationsDocument,
  WidgetChatAvailabilityDocument,
  WidgetNodeDocument,
  WidgetReplyDocument,
  WidgetSendVisitorMessageDocument,
  WidgetStartChatDocument,
  WidgetVisitorConversationDocument,
  WidgetVisitorMessageAddedDocument,
} from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { chatAvailability } from "../src/services/chat-availability.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";

let t: TestServer;
let acc: TestAccount;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Widget" });
});
afterAll(async () => t?.close());

/** A CHAT channel in a fresh inbox whose members are `userIds`; settings as stored after validation. */
async function chatChannel(settings: Record<string, unknown> = {}, opts: { userIds?: string[]; status?: "ON" | "OFF"; deleted?: boolean } = {}) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: opts.userIds ?? [] });
  const stored = { ...chatSettings.parse(settings), ...("gdpr" in settings ? { gdpr: settings.gdpr } : {}) };
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Site chat", status: opts.status ?? "ON", deletedAt: opts.deleted ? new Date() : null, settings: stored as Prisma.InputJsonValue },
  });
  return { inbox, channel, globalId: toGlobalId("Channel", channel.id) };
}

async function start(channelGlobalId: string, input: { name?: string; email?: string; consent?: boolean } = {}) {
  const r = await t.client().request(WidgetStartChatDocument, { input: { channelId: channelGlobalId, ...input } });
  if (r.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(r.startChat));
  return r.startChat;
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    if (err instanceof ClientError) return err.response.errors?.[0]?.extensions?.code as string;
    throw err;
  }
}

describe("a visitor chats with an agent", () => {
  test("over WebSocket: the visitor's message reaches the agent's inbox, the agent's reply reaches the visitor, a comment never does", async () => {
    const { globalId, channel } = await chatChannel({ availability: { mode: "ALWAYS" }, welcomeMessage: "Welcome to Acme!" }, { userIds: [acc.agent.id] });
    const chat = await start(globalId, { name: "Vera" });
    expect(chat.welcomeMessage).toMatchObject({ direction: "OUTBOUND", senderType: "BOT", text: "Welcome to Acme!" });
    // An unknown visitor with only a name gets no contact (intake's rule).
    const row = await t.prisma.conversation.findFirstOrThrow({ where: { channelId: channel.id } });
    expect(row).toMatchObject({ contactId: null, visitorName: "Vera" });

    // after: "0" replays from the start, so the welcome message proves the subscription is live.
    const visitor = record(t.ws(chat.visitorToken), WidgetVisitorMessageAddedDocument, { after: "0" });
    const [welcome] = await visitor.waitFor(1);
    expect(welcome.visitorMessageAdded.text).toBe("Welcome to Acme!");

    const sent = await t.client(chat.visitorToken).request(WidgetSendVisitorMessageDocument, { input: { text: "Hello, my order is late", clientMessageId: "c-1" } });
    expect(sent.sendVisitorMessage).toMatchObject({ __typename: "SendVisitorMessageResult", duplicate: false, sentMessage: { direction: "INBOUND", text: "Hello, my order is late" } });
    const again = await t.client(chat.visitorToken).request(WidgetSendVisitorMessageDocument, { input: { text: "Hello, my order is late", clientMessageId: "c-1" } });
    expect(again.sendVisitorMessage).toMatchObject({ duplicate: true });

    const agentClient = t.client(await t.tokenFor(acc.agent));
    const list = await agentClient.request(WidgetAgentConversationsDocument);
    const mine = list.conversations.edges.find((e) => e.node.id === chat.conversationId);
    expect(mine?.node.visitorName).toBe("Vera");
    expect(mine?.node.messages.edges.map((e) => e.node.text)).toEqual(["Welcome to Acme!", "Hello, my order is late"]);

    const comment = await agentClient.request(WidgetAddCommentDocument, { input: { conversationId: chat.conversationId, text: "internal: VIP customer" } });
    expect(comment.addComment.__typename).toBe("MessageResult");
    const reply = await agentClient.request(WidgetReplyDocument, { input: { conversationId: chat.conversationId, text: "Sorry! It ships today." } });
    if (reply.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(reply.reply));
    // Chat replies travel live to the visitor: no delivery row, no delivery status.
    expect(reply.reply.sentMessage.deliveryStatus).toBeNull();
    const [, got] = await visitor.waitFor(2);
    expect(got.visitorMessageAdded).toMatchObject({ direction: "OUTBOUND", kind: "MESSAGE", senderType: "AGENT", authorName: "Agent", text: "Sorry! It ships today." });
    expect(got.visitorMessageAdded.eventCursor).toMatch(/^\d+$/);
    expect(await t.prisma.outboundDelivery.count({ where: { accountId: acc.accountId, channelId: channel.id } })).toBe(0);

    // The comment came before the reply: had it leaked, it would have arrived first. A later
    // reply still arrives, and nothing else has.
    await agentClient.request(WidgetReplyDocument, { input: { conversationId: chat.conversationId, text: "Anything else?" } });
    const rows = await visitor.waitFor(3);
    expect(rows.map((r) => r.visitorMessageAdded.text)).toEqual(["Welcome to Acme!", "Sorry! It ships today.", "Anything else?"]);
    expect(visitor.errors).toEqual([]);

    const history = await t.client(chat.visitorToken).request(WidgetVisitorConversationDocument);
    expect(history.visitorConversation.id).toBe(chat.conversationId);
    expect(history.visitorConversation.messages.map((m) => m.text)).toEqual(["Welcome to Acme!", "Hello, my order is late", "Sorry! It ships today.", "Anything else?"]);
    visitor.dispose();
  });

  test("over SSE: the visitor subscription receives the agent's reply", async () => {
    const { globalId } = await chatChannel({ availability: { mode: "ALWAYS" } }, { userIds: [acc.agent.id] });
    const chat = await start(globalId, { name: "Sam", email: "sam@visitor.test" });
    const controller = new AbortController();
    const res = await fetch(t.url, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${chat.visitorToken}` },
      body: JSON.stringify({ query: "subscription($after: String) { visitorMessageAdded(after: $after) { text direction } }", variables: { after: "0" } }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let buffer = "";
    const readUntil = async (needle: string) => {
      while (!buffer.includes(needle)) buffer += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil("Hi! How can we help?");
    await t.client(await t.tokenFor(acc.agent)).request(WidgetReplyDocument, { input: { conversationId: chat.conversationId, text: "Hello Sam, over SSE" } });
    await readUntil("over SSE");
    expect(buffer).toContain('{"data":{"visitorMessageAdded":{"text":"Hello Sam, over SSE","direction":"OUTBOUND"}}}');
    controller.abort();
    // With an email, the visitor is a contact.
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { id: (await t.prisma.message.findFirstOrThrow({ where: { text: "Hello Sam, over SSE" } })).conversationId }, include: { contact: true } });
    expect(conversation.contact?.email).toBe("sam@visitor.test");
  });

  test("a visitor token reads and writes nothing else", async () => {
    const { globalId } = await chatChannel({ availability: { mode: "ALWAYS" } }, { userIds: [acc.agent.id] });
    const mine = await start(globalId, { name: "Mia" });
    const other = await start(globalId, { name: "Otto" });
    const visitor = t.client(mine.visitorToken);

    expect(await codeOf(visitor.request(WidgetAgentConversationsDocument))).toMatch(/^(FORBIDDEN|UNAUTHENTICATED)$/);
    const reply = await visitor.request(WidgetReplyDocument, { input: { conversationId: other.conversationId, text: "spoof" } }).catch((e: unknown) => e);
    expect(reply instanceof ClientError ? reply.response.errors?.[0]?.extensions?.code : (reply as { reply: { __typename: string } }).reply.__typename).toMatch(/FORBIDDEN|ForbiddenError|UNAUTHENTICATED/);
    // Neither another conversation nor its messages resolve by id.
    expect((await visitor.request(WidgetNodeDocument, { id: other.conversationId })).node).toBeNull();
    expect((await visitor.request(WidgetNodeDocument, { id: other.welcomeMessage!.id })).node).toBeNull();
    // Its own conversation is only reachable through visitorConversation.
    const own = await visitor.request(WidgetVisitorConversationDocument);
    expect(own.visitorConversation.id).toBe(mine.conversationId);
    expect(await t.prisma.message.count({ where: { text: "spoof" } })).toBe(0);

    // No token, or an agent's token, cannot use the visitor fields.
    expect(await codeOf(t.client().request(WidgetVisitorConversationDocument))).toBe("UNAUTHENTICATED");
    const asAgent = await t.client(await t.tokenFor(acc.agent)).request(WidgetSendVisitorMessageDocument, { input: { text: "x", clientMessageId: "a" } }).catch((e: unknown) => e);
    expect(asAgent instanceof ClientError ? asAgent.response.errors?.[0]?.extensions?.code : (asAgent as { sendVisitorMessage: { __typename: string } }).sendVisitorMessage.__typename).toMatch(/FORBIDDEN|ForbiddenError/);
  });

  test("consent: a chat that requires it refuses to start without it, and stores nothing", async () => {
    const { globalId, channel } = await chatChannel({ availability: { mode: "ALWAYS" }, gdpr: { mode: "EXPLICIT", consentText: "I agree to the processing of my data." } });
    const status = await t.client().request(WidgetChatAvailabilityDocument, { channelId: globalId });
    expect(status.chatAvailability).toMatchObject({ consentRequired: true, consentText: "I agree to the processing of my data." });
    for (const consent of [undefined, false]) {
      const r = await t.client().request(WidgetStartChatDocument, { input: { channelId: globalId, name: "Nora", email: "nora@visitor.test", consent } });
      expect(r.startChat).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "consent"] }] });
    }
    expect(await t.prisma.conversation.count({ where: { channelId: channel.id } })).toBe(0);
    expect(await t.prisma.contact.count({ where: { email: "nora@visitor.test" } })).toBe(0);
    await start(globalId, { name: "Nora", email: "nora@visitor.test", consent: true });
    expect(await t.prisma.conversation.count({ where: { channelId: channel.id } })).toBe(1);
  });

  test("an OFF or unknown chat cannot be started", async () => {
    const off = await chatChannel({}, { status: "OFF" });
    const r = await t.client().request(WidgetStartChatDocument, { input: { channelId: off.globalId } });
    expect(r.startChat.__typename).toBe("ChannelOffError");
    const unknown = await t.client().request(WidgetStartChatDocument, { input: { channelId: toGlobalId("Channel", "00000000-0000-4000-8000-000000000000") } });
    expect(unknown.startChat.__typename).toBe("NotFoundError");
  });
});

describe("chat availability", () => {
  const at = (iso: string) => new Date(iso);

  test("ALWAYS: available, with the typical reply time (public query)", async () => {
    const { globalId } = await chatChannel({ availability: { mode: "ALWAYS" }, typicalReplyTime: "FEW_HOURS" });
    const r = await t.client().request(WidgetChatAvailabilityDocument, { channelId: globalId });
    expect(r.chatAvailability).toEqual({ showLauncher: true, state: "AVAILABLE", message: null, typicalReplyTime: "FEW_HOURS", returnsAt: null, consentRequired: false, consentText: null });
  });

  test("CHAT_HOURS in a time zone: open inside the hours, offline with the next opening outside them", async () => {
    const ranges = [
      { day: "MON", start: "09:00", end: "17:00" },
      { day: "WED", start: "13:30", end: "18:00" },
    ];
    const { channel } = await chatChannel({ availability: { mode: "CHAT_HOURS", timeZone: "America/New_York", ranges }, offlineBehavior: "SHOW_RETURN_TIME" });
    // Monday 2024-01-08 10:00 in New York (UTC-5).
    expect(await chatAvailability(t.prisma, channel.id, at("2024-01-08T15:00:00Z"))).toMatchObject({ showLauncher: true, state: "AVAILABLE" });
    // 08:59 New York: not yet; opens at 09:00 the same day.
    expect(await chatAvailability(t.prisma, channel.id, at("2024-01-08T13:59:00Z"))).toMatchObject({ state: "OFFLINE", showLauncher: true, returnsAt: at("2024-01-08T14:00:00Z"), message: null });
    // Monday 17:00 New York (end is exclusive): next is Wednesday 13:30.
    expect(await chatAvailability(t.prisma, channel.id, at("2024-01-08T22:00:00Z"))).toMatchObject({ state: "OFFLINE", returnsAt: at("2024-01-10T18:30:00Z") });
    // Saturday in July (UTC-4, daylight saving): next is Monday 09:00 EDT.
    expect(await chatAvailability(t.prisma, channel.id, at("2024-07-06T12:00:00Z"))).toMatchObject({ state: "OFFLINE", returnsAt: at("2024-07-08T13:00:00Z") });
    // Sunday 23:00 UTC is still Sunday in New York but already Monday in UTC: the zone decides.
    expect(await chatAvailability(t.prisma, channel.id, at("2024-01-07T23:00:00Z"))).toMatchObject({ state: "OFFLINE" });

    const away = await chatChannel({ availability: { mode: "CHAT_HOURS", timeZone: "Asia/Tokyo", ranges }, offlineBehavior: "SHOW_AWAY_MESSAGE", awayMessage: "Back soon" });
    // Sunday 2024-01-07 15:00 UTC is Monday 00:00 in Tokyo: closed until 09:00.
    expect(await chatAvailability(t.prisma, away.channel.id, at("2024-01-07T15:00:00Z"))).toMatchObject({ state: "OFFLINE", message: "Back soon", returnsAt: null });
    // Monday 2024-01-08 00:30 UTC is 09:30 in Tokyo.
    expect(await chatAvailability(t.prisma, away.channel.id, at("2024-01-08T00:30:00Z"))).toMatchObject({ state: "AVAILABLE" });

    const hidden = await chatChannel({ availability: { mode: "CHAT_HOURS", timeZone: "UTC", ranges }, offlineBehavior: "HIDE_LAUNCHER" });
    expect(await chatAvailability(t.prisma, hidden.channel.id, at("2024-01-09T12:00:00Z"))).toMatchObject({ showLauncher: false, state: "OFFLINE" });
  });

  test("USERS: away when nobody who would take the chat is available; only PAID seats count", async () => {
    const awayUser = await createTestUser(t.prisma, acc.accountId, { availability: "AWAY" });
    const freeSeat = await createTestUser(t.prisma, acc.accountId, { seat: "FREE", availability: "AVAILABLE" });
    const { channel } = await chatChannel({ availability: { mode: "USERS" }, awayMessage: "We're out" }, { userIds: [awayUser.id, freeSeat.id] });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ showLauncher: true, state: "AWAY", message: "We're out" });
    const hidden = await chatChannel({ availability: { mode: "USERS" }, offlineBehavior: "HIDE_LAUNCHER" }, { userIds: [awayUser.id] });
    expect(await chatAvailability(t.prisma, hidden.channel.id)).toMatchObject({ showLauncher: false, state: "AWAY" });
    await t.prisma.user.update({ where: { id: awayUser.id }, data: { availability: "AVAILABLE" } });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ showLauncher: true, state: "AVAILABLE" });
  });

  test("at capacity: every available agent has as many OPEN chats as their capacity", async () => {
    const busy = await createTestUser(t.prisma, acc.accountId, { chatCapacity: 1 });
    const { channel, inbox } = await chatChannel({ availability: { mode: "USERS" }, waitingMessage: "Hang on" }, { userIds: [busy.id] });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ state: "AVAILABLE" });
    const open = await t.prisma.conversation.create({ data: { accountId: acc.accountId, inboxId: inbox.id, channelId: channel.id, assigneeId: busy.id } });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ showLauncher: true, state: "AT_CAPACITY", message: "Hang on" });
    await t.prisma.channel.update({ where: { id: channel.id }, data: { settings: { ...(channel.settings as object), atCapacityBehavior: "HIDE_LAUNCHER" } } });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ showLauncher: false, state: "AT_CAPACITY" });
    // A closed chat frees the seat.
    await t.prisma.conversation.update({ where: { id: open.id }, data: { status: "CLOSED" } });
    expect(await chatAvailability(t.prisma, channel.id)).toMatchObject({ showLauncher: true, state: "AVAILABLE" });
  });

  test("OFF, deleted, unpublished and unknown chats hide the launcher", async () => {
    const ids = [
      (await chatChannel({ availability: { mode: "ALWAYS" } }, { status: "OFF" })).globalId,
      (await chatChannel({ availability: { mode: "ALWAYS" } }, { deleted: true })).globalId,
      (await chatChannel({ availability: { mode: "ALWAYS" }, published: false })).globalId,
      toGlobalId("Channel", "00000000-0000-4000-8000-000000000000"),
      "not-an-id",
    ];
    for (const channelId of ids) {
      const r = await t.client().request(WidgetChatAvailabilityDocument, { channelId });
      expect(r.chatAvailability.showLauncher).toBe(false);
    }
  });
});

describe("what the widget shows (chatWidget)", () => {
  test("heading: the channel's users and teams; past three, three of them at random", async () => {
    const users = await Promise.all(["Ada Lovelace", "Grace Hopper", "Alan Turing"].map((n) => createTestUser(t.prisma, acc.accountId, { firstName: n.split(" ")[0] }).then((u) => t.prisma.user.update({ where: { id: u.id }, data: { lastName: n.split(" ")[1] } }))));
    const team = await t.prisma.team.create({ data: { accountId: acc.accountId, name: "support crew" } });
    const three = await chatChannel({ availability: { mode: "ALWAYS" }, heading: { mode: "SPECIFIC", userIds: [users[0].id], teamIds: [team.id] } });
    const r = await t.client().request(WaChatWidgetDocument, { channelId: three.globalId });
    expect(r.chatWidget!.heading).toEqual([
      { name: "Ada Lovelace", initials: "AL" },
      { name: "support crew", initials: "SC" },
    ]);

    const four = await chatChannel({ availability: { mode: "ALWAYS" }, heading: { mode: "SPECIFIC", userIds: users.map((u) => u.id), teamIds: [team.id] } });
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const heading = (await t.client().request(WaChatWidgetDocument, { channelId: four.globalId })).chatWidget!.heading;
      expect(heading).toHaveLength(3);
      expect(new Set(heading.map((p) => p.name)).size).toBe(3);
      heading.forEach((p) => seen.add(p.name));
    }
    // Chosen at random: over a dozen loads, all four appear (a fixed three would show three).
    expect([...seen].sort()).toEqual(["Ada Lovelace", "Alan Turing", "Grace Hopper", "support crew"]);
  });

  test("heading by contact owner: the owner for a visitor whose contact has one, the fallback for a new visitor", async () => {
    const owner = await createTestUser(t.prisma, acc.accountId, { firstName: "Olivia" });
    const fallback = await createTestUser(t.prisma, acc.accountId, { firstName: "Felix" });
    const { globalId } = await chatChannel({ availability: { mode: "ALWAYS" }, heading: { mode: "CONTACT_OWNER", fallbackUserIds: [fallback.id] } });
    expect((await t.client().request(WaChatWidgetDocument, { channelId: globalId })).chatWidget!.heading.map((p) => p.name)).toEqual(["Felix"]);
    const chat = await start(globalId, { name: "Known", email: "known@visitor.test" });
    await t.prisma.contact.updateMany({ where: { accountId: acc.accountId, email: "known@visitor.test" }, data: { ownerId: owner.id } });
    expect((await t.client(chat.visitorToken).request(WaChatWidgetDocument, { channelId: globalId })).chatWidget!.heading.map((p) => p.name)).toEqual(["Olivia"]);
  });

  test("chatWidgetChanged: open widgets get the settings again when an admin changes them", async () => {
    const inbox = await createInbox(t.prisma, acc.accountId, {});
    const connected = await t.client(await t.tokenFor(acc.admin)).request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Live", chat: { color: "#111111" } } });
    if (connected.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(connected.connectChannel));
    const channelId = connected.connectChannel.channel.id;
    const changes = record(t.ws(), WaChatWidgetChangedDocument, { channelId });
    // The subscription is live once a change made after it started arrives (no `after` here):
    // edit again until one does.
    const admin = t.client(await t.tokenFor(acc.admin));
    let first;
    for (let i = 0; !first; i++) {
      await admin.request(WaUpdateChatDocument, { input: { channelId, chat: { color: `#22222${i % 10}`, welcomeMessage: "Changed" } } });
      first = (await changes.waitFor(1, 1000).catch(() => undefined))?.[0];
    }
    expect(first.chatWidgetChanged).toMatchObject({ color: expect.stringMatching(/^#22222\d$/), welcomeMessage: "Changed", status: { showLauncher: true } });
    await admin.request(WaUpdateChatDocument, { input: { channelId, chat: { published: false } } });
    // Unpublished: null, as the last event.
    await expect.poll(() => changes.results.at(-1)?.chatWidgetChanged, { timeout: 10_000 }).toBeNull();
    changes.dispose();
  });
});

describe("ending a chat", () => {
  test("endChat queues a transcript from the channel's transcript address to the address the visitor gives; without one, nothing", async () => {
    const { globalId, channel } = await chatChannel({ availability: { mode: "ALWAYS" }, transcriptSender: "chat@shop.test", welcomeMessage: "Welcome!" }, { userIds: [acc.agent.id] });
    const chat = await start(globalId, { name: "Tess" });
    const visitor = t.client(chat.visitorToken);
    await visitor.request(WidgetSendVisitorMessageDocument, { input: { text: "Where is my parcel?", clientMessageId: "p1" } });
    const agent = t.client(await t.tokenFor(acc.agent));
    await agent.request(WidgetAddCommentDocument, { input: { conversationId: chat.conversationId, text: "internal only" } });
    await agent.request(WidgetReplyDocument, { input: { conversationId: chat.conversationId, text: "It left today." } });

    const bad = await visitor.request(WaEndChatDocument, { input: { transcriptEmail: "not-an-address" } });
    expect(bad.endChat).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "transcriptEmail"] }] });
    const none = await t.client((await start(globalId, { name: "Nobody" })).visitorToken).request(WaEndChatDocument, { input: {} });
    expect(none.endChat).toEqual({ __typename: "EndChatResult", transcriptSentTo: null });
    expect(await t.prisma.outboundDelivery.count({ where: { channelId: channel.id } })).toBe(0);

    const ended = await visitor.request(WaEndChatDocument, { input: { transcriptEmail: "tess@visitor.test" } });
    expect(ended.endChat).toEqual({ __typename: "EndChatResult", transcriptSentTo: "tess@visitor.test" });
    const [delivery] = await t.prisma.outboundDelivery.findMany({ where: { channelId: channel.id } });
    const mail = delivery.payload as { from: { address: string; name: string }; to: { address: string }; subject: string; text: string };
    expect(delivery.kind).toBe("EMAIL");
    expect(mail).toMatchObject({ from: { address: "chat@shop.test", name: "Widget" }, to: { address: "tess@visitor.test" }, subject: "Your chat with Widget" });
    expect(mail.text.split("\n").filter((l) => l.startsWith("[")).map((l) => l.replace(/^\[[^\]]+\] /, ""))).toEqual(["Widget: Welcome!", "Tess: Where is my parcel?", "Agent: It left today."]);
    expect(mail.text).not.toContain("internal only");
  });
});
