import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Prisma } from "../src/generated/prisma/client.js";
import { MsgDetailsDocument, WidgetSubmitFormDocument } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createInbox } from "./support/conversation-fixtures.js";

let t: TestServer;
let acc: TestAccount;

const FIELDS = [
  { name: "name", label: "Your name", type: "TEXT", required: true, hidden: false, options: [] },
  { name: "email", label: "Email", type: "EMAIL", required: true, hidden: false, options: [] },
  { name: "phone", label: "Phone", type: "PHONE", required: false, hidden: false, options: [] },
  { name: "seats", label: "Seats", type: "NUMBER", required: false, hidden: false, options: [] },
  { name: "plan", label: "Plan", type: "SELECT", required: true, hidden: false, options: ["Basic", "Pro"] },
  { name: "terms", label: "I accept the terms", type: "CHECKBOX", required: true, hidden: false, options: [] },
  { name: "utm_source", label: "UTM source", type: "TEXT", required: false, hidden: true, options: [] },
  { name: "campaign_id", label: "Campaign", type: "NUMBER", required: false, hidden: true, options: [] },
];

/** A form and a FORM channel using it, in a new inbox. */
async function formChannel(opts: { createTickets?: boolean; status?: "ON" | "OFF" } = {}) {
  const inbox = await createInbox(t.prisma, acc.accountId, { userIds: [acc.agent.id] });
  const form = await t.prisma.form.create({ data: { accountId: acc.accountId, name: "Request a demo", fields: FIELDS as Prisma.InputJsonValue } });
  const channel = await t.prisma.channel.create({
    data: { accountId: acc.accountId, inboxId: inbox.id, type: "FORM", name: "Demo form", formId: form.id, createTickets: opts.createTickets ?? false, status: opts.status ?? "ON" },
  });
  return { form, channel, formId: toGlobalId("Form", form.id) };
}

const valid = (over: Record<string, string> = {}) =>
  Object.entries({ name: "Ada Lovelace", email: "Ada@Example.test", phone: "+44 20 7946 0000", seats: "12", plan: "Pro", terms: "true", utm_source: "newsletter-42", campaign_id: "991", ...over }).map(
    ([name, value]) => ({ name, value }),
  );

beforeAll(async () => {
  t = await startTestServer();
  // Created before 2024-04-01: inbox channels may still create tickets.
  acc = await createTestAccount(t.prisma, { name: "Forms", createdAt: new Date("2023-06-01T00:00:00Z") });
});
afterAll(async () => t?.close());

describe("submitForm", () => {
  test("a submission with hidden fields becomes a conversation from the submitter's contact; hidden values are kept but not shown", async () => {
    const { formId, channel } = await formChannel({ createTickets: true });
    const r = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid(), pageUrl: "https://acme.test/pricing" } });
    if (r.submitForm.__typename !== "SubmitFormResult") throw new Error(JSON.stringify(r.submitForm));
    const message = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.submitForm.submissionId, "Message") }, include: { conversation: { include: { contact: true } } } });

    expect(message.text).toBe(["Your name: Ada Lovelace", "Email: ada@example.test", "Phone: +44 20 7946 0000", "Seats: 12", "Plan: Pro", "I accept the terms: Yes"].join("\n"));
    expect(message.text).not.toContain("newsletter-42");
    expect(message.text).not.toContain("991");
    expect(message.metadata).toMatchObject({ hiddenFields: { utm_source: "newsletter-42", campaign_id: 991 }, pageUrl: "https://acme.test/pricing", fields: { plan: "Pro", seats: 12, terms: true } });
    expect(message).toMatchObject({ direction: "INBOUND", kind: "MESSAGE", channelId: channel.id });
    expect(message.conversation.subject).toBe("Request a demo");
    expect(message.conversation.contact).toMatchObject({ name: "Ada Lovelace", email: "ada@example.test" });
    // The channel creates tickets: intake's ticket hook made one for the new conversation.
    expect(message.conversation.ticketId).not.toBeNull();

    // Each submission is a new conversation, from the same contact.
    const second = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid({ plan: "Basic", utm_source: "ads" }) } });
    expect(second.submitForm.__typename).toBe("SubmitFormResult");
    const conversations = await t.prisma.conversation.findMany({ where: { channelId: channel.id } });
    expect(conversations).toHaveLength(2);
    expect(new Set(conversations.map((c) => c.contactId))).toEqual(new Set([message.conversation.contactId]));
  });

  test("no ticket when the form's channel does not create them", async () => {
    const { formId, channel } = await formChannel({ createTickets: false });
    await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid({ email: "no-ticket@example.test" }) } });
    const conversation = await t.prisma.conversation.findFirstOrThrow({ where: { channelId: channel.id } });
    expect(conversation.ticketId).toBeNull();
  });

  test("required and typed fields are checked, each error names its field, and nothing is stored", async () => {
    const { formId, channel } = await formChannel();
    const r = await t.client().request(WidgetSubmitFormDocument, {
      input: {
        formId,
        values: [
          { name: "email", value: "not-an-email" },
          { name: "phone", value: "call me" },
          { name: "seats", value: "a dozen" },
          { name: "plan", value: "Gold" },
          { name: "terms", value: "false" },
          { name: "favourite_colour", value: "blue" },
        ],
      },
    });
    if (r.submitForm.__typename !== "ValidationError") throw new Error(JSON.stringify(r.submitForm));
    const byField = Object.fromEntries(r.submitForm.fieldErrors.map((e) => [e.path.join("."), e.message]));
    expect(byField).toEqual({
      "input.values.favourite_colour": "Unknown field",
      "input.values.name": "Required",
      "input.values.email": "Must be an email address",
      "input.values.phone": "Must be a phone number",
      "input.values.seats": "Must be a number",
      "input.values.plan": "Must be one of: Basic, Pro",
      "input.values.terms": "Must be checked",
    });
    const badUrl = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid(), pageUrl: "javascript" } });
    expect(badUrl.submitForm).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "pageUrl"] }] });
    expect(await t.prisma.conversation.count({ where: { channelId: channel.id } })).toBe(0);
    expect(await t.prisma.contact.count({ where: { accountId: acc.accountId, email: "ada@example.test", conversations: { some: { channelId: channel.id } } } })).toBe(0);
  });

  test("an unknown form, or one whose channel is off, takes no submissions", async () => {
    const unknown = await t.client().request(WidgetSubmitFormDocument, { input: { formId: toGlobalId("Form", "00000000-0000-4000-8000-000000000000"), values: valid() } });
    expect(unknown.submitForm.__typename).toBe("NotFoundError");
    const { formId, channel } = await formChannel({ status: "OFF" });
    const off = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid() } });
    expect(off.submitForm.__typename).toBe("ChannelOffError");
    expect(await t.prisma.conversation.count({ where: { channelId: channel.id } })).toBe(0);
  });
});

