import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClientError } from "graphql-request";
import type { Prisma } from "../src/generated/prisma/client.js";
import {
  CfAnalyticsDocument,
  CfCreateDocument,
  CfListDocument,
  CfReplyDocument,
  CfSendDocument,
  CfStartDocument,
  CfUpdateDocument,
  CfVisitorConversationDocument,
  CfWidgetDocument,
  ChConnectDocument,
  RtMessageAddedDocument,
  WidgetVisitorMessageAddedDocument,
} from "./generated/graphql.js";
import { record } from "./support/subscriptions.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { signMetaBody } from "../src/transports/meta/signature.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, createTeam } from "./support/conversation-fixtures.js";
import { startGraphApiFake } from "./support/graph-api-fake.js";
import { eventually } from "./support/eventually.js";

const APP_SECRET = "meta-secret-chatflows";
let t: TestServer;
let acc: TestAccount;
let graph: Awaited<ReturnType<typeof startGraphApiFake>>;

beforeAll(async () => {
  graph = await startGraphApiFake();
  t = await startTestServer({ META_APP_SECRET: APP_SECRET, GRAPH_API_BASE_URL: graph.url, META_ACCESS_TOKEN: "page-token" });
  acc = await createTestAccount(t.prisma, { name: "Bots" });
});
afterAll(async () => {
  await t?.close();
  await graph?.close();
});

const admin = async () => t.client(await t.tokenFor(acc.admin));
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

async function chatChannel(settings: Record<string, unknown> = {}, userIds: string[] = []) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds });
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Site chat", settings: chatSettings.parse({ welcomeMessage: "Hello from the channel", ...settings }) as Prisma.InputJsonValue },
  });
  return { inbox, channel, globalId: toGlobalId("Channel", channel.id) };
}

async function createFlow(input: Record<string, unknown>) {
  const r = await (await admin()).request(CfCreateDocument, { input: input as never });
  if (r.createChatflow.__typename !== "ChatflowResult") throw new Error(JSON.stringify(r.createChatflow));
  return r.createChatflow.chatflow;
}

/** The support bot of the issue: name, email (validated), a quick reply, then a ticket or the Support team; an away path. */
function supportBot(channelGlobalId: string, teamId: string, extra: Record<string, unknown> = {}) {
  return {
    channelId: channelGlobalId,
    name: "Support bot",
    kind: "BOT",
    published: true,
    botAvailability: "BUSINESS_HOURS",
    startActionId: "hello",
    handoffActionId: "send",
    awayActionId: "away",
    actions: [
      { id: "hello", type: "MESSAGE", text: "Hi! I'm the support bot.", next: "name" },
      { id: "name", type: "QUESTION", text: "What's your name?", key: "name", saveTo: { target: "CONTACT", property: "name" }, next: "email" },
      { id: "email", type: "QUESTION", text: "Thanks {{answers.name}}! What's your email?", answer: "EMAIL", key: "email", saveTo: { target: "CONTACT", property: "email" }, next: "topic" },
      {
        id: "topic",
        type: "QUESTION",
        text: "How can we help, {{contact.firstName}}?",
        answer: "OPTIONS",
        key: "topic",
        options: [
          { label: "Report a bug", value: "bug", next: "ticket" },
          { label: "Talk to a person", value: "person", next: "send" },
        ],
      },
      { id: "ticket", type: "CREATE_TICKET", name: "Bug from {{contact.name}}", properties: { reporter_email: "{{answers.email}}", topic: "{{answers.topic}}" }, next: "done" },
      { id: "done", type: "END", text: "Thanks {{contact.firstName}}, we opened a ticket for you." },
      { id: "send", type: "SEND_TO_TEAM", teamId, text: "Connecting you with Support…", fallback: "away" },
      { id: "away", type: "MESSAGE", text: "We're away right now: leave a message and we'll write back.", next: null },
    ],
    ...extra,
  };
}

