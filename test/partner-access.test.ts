import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { toGlobalId } from "../src/schema/ids.js";
import { partnerMayRead } from "../src/schema/partner-access.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createTeam } from "./support/conversation-fixtures.js";

/**
 * Issue 15.2: a partner token reads its own apps, the channels accounts connected to them and the
 * messages of those channels (as far as the reply webhook carries them), and nothing else. Tested
 * from the partner's side: the exact selection of the report, then every field the schema lets a
 * partner name, walked from its root fields.
 */

let t: TestServer;
let a: TestAccount;
let partnerToken: string;
let otherPartnerToken: string;
let appId: string;
let channelId: string;
/** The published customer message and the agent's reply to it (ids as the API gives them). */
let inboundId: string;
let replyId: string;
let commentId: string;
const PUBLISH_INPUT = () => ({
  channelId,
  externalId: "probe-1",
  threadKey: "probe-thread",
  sender: { name: "Pat", email: "pat@customer.test", handle: "pat-1" },
  text: "Hello from the partner",
  attachments: [{ kind: "IMAGE", url: "https://files.partner.test/cat.png", name: "cat.png", mimeType: "image/png", size: 123 }],
});

interface Response {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/** POSTs an operation as a client would, returning the whole response (errors included). */
async function post(token: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<Response> {
  const res = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}
const asPartner = (query: string, variables?: Record<string, unknown>) => post(partnerToken, query, variables);

/** Every error is a FORBIDDEN one (never a 500 or another failure). */
function expectOnlyForbidden(res: Response) {
  expect(res.errors?.length ?? 0).toBeGreaterThan(0);
  for (const e of res.errors ?? []) expect({ message: e.message, code: e.extensions?.code }).toMatchObject({ code: "FORBIDDEN" });
}

let accountSecrets: string[];

beforeAll(async () => {
  t = await startTestServer({ DELIVERY_WORKER: "false" });
  a = await createTestAccount(t.prisma, { name: "Victim Co" });
  const makePartner = async (name: string) => {
    const partner = await t.prisma.partner.create({ data: { name } });
    return t.server.services.auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" });
  };
  partnerToken = await makePartner("Acme");
  otherPartnerToken = await makePartner("Globex");

  const registered = await asPartner(
    `mutation($input: RegisterChannelAppInput!) { registerChannelApp(input: $input) { __typename ... on RegisterChannelAppResult { app { id } } } }`,
    {
      input: {
        name: "Acme SMS",
        webhookUrl: "https://hooks.partner.test/inbox",
        credentialFields: [{ name: "apiKey", label: "API key", secret: true }],
        capabilities: { messageKinds: ["TEXT", "ATTACHMENT"], attachmentKinds: ["IMAGE"] },
      },
    },
  );
  appId = (registered.data!.registerChannelApp as { app: { id: string } }).app.id;

  const admin = await t.tokenFor(a.superAdmin);
  const connected = await post(admin, `mutation($input: ConnectChannelInput!) { connectChannel(input: $input) { __typename ... on ConnectChannelResult { channel { id } } ... on Error { message } } }`, {
    input: { inboxId: toGlobalId("Inbox", a.helpDeskId), name: "Acme line", custom: { channelAppId: appId, credentials: [{ name: "apiKey", value: "sk_acct_1" }] } },
  });
  channelId = (connected.data!.connectChannel as { channel: { id: string } }).channel.id;
  // The account's people and its other channels: what the report's selection read out.
  const team = await createTeam(t.prisma, a.accountId, [a.agent.id, a.admin.id]);
  await t.prisma.inboxTeam.createMany({ data: [{ accountId: a.accountId, inboxId: a.helpDeskId, teamId: team.id }], skipDuplicates: true });
  await t.prisma.inboxUser.createMany({ data: [a.agent, a.admin].map((u) => ({ accountId: a.accountId, inboxId: a.helpDeskId, userId: u.id })), skipDuplicates: true });
  const raw = fromId(channelId);
  await t.prisma.channelRoutingUser.create({ data: { accountId: a.accountId, channelId: raw, userId: a.admin.id } });
  const wa = await createChannel(t.prisma, { accountId: a.accountId, inboxId: a.helpDeskId, type: "WHATSAPP" });
  await t.prisma.channel.update({ where: { id: wa.id }, data: { settings: { phoneNumber: "+15557654321", displayName: "Victim WA" } } });
  const fb = await createChannel(t.prisma, { accountId: a.accountId, inboxId: a.helpDeskId, type: "FACEBOOK_MESSENGER" });
  await t.prisma.channel.update({
    where: { id: fb.id },
    data: { settings: { pageId: "PAGE-987654", pageName: "Victim page", greeting: "", instantReply: "", gdpr: { mode: "NONE", consentText: null } } },
  });
  await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] });
  accountSecrets = [a.superAdmin.email, a.admin.email, a.agent.email, "+15557654321", "PAGE-987654", "sk_acct_1"];

