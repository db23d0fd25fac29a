import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml, smtpSend } from "./support/email-ingress.js";
import { fakeResolver } from "./support/fake-dns.js";
import { fallbackEmailFor } from "../src/services/inboxes.js";
import { forwardingAddressFor } from "../src/transports/email/recipients.js";
import { toGlobalId } from "../src/schema/ids.js";

const fixture = (name: string) => readFile(new URL(`./fixtures/email/${name}`, import.meta.url));

let t: TestServer;
let port: number;
let a: TestAccount;
let inboxId: string;

beforeAll(async () => {
  t = await startTestServer({ DELIVERY_WORKER: "false", SMTP_LISTEN: "127.0.0.1:0", MAX_EMAIL_BYTES: "65536" });
  t.config.transports.email.resolver = fakeResolver().resolver;
  port = t.server.smtp!.port;
  a = await createTestAccount(t.prisma, { name: "Acme Corp" });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
});
afterAll(async () => {
  await t?.close();
});

const address = () => `support-${externalId()}@acme.test`;
const messagesWith = (externalIdValue: string) => t.prisma.message.findMany({ where: { accountId: a.accountId, externalId: externalIdValue }, include: { conversation: { include: { contact: true } } } });

describe("SMTP receiver", () => {
  test("mail to a team address lands once: 250 after it is stored, and a resend of the same Message-ID stores nothing new", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const id = `<smtp-${externalId()}@customer.test>`;
    const raw = eml(["From: Carla Rossi <carla@customer.test>", `To: ${ch.address}`, "Subject: Where is my parcel?", `Message-ID: ${id}`, "", "It has been a week."]);
    const answer = await smtpSend(port, { from: "carla@customer.test", to: ch.address, raw });
    expect(answer).toMatch(/^250 /);
    // 250 came after the commit: the message is there without waiting.
    const [stored] = await messagesWith(id);
    expect(stored).toMatchObject({ direction: "INBOUND", channelId: ch.rawId, text: "It has been a week." });
    expect(stored.conversation).toMatchObject({ subject: "Where is my parcel?", threadKey: id, contact: { email: "carla@customer.test", name: "Carla Rossi" } });
    expect(await smtpSend(port, { from: "carla@customer.test", to: ch.address.toUpperCase(), raw })).toMatch(/^250 /);
    expect(await messagesWith(id)).toHaveLength(1);
  });

  test("recipients the server does not own are refused at RCPT with 550, and so is an OFF channel's address; nothing is stored", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const before = await t.prisma.message.count({ where: { accountId: a.accountId } });
    const raw = eml(["From: x@customer.test", "Subject: Relay?", `Message-ID: <relay-${externalId()}@customer.test>`, "", "Relay me"]);
    for (const to of ["someone@elsewhere.test", "nobody@acme.test", `team-00000000-0000-0000-0000-000000000000@inbound.inbox.local`, "inbox-00000000-0000-0000-0000-000000000000@inbound.inbox.local"]) {
      const err = await smtpSend(port, { from: "x@customer.test", to, raw }).then(() => null, (e: { responseCode?: number; response?: string }) => e);
      expect(err, to).toMatchObject({ responseCode: 550 });
      expect(err?.response).toMatch(/5\.1\.1/);
    }
    await t.prisma.channel.update({ where: { id: ch.rawId }, data: { status: "OFF" } });
    const off = await smtpSend(port, { from: "x@customer.test", to: ch.address, raw }).catch((e: { responseCode?: number; response?: string }) => e);
    expect(off).toMatchObject({ responseCode: 550, response: expect.stringMatching(/5\.2\.1/) });
    expect(await t.prisma.message.count({ where: { accountId: a.accountId } })).toBe(before);
  });

  test("the forwarding alias and the inbox fallback address are ours too; the fallback gets the inbox a team email channel once", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const alias = forwardingAddressFor(ch.rawId);
    const { channel } = (await t.client(await t.tokenFor(a.admin)).request<{ channel: { emailForwardingAddress: string } }>(`query($id: ID!) { channel: node(id: $id) { ... on Channel { emailForwardingAddress } } }`, { id: ch.id }));
    expect(channel.emailForwardingAddress).toBe(alias);
    const id = `<alias-${externalId()}@customer.test>`;
    await smtpSend(port, { from: "dino@customer.test", to: alias, raw: eml(["From: dino@customer.test", `To: ${ch.address}`, "Subject: Via alias", `Message-ID: ${id}`, "", "Forwarded by the mailbox"]) });
    expect((await messagesWith(id))[0]).toMatchObject({ channelId: ch.rawId });

    const bare = await t.prisma.inbox.create({ data: { accountId: a.accountId, name: "No team email", fallbackEmail: "pending@fixtures.test" } });
    const fallback = fallbackEmailFor(bare.id);
    await t.prisma.inbox.update({ where: { id: bare.id }, data: { fallbackEmail: fallback } });
    const ids = [`<fb-1-${externalId()}@tool.test>`, `<fb-2-${externalId()}@tool.test>`];
    await Promise.all(ids.map((mid) => smtpSend(port, { from: "tool@tool.test", to: fallback, raw: eml(["From: tool@tool.test", `To: ${fallback}`, "Subject: From a tool", `Message-ID: ${mid}`, "", "Automated tool"]) })));
    const channels = await t.prisma.channel.findMany({ where: { accountId: a.accountId, inboxId: bare.id } });
    expect(channels).toEqual([expect.objectContaining({ type: "TEAM_EMAIL", emailAddress: fallback, status: "ON" })]);
    for (const mid of ids) expect((await messagesWith(mid))[0]).toMatchObject({ channelId: channels[0].id });
  });

  test("a reply threads into its conversation across In-Reply-To (and References); an unrelated message starts another", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const first = `<thread-1-${externalId()}@customer.test>`;
    const send = (lines: string[]) => smtpSend(port, { from: "paolo@customer.test", to: ch.address, raw: eml(["From: Paolo <paolo@customer.test>", `To: ${ch.address}`, ...lines]) });
    await send(["Subject: Delivery date", `Message-ID: ${first}`, "", "When?"]);
    const second = `<thread-2-${externalId()}@customer.test>`;
    await send(["Subject: Re: Delivery date", `Message-ID: ${second}`, `In-Reply-To: ${first}`, "", "Any news?"]);
    const third = `<thread-3-${externalId()}@customer.test>`;
    await send(["Subject: Re: Delivery date", `Message-ID: ${third}`, `References: <unknown@x.test> ${second}`, "", "Hello?"]);
    const other = `<thread-4-${externalId()}@customer.test>`;
    await send(["Subject: Another topic", `Message-ID: ${other}`, "", "New question"]);
    const [m1, m2, m3, m4] = await Promise.all([first, second, third, other].map(async (mid) => (await messagesWith(mid))[0]));
    expect(m2.conversationId).toBe(m1.conversationId);
    expect(m3.conversationId).toBe(m1.conversationId);
    expect(m4.conversationId).not.toBe(m1.conversationId);
  });

  test("forwarded mail is logged on the original sender: forward blocks, attached messages, Resent-* and Gmail auto-forwarding", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const off = await connectTeamEmail(t, a.admin, inboxId, { address: address(), logToOriginalSender: false });
    const contactOf = async (channel: typeof ch, raw: string | Buffer, messageId: string) => {
      await smtpSend(port, { from: "bruno@agency.test", to: channel.address, raw });
      const found = (await t.prisma.message.findMany({ where: { accountId: a.accountId, channelId: channel.rawId, externalId: messageId }, include: { conversation: { include: { contact: true } } } }))[0];
      return { contact: found.conversation.contact, metadata: found.metadata as { email: { forwarded?: { via: string }; forwardedBy?: { email: string } } } };
    };
    const inline = await contactOf(ch, await fixture("forwarded.eml"), "<fwd-5521@agency.test>");
    expect(inline.contact).toMatchObject({ email: "alice@original.test", name: "Alice Original" });
    expect(inline.metadata.email).toMatchObject({ forwarded: { via: "inline" }, forwardedBy: { email: "bruno@agency.test" } });
    expect((await contactOf(ch, await fixture("forwarded-attached.eml"), "<fwd-rfc822@agency.test>")).contact).toMatchObject({ email: "dario@client.test" });

    const resentId = `<resent-${externalId()}@original.test>`;
    const resent = eml(["Resent-From: Bruno Agenzia <bruno@agency.test>", "Resent-Date: Tue, 05 Mar 2024 10:00:00 +0100", `Resent-Message-ID: <r-${externalId()}@agency.test>`, "From: Elena Original <elena@original.test>", "To: bruno@agency.test", "Subject: Refund", `Message-ID: ${resentId}`, "", "Please refund me."]);
    expect((await contactOf(ch, resent, resentId)).contact).toMatchObject({ email: "elena@original.test" });
    expect((await contactOf(off, resent, resentId)).contact).toMatchObject({ email: "bruno@agency.test" });

    // Gmail's forwarding rule keeps the original From and adds X-Forwarded-For: the customer is the sender either way.
    const gmailId = `<gmail-${externalId()}@customer.test>`;
    const gmail = eml([`X-Forwarded-For: team@gmail.test ${ch.address}`, `X-Forwarded-To: ${ch.address}`, "From: Fabio <fabio@customer.test>", "To: team@gmail.test", "Subject: Invoice", `Message-ID: ${gmailId}`, "", "Send me the invoice"]);
    const auto = await contactOf(ch, gmail, gmailId);
    expect(auto.contact).toMatchObject({ email: "fabio@customer.test" });
    expect(auto.metadata.email.forwarded).toMatchObject({ via: "auto" });
    expect((await contactOf(off, gmail, gmailId)).contact).toMatchObject({ email: "fabio@customer.test" });
  });

  test("Gmail's forwarding confirmation is shown to the admin on the channel and opens no conversation", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address(), provider: "GMAIL" });
    const conversations = await t.prisma.conversation.count({ where: { accountId: a.accountId } });
    const raw = eml([
      "From: Gmail Team <forwarding-noreply@google.com>",
      `To: ${forwardingAddressFor(ch.rawId)}`,
      "Subject: (#612345789) Gmail Forwarding Confirmation - Receive Mail from team@gmail.test",
      `Message-ID: <confirm-${externalId()}@google.com>`,
      "",
      `team@gmail.test has requested to automatically forward mail to your email address ${forwardingAddressFor(ch.rawId)}.`,
      "Confirmation code: 612345789",
      "To allow team@gmail.test to automatically forward mail to your address, please click the link below to confirm the request:",
      "https://mail-settings.google.com/mail/vf-%5BANGjdJ8%5D-abc",
    ]);
    expect(await smtpSend(port, { from: "forwarding-noreply@google.com", to: forwardingAddressFor(ch.rawId), raw })).toMatch(/^250 /);
    expect(await t.prisma.conversation.count({ where: { accountId: a.accountId } })).toBe(conversations);
    const { channel } = await t.client(await t.tokenFor(a.admin)).request<{ channel: { teamEmail: { forwardingConfirmation: Record<string, unknown> } } }>(
      `query($id: ID!) { channel: node(id: $id) { ... on Channel { teamEmail { forwardingConfirmation { code confirmationUrl requestedBy receivedAt } } } } }`,
      { id: ch.id },
    );
    expect(channel.teamEmail.forwardingConfirmation).toMatchObject({ code: "612345789", confirmationUrl: "https://mail-settings.google.com/mail/vf-%5BANGjdJ8%5D-abc", requestedBy: "team@gmail.test" });
  });

  test("a message over MAX_EMAIL_BYTES is refused with 552 and stores nothing; malformed mail gets 550 5.6.0", async () => {
    const ch = await connectTeamEmail(t, a.admin, inboxId, { address: address() });
    const before = await t.prisma.message.count({ where: { accountId: a.accountId } });
    const big = eml(["From: big@customer.test", "Subject: Big", `Message-ID: <big-${externalId()}@customer.test>`, "", "x".repeat(70_000)]);
    await expect(smtpSend(port, { from: "big@customer.test", to: ch.address, raw: big })).rejects.toMatchObject({ responseCode: 552 });
    await expect(smtpSend(port, { from: "big@customer.test", to: ch.address, raw: await fixture("malformed-no-from.eml") })).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/5\.6\.0/) });
    expect(await t.prisma.message.count({ where: { accountId: a.accountId } })).toBe(before);
    expect(toGlobalId("Channel", ch.rawId)).toBe(ch.id);
  });
});
