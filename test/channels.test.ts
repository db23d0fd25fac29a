import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GraphQLClient } from "graphql-request";
import {
  ChConnectDocument,
  ChDeleteDocument,
  ChInboxesDocument,
  ChListDocument,
  ChMoveDocument,
  ChNodeDocument,
  ChSetStatusDocument,
  ChUpdateDocument,
  type ConnectChannelInput,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { renderSignature } from "../src/services/channel-settings.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

let t: TestServer;
let a: TestAccount; // created now: no tickets from inbox channels
let old: TestAccount; // created before 2024-04-01
let free: TestAccount;
let b: TestAccount;
let inboxA: string; // global ids
let inboxOld: string;
let inboxB: string;
let appId: string;
const as = async (user: { id: string; accountId: string }) => t.client(await t.tokenFor(user));
const gid = (type: string, id: string) => toGlobalId(type, id);

async function makeInbox(account: TestAccount, name: string) {
  const id = crypto.randomUUID();
  await t.prisma.inbox.create({ data: { id, accountId: account.accountId, name, fallbackEmail: `inbox-${id}@test.local` } });
  return gid("Inbox", id);
}

async function connect(client: GraphQLClient, input: ConnectChannelInput) {
  return (await client.request(ChConnectDocument, { input })).connectChannel;
}

/** Row counts that a refused operation must leave unchanged. */
async function stored() {
  const [channels, forms, routingUsers] = await Promise.all([t.prisma.channel.count(), t.prisma.form.count(), t.prisma.channelRoutingUser.count()]);
  return { channels, forms, routingUsers };
}

/** Runs `op`, expects a typed error and that nothing was stored. */
async function expectRefused(op: () => Promise<{ __typename: string }>, typename: string, path?: string[]) {
  const before = await stored();
  const result = await op();
  expect(result.__typename).toBe(typename);
  if (path) expect((result as { fieldErrors?: { path: string[] }[] }).fieldErrors?.map((e) => e.path)).toContainEqual(path);
  expect(await stored()).toEqual(before);
  return result;
}

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Alpha", tier: "PROFESSIONAL" });
  old = await createTestAccount(t.prisma, { name: "Old", tier: "ENTERPRISE", createdAt: new Date("2023-06-01T00:00:00Z") });
  free = await createTestAccount(t.prisma, { name: "Free", tier: "FREE" });
  b = await createTestAccount(t.prisma, { name: "Beta", tier: "PROFESSIONAL" });
  inboxA = await makeInbox(a, "Support");
  inboxOld = await makeInbox(old, "Support");
  inboxB = await makeInbox(b, "Support");
  const partner = await t.prisma.partner.create({ data: { name: "Acme SMS" } });
  const app = await t.prisma.channelApp.create({
    data: {
      partnerId: partner.id,
      name: "Acme SMS",
      webhookUrl: "https://acme.test/hook",
      webhookSecret: "whsec_test",
      credentialFields: [
        { name: "accountSid", label: "Account SID", secret: false, required: true },
        { name: "apiKey", label: "API key", secret: true, required: true },
        { name: "region", label: "Region", secret: false, required: false },
      ],
    },
  });
  appId = gid("ChannelApp", app.id);
});
afterAll(async () => t?.close());

