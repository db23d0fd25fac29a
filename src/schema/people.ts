import type { Team, User } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";

export const TierEnum = builder.enumType("Tier", {
  description: "The account's subscription tier; some channel types need a higher one.",
  values: {
    FREE: { description: "Free tier." },
    STARTER: { description: "Starter tier." },
    PROFESSIONAL: { description: "Professional tier: WhatsApp and calling channels are available." },
    ENTERPRISE: { description: "Enterprise tier: everything, WhatsApp and calling included." },
  } as const,
});
export const RoleEnum = builder.enumType("Role", {
  description: "What a user may administer.",
  values: {
    SUPER_ADMIN: { description: "Everything an ADMIN does, plus connecting partners' custom channel apps." },
    ADMIN: { description: "Manages users, teams, inboxes, built-in channels, pipelines and account settings, and sees every inbox." },
    AGENT: { description: "Works the conversations of the inboxes they are a member of (directly or through a team)." },
  } as const,
});
export const SeatEnum = builder.enumType("Seat", {
  values: {
    PAID: { description: "A paid seat: can be picked by automatic routing." },
    FREE: { description: "A free seat: can work conversations and be assigned by hand, never by routing." },
  } as const,
  description: "Automatic routing only ever picks users with a PAID seat.",
});
export const AvailabilityEnum = builder.enumType("Availability", {
  description: "Whether a user takes new conversations now.",
  values: {
    AVAILABLE: { description: "Takes new conversations: routing with \"only available users\" may pick them; chat availability counts them." },
    AWAY: { description: "Away: routing with \"only available users\" skips them." },
  } as const,
});

export const AccountType = builder.prismaNode("Account", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, AND: [{ id: callerAccountId(ctx) }] }),
  description: "A customer company (tenant).",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The company's name." }),
    tier: t.expose("tier", { type: TierEnum, description: "Subscription tier; WhatsApp and calling channels need PROFESSIONAL or ENTERPRISE." }),
    brandColor: t.exposeString("brandColor", { description: "Default widget colour (hex)." }),
    contactAssociationLimit: t.exposeInt("contactAssociationLimit", { description: "How many tickets one contact may be associated with; at the limit no ticket is created automatically for their new conversations." }),
    onlyAssigneeMayReply: t.exposeBoolean("onlyAssigneeMayReply", {
      description: "When true, only an assigned conversation's assignee may reply (others may comment; admins may override with ReplyInput.overrideAssignee). Unassigned conversations stay open to all. Set with updateAccountSettings.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the account was created; accounts created on or after 2024-04-01 create tickets only in the help desk." }),
  }),
});

export const UserType = builder.prismaNode("User", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "An agent of the account.",
  fields: (t) => ({
    email: t.exposeString("email", { description: "Sign-in and notification address, unique in the account." }),
    firstName: t.exposeString("firstName", { description: "Given name." }),
    lastName: t.exposeString("lastName", { description: 'Family name; "" when not given.' }),
    fullName: t.string({ description: "First and last name joined by a space.", select: { firstName: true, lastName: true }, resolve: (u) => `${u.firstName} ${u.lastName}`.trim() }),
    role: t.expose("role", { type: RoleEnum, description: "SUPER_ADMIN, ADMIN or AGENT." }),
    seat: t.expose("seat", { type: SeatEnum, description: "PAID or FREE; routing only picks PAID seats." }),
    availability: t.expose("availability", { type: AvailabilityEnum, description: "AVAILABLE or AWAY (the user sets it with setAvailability)." }),
    chatCapacity: t.exposeInt("chatCapacity", { nullable: true, description: "Most open chats at once; null means no limit." }),
    muteNewMessageNotifications: t.exposeBoolean("muteNewMessageNotifications", { description: "When true, the user gets no new-message notifications: their `messageAdded` subscriptions stay quiet until unmuted." }),
    account: t.relation("account", { description: "The account (tenant) the user belongs to." }),
  }),
});

export const TeamType = builder.prismaNode("Team", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "A named group of users: inboxes and routing can target a whole team.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique in the account." }),
    members: t.field({
      type: [UserType],
      description: "Current (not removed) users in the team.",
      select: (_args, _ctx, nested) => ({ members: { where: { user: { removedAt: null } }, select: { user: nested(true) } } }),
      resolve: (team) => team.members.map((m) => m.user),
    }),
  }),
});

builder.prismaObjectFields(UserType, (t) => ({
  teams: t.field({
    type: [TeamType],
    description: "Teams the user belongs to.",
    select: (_args, _ctx, nested) => ({ teams: { select: { team: nested(true) } } }),
    resolve: (user) => user.teams.map((m) => m.team),
  }),
}));

export const CreateUserInput = builder.inputType("CreateUserInput", {
  description: "A new user of the caller's account (admins only).",
  fields: (t) => ({
    email: t.string({ required: true, description: "Unique in the account." }),
    firstName: t.string({ required: true, description: "Given name." }),
    lastName: t.string({ description: "Family name; default empty." }),
    role: t.field({ type: RoleEnum, description: "Defaults to AGENT." }),
    seat: t.field({ type: SeatEnum, description: "Defaults to PAID." }),
    chatCapacity: t.int({ description: "Most open chats at once; omit or null for no limit." }),
  }),
});

export const UpdateUserInput = builder.inputType("UpdateUserInput", {
  description: "Changes a user (admins only); omitted fields stay as they are.",
  fields: (t) => ({
    userId: t.id({ required: true, description: "A current user of the account." }),
    firstName: t.string({ description: "New given name." }),
    lastName: t.string({ description: "New family name." }),
    role: t.field({ type: RoleEnum, description: "New role." }),
    seat: t.field({ type: SeatEnum, description: "New seat; a FREE seat stops automatic routing to the user." }),
    chatCapacity: t.int({ description: "Null removes the limit; omitted leaves it unchanged." }),
  }),
});

export const RemoveUserInput = builder.inputType("RemoveUserInput", {
  description: "Removes a user (admins only): their history stays, but they can no longer sign in or be routed to.",
  fields: (t) => ({ userId: t.id({ required: true, description: "The user to remove." }) }),
});

export const UpdateNotificationPreferencesInput = builder.inputType("UpdateNotificationPreferencesInput", {
  description: "The caller's own notification preferences.",
  fields: (t) => ({ muteNewMessageNotifications: t.boolean({ required: true, description: "True mutes new-message notifications; false turns them back on." }) }),
});

export const CreateTeamInput = builder.inputType("CreateTeamInput", {
  description: "A new team (admins only).",
  fields: (t) => ({
    name: t.string({ required: true, description: "Unique in the account." }),
    userIds: t.idList({ description: "Its first members (users of the account); default none." }),
  }),
});

export const SetTeamMembersInput = builder.inputType("SetTeamMembersInput", {
  description: "Replaces a team's members (admins only).",
  fields: (t) => ({
    teamId: t.id({ required: true, description: "The team to change." }),
    userIds: t.idList({ required: true, description: "The complete new member list; users left out leave the team." }),
  }),
});

export const UserResult = builder.objectRef<{ user: User }>("UserResult").implement({
  description: "A user mutation succeeded.",
  fields: (t) => ({ user: t.field({ type: UserType, description: "The user as it is now.", resolve: (r) => r.user }) }),
});

export const TeamResult = builder.objectRef<{ team: Team }>("TeamResult").implement({
  description: "A team mutation succeeded.",
  fields: (t) => ({ team: t.field({ type: TeamType, description: "The team as it is now.", resolve: (r) => r.team }) }),
});
