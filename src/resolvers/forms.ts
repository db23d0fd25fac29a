import { builder } from "../schema/builder.js";
import { fromGlobalId } from "../schema/ids.js";
import { SubmitFormInput, SubmitFormResult } from "../schema/widget.js";
import { ChannelOffError, NotFoundError, ValidationError } from "../services/errors.js";
import { submitForm } from "../services/forms.js";

builder.mutationFields((t) => ({
  submitForm: t.field({
    type: SubmitFormResult,
    description: "Public: submits a form. Each submission starts a conversation (and a ticket when the form's channel creates them). Hidden fields are kept but not shown in the inbox.",
    errors: { types: [ValidationError, NotFoundError, ChannelOffError], directResult: true, union: { name: "SubmitFormPayload" } },
    args: { input: t.arg({ type: SubmitFormInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const result = await submitForm(ctx, { formId: fromGlobalId(input.formId, "Form"), values: input.values, pageUrl: input.pageUrl });
      return { messageId: result.message.id };
    },
  }),
}));