describe("connecting every type", () => {
  test("team email: every setting is stored and read back; the inbound secret is returned once and only its hash kept", async () => {
    const admin = await as(a.admin);
    const team = await t.prisma.team.create({ data: { accountId: a.accountId, name: "Tier 1" } });
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: a.accountId }, include: { statuses: { orderBy: { position: "asc" } } } });
    const r = await connect(admin, {
      inboxId: inboxA,
      name: "Support mail",
      // An admin: routing names only users who can see the inbox (an agent must be a member).
      routing: { autoAssign: true, target: "SPECIFIC", userIds: [gid("User", a.admin.id)], teamIds: [gid("Team", team.id)], onlyAvailable: false },
      ticketDefaults: { pipelineId: gid("Pipeline", pipeline.id), statusId: gid("PipelineStatus", pipeline.statuses[1].id), priority: "HIGH", ownerId: gid("User", a.admin.id) },
      conversationDefaults: { source: "email" },
      teamEmail: { address: "Support@Alpha.test", provider: "GMAIL", fromName: "COMPANY_ONLY", signature: "<p>{{sender.fullName}}</p>", signatureFormat: "HTML", logToOriginalSender: false },
    });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    expect(r.channel).toMatchObject({
      name: "Support mail",
      type: "TEAM_EMAIL",
      status: "ON",
      inbox: { id: inboxA, kind: "INBOX" },
      routing: { autoAssign: true, target: "SPECIFIC", onlyAvailable: false, users: [{ id: gid("User", a.admin.id) }], teams: [{ id: gid("Team", team.id) }] },
      ticketDefaults: { createTickets: false, pipeline: { id: gid("Pipeline", pipeline.id) }, status: { id: gid("PipelineStatus", pipeline.statuses[1].id) }, priority: "HIGH", owner: { id: gid("User", a.admin.id) } },
      conversationDefaults: { source: "email" },
      teamEmail: { address: "support@alpha.test", provider: "GMAIL", fromName: "COMPANY_ONLY", signature: "<p>{{sender.fullName}}</p>", signatureFormat: "HTML", logToOriginalSender: false },
      chat: null,
      custom: null,
    });
    expect(r.inboundEmailSecret).toMatch(/^[\w-]{40,}$/);
    const row = await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(r.channel.id, "Channel") } });
    expect(row.emailAddress).toBe("support@alpha.test");
    expect(row.inboundSecretHash).toBe(createHash("sha256").update(r.inboundEmailSecret!).digest("hex"));
    expect(JSON.stringify(row.settings)).not.toContain(r.inboundEmailSecret!);
    // Rendered for the sending agent, escaped in HTML.
    expect(renderSignature(row, { firstName: "Ann", lastName: "<Lee>" })).toEqual({ text: "<p>Ann &lt;Lee&gt;</p>", format: "HTML" });
  });

  test("team email defaults", async () => {
    const r = await connect(await as(a.superAdmin), { inboxId: inboxA, name: "Sales mail", teamEmail: { address: "sales@alpha.test" } });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    expect(r.channel.teamEmail).toEqual({ address: "sales@alpha.test", provider: "OTHER", fromName: "AGENT_AND_COMPANY", companyName: null, signature: "", signatureFormat: "PLAIN", logToOriginalSender: true });
    expect(r.channel.routing).toMatchObject({ autoAssign: false, target: "SPECIFIC", onlyAvailable: true, users: [], teams: [] });
    expect(r.channel.ticketDefaults).toEqual({ createTickets: false, pipeline: null, status: null, priority: null, owner: null });
  });

  test("chat: every setting, the embed snippet, and defaults (colour from the account's branding)", async () => {
    const admin = await as(a.admin);
    const team = await t.prisma.team.create({ data: { accountId: a.accountId, name: "Chatters" } });
    const r = await connect(admin, {
      inboxId: inboxA,
      name: "Website",
      chat: {
        color: "#FF6600",
        font: "Inter",
        heading: { mode: "CONTACT_OWNER", fallbackUserIds: [gid("User", a.agent.id)], fallbackTeamIds: [gid("Team", team.id)] },
        welcomeMessage: "Hello!",
        welcomeAsPrompt: true,
        availability: { mode: "CHAT_HOURS", timeZone: "Europe/Rome", ranges: [{ day: "MON", start: "09:00", end: "17:30" }, { day: "SAT", start: "10:00", end: "12:00" }] },
        typicalReplyTime: "FEW_HOURS",
        awayMessage: "Back soon",
        offlineBehavior: "SHOW_RETURN_TIME",
        atCapacityBehavior: "HIDE_LAUNCHER",
        waitingMessage: "Hold on",
        transcriptSender: "chat@alpha.test",
        published: false,
      },
    });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    expect(r.inboundEmailSecret).toBeNull();
    expect(r.channel.chat).toEqual({
      color: "#FF6600",
      font: "Inter",
      heading: { mode: "CONTACT_OWNER", userIds: [], teamIds: [], fallbackUserIds: [gid("User", a.agent.id)], fallbackTeamIds: [gid("Team", team.id)] },
      welcomeMessage: "Hello!",
      welcomeAsPrompt: true,
      availability: { mode: "CHAT_HOURS", timeZone: "Europe/Rome", ranges: [{ day: "MON", start: "09:00", end: "17:30" }, { day: "SAT", start: "10:00", end: "12:00" }] },
      typicalReplyTime: "FEW_HOURS",
      awayMessage: "Back soon",
      offlineBehavior: "SHOW_RETURN_TIME",
      atCapacityBehavior: "HIDE_LAUNCHER",
      waitingMessage: "Hold on",
      transcriptSender: "chat@alpha.test",
      published: false,
      embedSnippet: expect.stringContaining(`data-channel-id="${r.channel.id}"`),
    });
    expect(r.channel.chat!.embedSnippet).toMatch(/^<script .*><\/script>$/);

    await t.prisma.account.update({ where: { id: a.accountId }, data: { brandColor: "#123456" } });
    const d = await connect(admin, { inboxId: inboxA, name: "Website 2", chat: {} });
    if (d.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(d));
    expect(d.channel.chat).toMatchObject({
      color: "#123456",
      heading: { mode: "SPECIFIC", userIds: [], teamIds: [] },
      availability: { mode: "USERS", timeZone: "UTC", ranges: [] },
      typicalReplyTime: "FEW_MINUTES",
      offlineBehavior: "SHOW_AWAY_MESSAGE",
      atCapacityBehavior: "WAITING_MESSAGE",
      welcomeAsPrompt: false,
      transcriptSender: null,
      published: true,
    });
  });

  test("facebook messenger, whatsapp and calling", async () => {
    const admin = await as(a.admin);
    const fb = await connect(admin, {
      inboxId: inboxA,
      name: "Messenger",
      facebookMessenger: { pageId: "1234567890", pageName: "Alpha Page", greeting: "Hi there", instantReply: "We got it", gdpr: { mode: "EXPLICIT", consentText: "I agree to be contacted" } },
    });
    if (fb.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(fb));
    expect(fb.channel.facebookMessenger).toEqual({ pageId: "1234567890", pageName: "Alpha Page", greeting: "Hi there", instantReply: "We got it", gdpr: { mode: "EXPLICIT", consentText: "I agree to be contacted" } });

    const wa = await connect(admin, { inboxId: inboxA, name: "WhatsApp", whatsApp: { phoneNumber: "+393401234567", displayName: "Alpha" } });
    if (wa.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(wa));
    expect(wa.channel).toMatchObject({ type: "WHATSAPP", whatsApp: { phoneNumber: "+393401234567", displayName: "Alpha" } });

    const call = await connect(admin, { inboxId: inboxA, name: "Phone", calling: { phoneNumber: "+14155550123", recordCalls: true } });
    if (call.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(call));
    expect(call.channel).toMatchObject({ type: "CALLING", calling: { phoneNumber: "+14155550123", recordCalls: true } });
    const row = await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(call.channel.id, "Channel") } });
    expect(row.phoneNumber).toBe("+14155550123");
  });

  test("form: a new form (with hidden fields) or an existing one of the account", async () => {
    const admin = await as(a.admin);
    const r = await connect(admin, {
      inboxId: gid("Inbox", a.helpDeskId), // tickets from forms: this account uses the help desk
      name: "Contact form",
      form: {
        createTickets: true,
        newForm: {
          name: "Contact us",
          fields: [
            { name: "email", label: "Email", type: "EMAIL", required: true },
            { name: "topic", label: "Topic", type: "SELECT", options: ["Billing", "Other"] },
            { name: "utm", label: "UTM", hidden: true },
          ],
        },
      },
    });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    expect(r.channel.form).toEqual({
      createTickets: true,
      form: {
        id: expect.any(String),
        name: "Contact us",
        fields: [
          { name: "email", label: "Email", type: "EMAIL", required: true, hidden: false, options: [] },
          { name: "topic", label: "Topic", type: "SELECT", required: false, hidden: false, options: ["Billing", "Other"] },
          { name: "utm", label: "UTM", type: "TEXT", required: false, hidden: true, options: [] },
        ],
      },
    });
    expect(r.channel.ticketDefaults.createTickets).toBe(true);
    const again = await connect(admin, { inboxId: inboxA, name: "Same form", form: { formId: r.channel.form!.form!.id } });
    if (again.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(again));
    expect(again.channel.form).toMatchObject({ createTickets: false, form: { id: r.channel.form!.form!.id } });
  });

  test("custom: a super admin connects an app with its credentials; secret values are never returned", async () => {
    const r = await connect(await as(a.superAdmin), {
      inboxId: inboxA,
      name: "SMS",
      custom: { channelAppId: appId, credentials: [{ name: "accountSid", value: "AC123" }, { name: "apiKey", value: "sk_live_secret" }] },
    });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    expect(r.channel.custom).toEqual({
      app: { id: appId, name: "Acme SMS" },
      credentials: [
        { name: "accountSid", label: "Account SID", secret: false, value: "AC123", isSet: true },
        { name: "apiKey", label: "API key", secret: true, value: null, isSet: true },
        { name: "region", label: "Region", secret: false, value: null, isSet: false },
      ],
    });
    const row = await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(r.channel.id, "Channel") } });
    expect(row.credentials).toEqual({ accountSid: "AC123", apiKey: "sk_live_secret" });
    // Through every read path the secret stays hidden.
    const { node } = await (await as(a.admin)).request(ChNodeDocument, { id: r.channel.id });
    expect(node).toMatchObject({ __typename: "Channel", name: "SMS" });
    const list = await (await as(a.admin)).rawRequest(`{ channels(type: CUSTOM) { custom { credentials { value } } } }`);
    expect(JSON.stringify(list.data)).not.toContain("sk_live_secret");

    // Update: a partial credential update keeps the secret it does not resend.
    const u = await (await as(a.superAdmin)).request(ChUpdateDocument, { input: { channelId: r.channel.id, custom: { credentials: [{ name: "region", value: "eu" }] } } });
    expect(u.updateChannel.__typename).toBe("ChannelResult");
    expect(await t.prisma.channel.findUniqueOrThrow({ where: { id: row.id } }).then((c) => c.credentials)).toEqual({ accountSid: "AC123", apiKey: "sk_live_secret", region: "eu" });
  });
});