  const published = await asPartner(
    `mutation($input: PublishInboundMessageInput!) { publishInboundMessage(input: $input) { __typename ... on PublishInboundMessageResult { conversationId inboundMessage { id } } ... on Error { message } } }`,
    { input: PUBLISH_INPUT() },
  );
  const result = published.data!.publishInboundMessage as { conversationId: string; inboundMessage: { id: string } };
  inboundId = result.inboundMessage.id;
  const comment = await post(admin, `mutation($input: AddCommentInput!) { addComment(input: $input) { ... on MessageResult { sentMessage { id } } } }`, {
    input: { conversationId: result.conversationId, text: "internal: this customer is a VIP, refund anything" },
  });
  commentId = (comment.data!.addComment as { sentMessage: { id: string } }).sentMessage.id;
  // The agent's reply answers the internal comment: the partner must still not read the comment.
  const sent = await post(admin, `mutation($input: ReplyInput!) { reply(input: $input) { __typename ... on MessageResult { sentMessage { id } } ... on Error { message } } }`, {
    input: { conversationId: result.conversationId, text: "We are on it", inReplyToId: commentId },
  });
  replyId = (sent.data!.reply as { sentMessage: { id: string } }).sentMessage.id;
});
afterAll(async () => t?.close());

const fromId = (globalId: string) => Buffer.from(globalId, "base64").toString("utf8").split(":").slice(1).join(":");

