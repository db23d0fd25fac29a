import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ConvPublishDocument,
  CrAddNoteDocument,
  CrContactDocument,
  CrDefineDocument,
  CrDefinitionsDocument,
  CrDeleteNoteDocument,
  CrRedefineDocument,
  CrSetPropertiesDocument,
  CrUndefineDocument,
  CrUpdateNoteDocument,
  TkCreateTicketDocument,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let channelId: string;
let hiddenChannelId: string;

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Records Co" });
  other = await createTestAccount(t.prisma, { name: "Elsewhere" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
  const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id })).id);
  const hidden = await createInbox(t.prisma, a.accountId, { userIds: [] });
  hiddenChannelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId: hidden.id, channelAppId: partner.app.id })).id);
});
afterAll(async () => t?.close());

async function newContact(name = "Nora") {
  const contact = await t.prisma.contact.create({ data: { accountId: a.accountId, name, email: `${externalId("c")}@example.test` } });
  return { row: contact, id: toGlobalId("Contact", contact.id) };
}
const as = async (user: { id: string }) => t.client(await t.tokenFor(user as never));

describe("contact notes", () => {
  test("any agent adds notes; only the author edits; the author or an admin deletes; bad input and foreign contacts are refused", async () => {
    const contact = await newContact();
    const author = await as(a.agent);
    const colleague = await as(await createTestUser(t.prisma, a.accountId, { role: "AGENT" }));
    const admin = await as(a.admin);

    const added = await author.request(CrAddNoteDocument, { input: { contactId: contact.id, body: "  Prefers email  " } });
    if (added.addContactNote.__typename !== "ContactNoteResult") throw new Error(JSON.stringify(added.addContactNote));
    expect(added.addContactNote.note).toMatchObject({ body: "Prefers email", author: { id: toGlobalId("User", a.agent.id) } });
    const noteId = added.addContactNote.note.id;

    expect((await author.request(CrAddNoteDocument, { input: { contactId: contact.id, body: "   " } })).addContactNote).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "body"] }] });
    const foreign = await t.prisma.contact.create({ data: { accountId: other.accountId, name: "Theirs" } });
    expect((await author.request(CrAddNoteDocument, { input: { contactId: toGlobalId("Contact", foreign.id), body: "x" } })).addContactNote.__typename).toBe("NotFoundError");
    expect(await t.prisma.contactNote.count({ where: { contactId: foreign.id } })).toBe(0);

    expect((await colleague.request(CrUpdateNoteDocument, { input: { noteId, body: "Hijacked" } })).updateContactNote.__typename).toBe("ForbiddenError");
    expect((await admin.request(CrUpdateNoteDocument, { input: { noteId, body: "Admin edit" } })).updateContactNote.__typename).toBe("ForbiddenError");
    expect((await author.request(CrUpdateNoteDocument, { input: { noteId, body: "Prefers email, mornings" } })).updateContactNote).toMatchObject({ note: { body: "Prefers email, mornings" } });
    expect((await colleague.request(CrDeleteNoteDocument, { input: { noteId } })).deleteContactNote.__typename).toBe("ForbiddenError");

    const listed = await colleague.request(CrContactDocument, { id: contact.id });
    expect((listed.node as { notes: { edges: { node: { body: string } }[] } }).notes.edges.map((e) => e.node.body)).toEqual(["Prefers email, mornings"]);

    expect((await admin.request(CrDeleteNoteDocument, { input: { noteId } })).deleteContactNote).toEqual({ __typename: "DeleteContactNoteResult", deletedNoteId: noteId });
    expect(await t.prisma.contactNote.count({ where: { id: fromGlobalId(noteId, "ContactNote") } })).toBe(0);

    // The author deletes their own; another account's user does not find it.
    const second = await author.request(CrAddNoteDocument, { input: { contactId: contact.id, body: "Second" } });
    const secondId = (second.addContactNote as { note: { id: string } }).note.id;
    expect((await (await as(other.admin)).request(CrDeleteNoteDocument, { input: { noteId: secondId } })).deleteContactNote.__typename).toBe("NotFoundError");
    expect((await author.request(CrDeleteNoteDocument, { input: { noteId: secondId } })).deleteContactNote.__typename).toBe("DeleteContactNoteResult");
  });
});

