import type { Inbox } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { TeamType, UserType } from "./people.js";

export const InboxKindEnum = builder.enumType("InboxKind", {
  values: ["INBOX", "HELP_DESK"] as const,
  description: "HELP_DESK is the account's help desk, where every incoming conversation is a ticket.",
});

export const InboxType = builder.prismaNode("Inbox", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A shared place that channels feed, seen by its member users and teams.",
  fields: (t) => ({
    name: t.exposeString("name"),
    kind: t.expose("kind", { type: InboxKindEnum }),
    fallbackEmail: t.exposeString("fallbackEmail", { description: "Address email-based tools can use when no team email is connected." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    users: t.field({
      type: [UserType],
      description: "Users who are direct members.",
      select: (_args, _ctx, nested) => ({ users: { where: { user: { removedAt: null } }, select: { user: nested(true) } } }),
      resolve: (inbox) => inbox.users.map((m) => m.user),
    }),
    teams: t.field({
      type: [TeamType],
      description: "Teams whose members see this inbox.",
      select: (_args, _ctx, nested) => ({ teams: { select: { team: nested(true) } } }),
      resolve: (inbox) => inbox.teams.map((m) => m.team),
    }),
    channels: t.relation("channels", {
      description: "Channels connected to this inbox (deleted ones are left out).",
      query: { where: { deletedAt: null }, orderBy: { createdAt: "asc" } },
    }),
  }),
});

export const CreateInboxInput = builder.inputType("CreateInboxInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    userIds: t.idList({ description: "Users who see the inbox." }),
    teamIds: t.idList({ description: "Teams whose members see the inbox." }),
  }),
});

export const SetInboxMembersInput = builder.inputType("SetInboxMembersInput", {
  fields: (t) => ({
    inboxId: t.id({ required: true }),
    userIds: t.idList({ required: true }),
    teamIds: t.idList({ required: true }),
  }),
});

export const InboxResult = builder.objectRef<{ inbox: Inbox }>("InboxResult").implement({
  fields: (t) => ({ inbox: t.field({ type: InboxType, resolve: (r) => r.inbox }) }),
});
