import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Prisma } from "../src/generated/prisma/client.js";
import {
  TypingChangedDocument,
  TypingSetDocument,
  TypingSetInboxMembersDocument,
  TypingSetStatusDocument,
  TypingVisitorChangedDocument,
  TypingVisitorSetDocument,
  WaEndChatDocument,
  WidgetReplyDocument,
  WidgetSendVisitorMessageDocument,
  WidgetStartChatDocument,
} from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";
import { hubFor } from "../src/realtime/hub.js";
import { heldSubscriptionSlots } from "../src/realtime/limits.js";

let t: TestServer;
let acc: TestAccount;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Typing Co" });
});
afterAll(async () => t?.close());

/** A live CHAT channel in a new inbox with these members, and a started chat on it. */
async function chatWith(userIds: string[], settings: Record<string, unknown> = {}, start: { name?: string; email?: string } = { name: "Vic" }) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds });
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Chat", status: "ON", settings: chatSettings.parse({ availability: { mode: "ALWAYS" }, ...settings }) as Prisma.InputJsonValue },
  });
  const r = await t.client().request(WidgetStartChatDocument, { input: { channelId: toGlobalId("Channel", channel.id), ...start } });
  if (r.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(r.startChat));
  return { inbox, channel, chat: r.startChat };
}

/** Subscribes and proves the subscription is live (signals are never replayed) by typing until one arrives. */
async function liveOnce<T>(recorder: { results: T[]; waitFor(n: number, ms?: number): Promise<T[]> }, type: () => Promise<unknown>) {
  for (let i = 0; recorder.results.length === 0 && i < 50; i++) {
    await type();
    await recorder.waitFor(1, 200).catch(() => undefined);
  }
  return recorder.waitFor(1, 1000);
}

describe("typing indicators", () => {
  test("the visitor typing reaches the agents of the conversation; an agent's typing reaches the other agents, never themselves", async () => {
    const bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    const { chat } = await chatWith([acc.agent.id, bob.id]);
    const agentWatch = record(t.ws(await t.tokenFor(acc.agent)), TypingChangedDocument, { conversationId: chat.conversationId });
    const visitor = t.client(chat.visitorToken);

    const [first] = await liveOnce(agentWatch, () => visitor.request(TypingVisitorSetDocument, { typing: true }));
    expect(first.typingChanged).toMatchObject({ conversationId: chat.conversationId, typing: true, actor: "VISITOR", private: false, user: null });
    expect(new Date(first.typingChanged.expiresAt).getTime()).toBeGreaterThan(Date.now());

    // Bob replying: Agent sees it with Bob's name; Bob's own subscription does not echo his typing.
    const bobWatch = record(t.ws(await t.tokenFor(bob)), TypingChangedDocument, { conversationId: chat.conversationId });
    await liveOnce(bobWatch, () => visitor.request(TypingVisitorSetDocument, { typing: true }));
    const bobClient = t.client(await t.tokenFor(bob));
    const sent = await bobClient.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } });
    expect(sent.setTyping).toMatchObject({ __typename: "TypingIndicator", typing: true, private: false });
    await expect.poll(() => agentWatch.results.some((r) => r.typingChanged.actor === "AGENT")).toBe(true);
    expect(agentWatch.results.find((r) => r.typingChanged.actor === "AGENT")!.typingChanged).toMatchObject({ typing: true, user: { id: toGlobalId("User", bob.id), firstName: "Bob" } });
    await visitor.request(TypingVisitorSetDocument, { typing: false });
    await expect.poll(() => bobWatch.results.at(-1)?.typingChanged.typing).toBe(false);
    expect(bobWatch.results.every((r) => r.typingChanged.actor === "VISITOR")).toBe(true);
    agentWatch.dispose();
    bobWatch.dispose();
  });

  test("the visitor sees agents typing a reply with their first name, never an internal comment being written, and only in their own chat", async () => {
    const { chat } = await chatWith([acc.agent.id]);
    const other = await chatWith([acc.agent.id], {}, { name: "Other" });
    const visitorWatch = record(t.ws(chat.visitorToken), TypingVisitorChangedDocument);
    const otherWatch = record(t.ws(other.chat.visitorToken), TypingVisitorChangedDocument);
    const agent = t.client(await t.tokenFor(acc.agent));

    await liveOnce(otherWatch, () => agent.request(TypingSetDocument, { input: { conversationId: other.chat.conversationId, typing: true } }));
    // A private note typed in the visitor's chat, then a reply: the visitor learns of the reply only.
    await agent.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true, private: true } });
    const [seen] = await liveOnce(visitorWatch, () => agent.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } }));
    expect(seen.visitorTypingChanged).toMatchObject({ typing: true, authorName: "Agent" });
    const count = visitorWatch.results.length;
    await agent.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true, private: true } });
    await agent.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: false } });
    await expect.poll(() => visitorWatch.results.at(-1)?.visitorTypingChanged.typing).toBe(false);
    expect(visitorWatch.results).toHaveLength(count + 1);
    // The other visitor only ever heard of typing in their own chat (the warm-up signals).
    const otherCount = otherWatch.results.length;
    await agent.request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } });
    await expect.poll(() => visitorWatch.results.length).toBe(count + 2);
    expect(otherWatch.results).toHaveLength(otherCount);
    visitorWatch.dispose();
    otherWatch.dispose();
  });

  test("an agent outside the inbox cannot type or watch; one removed from the inbox stops seeing who types; other accounts never do", async () => {
    const outsider = await createTestUser(t.prisma, acc.accountId, { firstName: "Olga" });
    const { inbox, chat } = await chatWith([acc.agent.id, outsider.id]);
    const outsiderToken = await t.tokenFor(outsider);

    const watch = record(t.ws(outsiderToken), TypingChangedDocument, { conversationId: chat.conversationId });
    const visitor = t.client(chat.visitorToken);
    await liveOnce(watch, () => visitor.request(TypingVisitorSetDocument, { typing: true }));

    const admin = t.client(await t.tokenFor(acc.admin));
    const removed = await admin.request(TypingSetInboxMembersDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), userIds: [toGlobalId("User", acc.agent.id)], teamIds: [] } });
    expect(removed.setInboxMembers.__typename).toBe("InboxResult");
    const agentWatch = record(t.ws(await t.tokenFor(acc.agent)), TypingChangedDocument, { conversationId: chat.conversationId });
    await liveOnce(agentWatch, () => visitor.request(TypingVisitorSetDocument, { typing: true }));
    // The agent still in the inbox keeps hearing; the removed one heard nothing since the change reached the server.
    await expect.poll(async () => {
      const before = watch.results.length;
      const heard = agentWatch.results.length;
      await visitor.request(TypingVisitorSetDocument, { typing: true });
      await agentWatch.waitFor(heard + 1, 2000);
      return watch.results.length === before;
    }).toBe(true);

    const refused = await t.client(outsiderToken).request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } });
    expect(refused.setTyping).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    const late = record(t.ws(outsiderToken), TypingChangedDocument, { conversationId: chat.conversationId });
    await expect.poll(() => late.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(late.errors)).toContain("NOT_FOUND");

    const stranger = await createTestAccount(t.prisma, { name: "Elsewhere" });
    const foreign = await t.client(await t.tokenFor(stranger.admin)).request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } });
    expect(foreign.setTyping).toMatchObject({ __typename: "NotFoundError" });
    watch.dispose();
    agentWatch.dispose();
    late.dispose();
  });

  test("leaving a typing subscription frees its account feed listener and its slot at once, with no signal arriving after", async () => {
    const { chat } = await chatWith([acc.agent.id]);
    const hub = hubFor(t.server.services.pubsub);
    const before = { listeners: hub.size.listeners, slots: heldSubscriptionSlots() };
    const watch = record(t.ws(await t.tokenFor(acc.agent)), TypingChangedDocument, { conversationId: chat.conversationId });
    await liveOnce(watch, () => t.client(chat.visitorToken).request(TypingVisitorSetDocument, { typing: true }));
    expect(hub.size.listeners).toBeGreaterThan(before.listeners);
    watch.dispose();
    await expect.poll(() => ({ listeners: hub.size.listeners, slots: heldSubscriptionSlots() })).toEqual(before);
  });

  test("typing needs a caller of the right kind", async () => {
    const { chat } = await chatWith([acc.agent.id]);
    await expect(t.client().request(TypingVisitorSetDocument, { typing: true })).rejects.toThrow(/UNAUTHENTICATED|FORBIDDEN|token/i);
    await expect(t.client(chat.visitorToken).request(TypingSetDocument, { input: { conversationId: chat.conversationId, typing: true } })).rejects.toThrow();
  });
});

