import { afterAll, beforeAll, expect, test } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CfCreateDocument, WaConnectChatDocument } from "../test/generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "../test/support/server.js";
import { createInbox } from "../test/support/conversation-fixtures.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { launchChromium, launcher, messageList, panel, screenshot, shopPage, startSite } from "./support.js";

/** A bot chatflow on a website, end to end in Chromium: trigger, greeting, questions, quick replies, a ticket. */

let t: TestServer;
let acc: TestAccount;
let site: Awaited<ReturnType<typeof startSite>>;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [t, site, browser] = await Promise.all([startTestServer(), startSite(), launchChromium()]);
  acc = await createTestAccount(t.prisma, { name: "Browser bot" });
});
afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await site?.close();
  await t?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  contexts.push(context);
  return context.newPage();
}

const prompt = (page: Page) => page.locator("inbox-chat-widget .prompt");
const quickReplies = (page: Page) => page.locator("inbox-chat-widget .quick .qr");

test("a support bot: shown after its trigger on the targeted page, asks, offers quick replies and opens a ticket", async () => {
  const admin = t.client(await t.tokenFor(acc.admin));
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const connected = await admin.request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Shop chat", chat: { color: "#1F7A5C", availability: { mode: "ALWAYS" }, welcomeMessage: "Hello from the team" } } });
  if (connected.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(connected.connectChannel));
  const { id: channelId } = connected.connectChannel.channel;
  const snippet = connected.connectChannel.channel.chat!.embedSnippet;
  const created = await admin.request(CfCreateDocument, {
    input: {
      channelId,
      name: "Support bot",
      kind: "BOT",
      published: true,
      trigger: "AFTER_SECONDS",
      triggerValue: 1,
      greeting: "Need help? Our bot can open a ticket for you.",
      targeting: { include: [{ match: "CONTAINS", value: "/support" }] },
      startActionId: "name",
      actions: [
        { id: "name", type: "QUESTION", text: "Hi! What's your name?", key: "name", saveTo: { target: "CONVERSATION", property: "visitor" }, next: "topic" },
        { id: "topic", type: "QUESTION", text: "Thanks {{answers.name}}. What do you need?", answer: "OPTIONS", options: [{ label: "Report a bug", value: "bug", next: "ticket" }, { label: "Billing", value: "billing", next: "bye" }] },
        { id: "ticket", type: "CREATE_TICKET", name: "Bug reported by {{answers.name}}", properties: { topic: "{{answers.topic}}" }, next: "done" },
        { id: "done", type: "END", text: "Done: we opened a ticket, {{answers.name}}. We'll be in touch." },
        { id: "bye", type: "END", text: "Billing answers by email within a day." },
      ],
    },
  });
  if (created.createChatflow.__typename !== "ChatflowResult") throw new Error(JSON.stringify(created.createChatflow));

  // A page the flow does not target: plain live chat, no bot greeting.
  const other = await newPage();
  await other.goto(site.page("/about", { html: shopPage(snippet) }));
  await expect.poll(() => launcher(other).isVisible(), { timeout: 30_000 }).toBe(true);
  await other.waitForTimeout(1500);
  expect(await prompt(other).isVisible()).toBe(false);

  const page = await newPage();
  await page.goto(site.page("/support/returns", { html: shopPage(snippet) }));
  await expect.poll(() => launcher(page).isVisible(), { timeout: 30_000 }).toBe(true);
  // The trigger fires after a second: the flow's greeting appears beside the launcher.
  await expect.poll(() => prompt(page).isVisible(), { timeout: 5000 }).toBe(true);
  expect(await prompt(page).textContent()).toContain("Need help? Our bot can open a ticket for you.");
  await screenshot(page, "chatflow-01-greeting");

  await launcher(page).click();
  await expect.poll(() => panel(page).isVisible()).toBe(true);
  await expect.poll(() => messageList(page).textContent(), { timeout: 10_000 }).toContain("Hi! What's your name?");
  expect(await messageList(page).textContent()).not.toContain("Hello from the team");
  await screenshot(page, "chatflow-02-first-question");

  await page.locator("inbox-chat-widget #inbox-chat-input").fill("Grace");
  await page.keyboard.press("Enter");
  await expect.poll(() => quickReplies(page).count(), { timeout: 10_000 }).toBe(2);
  expect(await messageList(page).textContent()).toContain("Thanks Grace. What do you need?");
  expect(await quickReplies(page).allTextContents()).toEqual(["Report a bug", "Billing"]);
  await screenshot(page, "chatflow-03-quick-replies");

  await quickReplies(page).first().click();
  await expect.poll(() => messageList(page).textContent(), { timeout: 10_000 }).toContain("Done: we opened a ticket, Grace. We'll be in touch.");
  // The answered question's buttons are gone.
  expect(await quickReplies(page).count()).toBe(0);
  await screenshot(page, "chatflow-04-ticket");

  const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId: fromGlobalId(channelId, "Channel") }, include: { ticket: true, chatflowSession: true, messages: { orderBy: { createdAt: "asc" } } } });
  expect(conversation.ticket).toMatchObject({ name: "Bug reported by Grace", properties: { topic: "bug" } });
  expect(conversation.chatflowSession?.status).toBe("COMPLETED");
  expect(conversation.messages.map((m) => `${m.senderType}:${m.text}`)).toEqual([
    "BOT:Hi! What's your name?",
    "CONTACT:Grace",
    "BOT:Thanks Grace. What do you need?",
    "CONTACT:Report a bug",
    "BOT:Done: we opened a ticket, Grace. We'll be in touch.",
  ]);
});
