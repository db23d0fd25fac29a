import type { Team, User } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";

export const TierEnum = builder.enumType("Tier", { values: ["FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE"] as const });
export const RoleEnum = builder.enumType("Role", { values: ["SUPER_ADMIN", "ADMIN", "AGENT"] as const });
export const SeatEnum = builder.enumType("Seat", {
  values: ["PAID", "FREE"] as const,
  description: "Automatic routing only ever picks users with a PAID seat.",
});
export const AvailabilityEnum = builder.enumType("Availability", { values: ["AVAILABLE", "AWAY"] as const });

export const AccountType = builder.prismaNode("Account", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, AND: [{ id: callerAccountId(ctx) }] }),
  description: "A customer company (tenant).",
  fields: (t) => ({
    name: t.exposeString("name"),
    tier: t.expose("tier", { type: TierEnum }),
    brandColor: t.exposeString("brandColor", { description: "Default widget colour (hex)." }),
    contactAssociationLimit: t.exposeInt("contactAssociationLimit"),
    onlyAssigneeMayReply: t.exposeBoolean("onlyAssigneeMayReply", {
      description: "When true, only an assigned conversation's assignee may reply (others may comment; admins may override with ReplyInput.overrideAssignee). Unassigned conversations stay open to all. Set with updateAccountSettings.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const UserType = builder.prismaNode("User", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "An agent of the account.",
  fields: (t) => ({
    email: t.exposeString("email"),
    firstName: t.exposeString("firstName"),
    lastName: t.exposeString("lastName"),
    fullName: t.string({ select: { firstName: true, lastName: true }, resolve: (u) => `${u.firstName} ${u.lastName}`.trim() }),
    role: t.expose("role", { type: RoleEnum }),
    seat: t.expose("seat", { type: SeatEnum }),
    availability: t.expose("availability", { type: AvailabilityEnum }),
    chatCapacity: t.exposeInt("chatCapacity", { nullable: true, description: "Most open chats at once; null means no limit." }),
    muteNewMessageNotifications: t.exposeBoolean("muteNewMessageNotifications"),
    account: t.relation("account"),
  }),
});

export const TeamType = builder.prismaNode("Team", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  fields: (t) => ({
    name: t.exposeString("name"),
    members: t.field({
      type: [UserType],
      select: (_args, _ctx, nested) => ({ members: { where: { user: { removedAt: null } }, select: { user: nested(true) } } }),
      resolve: (team) => team.members.map((m) => m.user),
    }),
  }),
});

builder.prismaObjectFields(UserType, (t) => ({
  teams: t.field({
    type: [TeamType],
    select: (_args, _ctx, nested) => ({ teams: { select: { team: nested(true) } } }),
    resolve: (user) => user.teams.map((m) => m.team),
  }),
}));

export const CreateUserInput = builder.inputType("CreateUserInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    firstName: t.string({ required: true }),
    lastName: t.string(),
    role: t.field({ type: RoleEnum, description: "Defaults to AGENT." }),
    seat: t.field({ type: SeatEnum, description: "Defaults to PAID." }),
    chatCapacity: t.int({ description: "Most open chats at once; omit or null for no limit." }),
  }),
});

export const UpdateUserInput = builder.inputType("UpdateUserInput", {
  fields: (t) => ({
    userId: t.id({ required: true }),
    firstName: t.string(),
    lastName: t.string(),
    role: t.field({ type: RoleEnum }),
    seat: t.field({ type: SeatEnum }),
    chatCapacity: t.int({ description: "Null removes the limit; omitted leaves it unchanged." }),
  }),
});

export const RemoveUserInput = builder.inputType("RemoveUserInput", { fields: (t) => ({ userId: t.id({ required: true }) }) });

export const UpdateNotificationPreferencesInput = builder.inputType("UpdateNotificationPreferencesInput", {
  fields: (t) => ({ muteNewMessageNotifications: t.boolean({ required: true }) }),
});

export const CreateTeamInput = builder.inputType("CreateTeamInput", {
  fields: (t) => ({ name: t.string({ required: true }), userIds: t.idList() }),
});

export const SetTeamMembersInput = builder.inputType("SetTeamMembersInput", {
  fields: (t) => ({ teamId: t.id({ required: true }), userIds: t.idList({ required: true }) }),
});

export const UserResult = builder.objectRef<{ user: User }>("UserResult").implement({
  fields: (t) => ({ user: t.field({ type: UserType, resolve: (r) => r.user }) }),
});

export const TeamResult = builder.objectRef<{ team: Team }>("TeamResult").implement({
  fields: (t) => ({ team: t.field({ type: TeamType, resolve: (r) => r.team }) }),
});
