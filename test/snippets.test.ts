import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SnipCreateDocument, SnipDeleteDocument, SnipListDocument, SnipNodeDocument, SnipRenderDocument, SnipUpdateDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox } from "./support/conversation-fixtures.js";

let t: TestServer;
let acc: TestAccount;
let other: TestAccount;

beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma, { name: "Acme & Co" });
  other = await createTestAccount(t.prisma, { name: "Other" });
});
afterAll(async () => t?.close());

async function conversationIn(accountId: string, userIds: string[], contactName: string | null, visitorName: string | null = null) {
  const inbox = await createInbox(t.prisma, accountId, { userIds });
  const channel = await createChannel(t.prisma, { accountId, inboxId: inbox.id });
  const contact = contactName === null ? null : await t.prisma.contact.create({ data: { accountId, name: contactName } });
  const c = await t.prisma.conversation.create({ data: { accountId, inboxId: inbox.id, channelId: channel.id, contactId: contact?.id ?? null, visitorName } });
  return toGlobalId("Conversation", c.id);
}

async function create(token: string, input: Record<string, unknown>) {
  const r = await t.client(token).request(SnipCreateDocument, { input: input as never });
  return r.createSnippet;
}

describe("snippets", () => {
  test("create personal and shared snippets; search by shortcut prefix and name; personal ones stay their owner's", async () => {
    const agentToken = await t.tokenFor(acc.agent);
    const adminToken = await t.tokenFor(acc.admin);
    const mine = await create(agentToken, { name: "Greeting", shortcut: "Hello", body: "<p>Hi {{contact.firstName}}!</p><script>alert(1)</script>" });
    expect(mine).toMatchObject({ __typename: "SnippetResult", snippet: { kind: "TEXT", shortcut: "hello", body: "<p>Hi {{contact.firstName}}!</p>", url: null, shared: false, owner: { id: toGlobalId("User", acc.agent.id) } } });

    // Agents cannot create shared snippets; admins can.
    expect(await create(agentToken, { name: "Team", shortcut: "team", body: "x", shared: true })).toMatchObject({ __typename: "ForbiddenError" });
    const shared = await create(adminToken, { name: "Refund policy", shortcut: "refund", body: "<p>Refunds within 30 days.</p>", shared: true });
    expect(shared).toMatchObject({ __typename: "SnippetResult", snippet: { shared: true, owner: null } });
    const link = await create(adminToken, { kind: "MEETING_LINK", name: "Book a call", shortcut: "meet", url: "https://meet.example.com/acme", shared: true });
    expect(link).toMatchObject({ __typename: "SnippetResult", snippet: { kind: "MEETING_LINK", body: "", url: "https://meet.example.com/acme" } });

    const agent = t.client(agentToken);
    expect((await agent.request(SnipListDocument, {})).snippets.map((s) => s.shortcut)).toEqual(["hello", "meet", "refund"]);
    expect((await agent.request(SnipListDocument, { search: "RE" })).snippets.map((s) => s.shortcut)).toEqual(["refund"]);
    // "call" is in a name, not a shortcut.
    expect((await agent.request(SnipListDocument, { search: "call" })).snippets.map((s) => s.shortcut)).toEqual(["meet"]);
    expect((await agent.request(SnipListDocument, { kind: "MEETING_LINK" })).snippets.map((s) => s.shortcut)).toEqual(["meet"]);

    // The admin sees shared snippets but not the agent's personal one, by list or by id.
    const admin = t.client(adminToken);
    expect((await admin.request(SnipListDocument, {})).snippets.map((s) => s.shortcut)).toEqual(["meet", "refund"]);
    if (mine.__typename !== "SnippetResult") throw new Error("create failed");
    expect((await admin.request(SnipNodeDocument, { id: mine.snippet.id })).node).toBeNull();
    expect((await admin.request(SnipUpdateDocument, { input: { snippetId: mine.snippet.id, name: "Mine now" } })).updateSnippet).toMatchObject({ __typename: "NotFoundError" });
    expect((await agent.request(SnipNodeDocument, { id: mine.snippet.id })).node).toMatchObject({ __typename: "Snippet", shortcut: "hello" });
    // Another account sees nothing.
    const foreign = t.client(await t.tokenFor(other.admin));
    expect((await foreign.request(SnipListDocument, {})).snippets).toEqual([]);
    expect((await foreign.request(SnipDeleteDocument, { input: { snippetId: mine.snippet.id } })).deleteSnippet).toMatchObject({ __typename: "NotFoundError" });
  });

  test("bad input is a typed error naming the field; shortcuts are unique per scope", async () => {
    const token = await t.tokenFor(acc.superAdmin);
    const bad = async (input: Record<string, unknown>) => {
      const r = await create(token, input);
      if (r.__typename !== "ValidationError") throw new Error(`expected a ValidationError, got ${JSON.stringify(r)}`);
      return r.fieldErrors.map((f) => f.path.join("."));
    };
    expect(await bad({ name: "x", shortcut: "has space", body: "x" })).toEqual(["input.shortcut"]);
    expect(await bad({ name: "", shortcut: "ok", body: "x" })).toEqual(["input.name"]);
    expect(await bad({ name: "x", shortcut: "ok", body: "<script>only</script>" })).toEqual(["input.body"]);
    expect(await bad({ kind: "DOCUMENT", name: "Doc", shortcut: "doc" })).toEqual(["input.url"]);
    expect(await bad({ kind: "DOCUMENT", name: "Doc", shortcut: "doc", url: "javascript:alert(1)" })).toEqual(["input.url"]);
    expect(await bad({ kind: "KNOWLEDGE_BASE", name: "Kb", shortcut: "kb", url: "http://169.254.169.254/latest" })).toEqual(["input.url"]);
    expect(await bad({ name: "x", shortcut: "ok", body: "x", url: "https://example.com" })).toEqual(["input.url"]);

    expect(await create(token, { name: "Mine", shortcut: "dup", body: "one" })).toMatchObject({ __typename: "SnippetResult" });
    expect(await bad({ name: "Mine again", shortcut: "DUP", body: "two" })).toEqual(["input.shortcut"]);
    // The same shortcut is fine in another scope: shared, and another user's personal snippets.
    expect(await create(token, { name: "Shared", shortcut: "dup", body: "shared", shared: true })).toMatchObject({ __typename: "SnippetResult" });
    expect(await create(await t.tokenFor(acc.agent), { name: "Agent's", shortcut: "dup", body: "agent" })).toMatchObject({ __typename: "SnippetResult" });
    expect(await bad({ name: "Shared again", shortcut: "dup", body: "x", shared: true })).toEqual(["input.shortcut"]);
  });

  test("update and delete: owners manage their own, admins the shared ones", async () => {
    const agentToken = await t.tokenFor(acc.agent);
    const adminToken = await t.tokenFor(acc.admin);
    const shared = await create(adminToken, { name: "Shared", shortcut: "shared-edit", body: "v1", shared: true });
    const mine = await create(agentToken, { name: "Mine", shortcut: "mine-edit", body: "v1" });
    if (shared.__typename !== "SnippetResult" || mine.__typename !== "SnippetResult") throw new Error("create failed");
    const agent = t.client(agentToken);
    expect((await agent.request(SnipUpdateDocument, { input: { snippetId: shared.snippet.id, body: "hacked" } })).updateSnippet).toMatchObject({ __typename: "ForbiddenError" });
    expect((await agent.request(SnipDeleteDocument, { input: { snippetId: shared.snippet.id } })).deleteSnippet).toMatchObject({ __typename: "ForbiddenError" });
    expect((await t.prisma.snippet.findUniqueOrThrow({ where: { id: fromGlobalId(shared.snippet.id, "Snippet") } })).body).toBe("v1");

    // TEXT -> DOCUMENT needs a url; back to TEXT clears it.
    expect((await agent.request(SnipUpdateDocument, { input: { snippetId: mine.snippet.id, kind: "DOCUMENT" } })).updateSnippet).toMatchObject({ __typename: "ValidationError" });
    expect((await agent.request(SnipUpdateDocument, { input: { snippetId: mine.snippet.id, kind: "DOCUMENT", url: "https://docs.example.com/a" } })).updateSnippet).toMatchObject({
      snippet: { kind: "DOCUMENT", url: "https://docs.example.com/a", body: "v1", name: "Mine" },
    });
    expect((await agent.request(SnipUpdateDocument, { input: { snippetId: mine.snippet.id, kind: "TEXT", url: null } })).updateSnippet).toMatchObject({ snippet: { kind: "TEXT", url: null } });

    const admin = t.client(adminToken);
    expect((await admin.request(SnipUpdateDocument, { input: { snippetId: shared.snippet.id, body: "<p>v2</p>" } })).updateSnippet).toMatchObject({ snippet: { body: "<p>v2</p>" } });
    expect((await admin.request(SnipDeleteDocument, { input: { snippetId: shared.snippet.id } })).deleteSnippet).toEqual({ __typename: "DeleteSnippetResult", deletedSnippetId: shared.snippet.id });
    expect((await agent.request(SnipDeleteDocument, { input: { snippetId: mine.snippet.id } })).deleteSnippet).toMatchObject({ __typename: "DeleteSnippetResult" });
    expect(await t.prisma.snippet.count({ where: { id: { in: [fromGlobalId(shared.snippet.id, "Snippet"), fromGlobalId(mine.snippet.id, "Snippet")] } } })).toBe(0);
  });

  test("renderSnippet fills tokens for a visible conversation, escapes values, falls back for missing ones", async () => {
    const bob = await createTestUser(t.prisma, acc.accountId, { firstName: "Bob" });
    await t.prisma.user.update({ where: { id: bob.id }, data: { lastName: "Builder" } });
    const token = await t.tokenFor(bob);
    const s = await create(token, {
      name: "Full",
      shortcut: "full",
      body: "<p>Hi {{contact.firstName}} {{ contact.lastName }} ({{contact.fullName}}), {{agent.name}} from {{company.name}}. {{unknown.token}}</p>",
    });
    if (s.__typename !== "SnippetResult") throw new Error("create failed");
    const bobClient = t.client(token);
    const render = (conversationId: string, snippetId = s.snippet.id) => bobClient.request(SnipRenderDocument, { input: { snippetId, conversationId } }).then((r) => r.renderSnippet);

    const withContact = await conversationIn(acc.accountId, [bob.id], "Ada <b>Love</b> Lace");
    expect(await render(withContact)).toEqual({
      __typename: "RenderedSnippet",
      snippetId: s.snippet.id,
      kind: "TEXT",
      richText: "<p>Hi Ada &lt;b&gt;Love&lt;/b&gt; Lace (Ada &lt;b&gt;Love&lt;/b&gt; Lace), Bob Builder from Acme &amp; Co. {{unknown.token}}</p>",
      text: "Hi Ada <b>Love</b> Lace (Ada <b>Love</b> Lace), Bob Builder from Acme & Co. {{unknown.token}}",
      url: null,
    });
    // No contact and no visitor name: "there" for first and full name, "" for the last name.
    const anonymous = await conversationIn(acc.accountId, [bob.id], null);
    expect(await render(anonymous)).toMatchObject({ text: "Hi there (there), Bob Builder from Acme & Co. {{unknown.token}}" });
    const visitor = await conversationIn(acc.accountId, [bob.id], null, "Vera");
    expect(await render(visitor)).toMatchObject({ text: "Hi Vera (Vera), Bob Builder from Acme & Co. {{unknown.token}}" });

    // A conversation of an inbox Bob is not in, or of another account, is not found.
    const hidden = await conversationIn(acc.accountId, [acc.agent.id], "Hidden");
    expect(await render(hidden)).toMatchObject({ __typename: "NotFoundError" });
    const foreign = await conversationIn(other.accountId, [other.agent.id], "Foreign");
    expect(await render(foreign)).toMatchObject({ __typename: "NotFoundError" });
    // Someone else's personal snippet is not found either.
    const agentOwn = await create(await t.tokenFor(acc.agent), { name: "Agent's", shortcut: "agent-only", body: "secret" });
    if (agentOwn.__typename !== "SnippetResult") throw new Error("create failed");
    expect(await render(withContact, agentOwn.snippet.id)).toMatchObject({ __typename: "NotFoundError" });
  });
});

