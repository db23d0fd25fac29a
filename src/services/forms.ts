import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Services } from "../context.js";
import { notifyOutbox } from "../realtime/outbox-signal.js";
import type { FormFieldDefinition } from "./channel-settings.js";
import { ChannelOffError, NotFoundError, ValidationError, type FieldError } from "./errors.js";
import { receiveInbound, type InboundResult } from "./intake.js";

/**
 * Public form submissions: each one becomes a new conversation (and, when the form's channel
 * asks for it or lives in the help desk, a ticket: intake's ticket hook decides) on the FORM
 * channel that uses the form.
 */

export interface FormValueInput {
  name: string;
  value: string;
}

const emailCheck = z.string().email();
const PHONE = /^\+?[0-9 ().-]{4,30}$/;
const TRUE = ["true", "on", "yes", "1"];
const FALSE = ["false", "off", "no", "0", ""];

/** Checks one value against its field's type; returns the stored (normalised) value or an error message. */
function checkValue(field: FormFieldDefinition, raw: string): { value: string | number | boolean | null } | { error: string } {
  const value = raw.trim();
  if (field.type === "CHECKBOX") {
    const lower = value.toLowerCase();
    if (!TRUE.includes(lower) && !FALSE.includes(lower)) return { error: "Must be true or false" };
    const checked = TRUE.includes(lower);
    if (field.required && !checked) return { error: "Must be checked" };
    return { value: checked };
  }
  if (!value) return field.required ? { error: "Required" } : { value: null };
  switch (field.type) {
    case "EMAIL":
      return value.length <= 254 && emailCheck.safeParse(value).success ? { value: value.toLowerCase() } : { error: "Must be an email address" };
    case "PHONE":
      return PHONE.test(value) && /\d{4}/.test(value.replace(/\D/g, "")) ? { value } : { error: "Must be a phone number" };
    case "NUMBER": {
      const n = Number(value);
      return value !== "" && Number.isFinite(n) ? { value: n } : { error: "Must be a number" };
    }
    case "SELECT":
      return field.options.includes(value) ? { value } : { error: `Must be one of: ${field.options.join(", ")}` };
    case "TEXTAREA":
      return value.length <= 10_000 ? { value } : { error: "At most 10000 characters" };
    default:
      return value.length <= 1000 ? { value } : { error: "At most 1000 characters" };
  }
}

/**
 * Validates submitted values against the form's fields. Every problem is reported at once, under
 * ["input", "values", <field name>]: unknown or repeated fields, missing required ones, and values
 * of the wrong type (EMAIL, PHONE, NUMBER, SELECT options, CHECKBOX true/false).
 */
export function validateFormValues(fields: FormFieldDefinition[], values: FormValueInput[]): Map<string, string | number | boolean | null> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const errors: FieldError[] = [];
  const given = new Map<string, string>();
  const at = (name: string) => ["input", "values", name];
  for (const v of values) {
    if (!byName.has(v.name)) errors.push({ path: at(v.name), message: "Unknown field" });
    else if (given.has(v.name)) errors.push({ path: at(v.name), message: "Given more than once" });
    else given.set(v.name, v.value ?? "");
  }
  const parsed = new Map<string, string | number | boolean | null>();
  for (const field of fields) {
    const result = checkValue(field, given.get(field.name) ?? "");
    if ("error" in result) errors.push({ path: at(field.name), message: result.error });
    else parsed.set(field.name, result.value);
  }
  if (errors.length) throw new ValidationError(errors);
  return parsed;
}

const display = (v: string | number | boolean) => (typeof v === "boolean" ? (v ? "Yes" : "No") : String(v));

/** The submitter's identity from the form: the first EMAIL and PHONE fields, and a name field if any. */
function senderOf(fields: FormFieldDefinition[], values: Map<string, unknown>) {
  const first = (pred: (f: FormFieldDefinition) => boolean) => {
    const f = fields.find((x) => pred(x) && typeof values.get(x.name) === "string" && values.get(x.name));
    return f ? (values.get(f.name) as string) : null;
  };
  const named = (n: string) => first((f) => f.name.toLowerCase() === n);
  const full = named("name") ?? named("fullname") ?? ([named("firstname"), named("lastname")].filter(Boolean).join(" ") || null);
  return { name: full, email: first((f) => f.type === "EMAIL"), phone: first((f) => f.type === "PHONE") };
}

const pageUrlSchema = z.string().trim().url("Must be a URL").max(2048).optional();

