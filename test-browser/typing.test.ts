import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { TypingChangedDocument, TypingSetDocument, WaConnectChatDocument, WidgetReplyDocument } from "../test/generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "../test/support/server.js";
import { createInbox } from "../test/support/conversation-fixtures.js";
import { record } from "../test/support/subscriptions.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { launchChromium, launcher, messageList, panel, screenshot, shopPage, startSite } from "./support.js";

/** Typing indicators between the widget in Chromium and an agent on the API, both ways. */

let t: TestServer;
let acc: TestAccount;
let site: Awaited<ReturnType<typeof startSite>>;
let browser: Browser;

beforeAll(async () => {
  [t, site, browser] = await Promise.all([startTestServer(), startSite(), launchChromium()]);
  acc = await createTestAccount(t.prisma, { name: "Typing shop" });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await t?.close();
});

describe("typing indicators in the widget", () => {
  test("the visitor typing reaches the agent; the agent typing shows in the widget until the reply arrives", async () => {
    const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
    const admin = t.client(await t.tokenFor(acc.admin));
    const connected = await admin.request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Shop chat", chat: { color: "#1B7F5C", availability: { mode: "ALWAYS" } } } });
    if (connected.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(connected.connectChannel));
    const channelId = fromGlobalId(connected.connectChannel.channel.id, "Channel");

    const page = await (await browser.newContext({ viewport: { width: 900, height: 700 } })).newPage();
    await page.goto(site.page("/typing", { html: shopPage(connected.connectChannel.channel.chat!.embedSnippet) }));
    await launcher(page).click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Do you ship to Norway?");
    await input.press("Enter");
    await expect.poll(() => t.prisma.conversation.count({ where: { channelId } })).toBe(1);
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId } });
    const conversationId = toGlobalId("Conversation", conversation.id);

    // The visitor types a follow-up: the agent watching the conversation sees it.
    const agentToken = await t.tokenFor(acc.agent);
    const watch = record(t.ws(agentToken), TypingChangedDocument, { conversationId });
    await expect
      .poll(
        async () => {
          await input.fill("");
          await input.pressSequentially("And to", { delay: 20 });
          await page.waitForTimeout(3_100); // the widget renews its signal at most every 3 s
          await input.pressSequentially(" Iceland", { delay: 20 });
          return watch.results.some((r) => r.typingChanged.actor === "VISITOR" && r.typingChanged.typing);
        },
        { timeout: 30_000, intervals: [100] },
      )
      .toBe(true);

    // The agent types a reply: "Agent is typing…" appears in the widget, announced politely.
    const agent = t.client(agentToken);
    const typingNote = page.locator("inbox-chat-widget .typing");
    await expect
      .poll(
        async () => {
          await agent.request(TypingSetDocument, { input: { conversationId, typing: true } });
          return typingNote.isVisible();
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    expect(await typingNote.textContent()).toBe("Agent is typing…");
    expect(await typingNote.getAttribute("aria-live")).toBe("polite");
    await screenshot(page, "typing-01-agent-typing");

    await agent.request(WidgetReplyDocument, { input: { conversationId, text: "Yes, to both." } });
    await expect.poll(() => messageList(page).textContent(), { timeout: 15_000 }).toContain("Yes, to both.");
    await expect.poll(() => typingNote.isVisible()).toBe(false);
    await screenshot(page, "typing-02-reply-arrived");
    watch.dispose();
  });
});