async function start(channelGlobalId: string, chatflowId?: string) {
  const r = await t.client().request(CfStartDocument, { input: { channelId: channelGlobalId, chatflowId } });
  if (r.startChat.__typename !== "StartChatResult") throw new Error(JSON.stringify(r.startChat));
  return { token: r.startChat.visitorToken, conversationId: fromGlobalId(r.startChat.conversationId, "Conversation") };
}

async function say(token: string, text: string, clientMessageId = randomBytes(6).toString("hex")) {
  const r = await t.client(token).request(CfSendDocument, { input: { text, clientMessageId } });
  if (r.sendVisitorMessage.__typename !== "SendVisitorMessageResult") throw new Error(JSON.stringify(r.sendVisitorMessage));
  return r.sendVisitorMessage;
}

async function history(token: string) {
  return (await t.client(token).request(CfVisitorConversationDocument)).visitorConversation.messages;
}
const botTexts = async (token: string) => (await history(token)).filter((m) => m.senderType === "BOT").map((m) => m.text);

describe("a support bot driven through the visitor API", () => {
  let support: Awaited<ReturnType<typeof chatChannel>>;
  let flowId: string;
  let supportAgent: Awaited<ReturnType<typeof createTestUser>>;

  beforeAll(async () => {
    supportAgent = await createTestUser(t.prisma, acc.accountId, { firstName: "Sam", availability: "AVAILABLE" });
    const away = await createTestUser(t.prisma, acc.accountId, { firstName: "Away", availability: "AWAY" });
    const team = await createTeam(t.prisma, acc.accountId, [supportAgent.id, away.id]);
    support = await chatChannel({}, [supportAgent.id, away.id]);
    flowId = (await createFlow(supportBot(support.globalId, team.id))).id;
  });

  test("name, email with validation and re-ask, a quick reply, then a ticket", async () => {
    const { token, conversationId } = await start(support.globalId, flowId);
    // The bot greets instead of the channel's welcome message and waits at its first question.
    expect(await botTexts(token)).toEqual(["Hi! I'm the support bot.", "What's your name?"]);
    const conv0 = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } });
    expect(conv0.assigneeId).toBeNull();

    await say(token, "Ada Lovelace");
    expect((await botTexts(token)).at(-1)).toBe("Thanks Ada Lovelace! What's your email?");
    await say(token, "not an email");
    expect((await botTexts(token)).at(-1)).toBe("That doesn't look like an email address. Thanks Ada Lovelace! What's your email?");
    await say(token, "Ada@Example.test");
    const messages = await history(token);
    const topic = messages.at(-1)!;
    expect(topic).toMatchObject({ senderType: "BOT", direction: "OUTBOUND", text: "How can we help, Ada?" });
    expect(topic.quickReplies).toEqual([
      { label: "Report a bug", value: "bug" },
      { label: "Talk to a person", value: "person" },
    ]);
    // The email made the visitor a contact, with the name given first.
    const linked = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { contact: true } });
    expect(linked.contact).toMatchObject({ name: "Ada Lovelace", email: "ada@example.test" });

    await say(token, "Report a bug");
    expect((await botTexts(token)).at(-1)).toBe("Thanks Ada, we opened a ticket for you.");
    const done = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { ticket: true, chatflowSession: true } });
    expect(done.ticket).toMatchObject({ name: "Bug from Ada Lovelace", contactId: linked.contactId, properties: { reporter_email: "ada@example.test", topic: "bug" } });
    expect(done.chatflowSession).toMatchObject({ status: "COMPLETED", answers: { name: "Ada Lovelace", email: "ada@example.test", topic: "bug" } });
    // Bot messages are no agent replies: no first response, and the analytics see none.
    expect(done.firstResponseAt).toBeNull();
    expect(await t.prisma.message.count({ where: { conversationId, senderType: "BOT", direction: "OUTBOUND" } })).toBe(6);
    // A further message after the bot finished runs nothing.
    await say(token, "one more thing");
    expect(await t.prisma.message.count({ where: { conversationId, senderType: "BOT" } })).toBe(6);
  });

  test("the quick reply to a person hands off to the Support team's available member", async () => {
    const { token, conversationId } = await start(support.globalId, flowId);
    await say(token, "Grace");
    await say(token, "grace@example.test");
    await say(token, "talk to a person");
    expect((await botTexts(token)).at(-1)).toBe("Connecting you with Support…");
    const c = await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { chatflowSession: true } });
    expect(c.assigneeId).toBe(supportAgent.id);
    expect(c.chatflowSession?.status).toBe("HANDED_OFF");
  });

  test("typing “agent” at any question takes the hand-off path; with nobody available the fallback (away) path", async () => {
    const { token, conversationId } = await start(support.globalId, flowId);
    await say(token, "agent");
    expect((await botTexts(token)).at(-1)).toBe("Connecting you with Support…");
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } })).assigneeId).toBe(supportAgent.id);

    await t.prisma.user.update({ where: { id: supportAgent.id }, data: { availability: "AWAY" } });
    try {
      const second = await start(support.globalId, flowId);
      await say(second.token, "I want a human");
      expect((await botTexts(second.token)).at(-1)).toBe("We're away right now: leave a message and we'll write back.");
      const c = await t.prisma.conversation.findUniqueOrThrow({ where: { id: second.conversationId }, include: { chatflowSession: true } });
      expect(c.assigneeId).toBeNull();
      expect(c.chatflowSession?.status).toBe("COMPLETED");
    } finally {
      await t.prisma.user.update({ where: { id: supportAgent.id }, data: { availability: "AVAILABLE" } });
    }
  });

  test("bot messages reach the visitor and the agents live", async () => {
    const { token, conversationId } = await start(support.globalId, flowId);
    const visitor = record(t.ws(token), WidgetVisitorMessageAddedDocument, { after: "0" });
    const agents = record(t.ws(await t.tokenFor(supportAgent)), RtMessageAddedDocument, { inboxId: toGlobalId("Inbox", support.inbox.id) });
    await new Promise((r) => setTimeout(r, 500));
    await visitor.waitFor(2);
    await say(token, "Marie");
    const seen = await visitor.waitFor(3);
    expect(seen.map((r) => r.visitorMessageAdded.text)).toEqual(["Hi! I'm the support bot.", "What's your name?", "Thanks Marie! What's your email?"]);
    expect(seen.every((r) => r.visitorMessageAdded.senderType === "BOT")).toBe(true);
    // The agents (subscribed to the inbox from here on) see the visitor's message and the bot's answer, in order.
    await eventually(async () => expect(agents.results.filter((r) => r.messageAdded.conversation.id === toGlobalId("Conversation", conversationId)).length).toBeGreaterThanOrEqual(2));
    const live = agents.results.filter((r) => r.messageAdded.conversation.id === toGlobalId("Conversation", conversationId));
    expect(live.map((r) => r.messageAdded.text)).toEqual(["Marie", "Thanks Marie! What's your email?"]);
    visitor.dispose();
    agents.dispose();
  });

  test("outside business hours a BUSINESS_HOURS bot starts on its away path", async () => {
    const notToday = DAYS[(new Date().getUTCDay() + 3) % 7];
    const closed = await chatChannel({ availability: { mode: "CHAT_HOURS", timeZone: "UTC", ranges: [{ day: notToday, start: "09:00", end: "17:00" }] } });
    const team = await createTeam(t.prisma, acc.accountId, [supportAgent.id]);
    const flow = await createFlow(supportBot(closed.globalId, team.id));
    const { token, conversationId } = await start(closed.globalId, flow.id);
    expect(await botTexts(token)).toEqual(["We're away right now: leave a message and we'll write back."]);
    expect((await t.prisma.chatflowSession.findFirstOrThrow({ where: { conversationId } })).status).toBe("COMPLETED");
  });

  test("an agent's reply takes the conversation over: the bot stops", async () => {
    const { token, conversationId } = await start(support.globalId, flowId);
    const r = await t.client(await t.tokenFor(acc.admin)).request(CfReplyDocument, { input: { conversationId: toGlobalId("Conversation", conversationId), text: "Hi, I'm Admin, how can I help?" } });
    expect(r.reply.__typename).toBe("MessageResult");
    await say(token, "Alan");
    expect(await botTexts(token)).toEqual(["Hi! I'm the support bot.", "What's your name?"]);
    expect((await t.prisma.chatflowSession.findFirstOrThrow({ where: { conversationId } })).status).toBe("TAKEN_OVER");
  });

  test("analytics per bot: started, completed, handed off, taken over, and where sessions dropped", async () => {
    const quiet = await start(support.globalId, flowId);
    await say(quiet.token, "Linus");
    const a = await (await admin()).request(CfAnalyticsDocument, { chatflowId: flowId, from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), idleMinutes: 0 });
    expect(a.chatflowAnalytics).toEqual({ started: 7, completed: 2, handedOff: 2, takenOver: 1, inProgress: 2, droppedAt: [{ actionId: "email", count: 2 }] });
    // Agents (not admins) may not read chatflows.
    const agent = t.client(await t.tokenFor(acc.agent));
    await expect(agent.request(CfListDocument, {})).rejects.toThrow(ClientError);
  });
});

