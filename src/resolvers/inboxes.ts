import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import { CreateInboxInput, InboxResult, InboxType, SetInboxMembersInput } from "../schema/inbox.js";
import { createInbox, getHelpDesk, listInboxes, setInboxMembers } from "../services/inboxes.js";

builder.queryFields((t) => ({
  inboxes: t.withAuth({ agent: true }).prismaField({
    type: [InboxType],
    description: "Inboxes the caller can see (admins: all of the account's; agents: those they belong to).",
    resolve: (query, _root, _args, ctx) => listInboxes(ctx, query),
  }),
  helpDesk: t.withAuth({ agent: true }).prismaField({
    type: InboxType,
    description: "The account's help desk (kind HELP_DESK).",
    resolve: (query, _root, _args, ctx) => getHelpDesk(ctx, query),
  }),
}));

builder.mutationFields((t) => ({
  createInbox: t.withAuth({ agent: true }).field({
    type: InboxResult,
    description: "Creates an inbox (admins only) with its member users and teams.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateInboxPayload" } },
    args: { input: t.arg({ type: CreateInboxInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      inbox: await createInbox(ctx, { name: input.name, userIds: fromGlobalIds(input.userIds, "User", ["input", "userIds"]), teamIds: fromGlobalIds(input.teamIds, "Team", ["input", "teamIds"]) }),
    }),
  }),
  setInboxMembers: t.withAuth({ agent: true }).field({
    type: InboxResult,
    description: "Replaces who sees an inbox (admins only); members who lose it stop receiving its live events.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetInboxMembersPayload" } },
    args: { input: t.arg({ type: SetInboxMembersInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      inbox: await setInboxMembers(ctx, fromGlobalId(input.inboxId, "Inbox"), {
        userIds: fromGlobalIds(input.userIds, "User", ["input", "userIds"]),
        teamIds: fromGlobalIds(input.teamIds, "Team", ["input", "teamIds"]),
      }),
    }),
  }),
}));
