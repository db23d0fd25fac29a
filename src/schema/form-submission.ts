import { builder } from "./builder.js";
import { FormFieldTypeEnum, FormObject } from "./channel-settings.js";
import { formSubmissionOf, type FormSubmission, type SubmittedField } from "../services/forms.js";

/** Message.formSubmission: what a form submission asked and was answered, hidden fields included. */

const FormSubmissionFieldType = builder.objectRef<SubmittedField>("FormSubmissionField").implement({
  description: "One field of a form submission, as the form stood when it was submitted.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The field's name." }),
    label: t.exposeString("label", { description: "The field's label when submitted." }),
    type: t.field({ type: FormFieldTypeEnum, description: "The field's type.", resolve: (f) => f.type }),
    value: t.string({
      nullable: true,
      description: "What was submitted, as text (numbers as digits, checkboxes as true/false); null when left empty.",
      resolve: (f) => (f.value === null || f.value === undefined ? null : String(f.value)),
    }),
    hidden: t.exposeBoolean("hidden", { description: "A hidden field (e.g. a campaign id): submitted with the form, not shown to the visitor nor in the message text." }),
  }),
});

const FormSubmissionType = builder.objectRef<FormSubmission & { accountId: string }>("FormSubmission").implement({
  description: "A form submission: the form, the page it was sent from, and every field with its value.",
  fields: (t) => ({
    form: t.field({
      type: FormObject,
      nullable: true,
      description: "Null when the form was deleted since.",
      resolve: (s, _args, ctx) => ctx.prisma.form.findFirst({ where: { accountId: s.accountId, id: s.formId } }),
    }),
    pageUrl: t.exposeString("pageUrl", { nullable: true, description: "The page the form was submitted from." }),
    fields: t.field({ type: [FormSubmissionFieldType], description: "Every field of the form, in order, with its value.", resolve: (s) => s.fields }),
  }),
});

builder.prismaObjectField("Message", "formSubmission", (t) =>
  t.field({
    type: FormSubmissionType,
    nullable: true,
    authScopes: { agent: true },
    description: "Form submissions only (the message that opened the conversation): every field with its label and value, hidden fields included and flagged.",
    select: { metadata: true, accountId: true, direction: true },
    resolve: async (m, _args, ctx) => {
      const formId = m.direction === "INBOUND" ? (m.metadata as { formId?: unknown } | null)?.formId : undefined;
      if (typeof formId !== "string") return null;
      const hasSnapshot = Boolean((m.metadata as { submission?: unknown }).submission);
      const form = hasSnapshot ? null : await ctx.prisma.form.findFirst({ where: { accountId: m.accountId, id: formId }, select: { fields: true } });
      const submission = formSubmissionOf(m.metadata, form);
      return submission ? { ...submission, accountId: m.accountId } : null;
    },
  }),
);
