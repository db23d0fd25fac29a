import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvDetailDocument, ConvPublishDocument, ConvReplyDocument, ConvUpdateDeliveryStatusDocument, type ReplyInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

let t: TestServer;
let a: TestAccount;
let partner: Awaited<ReturnType<typeof createPartnerApp>>;
let inboxId: string;
let channelId: string;
let emailChannelId: string;

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Replies" });
  partner = await createPartnerApp(t.prisma, t.server.services.auth, { capabilities: { attachmentKinds: ["IMAGE"] } });
  inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
  channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId, channelAppId: partner.app.id })).id);
  emailChannelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId, type: "TEAM_EMAIL", emailAddress: `support-${externalId()}@acme.test` })).id);
});
afterAll(async () => t?.close());

async function thread(sender: Record<string, string>, texts: string[]) {
  const key = externalId("thr");
  const messageIds: string[] = [];
  let conversationId = "";
  for (const text of texts) {
    const r = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: externalId(), threadKey: key, sender, text } });
    if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error("publish failed");
    conversationId = r.publishInboundMessage.conversationId;
    messageIds.push(r.publishInboundMessage.inboundMessage.id);
  }
  return { conversationId, messageIds };
}

const reply = async (input: ReplyInput, user = a.agent) => (await t.client(await t.tokenFor(user)).request(ConvReplyDocument, { input })).reply;

describe("reply", () => {
  test("defaults to the latest message and the conversation's channel; a chosen message can be answered; first response recorded once", async () => {
    const { conversationId, messageIds } = await thread({ email: "rita@example.test", name: "Rita" }, ["first", "second"]);
    const r1 = await reply({ conversationId, text: "Answer to the latest" });
    expect(r1).toMatchObject({ __typename: "MessageResult", sentMessage: { direction: "OUTBOUND", senderType: "AGENT", inReplyTo: { id: messageIds[1] }, channel: { id: channelId }, deliveryStatus: "PENDING", author: { id: toGlobalId("User", a.agent.id) } } });
    const after1 = await t.prisma.conversation.findUniqueOrThrow({ where: { id: fromGlobalId(conversationId, "Conversation") } });
    expect(after1.firstResponseAt).not.toBeNull();
    const r2 = await reply({ conversationId, text: "About your first message", inReplyToId: messageIds[0], attachments: [{ kind: "IMAGE", url: "https://cdn.acme.test/x.png", name: "x.png" }] });
    expect(r2).toMatchObject({ sentMessage: { inReplyTo: { id: messageIds[0] }, attachments: [{ kind: "IMAGE", url: "https://cdn.acme.test/x.png", name: "x.png" }] } });
    const after2 = await t.prisma.conversation.findUniqueOrThrow({ where: { id: after1.id } });
    expect(after2.firstResponseAt).toEqual(after1.firstResponseAt);
    // Each reply on a custom channel wrote its webhook delivery with it.
    const deliveries = await t.prisma.outboundDelivery.findMany({ where: { accountId: a.accountId, message: { conversationId: after1.id } } });
    expect(deliveries.map((d) => [d.kind, d.state])).toEqual([["PARTNER_WEBHOOK", "PENDING"], ["PARTNER_WEBHOOK", "PENDING"]]);
  });

  test("through another channel that can reach the contact (team email for a contact with an email)", async () => {
    const withEmail = await thread({ email: "ema@example.test" }, ["hi"]);
    const r = await reply({ conversationId: withEmail.conversationId, text: "By email", channelId: emailChannelId });
    expect(r).toMatchObject({ __typename: "MessageResult", sentMessage: { channel: { id: emailChannelId } } });
    const { node } = await t.client(await t.tokenFor(a.agent)).request(ConvDetailDocument, { id: withEmail.conversationId });
    if (node?.__typename !== "Conversation") throw new Error("no conversation");
    expect(node.channel.id).toBe(channelId);
    expect(node.messages.edges.map((e) => e.node.channel.id)).toEqual([channelId, emailChannelId]);

    const handleOnly = await thread({ handle: `h-${externalId()}` }, ["hi"]);
    const refused = await reply({ conversationId: handleOnly.conversationId, text: "By email", channelId: emailChannelId });
    expect(refused).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "channelId"] }] });
  });

  test("refused on an OFF channel, with bad attachments, or with a message of another conversation", async () => {
    const { conversationId } = await thread({ email: "olive@example.test" }, ["hi"]);
    const other = await thread({ email: "oscar@example.test" }, ["hey"]);
    const bad = await reply({ conversationId, text: "x", attachments: [{ kind: "VIDEO", url: "https://cdn.acme.test/v.mp4" }] });
    expect(bad).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "attachments", "0", "kind"] }] });
    const wrongParent = await reply({ conversationId, text: "x", inReplyToId: other.messageIds[0] });
    expect(wrongParent).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "inReplyToId"] }] });
    await t.prisma.channel.update({ where: { id: fromGlobalId(channelId, "Channel") }, data: { status: "OFF" } });
    try {
      const r = await reply({ conversationId, text: "Anyone?" });
      expect(r).toMatchObject({ __typename: "ChannelOffError", code: "CHANNEL_OFF" });
    } finally {
      await t.prisma.channel.update({ where: { id: fromGlobalId(channelId, "Channel") }, data: { status: "ON" } });
    }
    expect(await t.prisma.message.count({ where: { conversationId: fromGlobalId(conversationId, "Conversation"), direction: "OUTBOUND" } })).toBe(0);
  });

  test("Messenger: human replies within 7 days of the customer's last message, refused after", async () => {
    const messenger = await createChannel(t.prisma, { accountId: a.accountId, inboxId, type: "FACEBOOK_MESSENGER" });
    const make = async (daysAgo: number) => {
      const at = new Date(Date.now() - daysAgo * 86_400_000);
      const c = await t.prisma.conversation.create({ data: { accountId: a.accountId, inboxId, channelId: messenger.id, lastInboundAt: at, firstInboundAt: at, lastActivityAt: at } });
      await t.prisma.message.create({ data: { accountId: a.accountId, conversationId: c.id, channelId: messenger.id, direction: "INBOUND", senderType: "CONTACT", text: "hello", createdAt: at } });
      return toGlobalId("Conversation", c.id);
    };
    const late = await reply({ conversationId: await make(8), text: "Sorry for the wait" });
    expect(late).toMatchObject({ __typename: "MessagingWindowClosedError", code: "MESSAGING_WINDOW_CLOSED", windowEndedAt: expect.any(String) });
    const inTime = await reply({ conversationId: await make(6), text: "Here we are" });
    expect(inTime.__typename).toBe("MessageResult");
  });

  test("an idempotency key makes a retried reply return the first one", async () => {
    const { conversationId } = await thread({ email: "ida@example.test" }, ["hi"]);
    const key = externalId("idem");
    const r1 = await reply({ conversationId, text: "Once", idempotencyKey: key });
    const r2 = await reply({ conversationId, text: "Once", idempotencyKey: key });
    if (r1.__typename !== "MessageResult" || r2.__typename !== "MessageResult") throw new Error("reply failed");
    expect(r2.sentMessage.id).toBe(r1.sentMessage.id);
    expect(await t.prisma.message.count({ where: { conversationId: fromGlobalId(conversationId, "Conversation"), direction: "OUTBOUND" } })).toBe(1);
    const conflict = await reply({ conversationId, text: "Something else", idempotencyKey: key });
    expect(conflict).toMatchObject({ code: "CONFLICT" });
  });
});