describe("targeting", () => {
  test("the first published flow by priority whose rules match the page wins", async () => {
    const site = await chatChannel();
    const live = (name: string, priority: number, targeting: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      createFlow({ channelId: site.globalId, name, kind: "LIVE_CHAT", published: true, priority, targeting, ...extra });
    const spring = await live("Spring campaign", 0, { query: [{ name: "utm_campaign", value: "spring" }] }, { trigger: "AFTER_SECONDS", triggerValue: 5, greeting: "Spring deals!" });
    const pricing = await live("Pricing", 1, { include: [{ match: "STARTS_WITH", value: "https://shop.test/pricing" }] }, { trigger: "EXIT_INTENT" });
    const blog = await live("Blog", 2, { include: [{ match: "CONTAINS", value: "/blog" }], exclude: [{ match: "CONTAINS", value: "/blog/private" }] }, { trigger: "SCROLL_PERCENT", triggerValue: 50 });
    const docs = await live("Docs", 3, { include: [{ match: "MATCHES", value: "^https://docs\\.shop\\.test/v[0-9]+/" }] });
    const home = await live("Home", 4, { include: [{ match: "EQUALS", value: "https://shop.test/" }] });
    await live("Unpublished catch-all", 0, {}, { published: false });
    const fallback = await live("Everywhere else", 100, {});

    const pick = async (pageUrl: string) => (await t.client().request(CfWidgetDocument, { channelId: site.globalId, pageUrl })).chatWidget?.chatflow;
    expect((await pick("https://shop.test/pricing/teams?utm_campaign=spring"))?.id).toBe(spring.id);
    expect(await pick("https://shop.test/pricing/teams?utm_campaign=spring")).toMatchObject({ trigger: "AFTER_SECONDS", triggerValue: 5, greeting: "Spring deals!", kind: "LIVE_CHAT" });
    expect((await pick("https://shop.test/pricing/teams?utm_campaign=summer"))?.id).toBe(pricing.id);
    expect((await pick("https://shop.test/blog/2026/bots"))?.id).toBe(blog.id);
    expect((await pick("https://shop.test/blog/private/draft"))?.id).toBe(fallback.id);
    expect((await pick("https://docs.shop.test/v2/intro"))?.id).toBe(docs.id);
    expect((await pick("https://docs.shop.test/latest/intro"))?.id).toBe(fallback.id);
    expect((await pick("https://shop.test/?ref=x"))?.id).toBe(home.id);
    expect((await pick("https://shop.test/about"))?.id).toBe(fallback.id);

    // Re-prioritised: the blog flow now outranks the campaign.
    await (await admin()).request(CfUpdateDocument, { input: { chatflowId: blog.id, priority: 0 } });
    await (await admin()).request(CfUpdateDocument, { input: { chatflowId: spring.id, priority: 5 } });
    expect((await pick("https://shop.test/blog/x?utm_campaign=spring"))?.id).toBe(blog.id);
  });
});

describe("Facebook Messenger", () => {
  const post = (body: unknown) =>
    fetch(new URL("/webhooks/messenger", t.url), { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signMetaBody(APP_SECRET, JSON.stringify(body)) }, body: JSON.stringify(body) });
  const event = (pageId: string, psid: string, message: Record<string, unknown>) => ({ object: "page", entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), message }] }] });

  test("connecting creates and enables the default chatflow, which greets and answers the first message", async () => {
    const inbox = await createInbox(t.prisma, acc.accountId, {});
    const pageId = String(100000 + Math.floor(Math.random() * 899999));
    const r = await (await admin()).request(ChConnectDocument, {
      input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Page", facebookMessenger: { pageId, pageName: "Shop page", greeting: "Hi from the shop", instantReply: "Thanks, {{contact.firstName|friend}}! We reply within the hour." } },
    });
    if (r.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r.connectChannel));
    const channelId = r.connectChannel.channel.id;
    const flows = (await (await admin()).request(CfListDocument, { channelId })).chatflows;
    expect(flows).toEqual([expect.objectContaining({ kind: "LIVE_CHAT", published: true, isDefault: true, greeting: "Hi from the shop", instantReply: "Thanks, {{contact.firstName|friend}}! We reply within the hour." })]);
    // The greeting goes to the page's Messenger profile.
    await eventually(async () => expect(graph.profileRequests.some((p) => p.json.greeting?.[0]?.text === "Hi from the shop")).toBe(true));

    const psid = `PSID-${randomBytes(4).toString("hex")}`;
    const before = graph.requests.length;
    expect((await post(event(pageId, psid, { mid: `m_${randomBytes(6).toString("hex")}`, text: "Do you ship to Italy?" }))).status).toBe(200);
    await graph.waitFor(before + 1);
    expect(graph.requests[before].json).toMatchObject({ recipient: { id: psid }, message: { text: "Thanks, friend! We reply within the hour." } });
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId: fromGlobalId(channelId, "Channel"), threadKey: psid } });
    const bot = await t.prisma.message.findMany({ where: { conversationId: conversation.id, senderType: "BOT" } });
    expect(bot.map((m) => m.text)).toEqual(["Thanks, friend! We reply within the hour."]);
    // A second message gets no second instant reply.
    await post(event(pageId, psid, { mid: `m_${randomBytes(6).toString("hex")}`, text: "Hello?" }));
    expect(await t.prisma.message.count({ where: { conversationId: conversation.id, senderType: "BOT" } })).toBe(1);
  });
});

