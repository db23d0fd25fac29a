import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { WaConnectChatDocument, WaUpdateChatDocument, WidgetReplyDocument } from "../test/generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "../test/support/server.js";
import { createInbox } from "../test/support/conversation-fixtures.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { ARTIFACTS, launchChromium, launcher, messageList, panel, rgb, screenshot, shopPage, startSite } from "./support.js";

/**
 * The chat widget on a website, in Debian's Chromium: the shop's page (its own origin) carries the
 * embed snippet the API hands out, and the widget talks to the real server across origins.
 */

let t: TestServer;
let acc: TestAccount;
let site: Awaited<ReturnType<typeof startSite>>;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [t, site, browser] = await Promise.all([startTestServer(), startSite(), launchChromium()]);
  acc = await createTestAccount(t.prisma, { name: "Browser widget" });
});
afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await site?.close();
  await t?.close();
});

/** A chat channel connected through the API by an admin; returns its id and embed snippet. */
async function connectChat(chat: Record<string, unknown>) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const r = await t.client(await t.tokenFor(acc.admin)).request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Shop chat", chat } });
  if (r.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r.connectChannel));
  return { id: r.connectChannel.channel.id, snippet: r.connectChannel.channel.chat!.embedSnippet };
}

/** A fresh browser profile's page (empty storage). */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  contexts.push(context);
  return context.newPage();
}

/** Waits until the widget has read its channel's settings (so "nothing shown" means the widget decided so). */
const widgetLoaded = (page: Page) => page.waitForResponse((r) => r.url().includes("/graphql") && r.url().includes("InboxChatWidget") && r.ok());

