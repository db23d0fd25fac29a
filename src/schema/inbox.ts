import type { Inbox } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { TeamType, UserType } from "./people.js";

export const InboxKindEnum = builder.enumType("InboxKind", {
  values: {
    INBOX: { description: "A named inbox (e.g. Sales, Support) seen by its members." },
    HELP_DESK: { description: "The account's one help desk." },
  } as const,
  description: "HELP_DESK is the account's help desk, where every incoming conversation is a ticket.",
});

export const InboxType = builder.prismaNode("Inbox", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A shared place that channels feed, seen by its member users and teams.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Display name, e.g. Support." }),
    kind: t.expose("kind", { type: InboxKindEnum, description: "INBOX, or HELP_DESK for the account's help desk." }),
    fallbackEmail: t.exposeString("fallbackEmail", { description: "Address email-based tools can use when no team email is connected." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the inbox was created." }),
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
  description: "A new inbox (admins only); it gets a fallback email address at once.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Display name." }),
    userIds: t.idList({ description: "Users who see the inbox." }),
    teamIds: t.idList({ description: "Teams whose members see the inbox." }),
  }),
});

export const SetInboxMembersInput = builder.inputType("SetInboxMembersInput", {
  description: "Replaces who sees an inbox (admins only; admins see every inbox anyway).",
  fields: (t) => ({
    inboxId: t.id({ required: true, description: "The inbox (or the help desk) to change." }),
    userIds: t.idList({ required: true, description: "The complete list of direct member users." }),
    teamIds: t.idList({ required: true, description: "The complete list of member teams." }),
  }),
});

export const InboxResult = builder.objectRef<{ inbox: Inbox }>("InboxResult").implement({
  description: "An inbox mutation succeeded.",
  fields: (t) => ({ inbox: t.field({ type: InboxType, description: "The inbox as it is now.", resolve: (r) => r.inbox }) }),
});
