import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  ChConnectDocument,
  ChUpdateDocument,
  ConvPublishDocument,
  ConvSetAvailabilityDocument,
  WidgetChatAvailabilityDocument,
  type PublishInboundMessageInput,
} from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, createTeam, externalId, type ChannelFixture } from "./support/conversation-fixtures.js";

let t: TestServer;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;

beforeAll(async () => {
  t = await startTestServer();
  partner = await createPartnerApp(t.prisma, t.server.services.auth);
});
afterAll(async () => t?.close());

/** A fresh account with a custom channel routed as given; `publish` starts a new conversation each call. */
async function setup(routing: Omit<ChannelFixture, "accountId" | "inboxId" | "channelAppId">, users: Parameters<typeof createTestUser>[2][] = []) {
  const account = await createTestAccount(t.prisma);
  const people: Awaited<ReturnType<typeof createTestUser>>[] = [];
  for (const u of users) people.push(await createTestUser(t.prisma, account.accountId, u));
  const inbox = await createInbox(t.prisma, account.accountId, { userIds: people.map((p) => p.id) });
  const resolve = (ids?: string[]) => ids?.map((i) => (i.startsWith("#") ? people[Number(i.slice(1))].id : i));
  const channel = await createChannel(t.prisma, {
    accountId: account.accountId,
    inboxId: inbox.id,
    channelAppId: partner.app.id,
    autoAssign: true,
    ...routing,
    routingUserIds: resolve(routing.routingUserIds),
    routingTeamIds: routing.routingTeamIds,
  });
  const publish = async (input: Partial<PublishInboundMessageInput> = {}) => {
    const r = await t.client(partner.token).request(ConvPublishDocument, {
      input: { channelId: toGlobalId("Channel", channel.id), externalId: externalId(), sender: { email: `${externalId("c")}@example.test` }, text: "hi", ...input },
    });
    if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
    return t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(r.publishInboundMessage.conversationId, "Conversation") } });
  };
  return { account, people, inbox, channel, publish };
}

describe("SPECIFIC routing", () => {
  test("auto-assign off leaves conversations unassigned", async () => {
    const s = await setup({ autoAssign: false, routingUserIds: ["#0"] }, [{}]);
    expect((await s.publish()).assigneeId).toBeNull();
  });

  test("candidates are the chosen users plus team members; only PAID seats; only AVAILABLE users by default", async () => {
    const s = await setup({ routingUserIds: ["#0", "#1"] }, [{ seat: "FREE" }, { availability: "AWAY" }, {}]);
    const team = await createTeam(t.prisma, s.account.accountId, [s.people[2].id]);
    await t.prisma.channelRoutingTeam.create({ data: { accountId: s.account.accountId, channelId: s.channel.id, teamId: team.id } });
    const c1 = await s.publish();
    const c2 = await s.publish();
    expect([c1.assigneeId, c2.assigneeId]).toEqual([s.people[2].id, s.people[2].id]);
    const assigned = await t.prisma.user.findUniqueOrThrow({ where: { id: s.people[2].id } });
    expect(assigned.lastAssignedAt).not.toBeNull();
    expect(c1.assignedAt).not.toBeNull();
  });

  test("with only-available on and nobody available the conversation stays unassigned; off, away users are picked", async () => {
    const s = await setup({ routingUserIds: ["#0"] }, [{ availability: "AWAY" }]);
    expect((await s.publish()).assigneeId).toBeNull();
    await t.prisma.channel.update({ where: { id: s.channel.id }, data: { onlyAvailable: false } });
    expect((await s.publish()).assigneeId).toBe(s.people[0].id);
  });

  test("users at their chat capacity are skipped", async () => {
    const s = await setup({ routingUserIds: ["#0", "#1"] }, [{ chatCapacity: 1 }, { chatCapacity: 1 }]);
    const picks = [await s.publish(), await s.publish(), await s.publish()].map((c) => c.assigneeId);
    expect(new Set(picks.slice(0, 2))).toEqual(new Set([s.people[0].id, s.people[1].id]));
    expect(picks[2]).toBeNull();
  });

  test("the pick is the fewest open conversations, then longest since last assignment (a fair rotation)", async () => {
    const s = await setup({ routingUserIds: ["#0", "#1", "#2"] }, [{}, {}, {}]);
    const [u0, u1, u2] = s.people;
    await t.prisma.user.update({ where: { id: u0.id }, data: { lastAssignedAt: new Date("2024-01-02T00:00:00Z") } });
    await t.prisma.user.update({ where: { id: u1.id }, data: { lastAssignedAt: new Date("2024-01-01T00:00:00Z") } });
    // u2 was never assigned: first. Then u1 (assigned longest ago), then u0, then u2 again.
    const picks = [];
    for (let i = 0; i < 4; i++) picks.push((await s.publish()).assigneeId);
    expect(picks).toEqual([u2.id, u1.id, u0.id, u2.id]);
    // Closing u0's conversation gives u0 the fewest open: u0 next, whatever the rotation says.
    await t.prisma.conversation.updateMany({ where: { assigneeId: u0.id }, data: { status: "CLOSED" } });
    expect((await s.publish()).assigneeId).toBe(u0.id);
  });

  test("concurrent intakes never exceed a user's capacity", async () => {
    const s = await setup({ routingUserIds: ["#0"] }, [{ chatCapacity: 2 }]);
    const convs = await Promise.all(Array.from({ length: 6 }, () => s.publish()));
    expect(convs.filter((c) => c.assigneeId === s.people[0].id)).toHaveLength(2);
  });
});