describe("the transcript when an agent closes a chat", () => {
  test("closing queues the transcript to the visitor's address once; after the visitor ended the chat, none unless they wrote since; other channels never", async () => {
    const { channel, chat } = await chatWith([acc.agent.id], { transcriptSender: "chat@typing.test", welcomeMessage: "Hi!" }, { name: "Tara", email: "tara@visitor.test" });
    const visitor = t.client(chat.visitorToken);
    const agent = t.client(await t.tokenFor(acc.agent));
    await visitor.request(WidgetSendVisitorMessageDocument, { input: { text: "Is it in stock?", clientMessageId: "m1" } });
    await agent.request(WidgetReplyDocument, { input: { conversationId: chat.conversationId, text: "Yes, 3 left." } });
    const deliveries = () => t.prisma.outboundDelivery.findMany({ where: { channelId: channel.id }, orderBy: { createdAt: "asc" } });

    expect((await agent.request(TypingSetStatusDocument, { input: { conversationId: chat.conversationId, status: "CLOSED" } })).setConversationStatus.__typename).toBe("ConversationResult");
    const [mail] = await deliveries();
    expect(mail.payload).toMatchObject({ from: { address: "chat@typing.test" }, to: { address: "tara@visitor.test" }, subject: "Your chat with Typing Co" });
    expect((mail.payload as { text: string }).text).toContain("Tara: Is it in stock?");
    expect((mail.payload as { text: string }).text).toContain("Agent: Yes, 3 left.");

    // Reopened and closed again with nothing new said: no second copy.
    await agent.request(TypingSetStatusDocument, { input: { conversationId: chat.conversationId, status: "OPEN" } });
    await agent.request(TypingSetStatusDocument, { input: { conversationId: chat.conversationId, status: "CLOSED" } });
    expect(await deliveries()).toHaveLength(1);

    // The visitor writes again (reopens), ends the chat (a transcript), then the agent closes it: still two in all.
    await visitor.request(WidgetSendVisitorMessageDocument, { input: { text: "One more thing", clientMessageId: "m2" } });
    expect((await visitor.request(WaEndChatDocument, { input: {} })).endChat).toMatchObject({ transcriptSentTo: "tara@visitor.test" });
    await agent.request(TypingSetStatusDocument, { input: { conversationId: chat.conversationId, status: "CLOSED" } });
    expect(await deliveries()).toHaveLength(2);

    // A visitor who gave no address gets nothing.
    const anonymous = await chatWith([acc.agent.id], {}, { name: "Nemo" });
    await agent.request(TypingSetStatusDocument, { input: { conversationId: anonymous.chat.conversationId, status: "CLOSED" } });
    expect(await t.prisma.outboundDelivery.count({ where: { channelId: anonymous.channel.id } })).toBe(0);
  });
});