describe("a partner sees only what it published (the report's reproduction)", () => {
  const leakySelection = (userFields: string) => `
    mutation($input: PublishInboundMessageInput!) {
      publishInboundMessage(input: $input) {
        __typename
        ... on PublishInboundMessageResult {
          message {
            channel {
              routing { users { ${userFields} } }
              inbox {
                users { email }
                teams { members { email } }
                channels { whatsApp { phoneNumber } facebookMessenger { pageId } }
              }
            }
          }
        }
      }
    }`;

  test("the selection from the report answers FORBIDDEN: no emails, roles, page ids or phone numbers", async () => {
    const res = await asPartner(leakySelection("email role"), { input: PUBLISH_INPUT() });
    expect(res.status).toBe(200);
    expectOnlyForbidden(res);
    const body = JSON.stringify(res);
    for (const secret of accountSecrets) expect(body).not.toContain(secret);
    expect(body).not.toMatch(/SUPER_ADMIN|"ADMIN"|"AGENT"/);
  });

  test("selecting fullName there is FORBIDDEN too, not an internal server error", async () => {
    const res = await asPartner(leakySelection("fullName email"), { input: PUBLISH_INPUT() });
    expectOnlyForbidden(res);
    expect(JSON.stringify(res)).not.toContain("INTERNAL_SERVER_ERROR");
    for (const secret of accountSecrets) expect(JSON.stringify(res)).not.toContain(secret);
  });

  test("the same fields through updateDeliveryStatus are FORBIDDEN", async () => {
    const res = await asPartner(
      `mutation($input: UpdateDeliveryStatusInput!) { updateDeliveryStatus(input: $input) { __typename ... on MessageResult { sentMessage { channel { inbox { users { email } } routing { users { email } } } } } } }`,
      { input: { messageId: replyId, status: "DELIVERED" } },
    );
    expectOnlyForbidden(res);
    for (const secret of accountSecrets) expect(JSON.stringify(res)).not.toContain(secret);
  });

  test("what the partner may read of its own message, channel and app still answers", async () => {
    const res = await asPartner(
      `mutation($input: PublishInboundMessageInput!) {
        publishInboundMessage(input: $input) {
          __typename
          ... on PublishInboundMessageResult {
            duplicate
            inboundMessage {
              id direction kind text externalId
              attachments { kind url name }
              channel { id name type status custom { app { id name } credentials { name secret value } } }
            }
          }
        }
      }`,
      { input: PUBLISH_INPUT() },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      publishInboundMessage: {
        __typename: "PublishInboundMessageResult",
        duplicate: true,
        inboundMessage: {
          id: inboundId,
          direction: "INBOUND",
          kind: "MESSAGE",
          text: "Hello from the partner",
          externalId: "probe-1",
          attachments: [{ kind: "IMAGE", url: "https://files.partner.test/cat.png", name: "cat.png" }],
          channel: { id: channelId, name: "Acme line", type: "CUSTOM", status: "ON", custom: { app: { id: appId, name: "Acme SMS" }, credentials: [{ name: "apiKey", secret: true, value: "sk_acct_1" }] } },
        },
      },
    });
  });

  test("an internal comment never reaches the partner, even as the message its reply answers", async () => {
    const res = await asPartner(
      `mutation($input: UpdateDeliveryStatusInput!) { updateDeliveryStatus(input: $input) { __typename ... on MessageResult { sentMessage { id text inReplyTo { id kind text } } } } }`,
      { input: { messageId: replyId, status: "DELIVERED" } },
    );
    expectOnlyForbidden(res);
    expect(res.data).toEqual({ updateDeliveryStatus: { __typename: "MessageResult", sentMessage: { id: replyId, text: "We are on it", inReplyTo: null } } });
    expect(JSON.stringify(res)).not.toContain("VIP");
    // Nor by id.
    const byId = await asPartner(`query($id: ID!) { node(id: $id) { id ... on Message { text } } }`, { id: commentId });
    expect(byId.data).toEqual({ node: null });
  });

  test("another partner's token reads nothing of the channel or its messages", async () => {
    const res = await post(otherPartnerToken, `mutation($input: UpdateDeliveryStatusInput!) { updateDeliveryStatus(input: $input) { __typename ... on Error { code } } }`, {
      input: { messageId: replyId, status: "READ" },
    });
    expect(res.data).toEqual({ updateDeliveryStatus: { __typename: "NotFoundError", code: "NOT_FOUND" } });
    const node = await post(otherPartnerToken, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [appId, channelId, inboundId] });
    expect(node.data).toEqual({ nodes: [null, null, null] });
  });

  test("agents are not affected: they still read the channel's routing and inbox", async () => {
    const res = await post(await t.tokenFor(a.superAdmin), `query($id: ID!) { node(id: $id) { ... on Channel { routing { users { email fullName } } inbox { users { email } } } } }`, { id: channelId });
    expect(res.errors).toBeUndefined();
    expect(JSON.stringify(res.data)).toContain(a.admin.email);
  });
});

/**
 * Everything a partner token can read: the fields reachable from its root fields through fields
 * it may read. Changing this list means deciding that partners may read more (or less): the
 * allowlist in src/schema/partner-access.ts must say the same.
 */