describe("item 14: the submission on the message", () => {
  test("item 14: Message.formSubmission gives the form, the page and every field with its label and value, hidden fields included and flagged", async () => {
    const { formId, form } = await formChannel();
    const r = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid({ phone: "" }), pageUrl: "https://acme.test/pricing?plan=pro" } });
    if (r.submitForm.__typename !== "SubmitFormResult") throw new Error(JSON.stringify(r.submitForm));
    // Relabelling the form later does not rewrite what this submission asked.
    await t.prisma.form.update({ where: { id: form.id }, data: { fields: FIELDS.map((f) => ({ ...f, label: `${f.label} (new)` })) as Prisma.InputJsonValue } });

    const { node } = await t.client(await t.tokenFor(acc.agent)).request(MsgDetailsDocument, { id: r.submitForm.submissionId });
    if (node?.__typename !== "Message") throw new Error(JSON.stringify(node));
    expect(node.call).toBeNull();
    expect(node.formSubmission).toEqual({
      form: { id: formId, name: "Request a demo" },
      pageUrl: "https://acme.test/pricing?plan=pro",
      fields: [
        { name: "name", label: "Your name", type: "TEXT", value: "Ada Lovelace", hidden: false },
        { name: "email", label: "Email", type: "EMAIL", value: "ada@example.test", hidden: false },
        { name: "phone", label: "Phone", type: "PHONE", value: null, hidden: false },
        { name: "seats", label: "Seats", type: "NUMBER", value: "12", hidden: false },
        { name: "plan", label: "Plan", type: "SELECT", value: "Pro", hidden: false },
        { name: "terms", label: "I accept the terms", type: "CHECKBOX", value: "true", hidden: false },
        { name: "utm_source", label: "UTM source", type: "TEXT", value: "newsletter-42", hidden: true },
        { name: "campaign_id", label: "Campaign", type: "NUMBER", value: "991", hidden: true },
      ],
    });
    // The message text still leaves hidden fields out.
    expect(node.text).not.toContain("newsletter-42");
  });

  test("item 14: a submission stored before the snapshot existed is read with the form's fields; other messages have none", async () => {
    const { formId, form, channel } = await formChannel();
    const r = await t.client().request(WidgetSubmitFormDocument, { input: { formId, values: valid() } });
    if (r.submitForm.__typename !== "SubmitFormResult") throw new Error(JSON.stringify(r.submitForm));
    const id = fromGlobalId(r.submitForm.submissionId, "Message");
    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id } });
    const { submission: _dropped, ...older } = stored.metadata as Record<string, unknown>;
    await t.prisma.message.update({ where: { id }, data: { metadata: older as Prisma.InputJsonValue } });

    const agent = t.client(await t.tokenFor(acc.agent));
    const { node } = await agent.request(MsgDetailsDocument, { id: r.submitForm.submissionId });
    if (node?.__typename !== "Message") throw new Error(JSON.stringify(node));
    expect(node.formSubmission?.form?.id).toBe(toGlobalId("Form", form.id));
    expect(node.formSubmission?.fields.filter((f) => f.hidden)).toEqual([
      { name: "utm_source", label: "UTM source", type: "TEXT", value: "newsletter-42", hidden: true },
      { name: "campaign_id", label: "Campaign", type: "NUMBER", value: "991", hidden: true },
    ]);
    expect(node.formSubmission?.fields.find((f) => f.name === "terms")).toEqual({ name: "terms", label: "I accept the terms", type: "CHECKBOX", value: "true", hidden: false });

    const note = await t.prisma.message.create({ data: { accountId: acc.accountId, conversationId: stored.conversationId, channelId: channel.id, direction: "OUTBOUND", kind: "COMMENT", senderType: "AGENT", text: "internal" } });
    const comment = await agent.request(MsgDetailsDocument, { id: toGlobalId("Message", note.id) });
    expect(comment.node).toMatchObject({ formSubmission: null, call: null });
  });
});