describe("crash safety", () => {
  test("a crash between two visitor messages replays nothing twice", async () => {
    const site = await chatChannel();
    const flow = await createFlow({
      channelId: site.globalId,
      name: "Two questions",
      kind: "BOT",
      published: true,
      startActionId: "q1",
      actions: [
        { id: "q1", type: "QUESTION", text: "First?", next: "m" },
        { id: "m", type: "MESSAGE", text: "Got {{answers.q1}}.", next: "q2" },
        { id: "q2", type: "QUESTION", text: "Second?", next: "end" },
        { id: "end", type: "END", text: "Bye." },
      ],
    });
    const { token, conversationId } = await start(site.globalId, flow.id);
    await say(token, "one", "c-1");
    const snapshot = async () => ({
      messages: (await t.prisma.message.findMany({ where: { conversationId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map((m) => `${m.senderType}:${m.text}`),
      session: await t.prisma.chatflowSession.findFirstOrThrow({ where: { conversationId }, select: { status: true, currentActionId: true, steps: true, answers: true } }),
    });
    const afterFirst = await snapshot();
    expect(afterFirst.messages).toEqual(["BOT:First?", "CONTACT:one", "BOT:Got one.", "BOT:Second?"]);

    // The process dies mid-step: the session's write fails after the message and the bot's replies were written.
    await t.prisma.$executeRawUnsafe(`CREATE TABLE cf_crash (armed boolean)`);
    await t.prisma.$executeRawUnsafe(`CREATE FUNCTION cf_crash_fn() RETURNS trigger AS $$ BEGIN IF EXISTS (SELECT 1 FROM cf_crash) THEN RAISE EXCEPTION 'simulated crash'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await t.prisma.$executeRawUnsafe(`CREATE TRIGGER cf_crash_t BEFORE UPDATE ON "ChatflowSession" FOR EACH ROW EXECUTE FUNCTION cf_crash_fn()`);
    await t.prisma.$executeRawUnsafe(`INSERT INTO cf_crash VALUES (true)`);
    await expect(say(token, "two", "c-2")).rejects.toThrow();
    expect(await snapshot()).toEqual(afterFirst);

    // The widget retries the same message once the server is back: exactly one step.
    await t.prisma.$executeRawUnsafe(`DELETE FROM cf_crash`);
    expect((await say(token, "two", "c-2")).duplicate).toBe(false);
    expect((await say(token, "two", "c-2")).duplicate).toBe(true);
    // ...and a retry of the first message changes nothing either.
    expect((await say(token, "one", "c-1")).duplicate).toBe(true);
    const final = await snapshot();
    expect(final.messages).toEqual(["BOT:First?", "CONTACT:one", "BOT:Got one.", "BOT:Second?", "CONTACT:two", "BOT:Bye."]);
    expect(final.session).toMatchObject({ status: "COMPLETED", currentActionId: "end", answers: { q1: "one", q2: "two" } });
  });
});

describe("webhook action", () => {
  test("a signed call within the timeout: its JSON answer sets properties and picks the branch; a failing one takes onError", async () => {
    const { createServer } = await import("node:http");
    const { signWebhook } = await import("../src/services/deliveries.js");
    const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    let answer: (res: import("node:http").ServerResponse) => void = (res) => res.end(JSON.stringify({ properties: { plan: "gold", score: 7 }, branch: "vip" }));
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ body, headers: req.headers });
        answer(res);
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    try {
      const port = (hook.address() as { port: number }).port;
      const site = await chatChannel();
      const flow = await createFlow({
        channelId: site.globalId,
        name: "Webhook bot",
        kind: "BOT",
        published: true,
        startActionId: "order",
        actions: [
          { id: "order", type: "QUESTION", text: "Order number?", answer: "NUMBER", key: "order", next: "lookup" },
          { id: "lookup", type: "WEBHOOK", url: `http://127.0.0.1:${port}/lookup`, timeoutMs: 500, branches: { vip: "vip" }, next: "normal", onError: "sorry" },
          { id: "vip", type: "END", text: "Welcome back, {{conversation.plan}} member." },
          { id: "normal", type: "END", text: "Thanks." },
          { id: "sorry", type: "END", text: "We could not look that up." },
        ],
      });
      const a = await start(site.globalId, flow.id);
      await say(a.token, "1234");
      expect((await botTexts(a.token)).at(-1)).toBe("Welcome back, gold member.");
      const call = received[0];
      expect(JSON.parse(call.body)).toMatchObject({ type: "chatflow.webhook", actionId: "lookup", conversationId: a.conversationId, answers: { order: "1234" } });
      expect(call.headers["x-inbox-signature"]).toBe(signWebhook(flow.webhookSecret, String(call.headers["x-inbox-timestamp"]), call.body));
      expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: a.conversationId } })).properties).toMatchObject({ plan: "gold", score: 7 });

      // Too slow: the timeout takes onError, and the visitor's message is still stored once.
      answer = (res) => setTimeout(() => res.end("{}"), 1500);
      const b = await start(site.globalId, flow.id);
      await say(b.token, "99");
      expect((await botTexts(b.token)).at(-1)).toBe("We could not look that up.");
    } finally {
      hook.closeAllConnections();
      await new Promise((r) => hook.close(r));
    }
  });
});