const PARTNER_READABLE = [
  "Attachment.kind", "Attachment.mimeType", "Attachment.name", "Attachment.size", "Attachment.url",
  "Channel.createdAt", "Channel.custom", "Channel.id", "Channel.name", "Channel.status", "Channel.type",
  "ChannelApp.capabilities", "ChannelApp.connectedChannels", "ChannelApp.createdAt", "ChannelApp.credentialFields", "ChannelApp.description",
  "ChannelApp.id", "ChannelApp.logoUrl", "ChannelApp.name", "ChannelApp.threadingModel", "ChannelApp.updatedAt", "ChannelApp.webhookUrl",
  "ChannelAppCapabilities.attachmentKinds", "ChannelAppCapabilities.maxAttachmentSize", "ChannelAppCapabilities.maxAttachments",
  "ChannelAppCapabilities.messageKinds", "ChannelAppCapabilities.richText",
  "ChannelAppResult.app",
  "ChannelCredential.isSet", "ChannelCredential.label", "ChannelCredential.name", "ChannelCredential.secret", "ChannelCredential.value",
  "ChannelOffError.code", "ChannelOffError.message",
  "CredentialField.label", "CredentialField.name", "CredentialField.required", "CredentialField.secret",
  "CustomChannelSettings.app", "CustomChannelSettings.credentials",
  "FieldError.message", "FieldError.path",
  "ForbiddenError.code", "ForbiddenError.message",
  "Message.attachments", "Message.channel", "Message.createdAt", "Message.deliveryError", "Message.deliveryStatus", "Message.direction",
  "Message.externalId", "Message.id", "Message.inReplyTo", "Message.kind", "Message.richText", "Message.senderType", "Message.text",
  "MessageResult.message", "MessageResult.sentMessage",
  "Mutation.publishInboundMessage", "Mutation.registerChannelApp", "Mutation.updateChannelApp", "Mutation.updateDeliveryStatus",
  "NotFoundError.code", "NotFoundError.message", "NotFoundError.resource",
  "PartnerAccount.id", "PartnerAccount.name",
  "PartnerChannel.account", "PartnerChannel.app", "PartnerChannel.createdAt", "PartnerChannel.credentials", "PartnerChannel.id",
  "PartnerChannel.name", "PartnerChannel.status", "PartnerChannel.type",
  "PublishInboundMessageResult.conversationCreated", "PublishInboundMessageResult.conversationId", "PublishInboundMessageResult.duplicate",
  "PublishInboundMessageResult.inboundMessage", "PublishInboundMessageResult.message",
  "Query.myChannelApps", "Query.node", "Query.nodes", "Query.partnerChannel",
  "RegisterChannelAppResult.app", "RegisterChannelAppResult.webhookSigningSecret",
  "ValidationError.code", "ValidationError.fieldErrors", "ValidationError.message",
];

/** A root field a probe starts from, with arguments that reach a real object of the partner. */
interface Entry {
  operation: "query" | "mutation";
  /** The root field with its arguments, e.g. `partnerChannel(id: $id)`. */
  head: string;
  variableDefinitions: string;
  variables: () => Record<string, unknown>;
}

/** The server's schema as a partner sees it over introspection. */
async function partnerSchema(): Promise<GraphQLSchema> {
  const res = await asPartner(getIntrospectionQuery());
  expect(res.errors).toBeUndefined();
  return buildClientSchema(res.data as unknown as IntrospectionQuery);
}

/** The types reachable from the partner's root fields through fields it may read, and those fields. */
function walkReadable(schema: GraphQLSchema) {
  const readable = new Set<string>();
  const types = new Set<string>();
  const queue: GraphQLNamedType[] = [schema.getQueryType()!, schema.getMutationType()!];
  while (queue.length) {
    const type = queue.shift()!;
    if (types.has(type.name)) continue;
    types.add(type.name);
    if (isAbstractType(type)) queue.push(...schema.getPossibleTypes(type));
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!partnerMayRead(type.name, field.name)) continue;
      readable.add(`${type.name}.${field.name}`);
      queue.push(getNamedType(field.type));
    }
  }
  return { readable, types };
}

