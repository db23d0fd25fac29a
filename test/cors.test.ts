import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { print, type DocumentNode } from "graphql";
import type { Prisma } from "../src/generated/prisma/client.js";
import { ViewerDocument, WidgetStartChatDocument, WidgetVisitorConversationDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { loadConfig } from "../src/config.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";

const INBOX_UI = "https://inbox.example.com";
const EVIL = "https://evil.example";

let open: TestServer; // no CORS_ORIGINS: the default
let listed: TestServer; // CORS_ORIGINS lists the inbox UI and *.acme.example
let a: TestAccount;

beforeAll(async () => {
  open = await startTestServer({ DELIVERY_WORKER: "false" });
  listed = await startTestServer({ DELIVERY_WORKER: "false", CORS_ORIGINS: `${INBOX_UI}, https://*.acme.example` });
  a = await createTestAccount(open.prisma);
});
afterAll(async () => {
  await open?.close();
  await listed?.close();
});

/** A browser's POST /graphql from `origin` (when given), as fetch sends it. */
function post(server: TestServer, document: DocumentNode, opts: { origin?: string; token?: string; variables?: Record<string, unknown> } = {}) {
  return fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables: opts.variables ?? {} }),
  });
}

/** The browser's preflight before a POST with these headers. */
function preflight(server: TestServer, pathname: string, origin: string, requestHeaders = "authorization, content-type") {
  return fetch(new URL(pathname, server.url), { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders } });
}

async function agentToken(server: TestServer) {
  const account = server === open ? a : await createTestAccount(server.prisma);
  return { token: await server.tokenFor(account.agent), account };
}

async function storedFiles(server: TestServer, accountId: string) {
  return readdir(path.join(server.config.dataDir, "attachments", accountId)).then((f) => f.length, () => 0);
}

describe("without CORS_ORIGINS", () => {
  test("the public visitor API answers any origin, without credentials: a chat starts and its visitor reads it from a shop's page", async () => {
    const inbox = await createInbox(open.prisma, a.accountId, { userIds: [a.agent.id] });
    const channel = await open.prisma.channel.create({
      data: { accountId: a.accountId, inboxId: inbox.id, type: "CHAT", name: "Site chat", status: "ON", settings: chatSettings.parse({ availability: { mode: "ALWAYS" } }) as Prisma.InputJsonValue },
    });
    const shop = "https://shop.example";
    const pre = await preflight(open, "/graphql", shop);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET, POST");

    const started = await post(open, WidgetStartChatDocument, { origin: shop, variables: { input: { channelId: toGlobalId("Channel", channel.id), name: "Vera" } } });
    expect(started.status).toBe(200);
    expect(started.headers.get("access-control-allow-origin")).toBe("*");
    expect(started.headers.get("access-control-allow-credentials")).toBeNull();
    const { data } = (await started.json()) as { data: { startChat: { __typename: string; visitorToken: string } } };
    expect(data.startChat.__typename).toBe("StartChatResult");

    const read = await post(open, WidgetVisitorConversationDocument, { origin: shop, token: data.startChat.visitorToken });
    expect(read.status).toBe(200);
    expect(read.headers.get("access-control-allow-credentials")).toBeNull();
    expect(((await read.json()) as { data: { visitorConversation: { status: string } } }).data.visitorConversation).toMatchObject({ status: expect.any(String) });
  });

  test("an agent token sent from an unlisted origin is refused (403, no data, no credentials); without an Origin, or from the server's own, it works", async () => {
    const { token } = await agentToken(open);
    const refused = await post(open, ViewerDocument, { origin: EVIL, token });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-credentials")).toBeNull();
    expect(refused.headers.get("access-control-allow-origin")).not.toBe(EVIL);
    const body = (await refused.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0].extensions.code).toBe("FORBIDDEN_ORIGIN");
    // A partner token too.
    const partner = await open.prisma.partner.create({ data: { name: "Partner" } });
    const partnerToken = await open.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" });
    expect((await post(open, ViewerDocument, { origin: EVIL, token: partnerToken })).status).toBe(403);

    // Servers and apps send no Origin: unaffected, and no CORS headers.
    const server = await post(open, ViewerDocument, { token });
    expect(server.status).toBe(200);
    expect(server.headers.get("access-control-allow-origin")).toBeNull();
    expect(((await server.json()) as { data: { viewer: { email: string } } }).data.viewer.email).toBe(a.agent.email);
    // This server's own pages (GraphiQL) are same-origin.
    const own = new URL(open.url).origin;
    const same = await post(open, ViewerDocument, { origin: own, token });
    expect(same.status).toBe(200);
    expect(same.headers.get("access-control-allow-origin")).toBe(own);
    expect(same.headers.get("access-control-allow-credentials")).toBe("true");
  });

  test("POST /attachments from an unlisted origin: the preflight gets no CORS answer and the upload is refused before anything is stored", async () => {
    const { token, account } = await agentToken(open);
    const pre = await preflight(open, "/attachments", EVIL, "authorization, content-type, x-filename");
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const before = await storedFiles(open, account.accountId);
    const res = await fetch(new URL("/attachments", open.url), { method: "POST", headers: { origin: EVIL, authorization: `Bearer ${token}`, "content-type": "text/plain", "x-filename": "x.txt" }, body: "stolen" });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(await res.json()).toMatchObject({ error: "origin_not_allowed" });
    expect(await storedFiles(open, account.accountId)).toBe(before);
  });
});

describe("with CORS_ORIGINS", () => {
  test("a listed origin's preflight and requests are answered with its origin and credentials", async () => {
    const { token, account } = await agentToken(listed);
    const pre = await preflight(listed, "/graphql", INBOX_UI, "authorization, content-type, x-graphql-client");
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(INBOX_UI);
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-graphql-client");
    expect(pre.headers.get("vary")).toContain("Origin");

    const res = await post(listed, ViewerDocument, { origin: INBOX_UI, token });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(INBOX_UI);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-request-id");
    expect(((await res.json()) as { data: { viewer: { email: string } } }).data.viewer.email).toBe(account.agent.email);

    const upload = await fetch(new URL("/attachments", listed.url), { method: "POST", headers: { origin: INBOX_UI, authorization: `Bearer ${token}`, "content-type": "text/plain", "x-filename": "note.txt" }, body: "hello" });
    expect(upload.status).toBe(201);
    expect(upload.headers.get("access-control-allow-origin")).toBe(INBOX_UI);
    expect(upload.headers.get("access-control-allow-credentials")).toBe("true");
  });

  test("a wildcard entry covers subdomains only; another scheme, port or look-alike host is not listed", async () => {
    const { token } = await agentToken(listed);
    expect((await post(listed, ViewerDocument, { origin: "https://eu.acme.example", token })).headers.get("access-control-allow-credentials")).toBe("true");
    for (const origin of ["https://acme.example", "http://eu.acme.example", "https://evilacme.example", "https://inbox.example.com.evil.example", "http://inbox.example.com", "https://inbox.example.com:8443", "null"]) {
      const res = await post(listed, ViewerDocument, { origin, token });
      expect(res.status, origin).toBe(403);
      expect(res.headers.get("access-control-allow-credentials"), origin).toBeNull();
      const pre = await preflight(listed, "/attachments", origin);
      expect(pre.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });

  test("a bad CORS_ORIGINS stops the server at start with a message naming it", () => {
    for (const bad of ["inbox.example.com", "https://inbox.example.com/app", "*"]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
    expect(loadConfig({ CORS_ORIGINS: "https://Inbox.Example.com/, http://localhost:3000" }).cors.origins).toEqual(["https://inbox.example.com", "http://localhost:3000"]);
  });
});