/**
 * Submits a form (public). The form must be used by a FORM channel (NotFoundError otherwise, and
 * for an unknown form); the oldest live one is used; an OFF channel refuses with ChannelOffError.
 * Values are validated per field (see validateFormValues). The inbox message lists the visible
 * fields as "Label: value" lines; hidden fields are kept only in Message.metadata.hiddenFields
 * (with every visible value under metadata.fields, plus formId and pageUrl, and every field with
 * its label and value under metadata.submission: see formSubmissionOf). The submitter's
 * contact comes from the email/phone fields (intake matches or creates it). Each submission is a
 * new conversation, through receiveInbound with newThread, subject = the form's name.
 */
export async function submitForm(ctx: Pick<Services, "prisma">, input: { formId: string; values: FormValueInput[]; pageUrl?: string | null }): Promise<InboundResult> {
  const form = await ctx.prisma.form.findUnique({ where: { id: input.formId } });
  if (!form) throw new NotFoundError("Form", input.formId);
  const channels = await ctx.prisma.channel.findMany({ where: { accountId: form.accountId, formId: form.id, type: "FORM", deletedAt: null }, orderBy: { createdAt: "asc" } });
  const channel = channels.find((c) => c.status === "ON") ?? channels[0];
  if (!channel) throw new NotFoundError("Form", input.formId);
  if (channel.status === "OFF") throw new ChannelOffError(channel.id, "This form is not accepting submissions");

  const pageUrl = pageUrlSchema.safeParse(input.pageUrl || undefined);
  if (!pageUrl.success) throw ValidationError.field("input.pageUrl", pageUrl.error.issues[0].message);
  const fields = (form.fields ?? []) as unknown as FormFieldDefinition[];
  const values = validateFormValues(fields, input.values);

  const visible: Record<string, unknown> = {};
  const hidden: Record<string, unknown> = {};
  const lines: string[] = [];
  // What was asked and answered, as the form stood when it was submitted (a later edit of the form
  // does not relabel old submissions).
  const submission: SubmittedField[] = fields.map((f) => ({ name: f.name, label: f.label, type: f.type, hidden: f.hidden, value: values.get(f.name) ?? null }));
  for (const field of fields) {
    const value = values.get(field.name);
    if (value === null || value === undefined) continue;
    if (field.hidden) {
      hidden[field.name] = value;
      continue;
    }
    visible[field.name] = value;
    lines.push(`${field.label}: ${display(value)}`);
  }

  const result = await receiveInbound(ctx.prisma, {
    accountId: form.accountId,
    channel,
    externalId: `form:${randomUUID()}`,
    newThread: true,
    sender: senderOf(fields, values),
    subject: form.name,
    text: lines.join("\n") || form.name,
    metadata: { formId: form.id, pageUrl: pageUrl.data ?? null, fields: visible, hiddenFields: hidden, submission },
  });
  notifyOutbox();
  return result;
}

/** One field of a submission: the form's field as it stood then, and the value given (null: left empty). */
export interface SubmittedField {
  name: string;
  label: string;
  type: FormFieldDefinition["type"];
  hidden: boolean;
  value: string | number | boolean | null;
}

/** A form submission as the inbox shows it: the form, the page, every field (hidden ones flagged). */
export interface FormSubmission {
  formId: string;
  pageUrl: string | null;
  fields: SubmittedField[];
}

interface SubmissionMetadata {
  formId?: string;
  pageUrl?: string | null;
  fields?: Record<string, string | number | boolean>;
  hiddenFields?: Record<string, string | number | boolean>;
  submission?: SubmittedField[];
}

/**
 * The submission a form message carries, or null for any other message. Submissions stored
 * before metadata.submission existed are rebuilt from their values and the form's current fields
 * (`form`, when it still exists; a field it no longer has keeps its name as label).
 */
export function formSubmissionOf(metadata: unknown, form: { fields: unknown } | null): FormSubmission | null {
  const meta = (metadata ?? {}) as SubmissionMetadata;
  if (!meta.formId) return null;
  if (meta.submission) return { formId: meta.formId, pageUrl: meta.pageUrl ?? null, fields: meta.submission };
  const defined = ((form?.fields ?? []) as FormFieldDefinition[]).map((f) => ({ name: f.name, label: f.label, type: f.type, hidden: f.hidden }));
  const given = [...Object.entries(meta.fields ?? {}).map(([name, value]) => ({ name, value, hidden: false })), ...Object.entries(meta.hiddenFields ?? {}).map(([name, value]) => ({ name, value, hidden: true }))];
  const fields: SubmittedField[] = defined.map((f) => ({ ...f, value: given.find((g) => g.name === f.name)?.value ?? null }));
  for (const g of given) if (!defined.some((f) => f.name === g.name)) fields.push({ name: g.name, label: g.name, type: "TEXT", hidden: g.hidden, value: g.value });
  return { formId: meta.formId, pageUrl: meta.pageUrl ?? null, fields };
}