describe("custom contact properties", () => {
  test("admins define typed properties; agents set values checked against them (all or none); deleting a definition removes its values", async () => {
    const admin = await as(a.admin);
    const agent = await as(a.agent);
    expect((await agent.request(CrDefineDocument, { input: { key: "plan", label: "Plan", type: "SELECT", options: ["free", "pro"] } })).createContactPropertyDefinition.__typename).toBe("ForbiddenError");
    expect((await admin.request(CrDefineDocument, { input: { key: "plan", label: "Plan", type: "SELECT" } })).createContactPropertyDefinition).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "options"] }] });
    expect((await admin.request(CrDefineDocument, { input: { key: "Bad Key", label: "X", type: "STRING" } })).createContactPropertyDefinition).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "key"] }] });
    const define = async (input: { key: string; label: string; type: "STRING" | "NUMBER" | "BOOLEAN" | "DATE" | "SELECT"; options?: string[] }) => {
      const r = await admin.request(CrDefineDocument, { input });
      if (r.createContactPropertyDefinition.__typename !== "ContactPropertyDefinitionResult") throw new Error(JSON.stringify(r.createContactPropertyDefinition));
      return r.createContactPropertyDefinition.definition;
    };
    const plan = await define({ key: "plan", label: "Plan", type: "SELECT", options: ["free", "pro"] });
    await define({ key: "seats", label: "Seats", type: "NUMBER" });
    await define({ key: "vip", label: "VIP", type: "BOOLEAN" });
    await define({ key: "renewal", label: "Renewal", type: "DATE" });
    await define({ key: "company", label: "Company", type: "STRING" });
    expect((await admin.request(CrDefineDocument, { input: { key: "plan", label: "Again", type: "STRING" } })).createContactPropertyDefinition).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "key"] }] });
    expect((await agent.request(CrDefinitionsDocument)).contactPropertyDefinitions.map((d) => d.key)).toEqual(["company", "plan", "renewal", "seats", "vip"]);
    // Another account sees none of them.
    expect((await (await as(other.agent)).request(CrDefinitionsDocument)).contactPropertyDefinitions).toEqual([]);

    const contact = await newContact();
    const set = (properties: { key: string; value?: string | null }[]) => agent.request(CrSetPropertiesDocument, { input: { contactId: contact.id, properties } });
    for (const [key, value] of [["seats", "many"], ["vip", "yes"], ["renewal", "2026-02-30"], ["plan", "enterprise"]] as const) {
      const r = await set([{ key: "company", value: "Acme" }, { key, value }]);
      expect(r.setContactProperties).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "properties", "1", "value"], message: expect.stringContaining(`(${key})`) }] });
    }
    expect((await set([{ key: "unknown", value: "1" }])).setContactProperties).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "properties", "0", "key"] }] });
    // Nothing of the refused sets was written (company came first in each).
    expect((await t.prisma.contact.findUniqueOrThrow({ where: { id: contact.row.id } })).customProperties).toEqual({});

    const ok = await set([{ key: "company", value: "Acme" }, { key: "seats", value: "12.5" }, { key: "vip", value: "true" }, { key: "renewal", value: "2027-01-31" }, { key: "plan", value: "pro" }]);
    expect(ok.setContactProperties).toMatchObject({
      __typename: "UpdateContactResult",
      contact: {
        customProperties: [
          { key: "company", value: "Acme", definition: { type: "STRING" } },
          { key: "plan", value: "pro", definition: { type: "SELECT" } },
          { key: "renewal", value: "2027-01-31", definition: { type: "DATE" } },
          { key: "seats", value: "12.5", definition: { type: "NUMBER" } },
          { key: "vip", value: "true", definition: { type: "BOOLEAN" } },
        ],
      },
    });
    expect((await t.prisma.contact.findUniqueOrThrow({ where: { id: contact.row.id } })).customProperties).toEqual({ company: "Acme", seats: 12.5, vip: true, renewal: "2027-01-31", plan: "pro" });

    // Clearing one; another account's agent does not find the contact.
    expect((await set([{ key: "company", value: null }])).setContactProperties.__typename).toBe("UpdateContactResult");
    expect((await (await as(other.agent)).request(CrSetPropertiesDocument, { input: { contactId: contact.id, properties: [{ key: "vip", value: "false" }] } })).setContactProperties.__typename).toBe("NotFoundError");

    // Options change (admin only); deleting a definition drops its values.
    expect((await agent.request(CrRedefineDocument, { input: { definitionId: plan.id, options: ["free", "pro", "max"] } })).updateContactPropertyDefinition.__typename).toBe("ForbiddenError");
    expect((await admin.request(CrRedefineDocument, { input: { definitionId: plan.id, label: "Subscription", options: ["free", "pro", "max"] } })).updateContactPropertyDefinition).toMatchObject({ definition: { label: "Subscription", options: ["free", "pro", "max"] } });
    expect((await set([{ key: "plan", value: "max" }])).setContactProperties.__typename).toBe("UpdateContactResult");
    expect((await admin.request(CrUndefineDocument, { input: { definitionId: plan.id } })).deleteContactPropertyDefinition).toEqual({ __typename: "DeleteContactPropertyDefinitionResult", deletedDefinitionId: plan.id });
    expect((await t.prisma.contact.findUniqueOrThrow({ where: { id: contact.row.id } })).customProperties).toEqual({ seats: 12.5, vip: true, renewal: "2027-01-31" });
  });
});