describe("CONTACT_OWNER routing", () => {
  test("assigns the owner of a tracked contact; untracked or ownerless contacts stay unassigned", async () => {
    const s = await setup({ routingTarget: "CONTACT_OWNER" }, [{}]);
    const owner = s.people[0];
    await t.prisma.contact.create({ data: { accountId: s.account.accountId, email: "tracked@example.test", ownerId: owner.id, tracked: true } });
    await t.prisma.contact.create({ data: { accountId: s.account.accountId, email: "untracked@example.test", ownerId: owner.id, tracked: false } });
    expect((await s.publish({ sender: { email: "tracked@example.test" } })).assigneeId).toBe(owner.id);
    expect((await s.publish({ sender: { email: "untracked@example.test" } })).assigneeId).toBeNull();
    expect((await s.publish({ sender: { email: "nobody@example.test" } })).assigneeId).toBeNull();
    expect(await t.prisma.outboundDelivery.count({ where: { accountId: s.account.accountId, kind: "NOTIFICATION_EMAIL" } })).toBe(0);
  });

  test("an offline owner is still assigned, and an email notification to them is recorded", async () => {
    const s = await setup({ routingTarget: "CONTACT_OWNER" }, [{ availability: "AWAY" }]);
    const owner = s.people[0];
    await t.prisma.contact.create({ data: { accountId: s.account.accountId, email: "vip@example.test", ownerId: owner.id, tracked: true } });
    const conv = await s.publish({ sender: { email: "vip@example.test" } });
    expect(conv.assigneeId).toBe(owner.id);
    const notes = await t.prisma.outboundDelivery.findMany({ where: { accountId: s.account.accountId, kind: "NOTIFICATION_EMAIL" } });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ userId: owner.id, state: "PENDING", payload: { conversationId: conv.id } });
  });
});

describe("backlog assignment", () => {
  test("an agent becoming AVAILABLE gets the oldest unassigned conversations of channels routing to them, up to capacity", async () => {
    const s = await setup({ routingUserIds: [] }, [{ availability: "AWAY", chatCapacity: 2 }, {}]);
    const [agent, outsider] = s.people;
    const team = await createTeam(t.prisma, s.account.accountId, [agent.id]);
    await t.prisma.channelRoutingTeam.create({ data: { accountId: s.account.accountId, channelId: s.channel.id, teamId: team.id } });
    const c1 = await s.publish();
    const c2 = await s.publish();
    const c3 = await s.publish();
    expect([c1, c2, c3].map((c) => c.assigneeId)).toEqual([null, null, null]);

    const outsiderResult = await t.client(await t.tokenFor(outsider)).request(ConvSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    expect(outsiderResult.setAvailability).toMatchObject({ assignedConversations: [] });

    const r = await t.client(await t.tokenFor(agent)).request(ConvSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    expect(r.setAvailability).toMatchObject({ __typename: "SetAvailabilityResult", user: { availability: "AVAILABLE" } });
    const ids = r.setAvailability.__typename === "SetAvailabilityResult" ? r.setAvailability.assignedConversations.map((c) => fromGlobalId(c.id, "Conversation")) : [];
    expect(ids).toEqual([c1.id, c2.id]);
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: c3.id } })).assigneeId).toBeNull();
    const events = await t.prisma.event.count({ where: { accountId: s.account.accountId, type: "conversation.updated" } });
    expect(events).toBeGreaterThanOrEqual(2);
  });
});