describe("refusals store nothing", () => {
  test("exactly one type part", async () => {
    const admin = await as(a.admin);
    await expectRefused(() => connect(admin, { inboxId: inboxA, name: "None" }), "ValidationError", ["input"]);
    await expectRefused(() => connect(admin, { inboxId: inboxA, name: "Two", chat: {}, calling: { phoneNumber: "+14155550100" } }), "ValidationError", ["input"]);
  });

  test("team email rules", async () => {
    const admin = await as(a.admin);
    const office = { inboxId: inboxA, name: "Mail" };
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: "o365@alpha.test", provider: "OFFICE365", fromName: "COMPANY_ONLY" } }), "ValidationError", ["input", "teamEmail", "fromName"]);
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: a.agent.email.toUpperCase() } }), "ValidationError", ["input", "teamEmail", "address"]);
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: "not-an-email" } }), "ValidationError", ["input", "teamEmail", "address"]);
    await expectRefused(() => connect(admin, { ...office, teamEmail: {} }), "ValidationError", ["input", "teamEmail", "address"]);
    // Already a team email of another account.
    const other = await connect(await as(b.admin), { inboxId: inboxB, name: "B mail", teamEmail: { address: "shared@beta.test" } });
    expect(other.__typename).toBe("ConnectChannelResult");
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: "shared@beta.test" } }), "ValidationError", ["input", "teamEmail", "address"]);
  });

  test("chat rules", async () => {
    const admin = await as(a.admin);
    const base = { inboxId: inboxA, name: "Chat" };
    await expectRefused(() => connect(admin, { ...base, chat: { color: "orange" } }), "ValidationError", ["input", "chat", "color"]);
    await expectRefused(() => connect(admin, { ...base, chat: { availability: { mode: "ALWAYS", timeZone: "Mars/Olympus" } } }), "ValidationError", ["input", "chat", "availability", "timeZone"]);
    await expectRefused(() => connect(admin, { ...base, chat: { availability: { mode: "CHAT_HOURS" } } }), "ValidationError", ["input", "chat", "availability", "ranges"]);
    await expectRefused(
      () => connect(admin, { ...base, chat: { availability: { mode: "CHAT_HOURS", ranges: [{ day: "MON", start: "18:00", end: "09:00" }] } } }),
      "ValidationError",
      ["input", "chat", "availability", "ranges", "0", "end"],
    );
    await expectRefused(() => connect(admin, { ...base, chat: { heading: { userIds: [gid("User", b.agent.id)] } } }), "ValidationError", ["input", "chat", "heading", "userIds"]);
    await expectRefused(() => connect(admin, { ...base, chat: { transcriptSender: "nope" } }), "ValidationError", ["input", "chat", "transcriptSender"]);
  });

  test("facebook page connected to another account, and GDPR without a consent text", async () => {
    const other = await connect(await as(b.admin), { inboxId: inboxB, name: "B page", facebookMessenger: { pageId: "555000111", pageName: "Beta" } });
    expect(other.__typename).toBe("ConnectChannelResult");
    const admin = await as(a.admin);
    await expectRefused(() => connect(admin, { inboxId: inboxA, name: "Page", facebookMessenger: { pageId: "555000111", pageName: "Mine" } }), "ValidationError", ["input", "facebookMessenger", "pageId"]);
    await expectRefused(
      () => connect(admin, { inboxId: inboxA, name: "Page", facebookMessenger: { pageId: "555000222", pageName: "Mine", gdpr: { mode: "IMPLIED" } } }),
      "ValidationError",
      ["input", "facebookMessenger", "gdpr", "consentText"],
    );
  });

  test("form rules", async () => {
    const admin = await as(a.admin);
    const foreign = await t.prisma.form.create({ data: { accountId: b.accountId, name: "B form" } });
    const base = { inboxId: inboxA, name: "Form" };
    await expectRefused(() => connect(admin, { ...base, form: { formId: gid("Form", foreign.id) } }), "ValidationError", ["input", "form", "formId"]);
    await expectRefused(() => connect(admin, { ...base, form: {} }), "ValidationError", ["input", "form", "formId"]);
    await expectRefused(() => connect(admin, { ...base, form: { newForm: { name: "F", fields: [{ name: "pick", label: "Pick", type: "SELECT" }] } } }), "ValidationError", ["input", "form", "newForm", "fields", "0", "options"]);
  });

  test("whatsapp and calling need PROFESSIONAL and an E.164 number", async () => {
    const freeAdmin = await as(free.admin);
    const freeInbox = await makeInbox(free, "Main");
    await expectRefused(() => connect(freeAdmin, { inboxId: freeInbox, name: "WA", whatsApp: { phoneNumber: "+393401234567" } }), "ForbiddenError");
    await expectRefused(() => connect(freeAdmin, { inboxId: freeInbox, name: "Call", calling: { phoneNumber: "+393401234567" } }), "ForbiddenError");
    await expectRefused(async () => connect(await as(a.admin), { inboxId: inboxA, name: "WA", whatsApp: { phoneNumber: "3401234567" } }), "ValidationError", ["input", "whatsApp", "phoneNumber"]);
  });

  test("a phone number serves one WhatsApp and one calling channel, in any account, until deleted", async () => {
    const admin = await as(a.admin);
    const oldAdmin = await as(old.admin);
    const number = "+447700900123";
    const wa = await connect(oldAdmin, { inboxId: inboxOld, name: "Old WA", whatsApp: { phoneNumber: number } });
    expect(wa.__typename).toBe("ConnectChannelResult");
    // The same number as a calling line is another channel type: allowed.
    expect((await connect(oldAdmin, { inboxId: inboxOld, name: "Old line", calling: { phoneNumber: number } })).__typename).toBe("ConnectChannelResult");
    await expectRefused(() => connect(admin, { inboxId: inboxA, name: "WA", whatsApp: { phoneNumber: number } }), "ValidationError", ["input", "whatsApp", "phoneNumber"]);
    await expectRefused(() => connect(oldAdmin, { inboxId: inboxOld, name: "Line 2", calling: { phoneNumber: number } }), "ValidationError", ["input", "calling", "phoneNumber"]);
    // Editing another channel onto a taken number is refused the same way.
    const mine = await connect(admin, { inboxId: inboxA, name: "WA", whatsApp: { phoneNumber: "+447700900124" } });
    if (mine.__typename !== "ConnectChannelResult") throw new Error(mine.__typename);
    const moved = (await admin.request(ChUpdateDocument, { input: { channelId: mine.channel.id, whatsApp: { phoneNumber: number } } })).updateChannel;
    expect(moved.__typename).toBe("ValidationError");
    expect((moved as { fieldErrors: { path: string[] }[] }).fieldErrors.map((e) => e.path)).toContainEqual(["input", "whatsApp", "phoneNumber"]);
    expect((await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(mine.channel.id, "Channel") } })).phoneNumber).toBe("+447700900124");
    // Deleting the first channel frees the number.
    if (wa.__typename !== "ConnectChannelResult") throw new Error(wa.__typename);
    expect((await oldAdmin.request(ChDeleteDocument, { input: { channelId: wa.channel.id } })).deleteChannel.__typename).toBe("DeleteChannelResult");
    expect((await connect(admin, { inboxId: inboxA, name: "WA again", whatsApp: { phoneNumber: number } })).__typename).toBe("ConnectChannelResult");
  });

  test("custom credentials: missing required or unknown fields; only a super admin connects", async () => {
    const superAdmin = await as(a.superAdmin);
    const base = { inboxId: inboxA, name: "SMS 2" };
    await expectRefused(() => connect(superAdmin, { ...base, custom: { channelAppId: appId, credentials: [{ name: "accountSid", value: "AC1" }] } }), "ValidationError", ["input", "custom", "credentials", "apiKey"]);
    await expectRefused(
      () => connect(superAdmin, { ...base, custom: { channelAppId: appId, credentials: [{ name: "accountSid", value: "AC1" }, { name: "apiKey", value: "k" }, { name: "password", value: "x" }] } }),
      "ValidationError",
      ["input", "custom", "credentials", "2", "name"],
    );
    await expectRefused(() => connect(superAdmin, { ...base, custom: { channelAppId: gid("ChannelApp", crypto.randomUUID()) } }), "ValidationError", ["input", "custom", "channelAppId"]);
    await expectRefused(async () => connect(await as(a.admin), { ...base, custom: { channelAppId: appId, credentials: [{ name: "accountSid", value: "A" }, { name: "apiKey", value: "k" }] } }), "ForbiddenError");
  });

  test("agents never connect or edit channels", async () => {
    const agent = await as(a.agent);
    await expectRefused(() => connect(agent, { inboxId: inboxA, name: "Chat", chat: {} }), "ForbiddenError");
    const channel = await t.prisma.channel.findFirstOrThrow({ where: { accountId: a.accountId, deletedAt: null } });
    const id = gid("Channel", channel.id);
    expect((await agent.request(ChUpdateDocument, { input: { channelId: id, name: "Renamed" } })).updateChannel.__typename).toBe("ForbiddenError");
    expect((await agent.request(ChSetStatusDocument, { input: { channelId: id, status: "OFF" } })).setChannelStatus.__typename).toBe("ForbiddenError");
    expect((await agent.request(ChDeleteDocument, { input: { channelId: id } })).deleteChannel.__typename).toBe("ForbiddenError");
    expect(await t.prisma.channel.findUniqueOrThrow({ where: { id: channel.id } })).toMatchObject({ name: channel.name, status: channel.status, deletedAt: null });
  });

  test("tickets from inbox channels: refused for accounts created on/after 2024-04-01, allowed in the help desk and for older accounts", async () => {
    await expectRefused(async () => connect(await as(a.admin), { inboxId: inboxA, name: "Chat", chat: {}, ticketDefaults: { createTickets: true } }), "ValidationError", ["input", "ticketDefaults", "createTickets"]);
    const desk = await connect(await as(a.admin), { inboxId: gid("Inbox", a.helpDeskId), name: "Desk chat", chat: {}, ticketDefaults: { createTickets: true } });
    expect(desk).toMatchObject({ __typename: "ConnectChannelResult", channel: { ticketDefaults: { createTickets: true }, inbox: { kind: "HELP_DESK" } } });
    const older = await connect(await as(old.admin), { inboxId: inboxOld, name: "Old chat", chat: {}, ticketDefaults: { createTickets: true } });
    expect(older).toMatchObject({ __typename: "ConnectChannelResult", channel: { ticketDefaults: { createTickets: true } } });
  });

  test("routing and ticket defaults must reference the account's own users, teams and pipelines", async () => {
    const admin = await as(a.admin);
    const bTeam = await t.prisma.team.create({ data: { accountId: b.accountId, name: "B team" } });
    const bPipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: b.accountId } });
    const base = { inboxId: inboxA, name: "Chat", chat: {} };
    await expectRefused(() => connect(admin, { ...base, routing: { userIds: [gid("User", b.agent.id)] } }), "ValidationError", ["input", "routing", "userIds"]);
    await expectRefused(() => connect(admin, { ...base, routing: { teamIds: [gid("Team", bTeam.id)] } }), "ValidationError", ["input", "routing", "teamIds"]);
    await expectRefused(() => connect(admin, { ...base, ticketDefaults: { pipelineId: gid("Pipeline", bPipeline.id) } }), "ValidationError", ["input", "ticketDefaults", "pipelineId"]);
    await expectRefused(() => connect(admin, { ...base, ticketDefaults: { ownerId: gid("User", b.admin.id) } }), "ValidationError", ["input", "ticketDefaults", "ownerId"]);
    await expectRefused(() => connect(admin, { ...base, inboxId: inboxB }), "NotFoundError");
  });
});