describe("contact timeline", () => {
  test("conversations, tickets, calls and form submissions, newest first, paged, and only from inboxes the caller sees", async () => {
    const email = `${externalId("tl")}@example.test`;
    const publish = async (channel: string) => {
      const r = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: channel, externalId: externalId(), sender: { name: "Tea", email }, text: "hi" } });
      if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
      return r.publishInboundMessage.conversationId;
    };
    const visible = await publish(channelId);
    const hidden = await publish(hiddenChannelId);
    const contact = await t.prisma.contact.findFirstOrThrow({ where: { accountId: a.accountId, email } });
    const contactId = toGlobalId("Contact", contact.id);
    const ticket = await (await as(a.agent)).request(TkCreateTicketDocument, { input: { name: "Tea's ticket", contactId } });
    if (ticket.createTicket.__typename !== "TicketResult") throw new Error(JSON.stringify(ticket.createTicket));
    const conv = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(visible, "Conversation") } });
    const hiddenConv = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(hidden, "Conversation") } });
    const later = (s: number) => new Date(Date.now() + s * 1000);
    const call = await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: conv.id, channelId: conv.channelId, direction: "INBOUND", kind: "CALL", senderType: "CONTACT", metadata: { call: { status: "ENDED" } }, createdAt: later(10) } });
    const form = await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: conv.id, channelId: conv.channelId, direction: "INBOUND", senderType: "CONTACT", text: "Form", metadata: { formId: "f1" }, createdAt: later(20) } });
    await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: hiddenConv.id, channelId: hiddenConv.channelId, direction: "INBOUND", kind: "CALL", senderType: "CONTACT", metadata: {}, createdAt: later(30) } });

    type Edge = { cursor: string; node: { __typename: string; at: string; conversation?: { id: string }; ticket?: { id: string }; message?: { id: string } } };
    type Timeline = { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Edge[] };
    const timeline = async (user: { id: string }, first?: number, after?: string | null) =>
      ((await (await as(user)).request(CrContactDocument, { id: contactId, first, after })).node as { timeline: Timeline }).timeline;
    const describe = (e: Edge) => `${e.node.__typename}:${e.node.conversation?.id ?? e.node.ticket?.id ?? e.node.message?.id}`;

    const agentView = await timeline(a.agent);
    expect(agentView.edges.map(describe)).toEqual([
      `FormSubmissionTimelineItem:${toGlobalId("Message", form.id)}`,
      `CallTimelineItem:${toGlobalId("Message", call.id)}`,
      `TicketTimelineItem:${ticket.createTicket.ticket.id}`,
      `ConversationTimelineItem:${visible}`,
    ]);
    const ats = agentView.edges.map((e) => Date.parse(e.node.at));
    expect([...ats].sort((x, y) => y - x)).toEqual(ats);

    // The admin sees the hidden inbox's conversation and call too.
    const adminView = await timeline(a.admin);
    expect(adminView.edges).toHaveLength(6);
    expect(adminView.edges.map(describe)).toContain(`ConversationTimelineItem:${hidden}`);

    // Pages of two join up to the whole list.
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const p: Timeline = await timeline(a.admin, 2, after);
      seen.push(...p.edges.map(describe));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(adminView.edges.map(describe));
    await expect((await as(a.agent)).request(CrContactDocument, { id: contactId, after: "garbage" })).rejects.toThrow(/Not a cursor/);
  });
});