describe("16.6: chat capacity counts chats only", () => {
  test("an agent with two open emails (capacity 2) still takes chats, and chatAvailability is not AT_CAPACITY until two chats are open", async () => {
    const s = await setup({ routingUserIds: ["#0"] }, [{ chatCapacity: 2 }]);
    const [agent] = s.people;
    const email = await createChannel(t.prisma, { accountId: s.account.accountId, inboxId: s.inbox.id, type: "TEAM_EMAIL" });
    const widget = await createChannel(t.prisma, { accountId: s.account.accountId, inboxId: s.inbox.id, type: "CHAT" });
    for (const subject of ["Invoice", "Refund"]) {
      await t.prisma.conversation.create({ data: { accountId: s.account.accountId, inboxId: s.inbox.id, channelId: email.id, subject, assigneeId: agent.id } });
    }
    const availability = async () => (await t.client().request(WidgetChatAvailabilityDocument, { channelId: toGlobalId("Channel", widget.id) })).chatAvailability.state;
    expect(await availability()).toBe("AVAILABLE");
    // The partner's channel is a chat: two of them fill the capacity, whatever the open emails.
    expect((await s.publish()).assigneeId).toBe(agent.id);
    expect(await availability()).toBe("AVAILABLE");
    expect((await s.publish()).assigneeId).toBe(agent.id);
    expect(await availability()).toBe("AT_CAPACITY");
    expect((await s.publish()).assigneeId).toBeNull();
  });

  test("at chat capacity, an agent becoming AVAILABLE still gets the email backlog, and no more chats", async () => {
    const s = await setup({ routingUserIds: ["#0"] }, [{ availability: "AWAY", chatCapacity: 1 }]);
    const [agent] = s.people;
    const email = await createChannel(t.prisma, { accountId: s.account.accountId, inboxId: s.inbox.id, type: "TEAM_EMAIL", autoAssign: true, routingUserIds: [agent.id] });
    await t.prisma.conversation.create({ data: { accountId: s.account.accountId, inboxId: s.inbox.id, channelId: s.channel.id, assigneeId: agent.id } });
    const waitingChat = await s.publish();
    const waitingEmail = await t.prisma.conversation.create({ data: { accountId: s.account.accountId, inboxId: s.inbox.id, channelId: email.id, subject: "Where is my order?" } });
    const r = await t.client(await t.tokenFor(agent)).request(ConvSetAvailabilityDocument, { input: { availability: "AVAILABLE" } });
    if (r.setAvailability.__typename !== "SetAvailabilityResult") throw new Error(r.setAvailability.__typename);
    expect(r.setAvailability.assignedConversations.map((c) => fromGlobalId(c.id, "Conversation"))).toEqual([waitingEmail.id]);
    expect((await t.prisma.conversation.findUniqueOrThrow({ where: { id: waitingChat.id } })).assigneeId).toBeNull();
  });
});

describe("16.4: routing names only users who can see the channel's inbox", () => {
  const expectRefusal = (r: { __typename: string } & Record<string, unknown>, path: string[], who: string) => {
    expect(r).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path, message: expect.stringContaining(who) }] });
  };

  test("connectChannel and updateChannel refuse a routed user or team member who is no member of the inbox, naming them; admins and members pass", async () => {
    const s = await setup({ routingUserIds: [] }, [{}, { email: `outsider-${externalId()}@example.test` }]);
    const [member, outsider] = s.people;
    await t.prisma.inboxUser.delete({ where: { inboxId_userId: { inboxId: s.inbox.id, userId: outsider.id } } });
    const team = await createTeam(t.prisma, s.account.accountId, [member.id, outsider.id]);
    const admin = t.client(await t.tokenFor(s.account.admin));
    const connect = async (routing: { userIds?: string[]; teamIds?: string[] }) =>
      (await admin.request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", s.inbox.id), name: "Chat", chat: {}, routing: { autoAssign: true, ...routing } } })).connectChannel;
    expectRefusal(await connect({ userIds: [toGlobalId("User", outsider.id)] }), ["input", "routing", "userIds"], outsider.email);
    expectRefusal(await connect({ teamIds: [toGlobalId("Team", team.id)] }), ["input", "routing", "teamIds"], outsider.email);
    const ok = await connect({ userIds: [toGlobalId("User", member.id), toGlobalId("User", s.account.admin.id)] });
    if (ok.__typename !== "ConnectChannelResult") throw new Error(JSON.stringify(ok));
    const update = await admin.request(ChUpdateDocument, { input: { channelId: ok.channel.id, routing: { userIds: [toGlobalId("User", outsider.id)] } } });
    expectRefusal(update.updateChannel, ["input", "routing", "userIds"], outsider.email);
    expect(await t.prisma.channelRoutingUser.count({ where: { channelId: fromGlobalId(ok.channel.id, "Channel"), userId: outsider.id } })).toBe(0);
  });

  test("a routed user who has left the inbox since, or a contact owner who is no member, is not assigned", async () => {
    const s = await setup({ routingUserIds: ["#0"] }, [{}]);
    await t.prisma.inboxUser.deleteMany({ where: { inboxId: s.inbox.id } });
    expect((await s.publish()).assigneeId).toBeNull();

    const owned = await setup({ routingTarget: "CONTACT_OWNER" }, [{}]);
    const owner = owned.people[0];
    await t.prisma.contact.create({ data: { accountId: owned.account.accountId, email: "outside@example.test", ownerId: owner.id, tracked: true } });
    await t.prisma.inboxUser.deleteMany({ where: { inboxId: owned.inbox.id } });
    expect((await owned.publish({ sender: { email: "outside@example.test" } })).assigneeId).toBeNull();
  });
});