describe("managing channels", () => {
  async function newChat(name: string, account = a, inbox = inboxA) {
    const r = await connect(await as(account.admin), { inboxId: inbox, name, chat: { color: "#000000", welcomeMessage: "Hi" } });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    return r.channel.id;
  }

  test("update changes only the given settings; a null setting goes back to its default; same rules as connect", async () => {
    const id = await newChat("Editable");
    const admin = await as(a.admin);
    const r = await admin.request(ChUpdateDocument, { input: { channelId: id, name: "Edited", chat: { welcomeMessage: null, awayMessage: "Gone fishing" }, routing: { autoAssign: true, userIds: [gid("User", a.admin.id)] } } });
    if (r.updateChannel.__typename !== "ChannelResult") throw new Error(JSON.stringify(r));
    expect(r.updateChannel.channel).toMatchObject({
      name: "Edited",
      chat: { color: "#000000", welcomeMessage: "Hi! How can we help?", awayMessage: "Gone fishing" },
      routing: { autoAssign: true, onlyAvailable: true, users: [{ id: gid("User", a.admin.id) }] },
    });
    const before = await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(id, "Channel") } });
    const bad = await admin.request(ChUpdateDocument, { input: { channelId: id, chat: { color: "red" } } });
    expect(bad.updateChannel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "chat", "color"] }] });
    const wrongType = await admin.request(ChUpdateDocument, { input: { channelId: id, teamEmail: { address: "x@alpha.test" } } });
    expect(wrongType.updateChannel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "teamEmail"] }] });
    const tickets = await admin.request(ChUpdateDocument, { input: { channelId: id, ticketDefaults: { createTickets: true } } });
    expect(tickets.updateChannel.__typename).toBe("ValidationError");
    expect(await t.prisma.channel.findUniqueOrThrow({ where: { id: before.id } })).toEqual(before);
  });

  test("a team email's address cannot be changed to one already in use", async () => {
    const admin = await as(a.admin);
    const r = await connect(admin, { inboxId: inboxA, name: "Billing", teamEmail: { address: "billing@alpha.test" } });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    const taken = await admin.request(ChUpdateDocument, { input: { channelId: r.channel.id, teamEmail: { address: "shared@beta.test" } } });
    expect(taken.updateChannel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "teamEmail", "address"] }] });
    const own = await admin.request(ChUpdateDocument, { input: { channelId: r.channel.id, teamEmail: { address: "billing@alpha.test", provider: "OFFICE365" } } });
    expect(own.updateChannel).toMatchObject({ __typename: "ChannelResult", channel: { teamEmail: { provider: "OFFICE365" } } });
  });

  test("turning a channel off is stored, and lists filter by status and type", async () => {
    const id = await newChat("Switchable");
    const admin = await as(a.admin);
    expect((await admin.request(ChSetStatusDocument, { input: { channelId: id, status: "OFF" } })).setChannelStatus).toEqual({ __typename: "ChannelResult", channel: { id, status: "OFF" } });
    expect((await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(id, "Channel") } })).status).toBe("OFF");
    const { channels } = await admin.request(ChListDocument, { status: "OFF", type: "CHAT" });
    expect(channels.map((c) => c.id)).toContain(id);
    expect(channels.every((c) => c.status === "OFF" && c.type === "CHAT")).toBe(true);
  });

  test("agents list only the channels of inboxes they belong to", async () => {
    const agent = await as(a.agent);
    expect((await agent.request(ChListDocument, {})).channels).toEqual([]);
    await t.prisma.inboxUser.create({ data: { accountId: a.accountId, inboxId: fromGlobalId(inboxA, "Inbox"), userId: a.agent.id } });
    const { channels } = await agent.request(ChListDocument, { inboxId: inboxA });
    expect(channels.length).toBeGreaterThan(3);
  });

  test("tenant isolation: another account cannot see or change a channel", async () => {
    const id = await newChat("Private");
    const other = await as(b.superAdmin);
    expect((await other.request(ChNodeDocument, { id })).node).toBeNull();
    expect((await other.request(ChListDocument, {})).channels.map((c) => c.id)).not.toContain(id);
    expect((await other.request(ChUpdateDocument, { input: { channelId: id, name: "Mine" } })).updateChannel.__typename).toBe("NotFoundError");
    expect((await other.request(ChSetStatusDocument, { input: { channelId: id, status: "OFF" } })).setChannelStatus.__typename).toBe("NotFoundError");
    expect((await other.request(ChDeleteDocument, { input: { channelId: id } })).deleteChannel.__typename).toBe("NotFoundError");
    expect((await other.request(ChMoveDocument, { input: { channelId: id } })).moveChannelToHelpDesk.__typename).toBe("NotFoundError");
    expect(await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(id, "Channel") } })).toMatchObject({ name: "Private", status: "ON", deletedAt: null });
  });

  test("delete: gone from lists and node(), conversations kept, the email address free again", async () => {
    const admin = await as(a.admin);
    const r = await connect(admin, { inboxId: inboxA, name: "Temp mail", teamEmail: { address: "temp@alpha.test" } });
    if (r.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(r));
    const channelId = fromGlobalId(r.channel.id, "Channel");
    const conversation = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId: fromGlobalId(inboxA, "Inbox"), channelId, subject: "Old thread" } });
    expect((await admin.request(ChDeleteDocument, { input: { channelId: r.channel.id } })).deleteChannel).toEqual({ __typename: "DeleteChannelResult", deletedChannelId: r.channel.id });
    expect((await admin.request(ChNodeDocument, { id: r.channel.id })).node).toBeNull();
    expect((await admin.request(ChListDocument, {})).channels.map((c) => c.id)).not.toContain(r.channel.id);
    const { inboxes } = await admin.request(ChInboxesDocument);
    expect(inboxes.flatMap((i) => i.channels.map((c) => c.id))).not.toContain(r.channel.id);
    expect((await admin.request(ChDeleteDocument, { input: { channelId: r.channel.id } })).deleteChannel.__typename).toBe("NotFoundError");
    expect(await t.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).toMatchObject({ channelId, subject: "Old thread" });
    const reused = await connect(admin, { inboxId: inboxA, name: "Temp mail again", teamEmail: { address: "temp@alpha.test" } });
    expect(reused.__typename).toBe("ConnectChannelResult");
  });

  test("move to the help desk brings history and creates tickets; refused the second time and for Messenger and WhatsApp", async () => {
    const admin = await as(a.admin);
    const id = await newChat("Movable");
    const channelId = fromGlobalId(id, "Channel");
    const inboxId = fromGlobalId(inboxA, "Inbox");
    const contact = await t.prisma.contact.create({ data: { accountId: a.accountId, name: "Carla Rossi", email: "carla@example.test" } });
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: a.accountId, isDefault: true }, include: { statuses: { orderBy: { position: "asc" } } } });
    const existing = await t.prisma.ticket.create({ data: { accountId: a.accountId, name: "Existing", pipelineId: pipeline.id, statusId: pipeline.statuses[2].id } });
    const withSubject = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, subject: "Refund please", assigneeId: a.agent.id, contactId: contact.id } });
    const noSubject = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, contactId: contact.id } });
    const ticketed = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, ticketId: existing.id } });

    const r = await admin.request(ChMoveDocument, { input: { channelId: id, bringHistory: true, createTicketsForHistory: true } });
    if (r.moveChannelToHelpDesk.__typename !== "MoveChannelToHelpDeskResult") throw new Error(JSON.stringify(r));
    expect(r.moveChannelToHelpDesk).toMatchObject({ movedConversations: 3, createdTickets: 2, channel: { inbox: { id: gid("Inbox", a.helpDeskId), kind: "HELP_DESK" }, ticketDefaults: { createTickets: true } } });
    expect(r.moveChannelToHelpDesk.channel.movedToHelpDeskAt).toBeTruthy();
    const moved = await t.prisma.conversation.findMany({ where: { id: { in: [withSubject.id, noSubject.id, ticketed.id] } }, include: { ticket: true } });
    expect(moved.every((c) => c.inboxId === a.helpDeskId)).toBe(true);
    const byId = Object.fromEntries(moved.map((c) => [c.id, c.ticket]));
    expect(byId[withSubject.id]).toMatchObject({ name: "Refund please", pipelineId: pipeline.id, statusId: pipeline.statuses[0].id, ownerId: a.agent.id, contactId: contact.id });
    expect(byId[noSubject.id]).toMatchObject({ name: "Conversation with Carla Rossi", ownerId: null });
    expect(byId[ticketed.id]?.id).toBe(existing.id);

    const tickets = await t.prisma.ticket.count({ where: { accountId: a.accountId } });
    const again = await admin.request(ChMoveDocument, { input: { channelId: id, bringHistory: true, createTicketsForHistory: true } });
    expect(again.moveChannelToHelpDesk).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "channelId"] }] });
    expect(await t.prisma.ticket.count({ where: { accountId: a.accountId } })).toBe(tickets);

    for (const type of ["FACEBOOK_MESSENGER", "WHATSAPP"] as const) {
      const channel = await t.prisma.channel.findFirstOrThrow({ where: { accountId: a.accountId, type, deletedAt: null } });
      const refused = await admin.request(ChMoveDocument, { input: { channelId: gid("Channel", channel.id) } });
      expect(refused.moveChannelToHelpDesk).toMatchObject({ __typename: "ValidationError", message: expect.stringMatching(/cannot be moved/) });
      expect((await t.prisma.channel.findUniqueOrThrow({ where: { id: channel.id } })).inboxId).toBe(channel.inboxId);
    }
  });

  test("move without history leaves the conversations where they are", async () => {
    const admin = await as(a.admin);
    const id = await newChat("Movable 2");
    const channelId = fromGlobalId(id, "Channel");
    const c = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId: fromGlobalId(inboxA, "Inbox"), channelId } });
    const r = await admin.request(ChMoveDocument, { input: { channelId: id } });
    expect(r.moveChannelToHelpDesk).toMatchObject({ __typename: "MoveChannelToHelpDeskResult", movedConversations: 0, createdTickets: 0 });
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: c.id } })).inboxId).toBe(fromGlobalId(inboxA, "Inbox"));
  });
});

