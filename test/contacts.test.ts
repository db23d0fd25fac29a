import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvPublishDocument, CtContactPanelDocument, CtUpdateContactDocument, type UpdateContactInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let other: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Contacts" });
  other = await createTestAccount(t.prisma, { name: "Elsewhere" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
});
afterAll(async () => t?.close());

const as = async (user: { id: string; accountId: string }) => t.client(await t.tokenFor(user));
async function update(user: { id: string; accountId: string }, input: UpdateContactInput) {
  return (await (await as(user)).request(CtUpdateContactDocument, { input })).updateContact;
}
const newContact = (accountId: string, data: { name?: string; email?: string; phone?: string } = {}) =>
  t.prisma.contact.create({ data: { accountId, name: data.name ?? "Carla", email: data.email ?? `carla-${externalId()}@example.test`, phone: data.phone } });

describe("16.5: updateContact", () => {
  test("sets the owner and the tracked flag, so that CONTACT_OWNER routing assigns the owner", async () => {
    const owner = await createTestUser(t.prisma, a.accountId, {});
    const inbox = await createInbox(t.prisma, a.accountId, { userIds: [owner.id] });
    const channel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id, autoAssign: true, routingTarget: "CONTACT_OWNER" });
    const contact = await newContact(a.accountId, { email: `vip-${externalId()}@example.test` });
    const publish = async () => {
      const r = await t.client(partner.token).request(ConvPublishDocument, {
        input: { channelId: toGlobalId("Channel", channel.id), externalId: externalId(), sender: { email: contact.email }, text: "Hello again" },
      });
      if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
      return (await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(r.publishInboundMessage.conversationId, "Conversation") } })).assigneeId;
    };
    expect(await publish()).toBeNull();

    const r = await update(a.agent, { contactId: toGlobalId("Contact", contact.id), ownerId: toGlobalId("User", owner.id), tracked: true });
    expect(r).toMatchObject({ __typename: "UpdateContactResult", contact: { id: toGlobalId("Contact", contact.id), name: "Carla", email: contact.email, tracked: true, owner: { id: toGlobalId("User", owner.id) } } });
    expect(await publish()).toBe(owner.id);

    const cleared = await update(a.agent, { contactId: toGlobalId("Contact", contact.id), ownerId: null });
    expect(cleared).toMatchObject({ contact: { owner: null, tracked: true } });
    expect(await publish()).toBeNull();
  });

  test("name, email and phone: only the given fields change, normalised as intake matches them; null clears", async () => {
    const contact = await newContact(a.accountId, { name: "Dana", phone: "+1 555 0100" });
    const id = toGlobalId("Contact", contact.id);
    const email = `Dana.${externalId()}@Example.TEST`;
    expect(await update(a.agent, { contactId: id, email, phone: "+1 (555) 0199" })).toMatchObject({ contact: { name: "Dana", email: email.toLowerCase(), phone: "+15550199" } });
    expect(await update(a.agent, { contactId: id, name: "  Dana Scully ", phone: null })).toMatchObject({ contact: { name: "Dana Scully", email: email.toLowerCase(), phone: null } });
  });

  test("refusals: another contact's email or phone, an unknown or foreign owner, clearing the last identity, another account's contact", async () => {
    const taken = await newContact(a.accountId, { phone: `+1555${Date.now() % 10_000_000}` });
    const contact = await newContact(a.accountId);
    const id = toGlobalId("Contact", contact.id);
    expect(await update(a.agent, { contactId: id, email: taken.email!.toUpperCase() })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "email"] }] });
    expect(await update(a.agent, { contactId: id, phone: taken.phone })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "phone"] }] });
    expect(await update(a.agent, { contactId: id, email: "not an email" })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "email"] }] });
    expect(await update(a.agent, { contactId: id, ownerId: toGlobalId("User", other.agent.id) })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "ownerId"] }] });
    expect(await update(a.agent, { contactId: id, name: "", email: null })).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    expect(await update(other.admin, { contactId: id, name: "Hijacked" })).toMatchObject({ __typename: "NotFoundError" });
    expect(await t.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } })).toMatchObject({ name: "Carla", email: contact.email, ownerId: null });
  });

  test("the contact's conversations are found by its new name", async () => {
    const inbox = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
    const channel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: inbox.id, channelAppId: partner.app.id });
    const mail = `rename-${externalId()}@example.test`;
    const r = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId: toGlobalId("Channel", channel.id), externalId: externalId(), sender: { email: mail }, text: "hi" } });
    if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error("publish failed");
    const contact = await t.prisma.contact.findFirstOrThrow({ where: { accountId: a.accountId, email: mail } });
    await update(a.agent, { contactId: toGlobalId("Contact", contact.id), name: "Quentin Zebulon" });
    const rows = await t.prisma.$queryRaw<{ id: string }[]>`SELECT id FROM "Conversation" WHERE "contactId" = ${contact.id} AND search @@ websearch_to_tsquery('simple', 'zebulon')`;
    expect(rows).toHaveLength(1);
  });
});

