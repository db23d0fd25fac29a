import { afterAll, beforeAll, expect, test } from "vitest";
import type { Prisma } from "../src/generated/prisma/client.js";
import { CfCreateDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { chatSettings } from "../src/services/channel-settings.js";
import { parseTargeting, targetingMatches, validateBotGraph } from "../src/services/chatflow-validation.js";
import { checkAnswer } from "../src/services/chatflow-engine.js";
import { ValidationError } from "../src/services/errors.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";

let t: TestServer;
let acc: TestAccount;
let channelId: string;
beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma);
  const inbox = await createInbox(t.prisma, acc.accountId, {});
  const channel = await t.prisma.channel.create({ data: { accountId: acc.accountId, inboxId: inbox.id, type: "CHAT", name: "Chat", settings: chatSettings.parse({}) as Prisma.InputJsonValue } });
  channelId = toGlobalId("Channel", channel.id);
});
afterAll(async () => t?.close());

const errorsOf = (graph: Parameters<typeof validateBotGraph>[0]) => {
  try {
    validateBotGraph(graph);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.fieldErrors.map((e) => [e.path.join("."), e.message]);
  }
};

test("a valid graph passes, with defaults filled in", () => {
  const g = validateBotGraph({ startActionId: "q", actions: [{ id: "q", type: "QUESTION", text: "Email?", answer: "EMAIL", next: "e" }, { id: "e", type: "END" }] });
  expect(g.actions[0]).toMatchObject({ answer: "EMAIL", maxRetries: 2 });
});

test("unknown targets, unreachable actions and cycles without a question are refused with their paths", () => {
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "MESSAGE", text: "hi", next: "nowhere" }] })).toEqual([["input.actions.0.next", 'No action has the id "nowhere"']]);
  expect(errorsOf({ startActionId: "ghost", actions: [{ id: "a", type: "END" }] })).toEqual([["input.startActionId", 'No action has the id "ghost"']]);
  expect(
    errorsOf({
      startActionId: "a",
      actions: [
        { id: "a", type: "BRANCH", rules: [{ when: [{ kind: "BUSINESS_HOURS" }], next: "b" }], else: "missing" },
        { id: "b", type: "END" },
      ],
    }),
  ).toEqual([["input.actions.0.else", 'No action has the id "missing"']]);
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "END" }, { id: "lonely", type: "MESSAGE", text: "never", next: "a" }] })).toEqual([["input.actions.1", 'Action "lonely" cannot be reached from the start']]);
  expect(
    errorsOf({
      startActionId: "a",
      actions: [
        { id: "a", type: "MESSAGE", text: "one", next: "b" },
        { id: "b", type: "SET_PROPERTY", target: "CONVERSATION", property: "x", value: "1", next: "a" },
      ],
    }),
  ).toEqual([["input.actions.0", "The actions a -> b -> a loop without asking a question"]]);
  // The same loop through a question waits for the visitor each round: allowed.
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "MESSAGE", text: "one", next: "q" }, { id: "q", type: "QUESTION", text: "again?", next: "a" }] })).toEqual([]);
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "END" }, { id: "a", type: "END" }] })).toEqual([["input.actions.1.id", 'Another action already has the id "a"']]);
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "QUESTION", text: "?", answer: "OPTIONS" }] })).toEqual([["input.actions.0.options", "A quick-reply question needs options"]]);
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "SET_PROPERTY", target: "CONTACT", property: "shoeSize", value: "42" }] })[0][0]).toBe("input.actions.0.property");
  expect(errorsOf({ startActionId: "a", actions: [{ id: "a", type: "TELEPORT" }] })[0][0]).toBe("input.actions.0.type");
});