/** A literal for a required argument, so that a field with arguments can be probed too. */
function literal(type: GraphQLInputType): string {
  const inner = getNullableType(type);
  if (isListType(inner)) return `[${literal(inner.ofType)}]`;
  if (isEnumType(inner)) return inner.getValues()[0].name;
  if (isInputObjectType(inner)) {
    const required = Object.values(inner.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${required.map((f) => `${f.name}: ${literal(f.type)}`).join(", ")} }`;
  }
  switch (inner.name) {
    case "Int":
      return "1";
    case "Float":
      return "1.5";
    case "Boolean":
      return "false";
    case "JSONObject":
      return "{}";
    case "DateTime":
      return '"2024-01-01T00:00:00Z"';
    default:
      return '"x"';
  }
}

/** `field(requiredArg: …) { __typename }`, as much of a field as it takes to make the server resolve it. */
function select(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
  const withArgs = args.length ? `${field.name}(${args.map((arg) => `${arg.name}: ${literal(arg.type)}`).join(", ")})` : field.name;
  return isCompositeType(getNamedType(field.type)) ? `${withArgs} { __typename }` : withArgs;
}

/** The operation that selects `leaf` at the end of `path` (field names and `... on Type` steps). */
function operation(entry: Entry, path: string[], leaf: string): string {
  let body = leaf;
  for (let i = path.length - 1; i >= 0; i--) body = `__typename ${path[i]} { ${body} }`;
  return `${entry.operation}${entry.variableDefinitions} { ${entry.head} { __typename ${body} } }`;
}

/** The object at the end of `path` in a response, or undefined when the path did not reach one. */
function at(data: unknown, entry: Entry, path: string[]): Record<string, unknown> | undefined {
  let value = (data as Record<string, unknown> | null | undefined)?.[entry.head.replace(/\(.*$/, "")];
  for (const step of path) {
    if (Array.isArray(value)) value = value[0];
    if (value === null || typeof value !== "object") return undefined;
    const v = value as Record<string, unknown>;
    value = step.startsWith("... on ") ? (v.__typename === step.slice(7) ? v : undefined) : v[step];
  }
  if (Array.isArray(value)) value = value[0];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

describe("the graph a partner token reaches", () => {
  test("the fields a partner can read from its root fields are exactly the allowed set", async () => {
    const { readable } = walkReadable(await partnerSchema());
    expect([...readable].sort()).toEqual([...PARTNER_READABLE].sort());
  });

  test("every other field of every type a partner reaches answers FORBIDDEN or null, never data or a 500", async () => {
    const schema = await partnerSchema();
    const entries: Entry[] = [
      { operation: "mutation", head: "publishInboundMessage(input: $input)", variableDefinitions: "($input: PublishInboundMessageInput!)", variables: () => ({ input: PUBLISH_INPUT() }) },
      { operation: "mutation", head: "updateDeliveryStatus(input: $input)", variableDefinitions: "($input: UpdateDeliveryStatusInput!)", variables: () => ({ input: { messageId: replyId, status: "DELIVERED" } }) },
      { operation: "query", head: "myChannelApps", variableDefinitions: "", variables: () => ({}) },
      { operation: "query", head: "partnerChannel(id: $id)", variableDefinitions: "($id: ID!)", variables: () => ({ id: channelId }) },
      { operation: "mutation", head: "updateChannelApp(input: $input)", variableDefinitions: "($input: UpdateChannelAppInput!)", variables: () => ({ input: { appId, description: "Probe" } }) },
      {
        operation: "mutation",
        head: "registerChannelApp(input: $input)",
        variableDefinitions: "($input: RegisterChannelAppInput!)",
        variables: () => ({ input: { name: "Probe app", webhookUrl: "https://hooks.partner.test/probe" } }),
      },
    ];
    // The shortest path to each type from the first entry that reaches it, through readable fields.
    const paths = new Map<string, { entry: Entry; path: string[] }>();
    for (const entry of entries) {
      const root = (entry.operation === "query" ? schema.getQueryType() : schema.getMutationType())!.getFields()[entry.head.replace(/\(.*$/, "")];
      const queue: { type: GraphQLNamedType; path: string[] }[] = [{ type: getNamedType(root.type), path: [] }];
      const seen = new Set<string>();
      while (queue.length) {
        const { type, path } = queue.shift()!;
        if (seen.has(type.name)) continue;
        seen.add(type.name);
        if (isAbstractType(type)) for (const member of schema.getPossibleTypes(type)) queue.push({ type: member, path: [...path, `... on ${member.name}`] });
        if (!isObjectType(type)) continue;
        if (!paths.has(type.name)) paths.set(type.name, { entry, path });
        for (const field of Object.values(type.getFields())) {
          if (partnerMayRead(type.name, field.name) && isCompositeType(getNamedType(field.type))) queue.push({ type: getNamedType(field.type), path: [...path, field.name] });
        }
      }
    }
    // These objects exist for the partner: a probe that finds none of them would prove nothing.
    for (const type of ["Message", "Channel", "ChannelApp", "PartnerChannel", "Attachment", "CustomChannelSettings", "ChannelCredential"]) expect(paths.has(type), type).toBe(true);

    const probed: string[] = [];
    for (const [typeName, { entry, path }] of paths) {
      const type = schema.getType(typeName) as GraphQLObjectType;
      const denied = Object.values(type.getFields()).filter((f) => !partnerMayRead(typeName, f.name));
      if (!denied.length) continue;
      const reached = await asPartner(operation(entry, path, "__typename"), entry.variables());
      const object = at(reached.data, entry, path);
      // Result and error members of a payload union that this entry does not return are not reached.
      if (!object) continue;
      for (const field of denied) {
        const res = await asPartner(operation(entry, path, select(field)), entry.variables());
        const label = `${typeName}.${field.name} via ${entry.head} ${path.join(" ")}`;
        expect(res.status, label).toBe(200);
        expect(res.errors?.length, label).toBeGreaterThan(0);
        for (const e of res.errors ?? []) expect(e.extensions?.code, `${label}: ${e.message}`).toBe("FORBIDDEN");
        expect(at(res.data, entry, path)?.[field.name] ?? null, label).toBeNull();
        probed.push(`${typeName}.${field.name}`);
      }
    }
    // The report's fields are among them.
    expect(probed).toEqual(expect.arrayContaining(["Channel.routing", "Channel.inbox", "Message.conversation", "Message.author"]));
  });

  test("objects of the account loaded by id answer null to a partner, whatever their type", async () => {
    const schema = await partnerSchema();
    const node = schema.getType("Node");
    expect(node && isAbstractType(node)).toBe(true);
    const ids: Record<string, string | undefined> = {
      Account: a.accountId,
      User: a.admin.id,
      Inbox: a.helpDeskId,
      Channel: fromId(channelId),
      Message: fromId(commentId),
      Conversation: (await t.prisma.conversation.findFirst({ where: { accountId: a.accountId } }))?.id,
      Contact: (await t.prisma.contact.findFirst({ where: { accountId: a.accountId } }))?.id,
      Team: (await t.prisma.team.findFirst({ where: { accountId: a.accountId } }))?.id,
      Pipeline: (await t.prisma.pipeline.findFirst({ where: { accountId: a.accountId } }))?.id,
    };
    for (const type of schema.getPossibleTypes(node as never)) {
      const denied = Object.values(type.getFields()).filter((f) => !partnerMayRead(type.name, f.name));
      if (!denied.length) continue;
      const id = toGlobalId(type.name, ids[type.name] ?? "00000000-0000-0000-0000-000000000000");
      const res = await asPartner(`query($id: ID!) { node(id: $id) { __typename ... on ${type.name} { ${denied.map(select).join(" ")} } } }`, { id });
      expect(res.status, type.name).toBe(200);
      for (const e of res.errors ?? []) expect(e.extensions?.code, `${type.name}: ${e.message}`).toBe("FORBIDDEN");
      expect(res.data, type.name).toEqual({ node: null });
    }
  });
});
