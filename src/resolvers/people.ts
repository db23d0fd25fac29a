import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import {
  CreateTeamInput,
  CreateUserInput,
  RemoveUserInput,
  SetTeamMembersInput,
  TeamResult,
  TeamType,
  UpdateNotificationPreferencesInput,
  UpdateUserInput,
  UserResult,
  UserType,
} from "../schema/people.js";
import { createTeam, listTeams, setTeamMembers } from "../services/teams.js";
import { createUser, listUsers, removeUser, updateNotificationPreferences, updateUser } from "../services/users.js";

builder.queryFields((t) => ({
  users: t.withAuth({ agent: true }).prismaField({
    type: [UserType],
    description: "The account's users.",
    resolve: (query, _root, _args, ctx) => listUsers(ctx, query),
  }),
  teams: t.withAuth({ agent: true }).prismaField({
    type: [TeamType],
    description: "The account's teams.",
    resolve: (query, _root, _args, ctx) => listTeams(ctx, query),
  }),
}));

const agent = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) => t.withAuth({ agent: true });

builder.mutationFields((t) => ({
  createUser: agent(t).field({
    type: UserResult,
    description: "Adds a user to the caller's account (admins only); they sign in with a token issued for them.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateUserPayload" } },
    args: { input: t.arg({ type: CreateUserInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ user: await createUser(ctx, input) }),
  }),
  updateUser: agent(t).field({
    type: UserResult,
    description: "Changes a user's name, role, seat or chat capacity (admins only).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateUserPayload" } },
    args: { input: t.arg({ type: UpdateUserInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input: { userId, ...changes } }, ctx) => ({ user: await updateUser(ctx, fromGlobalId(userId, "User"), changes) }),
  }),
  removeUser: agent(t).field({
    type: UserResult,
    description: "Removes a user (admins only): their messages and history stay; they can no longer sign in and routing skips them.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RemoveUserPayload" } },
    args: { input: t.arg({ type: RemoveUserInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ user: await removeUser(ctx, fromGlobalId(input.userId, "User")) }),
  }),
  updateNotificationPreferences: agent(t).field({
    type: UserResult,
    description: "Mutes or unmutes the caller's own new-message notifications.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateNotificationPreferencesPayload" } },
    args: { input: t.arg({ type: UpdateNotificationPreferencesInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ user: await updateNotificationPreferences(ctx, input) }),
  }),
  createTeam: agent(t).field({
    type: TeamResult,
    description: "Creates a team (admins only).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateTeamPayload" } },
    args: { input: t.arg({ type: CreateTeamInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ team: await createTeam(ctx, { name: input.name, userIds: fromGlobalIds(input.userIds, "User", ["input", "userIds"]) }) }),
  }),
  setTeamMembers: agent(t).field({
    type: TeamResult,
    description: "Replaces a team's members (admins only); inbox visibility through the team follows at once, live subscriptions included.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetTeamMembersPayload" } },
    args: { input: t.arg({ type: SetTeamMembersInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      team: await setTeamMembers(ctx, fromGlobalId(input.teamId, "Team"), { userIds: fromGlobalIds(input.userIds, "User", ["input", "userIds"]) }),
    }),
  }),
}));
