import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { AccountType } from "../schema/people.js";
import { updateAccountSettings } from "../services/accounts.js";

const UpdateAccountSettingsInput = builder.inputType("UpdateAccountSettingsInput", {
  description: "Account-wide settings; omitted fields keep their value.",
  fields: (t) => ({
    onlyAssigneeMayReply: t.boolean({ description: "Only an assigned conversation's assignee may reply (others may still comment; admins may override per reply)." }),
  }),
});

const AccountResult = builder.objectRef<{ accountId: string }>("AccountResult").implement({
  description: "The account after a settings change.",
  fields: (t) => ({
    account: t.prismaField({
      type: AccountType,
      description: "The caller's account as stored.",
      resolve: (query, r, _args, ctx) => ctx.prisma.account.findUniqueOrThrow({ ...query, where: { id: r.accountId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  updateAccountSettings: t.withAuth({ agent: true }).field({
    type: AccountResult,
    description: "Admins: changes account-wide settings (ForbiddenError for agents).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateAccountSettingsPayload" } },
    args: { input: t.arg({ type: UpdateAccountSettingsInput, required: true, description: "The settings to change." }) },
    resolve: async (_root, { input }, ctx) => ({ accountId: (await updateAccountSettings(ctx, input)).id }),
  }),
}));