describe("delivery status from the partner", () => {
  test("the partner reports SENT/DELIVERED/READ/FAILED with a reason; other partners cannot", async () => {
    const { conversationId, messageIds } = await thread({ email: "dora@example.test" }, ["hi"]);
    const r = await reply({ conversationId, text: "Delivered?" });
    if (r.__typename !== "MessageResult") throw new Error("reply failed");
    const partnerClient = t.client(partner.token);
    const sent = await partnerClient.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: r.sentMessage.id, status: "SENT" } });
    expect(sent.updateDeliveryStatus).toMatchObject({ sentMessage: { deliveryStatus: "SENT", deliveryError: null } });
    const failed = await partnerClient.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: r.sentMessage.id, status: "FAILED", reason: "User blocked the bot" } });
    expect(failed.updateDeliveryStatus).toMatchObject({ sentMessage: { deliveryStatus: "FAILED", deliveryError: "User blocked the bot" } });
    // FAILED is final: a late READ changes nothing (item 18).
    const late = await partnerClient.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: r.sentMessage.id, status: "READ" } });
    expect(late.updateDeliveryStatus).toMatchObject({ sentMessage: { deliveryStatus: "FAILED", deliveryError: "User blocked the bot" } });
    const { node } = await t.client(await t.tokenFor(a.agent)).request(ConvDetailDocument, { id: conversationId });
    if (node?.__typename !== "Conversation") throw new Error("no conversation");
    expect(node.messages.edges.at(-1)?.node).toMatchObject({ deliveryStatus: "FAILED", deliveryError: "User blocked the bot" });

    const stranger = await createPartnerApp(t.prisma, t.server.services.auth);
    const foreign = await t.client(stranger.token).request(ConvUpdateDeliveryStatusDocument, { input: { messageId: r.sentMessage.id, status: "READ" } });
    expect(foreign.updateDeliveryStatus).toMatchObject({ __typename: "NotFoundError" });
    const inbound = await partnerClient.request(ConvUpdateDeliveryStatusDocument, { input: { messageId: messageIds[0], status: "READ" } });
    expect(inbound.updateDeliveryStatus).toMatchObject({ __typename: "NotFoundError" });
  });
});