describe("16.7: a contact's tickets and conversations, as the caller may see them", () => {
  let contactId: string;
  let visible: string[];
  let hidden: string;
  let ticketIds: string[];
  beforeAll(async () => {
    const contact = await newContact(a.accountId, { name: "Side Panel" });
    contactId = toGlobalId("Contact", contact.id);
    const mine = await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
    const theirs = await createInbox(t.prisma, a.accountId);
    const mineChannel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: mine.id, channelAppId: partner.app.id });
    const theirsChannel = await createChannel(t.prisma, { accountId: a.accountId, inboxId: theirs.id, channelAppId: partner.app.id });
    const conversation = (inboxId: string, channelId: string, minutes: number) =>
      t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId, contactId: contact.id, lastActivityAt: new Date(Date.UTC(2025, 0, 1, 0, minutes)) } });
    const c1 = await conversation(mine.id, mineChannel.id, 1);
    const c2 = await conversation(theirs.id, theirsChannel.id, 2);
    const c3 = await conversation(mine.id, mineChannel.id, 3);
    visible = [c3.id, c1.id].map((id) => toGlobalId("Conversation", id));
    hidden = toGlobalId("Conversation", c2.id);
    const ticket = (name: string, minutes: number) =>
      t.prisma.ticket.create({
        data: { accountId: a.accountId, name, contactId: contact.id, pipelineId: pipeline.id, statusId: pipeline.statuses[0].id, lastActivityAt: new Date(Date.UTC(2025, 0, 1, 0, minutes)) },
      });
    const pipeline = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: a.accountId }, include: { statuses: { orderBy: { position: "asc" } } } });
    const t1 = await ticket("Older", 1);
    const t2 = await ticket("Newer", 5);
    ticketIds = [t2.id, t1.id].map((id) => toGlobalId("Ticket", id));
    // Another contact's ticket and conversation never show up.
    const stranger = await newContact(a.accountId, { name: "Stranger" });
    await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId: mine.id, channelId: mineChannel.id, contactId: stranger.id } });
  });

  const panel = async (user: { id: string; accountId: string }, vars: { first?: number; after?: string } = {}) =>
    (await (await as(user)).request(CtContactPanelDocument, { id: contactId, ...vars })).node;

  test("an agent sees the conversations of its own inboxes only; an admin sees all; both see the tickets", async () => {
    const agentView = await panel(a.agent);
    if (agentView?.__typename !== "Contact") throw new Error(JSON.stringify(agentView));
    expect(agentView.conversations.edges.map((e) => e.node.id)).toEqual(visible);
    expect(agentView.conversations.totalCount).toBe(2);
    expect(agentView.tickets).toMatchObject({ totalCount: 2, edges: ticketIds.map((id) => ({ node: { id } })) });

    const adminView = await panel(a.admin);
    if (adminView?.__typename !== "Contact") throw new Error(JSON.stringify(adminView));
    expect(adminView.conversations.edges.map((e) => e.node.id)).toEqual([visible[0], hidden, visible[1]]);
    expect(adminView.conversations.totalCount).toBe(3);
  });

  test("the connections page with cursors, and another account sees no such contact", async () => {
    const first = await panel(a.admin, { first: 1 });
    if (first?.__typename !== "Contact") throw new Error("no contact");
    expect(first.conversations.edges.map((e) => e.node.id)).toEqual([visible[0]]);
    expect(first.conversations.pageInfo.hasNextPage).toBe(true);
    const second = await panel(a.admin, { first: 2, after: first.conversations.pageInfo.endCursor! });
    if (second?.__typename !== "Contact") throw new Error("no contact");
    expect(second.conversations.edges.map((e) => e.node.id)).toEqual([hidden, visible[1]]);
    expect(await panel(other.admin)).toBeNull();
  });
});