test("MATCHES patterns that could backtrack without bound are refused when saved and never run", () => {
  const ok = parseTargeting({ include: [{ match: "MATCHES", value: "^https://shop\\.test/(products|cart)/\\d+" }] });
  expect(targetingMatches(ok, "https://shop.test/products/42")).toBe(true);
  expect(targetingMatches(ok, "https://shop.test/blog/42")).toBe(false);
  for (const value of ["(a+)+$", "(a|aa)*b", "((ab)*)+", "([a-z]+){2,}", "(x)\\1", "a".repeat(301)]) {
    let error: unknown;
    try {
      parseTargeting({ exclude: [{ match: "MATCHES", value }] });
    } catch (err) {
      error = err;
    }
    expect(error, value).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors[0].path).toEqual(["input", "targeting", "exclude", "0", "value"]);
  }
  // A stored pattern that slipped through earlier is not run: (a+)+$ on 40 a's and a ! would backtrack
  // for hours (this test would never finish).
  expect(targetingMatches({ include: [{ match: "MATCHES", value: "(a+)+$" }], exclude: [], query: [] } as never, `https://x.test/${"a".repeat(40)}!`)).toBe(false);
});

test("typed answers are validated", () => {
  const q = (answer: string) => ({ id: "q", type: "QUESTION" as const, text: "?", answer: answer as "TEXT", maxRetries: 2 });
  expect(checkAnswer(q("EMAIL"), "A@B.io")).toEqual({ ok: true, value: "a@b.io" });
  expect(checkAnswer(q("EMAIL"), "nope").ok).toBe(false);
  expect(checkAnswer(q("PHONE"), "+39 (02) 1234-567")).toEqual({ ok: true, value: "+39021234567" });
  expect(checkAnswer(q("PHONE"), "call me").ok).toBe(false);
  expect(checkAnswer(q("NUMBER"), "3,5")).toEqual({ ok: true, value: "3.5" });
  expect(checkAnswer(q("NUMBER"), "three").ok).toBe(false);
  expect(checkAnswer(q("DATE"), "2026-02-28")).toEqual({ ok: true, value: "2026-02-28" });
  expect(checkAnswer(q("DATE"), "2026-02-30").ok).toBe(false);
  expect(checkAnswer(q("DATE"), "31/12/2026")).toEqual({ ok: true, value: "2026-12-31" });
});

test("createChatflow refuses a bad graph, foreign references and a private webhook with a typed error, and stores nothing", async () => {
  const admin = t.client(await t.tokenFor(acc.admin));
  const before = await t.prisma.chatflow.count({ where: { accountId: acc.accountId } });
  const r = await admin.request(CfCreateDocument, {
    input: {
      channelId,
      name: "Broken",
      kind: "BOT",
      startActionId: "a",
      actions: [
        { id: "a", type: "SEND_TO_TEAM", teamId: "00000000-0000-0000-0000-000000000000", next: "w" },
        { id: "w", type: "WEBHOOK", url: "http://169.254.169.254/latest/meta-data", next: null },
      ],
    },
  });
  expect(r.createChatflow.__typename).toBe("ValidationError");
  const paths = r.createChatflow.__typename === "ValidationError" ? r.createChatflow.fieldErrors.map((e) => e.path.join(".")) : [];
  expect(paths).toEqual(["input.actions.0.teamId", "input.actions.1.url"]);
  const loop = await admin.request(CfCreateDocument, {
    input: { channelId, name: "Loop", kind: "BOT", startActionId: "a", actions: [{ id: "a", type: "MESSAGE", text: "x", next: "a" }] },
  });
  expect(loop.createChatflow).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "actions", "0"] }] });
  const trigger = await admin.request(CfCreateDocument, { input: { channelId, name: "Late", kind: "LIVE_CHAT", trigger: "AFTER_SECONDS" } });
  expect(trigger.createChatflow).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "triggerValue"] }] });
  const agent = await t.client(await t.tokenFor(acc.agent)).request(CfCreateDocument, { input: { channelId, name: "Mine", kind: "LIVE_CHAT" } });
  expect(agent.createChatflow.__typename).toBe("ForbiddenError");
  expect(await t.prisma.chatflow.count({ where: { accountId: acc.accountId } })).toBe(before);
});