describe("item 20: team email From name", () => {
  test("item 20: the From name takes a company name typed by the admin; Office 365 refuses every From-name setting", async () => {
    const admin = await as(a.admin);
    const typed = await connect(admin, { inboxId: inboxA, name: "Typed", teamEmail: { address: "typed@alpha.test", provider: "GMAIL", fromName: "COMPANY_ONLY", companyName: "  Alpha Support  " } });
    if (typed.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(typed));
    expect(typed.channel.teamEmail).toMatchObject({ provider: "GMAIL", fromName: "COMPANY_ONLY", companyName: "Alpha Support" });
    // Edited alone, and cleared back to the account's name with null.
    const renamed = await admin.request(ChUpdateDocument, { input: { channelId: typed.channel.id, teamEmail: { companyName: "Alpha Care" } } });
    expect(renamed.updateChannel).toMatchObject({ __typename: "ChannelResult", channel: { teamEmail: { fromName: "COMPANY_ONLY", companyName: "Alpha Care" } } });
    const cleared = await admin.request(ChUpdateDocument, { input: { channelId: typed.channel.id, teamEmail: { companyName: null } } });
    expect(cleared.updateChannel).toMatchObject({ channel: { teamEmail: { companyName: null } } });
    await expectRefused(() => connect(admin, { inboxId: inboxA, name: "Long", teamEmail: { address: "long@alpha.test", companyName: "x".repeat(201) } }), "ValidationError", ["input", "teamEmail", "companyName"]);

    // Office 365: the From-name feature is not supported at all.
    const office = { inboxId: inboxA, name: "O365" };
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: "o365a@alpha.test", provider: "OFFICE365", fromName: "AGENT_AND_COMPANY" } }), "ValidationError", ["input", "teamEmail", "fromName"]);
    await expectRefused(() => connect(admin, { ...office, teamEmail: { address: "o365b@alpha.test", provider: "OFFICE365", companyName: "Alpha" } }), "ValidationError", ["input", "teamEmail", "companyName"]);
    const plain = await connect(admin, { ...office, teamEmail: { address: "o365c@alpha.test", provider: "OFFICE365" } });
    if (plain.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(plain));
    expect(plain.channel.teamEmail).toMatchObject({ provider: "OFFICE365", fromName: null, companyName: null });
    const later = await admin.request(ChUpdateDocument, { input: { channelId: plain.channel.id, teamEmail: { fromName: "COMPANY_ONLY" } } });
    expect(later.updateChannel).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "teamEmail", "fromName"] }] });
    // Switching a channel to Office 365 drops the From name it had.
    const moved = await admin.request(ChUpdateDocument, { input: { channelId: typed.channel.id, teamEmail: { provider: "OFFICE365" } } });
    expect(moved.updateChannel).toMatchObject({ __typename: "ChannelResult", channel: { teamEmail: { provider: "OFFICE365", fromName: null, companyName: null } } });
    const row = await t.prisma.channel.findUniqueOrThrow({ where: { id: fromGlobalId(typed.channel.id, "Channel") } });
    expect(row.settings).not.toHaveProperty("fromName");
  });
});

test("any user's personal email of the account is refused as a team email", async () => {
  const u = await createTestUser(t.prisma, a.accountId, { email: "personal@alpha.test" });
  expect(u.email).toBe("personal@alpha.test");
  await expectRefused(async () => connect(await as(a.admin), { inboxId: inboxA, name: "Mail", teamEmail: { address: "personal@alpha.test" } }), "ValidationError", ["input", "teamEmail", "address"]);
});
