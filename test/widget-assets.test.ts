import { gunzipSync } from "node:zlib";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WaChatWidgetDocument, WaConnectChatDocument, WaSendWithFilesDocument, WaVisitorFilesDocument, WaUpdateChatDocument, WaVisitorConversationDocument, WidgetReplyDocument, WidgetSendVisitorMessageDocument, WidgetStartChatDocument } from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";
import { record } from "./support/subscriptions.js";
import { WidgetVisitorMessageAddedDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";

/**
 * The chat widget as a website gets it, without a browser: the loader and bundle this server
 * serves (caching, compression, size budgets), the embed snippet pointing at this server, and the
 * channel's allowed origins on startChat. The browser tests (npm run test:browser) drive the rest.
 */

let t: TestServer;
let acc: TestAccount;
let origin: string;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Widget assets" });
  origin = new URL(t.url).origin;
});
afterAll(async () => t?.close());

async function connectChat(chat: Record<string, unknown> = {}) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const admin = t.client(await t.tokenFor(acc.admin));
  const r = await admin.request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Site chat", chat: { availability: { mode: "ALWAYS" }, ...chat } } });
  if (r.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r.connectChannel));
  return r.connectChannel.channel;
}

/** startChat as a page at `pageOrigin` sends it (no Origin header when null). */
async function startFrom(channelId: string, pageOrigin: string | null) {
  const res = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(pageOrigin ? { origin: pageOrigin } : {}) },
    body: JSON.stringify({ query: print(WidgetStartChatDocument), variables: { input: { channelId } } }),
  });
  const body = (await res.json()) as { data: { startChat: { __typename: string; visitorToken?: string; errorMessage?: string } } };
  return { res, startChat: body.data.startChat };
}