describe("the chat widget on a website", () => {
  test("the snippet shows the launcher in the accent colour; the page load to launcher time is printed", async () => {
    const { snippet } = await connectChat({ color: "#E4572E", availability: { mode: "ALWAYS" }, welcomeMessage: "Hi! Ask us about teapots." });
    const page = await newPage();
    await page.goto(site.page("/accent", { html: shopPage(snippet) }));
    await expect.poll(() => launcher(page).isVisible()).toBe(true);
    expect(await launcher(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb("#E4572E"));
    const box = (await launcher(page).boundingBox())!;
    // Bottom right corner of the viewport, 56 px round.
    expect(box).toMatchObject({ width: 56, height: 56 });
    expect(box.x + box.width).toBeGreaterThan(850);
    expect(box.y + box.height).toBeGreaterThan(650);
    const ms = await page.evaluate(() => performance.getEntriesByName("inbox-chat:launcher")[0]?.startTime);
    // A second visitor (empty browser cache) once the server has built and warmed up.
    const warm = await newPage();
    await warm.goto(site.page("/accent", { html: shopPage(snippet) }));
    await expect.poll(() => launcher(warm).isVisible()).toBe(true);
    const warmMs = await warm.evaluate(() => performance.getEntriesByName("inbox-chat:launcher")[0]?.startTime);
    console.log(`[widget] navigation start to launcher inserted: first page ${ms?.toFixed(0)} ms (server's first widget request), next visitor ${warmMs?.toFixed(0)} ms`);
    expect(await launcher(page).getAttribute("aria-label")).toBe("Open chat");
    await screenshot(page, "01-launcher-accent");

    await launcher(page).click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    expect(await messageList(page).textContent()).toContain("Hi! Ask us about teapots.");
    // Keyboard: the message field has focus, Escape closes and gives focus back to the launcher.
    expect(await page.evaluate(() => document.querySelector("inbox-chat-widget")!.shadowRoot!.activeElement?.id)).toBe("inbox-chat-input");
    await screenshot(page, "02-panel-open");
    await page.keyboard.press("Escape");
    await expect.poll(() => panel(page).isVisible()).toBe(false);
    expect(await page.evaluate(() => document.querySelector("inbox-chat-widget")!.shadowRoot!.activeElement?.className)).toBe("launcher");
  });

  test("the visitor writes, an agent replies through the API, the visitor sees it live; a reload keeps the thread", async () => {
    const { id, snippet } = await connectChat({ color: "#2D6CDF", availability: { mode: "ALWAYS" } });
    const channelId = fromGlobalId(id, "Channel");
    const page = await newPage();
    const url = site.page("/chat", { html: shopPage(snippet) });
    await page.goto(url);
    await launcher(page).click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    // Opening the widget starts nothing: the conversation is created when the visitor first writes.
    expect(await t.prisma.conversation.count({ where: { channelId } })).toBe(0);

    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Hello, is the blue teapot in stock?");
    await input.press("Enter");
    await expect.poll(() => t.prisma.message.count({ where: { channelId, direction: "INBOUND" } })).toBe(1);
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId } });
    await expect.poll(() => messageList(page).locator(".msg.in:not(.pending)").count()).toBe(1);

    const agent = t.client(await t.tokenFor(acc.agent));
    const reply = await agent.request(WidgetReplyDocument, { input: { conversationId: toGlobalId("Conversation", conversation.id), text: "Yes! Two left." } });
    expect(reply.reply.__typename).toBe("MessageResult");
    await expect.poll(() => messageList(page).textContent(), { timeout: 15_000 }).toContain("Yes! Two left.");
    await screenshot(page, "03-agent-reply-live");

    await page.reload();
    // The panel was open: it opens again with the whole thread, read with the stored visitor token.
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    await expect.poll(() => messageList(page).textContent()).toContain("Yes! Two left.");
    expect(await messageList(page).textContent()).toContain("Hello, is the blue teapot in stock?");
    // After the reload the live stream resumes: the next reply arrives too, once.
    await agent.request(WidgetReplyDocument, { input: { conversationId: toGlobalId("Conversation", conversation.id), text: "Shall I reserve one?" } });
    await expect.poll(() => messageList(page).textContent(), { timeout: 15_000 }).toContain("Shall I reserve one?");
    expect(await messageList(page).locator(".msg").allTextContents()).toEqual(["Hi! How can we help?", "Hello, is the blue teapot in stock?", "Agent" + "Yes! Two left.", "Agent" + "Shall I reserve one?"]);
    expect(await t.prisma.conversation.count({ where: { channelId } })).toBe(1);
    await screenshot(page, "04-after-reload");
  });

  test("offline with HIDE_LAUNCHER: no launcher; an unpublished chat: none either", async () => {
    await t.prisma.user.update({ where: { id: acc.agent.id }, data: { availability: "AWAY" } });
    try {
      const { snippet } = await connectChat({ availability: { mode: "USERS" }, offlineBehavior: "HIDE_LAUNCHER" });
      const page = await newPage();
      const loaded = widgetLoaded(page);
      await page.goto(site.page("/offline", { html: shopPage(snippet) }));
      await loaded;
      // The widget has its answer (showLauncher false) and rendered nothing.
      await page.waitForTimeout(200);
      expect(await page.locator("inbox-chat-widget").count()).toBe(0);
      await screenshot(page, "05-offline-hidden");

      const away = await connectChat({ availability: { mode: "USERS" }, offlineBehavior: "SHOW_AWAY_MESSAGE", awayMessage: "We're out until Monday." });
      const page2 = await newPage();
      await page2.goto(site.page("/away", { html: shopPage(away.snippet) }));
      await launcher(page2).click();
      await expect.poll(() => page2.locator("inbox-chat-widget .notice").textContent()).toBe("We're out until Monday.");
      await screenshot(page2, "06-away-message");
    } finally {
      await t.prisma.user.update({ where: { id: acc.agent.id }, data: { availability: "AVAILABLE" } });
    }
  });

  test("settings changed by an admin reach an open page live: colour, welcome message, unpublished", async () => {
    const { id, snippet } = await connectChat({ color: "#2D6CDF", availability: { mode: "ALWAYS" }, welcomeMessage: "Hello from the shop" });
    const page = await newPage();
    await page.goto(site.page("/live-settings", { html: shopPage(snippet) }));
    await expect.poll(() => launcher(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb("#2D6CDF"));
    await launcher(page).click();
    await expect.poll(() => messageList(page).textContent()).toBe("Hello from the shop");
    // The settings stream is open once the widget has read its settings a second time (on the stream's opening).
    await expect.poll(() => page.evaluate(() => performance.getEntriesByType("resource").filter((e) => e.name.includes("InboxChatWidget")).length)).toBeGreaterThanOrEqual(2);
    const admin = t.client(await t.tokenFor(acc.admin));
    await admin.request(WaUpdateChatDocument, { input: { channelId: id, chat: { color: "#1B998B", welcomeMessage: "Teapot sale today!" } } });
    await expect.poll(() => launcher(page).evaluate((el) => getComputedStyle(el).backgroundColor), { timeout: 10_000 }).toBe(rgb("#1B998B"));
    await expect.poll(() => messageList(page).textContent()).toBe("Teapot sale today!");
    await screenshot(page, "08-settings-changed-live");
    await admin.request(WaUpdateChatDocument, { input: { channelId: id, chat: { published: false } } });
    await expect.poll(() => page.locator("inbox-chat-widget").count(), { timeout: 10_000 }).toBe(0);
    await admin.request(WaUpdateChatDocument, { input: { channelId: id, chat: { published: true } } });
    await expect.poll(() => launcher(page).isVisible(), { timeout: 10_000 }).toBe(true);
  });

  test("the visitor ends the chat with a transcript address: the transcript is queued and the next message starts a new chat", async () => {
    const { id, snippet } = await connectChat({ availability: { mode: "ALWAYS" }, transcriptSender: "chat@shop.test" });
    const channelId = fromGlobalId(id, "Channel");
    const page = await newPage();
    await page.goto(site.page("/end", { html: shopPage(snippet) }));
    await launcher(page).click();
    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Just browsing, thanks");
    await input.press("Enter");
    await expect.poll(() => messageList(page).locator(".msg.in:not(.pending)").count()).toBe(1);
    await page.locator("inbox-chat-widget .end").click();
    await page.getByLabel("Email me a transcript (optional)").fill("visitor@example.org");
    await screenshot(page, "12-end-chat");
    await page.locator("inbox-chat-widget .ending .send").click();
    await expect.poll(() => page.locator("inbox-chat-widget .notice").textContent()).toBe("Chat ended. A transcript is on its way to visitor@example.org.");
    const delivery = await t.prisma.outboundDelivery.findFirstOrThrow({ where: { channelId, kind: "EMAIL" } });
    expect(delivery.payload).toMatchObject({ from: { address: "chat@shop.test" }, to: { address: "visitor@example.org" } });
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("inbox-chat:")))).toEqual([]);
    await input.fill("One more question");
    await input.press("Enter");
    await expect.poll(() => t.prisma.conversation.count({ where: { channelId } })).toBe(2);
  });

  test("attachments both ways: the visitor attaches a file, the agent's attached link shows in the thread", async () => {
    const { id, snippet } = await connectChat({ availability: { mode: "ALWAYS" } });
    const channelId = fromGlobalId(id, "Channel");
    const page = await newPage();
    await page.goto(site.page("/files", { html: shopPage(snippet) }));
    await launcher(page).click();
    await page.locator("inbox-chat-widget #inbox-chat-file").setInputFiles({ name: "receipt.txt", mimeType: "text/plain", buffer: Buffer.from("Receipt 42") });
    await expect.poll(() => t.prisma.attachment.count({ where: { name: "receipt.txt", message: { conversation: { channelId } } } })).toBe(1);
    await expect.poll(() => messageList(page).locator(".msg.in:not(.pending) a.file").textContent()).toBe("receipt.txt (1 KB)");
    const href = await messageList(page).locator(".msg.in a.file").getAttribute("href");
    expect(await (await fetch(href!)).text()).toBe("Receipt 42");
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId } });
    await t.client(await t.tokenFor(acc.agent)).request(WidgetReplyDocument, {
      input: { conversationId: toGlobalId("Conversation", conversation.id), text: "Here is the manual.", attachments: [{ kind: "FILE", url: "https://docs.example.com/manual.pdf", name: "manual.pdf" }] },
    });
    await expect.poll(() => messageList(page).locator(".msg.out a.file").getAttribute("href"), { timeout: 15_000 }).toBe("https://docs.example.com/manual.pdf");
    await screenshot(page, "13-attachments");
  });

  test("GDPR consent: with EXPLICIT consent nothing starts until the visitor ticks “I agree”", async () => {
    const { id, snippet } = await connectChat({ availability: { mode: "ALWAYS" }, gdpr: { mode: "EXPLICIT", consentText: "I agree that Acme stores this chat." } });
    const channelId = fromGlobalId(id, "Channel");
    const page = await newPage();
    await page.goto(site.page("/consent", { html: shopPage(snippet) }));
    await launcher(page).click();
    const send = page.locator("inbox-chat-widget .composer .send");
    expect(await page.locator("inbox-chat-widget .consent label").textContent()).toBe("I agree that Acme stores this chat.");
    expect(await send.isDisabled()).toBe(true);
    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Hello?");
    await input.press("Enter");
    await screenshot(page, "09-consent-required");
    expect(await t.prisma.conversation.count({ where: { channelId } })).toBe(0);
    // The checkbox is reachable by its label.
    await page.getByLabel("I agree that Acme stores this chat.").check();
    expect(await send.isDisabled()).toBe(false);
    await send.click();
    await expect.poll(() => t.prisma.message.count({ where: { channelId, direction: "INBOUND", text: "Hello?" } })).toBe(1);
    await expect.poll(() => page.locator("inbox-chat-widget .consent").isVisible()).toBe(false);
  });

  test("the heading shows the channel's people, and the welcome message as a prompt on page load", async () => {
    const [ada, grace] = await Promise.all(
      [["Ada", "Lovelace"], ["Grace", "Hopper"]].map(([firstName, lastName]) =>
        t.prisma.user.create({ data: { accountId: acc.accountId, email: `${firstName.toLowerCase()}-${Date.now()}@shop.test`, firstName, lastName } }),
      ),
    );
    const { snippet } = await connectChat({
      color: "#0F766E",
      availability: { mode: "ALWAYS" },
      typicalReplyTime: "FEW_MINUTES",
      welcomeMessage: "Hi! Looking for a teapot? Ask us anything.",
      welcomeAsPrompt: true,
      heading: { mode: "SPECIFIC", userIds: [toGlobalId("User", ada.id), toGlobalId("User", grace.id)] },
    });
    const page = await newPage();
    await page.goto(site.page("/prompt", { html: shopPage(snippet) }));
    const prompt = page.locator("inbox-chat-widget .prompt");
    await expect.poll(() => prompt.isVisible()).toBe(true);
    expect(await prompt.textContent()).toContain("Looking for a teapot?");
    await screenshot(page, "10-welcome-prompt");
    await prompt.click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    expect(await page.locator("inbox-chat-widget .title").textContent()).toBe("Ada Lovelace, Grace Hopper");
    expect(await page.locator("inbox-chat-widget .face").allTextContents()).toEqual(["AL", "GH"]);
    expect(await page.locator("inbox-chat-widget .sub").textContent()).toBe("Typically replies in a few minutes");
    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Do you ship to Norway?");
    await input.press("Enter");
    await expect.poll(() => messageList(page).locator(".msg.in:not(.pending)").count()).toBe(1);
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { visitorName: null, messages: { some: { text: "Do you ship to Norway?" } } } });
    await t.client(await t.tokenFor(acc.agent)).request(WidgetReplyDocument, { input: { conversationId: toGlobalId("Conversation", conversation.id), text: "We do! Shipping takes 3-5 days." } });
    await expect.poll(() => messageList(page).textContent(), { timeout: 15_000 }).toContain("We do!");
    await page.locator("inbox-chat-widget").screenshot({ path: `${ARTIFACTS}/chat-widget.png` });
    await screenshot(page, "11-heading-and-thread");
  });

  test("a hostile host stylesheet does not break it, nor a strict Content-Security-Policy", async () => {
    const { snippet } = await connectChat({ color: "#6A4C93", availability: { mode: "ALWAYS" } });
    const server = new URL(t.url).origin;
    // Everything on the page hidden and restyled (the root and body kept, or no page would render at all).
    const hostile = `
      * { display: none !important; color: red !important; font-size: 40px !important; box-sizing: content-box !important; position: static !important; opacity: .1 !important; }
      html, body { display: block !important; opacity: 1 !important; }
      button, textarea, div, section { background: yellow !important; border: 5px dashed red !important; }`;
    site.page("/hostile.css", { html: hostile, headers: { "content-type": "text/css" } });
    const page = await newPage();
    await page.goto(
      site.page("/hostile", {
        html: shopPage(snippet, `<link rel="stylesheet" href="/hostile.css">`),
        // No inline script or style at all; scripts and connections only to the inbox server.
        headers: { "content-security-policy": `default-src 'none'; script-src ${server}; connect-src ${server}; style-src 'self'` },
      }),
    );
    await expect.poll(() => launcher(page).isVisible()).toBe(true);
    expect(await launcher(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb("#6A4C93"));
    expect(await launcher(page).boundingBox()).toMatchObject({ width: 56, height: 56 });
    await launcher(page).click();
    const input = page.locator("inbox-chat-widget textarea");
    await input.fill("Can you see me?");
    await input.press("Enter");
    await expect.poll(() => messageList(page).locator(".msg.in:not(.pending)").count()).toBe(1);
    expect(await page.locator("inbox-chat-widget .msg.in").evaluate((el) => getComputedStyle(el).fontSize)).toBe("14px");
    await screenshot(page, "07-hostile-css-csp");

    // A nonce-based policy with 'strict-dynamic': the loader hands the snippet's nonce to the bundle.
    const strict = await newPage();
    await strict.goto(
      site.page("/nonce", {
        html: shopPage(snippet.replace("<script ", '<script nonce="r4nd0m" ')),
        headers: { "content-security-policy": `default-src 'none'; script-src 'nonce-r4nd0m' 'strict-dynamic'; connect-src ${server}; style-src 'none'` },
      }),
    );
    await expect.poll(() => launcher(strict).isVisible()).toBe(true);
    expect(await launcher(strict).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(rgb("#6A4C93"));
  });
});