describe("the widget's scripts", () => {
  test("GET /widget/loader.js: JavaScript, cached for minutes with an ETag, gzipped on request, 304 when unchanged; it loads the versioned bundle", async () => {
    const res = await fetch(`${origin}/widget/loader.js`, { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300, stale-while-revalidate=86400");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    const loader = await res.text();
    const bundle = /chat\.[0-9a-f]{12}\.js/.exec(loader)?.[0];
    expect(bundle).toBeDefined();

    const again = await fetch(`${origin}/widget/loader.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);

    // fetch would decompress: read the raw bytes through node's gunzip instead.
    const gz = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      import("node:http").then(({ get }) =>
        get(`${origin}/widget/loader.js`, { headers: { "accept-encoding": "gzip" } }, (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => resolve({ encoding: r.headers["content-encoding"], body: Buffer.concat(chunks) }));
        }).on("error", reject),
      );
    });
    expect(gz.encoding).toBe("gzip");
    expect(gunzipSync(gz.body).toString()).toBe(loader);
    // The budgets: loader under 3 KB, widget under 40 KB, gzipped.
    expect(gz.body.length).toBeLessThan(3 * 1024);

    const js = await fetch(`${origin}/widget/${bundle}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const { gzipSync } = await import("node:zlib");
    expect(gzipSync(Buffer.from(await js.text())).length).toBeLessThan(40 * 1024);
  });

  test("other /widget paths are 404, other methods 405", async () => {
    expect((await fetch(`${origin}/widget/nothing.js`)).status).toBe(404);
    expect((await fetch(`${origin}/widget/loader.js`, { method: "POST" })).status).toBe(405);
  });
});

describe("the embed snippet", () => {
  test("points at this server's loader: the request's origin without PUBLIC_URL", async () => {
    const channel = await connectChat();
    expect(channel.chat!.embedSnippet).toBe(`<script type="text/javascript" id="inbox-chat-loader" async src="${origin}/widget/loader.js" data-channel-id="${channel.id}"></script>`);
  });

  test("with PUBLIC_URL, at that URL", async () => {
    const other = await startTestServer({ PUBLIC_URL: "https://chat.example.com/" });
    try {
      const account = await createTestAccount(other.prisma, { name: "Public URL" });
      const inbox = await createInbox(other.prisma, account.accountId, {});
      const r = await other.client(await other.tokenFor(account.admin)).request(WaConnectChatDocument, { input: { inboxId: toGlobalId("Inbox", inbox.id), name: "Chat", chat: {} } });
      if (r.connectChannel.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r.connectChannel));
      expect(r.connectChannel.channel.chat!.embedSnippet).toContain('src="https://chat.example.com/widget/loader.js"');
    } finally {
      await other.close();
    }
  });
});

describe("allowed origins", () => {
  test("a channel that lists origins starts chats only for pages on them; the list is validated and normalized", async () => {
    const channel = await connectChat({ allowedOrigins: ["https://Shop.example.com:443", "https://*.acme.test"] });
    expect(channel.chat!.allowedOrigins).toEqual(["https://shop.example.com", "https://*.acme.test"]);

    for (const page of ["https://evil.example", "https://shop.example.com.evil.example", "http://shop.example.com", null]) {
      const { startChat } = await startFrom(channel.id, page);
      expect(startChat.__typename, String(page)).toBe("ForbiddenError");
    }
    expect(await t.prisma.conversation.count({ where: { channelId: fromGlobalId(channel.id, "Channel") } })).toBe(0);

    for (const page of ["https://shop.example.com", "https://www.acme.test"]) {
      const { res, startChat } = await startFrom(channel.id, page);
      expect(startChat.__typename, page).toBe("StartChatResult");
      // The public visitor API answers any page, never with credentials.
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    }

    const bad = await t.client(await t.tokenFor(acc.admin)).request(WaUpdateChatDocument, { input: { channelId: channel.id, chat: { allowedOrigins: ["https://shop.example.com/path"] } } });
    expect(bad.updateChannel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "chat", "allowedOrigins", "0"] }] });
    // Emptied: any site again.
    await t.client(await t.tokenFor(acc.admin)).request(WaUpdateChatDocument, { input: { channelId: channel.id, chat: { allowedOrigins: [] } } });
    expect((await startFrom(channel.id, "https://evil.example")).startChat.__typename).toBe("StartChatResult");
  });

  test("a page's preflight for the visitor API is answered for any origin", async () => {
    const res = await fetch(t.url, {
      method: "OPTIONS",
      headers: { origin: "https://any-site.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("authorization");
  });
});

describe("what the widget reads", () => {
  test("chatWidget renders the settings; an unpublished chat is null", async () => {
    const channel = await connectChat({ color: "#FF6600", font: "Georgia, serif", welcomeMessage: "Hello there", welcomeAsPrompt: true });
    const r = await t.client().request(WaChatWidgetDocument, { channelId: channel.id });
    expect(r.chatWidget).toEqual({
      color: "#FF6600",
      font: "Georgia, serif",
      welcomeMessage: "Hello there",
      welcomeAsPrompt: true,
      heading: [],
      status: { showLauncher: true, state: "AVAILABLE", message: null },
    });
    await t.client(await t.tokenFor(acc.admin)).request(WaUpdateChatDocument, { input: { channelId: channel.id, chat: { published: false } } });
    expect((await t.client().request(WaChatWidgetDocument, { channelId: channel.id })).chatWidget).toBeNull();
  });

  test("the thread's eventCursor resumes the live replies from that snapshot on", async () => {
    const channel = await connectChat();
    const { startChat } = await startFrom(channel.id, "https://site.example");
    const visitor = t.client(startChat.visitorToken!);
    await visitor.request(WidgetSendVisitorMessageDocument, { input: { text: "Hi", clientMessageId: "m1" } });
    const snapshot = (await visitor.request(WaVisitorConversationDocument)).visitorConversation;
    expect(snapshot.messages.map((m) => m.text)).toEqual(["Hi! How can we help?", "Hi"]);
    expect(snapshot.eventCursor).toMatch(/^\d+$/);

    await t.client(await t.tokenFor(acc.agent)).request(WidgetReplyDocument, { input: { conversationId: snapshot.id, text: "Made while offline" } });
    const live = record(t.ws(startChat.visitorToken), WidgetVisitorMessageAddedDocument, { after: snapshot.eventCursor });
    const [missed] = await live.waitFor(1);
    // Only what came after the snapshot: not the welcome message again.
    expect(missed.visitorMessageAdded.text).toBe("Made while offline");
    live.dispose();
  });
});

describe("attachments from the visitor", () => {
  const upload = (token: string | null, body: string, headers: Record<string, string> = {}) =>
    fetch(`${origin}/widget/uploads`, { method: "POST", headers: { "content-type": "text/plain", "x-filename": "order.txt", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, body });

  test("POST /widget/uploads takes a visitor's file for sendVisitorMessage; agents see it on the message, the visitor gets it back with a download URL", async () => {
    const channel = await connectChat();
    const { startChat } = await startFrom(channel.id, "https://shop.example");
    const token = startChat.visitorToken!;

    const preflight = await fetch(`${origin}/widget/uploads`, { method: "OPTIONS", headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-filename" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-filename");

    expect((await upload(null, "x")).status).toBe(401);
    expect((await upload(await t.tokenFor(acc.agent), "x")).status).toBe(401);
    expect((await upload(token, "")).status).toBe(400);

    const res = await upload(token, "Order #1234", { origin: "https://shop.example" });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const file = (await res.json()) as { upload: string; name: string; mimeType: string; size: number };
    expect(file).toMatchObject({ name: "order.txt", mimeType: "text/plain", size: 11 });

    const visitor = t.client(token);
    const bad = await visitor.request(WaSendWithFilesDocument, { input: { clientMessageId: "f0", attachments: ["up1.forged.token"] } });
    expect(bad.sendVisitorMessage).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "attachments", "0"] }] });
    const sent = await visitor.request(WaSendWithFilesDocument, { input: { clientMessageId: "f1", attachments: [file.upload] } });
    if (sent.sendVisitorMessage.__typename !== "SendVisitorMessageResult") throw new Error(JSON.stringify(sent.sendVisitorMessage));
    expect(sent.sendVisitorMessage.sentMessage).toMatchObject({ text: null, attachments: [{ kind: "FILE", name: "order.txt", mimeType: "text/plain", size: 11 }] });

    const stored = await t.prisma.attachment.findFirstOrThrow({ where: { message: { conversation: { channelId: fromGlobalId(channel.id, "Channel") } } } });
    expect(stored).toMatchObject({ name: "order.txt", size: 11 });
    const history = await visitor.request(WaVisitorFilesDocument);
    const url = history.visitorConversation.messages.find((m) => m.direction === "INBOUND")!.attachments[0].downloadUrl!;
    expect(await (await fetch(new URL(url, origin))).text()).toBe("Order #1234");
  });
});
