import type { Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { z } from "zod";
import { recordAccessChange, requireRole } from "./access.js";
import { transactionWithEvents } from "../realtime/events.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { name, parseInput } from "./validation.js";

type TeamQuery = Omit<Prisma.TeamFindManyArgs, "where" | "orderBy">;

/** The account's teams by name. */
export function listTeams(ctx: AgentContext, query: TeamQuery = {}) {
  return ctx.prisma.team.findMany({ ...query, where: { accountId: ctx.accountId }, orderBy: { name: "asc" } });
}

async function checkUsers(ctx: AgentContext, userIds: string[]) {
  const unique = [...new Set(userIds)];
  const found = await ctx.prisma.user.count({ where: { accountId: ctx.accountId, id: { in: unique }, removedAt: null } });
  if (found !== unique.length) throw ValidationError.field("input.userIds", "Unknown user");
  return unique;
}

/** Creates a team (ADMIN+) with optional members; names are unique per account. */
export async function createTeam(ctx: AgentContext, input: { name: string; userIds?: string[] | null }) {
  requireRole(ctx, "ADMIN", "create teams");
  const data = parseInput(z.object({ name: name(), userIds: z.array(z.string()).max(500).nullish() }), input);
  const userIds = await checkUsers(ctx, data.userIds ?? []);
  try {
    return await ctx.prisma.team.create({
      data: { accountId: ctx.accountId, name: data.name, members: { create: userIds.map((userId) => ({ userId })) } },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw ValidationError.field("input.name", "A team with this name already exists");
    throw err;
  }
}

/** Replaces a team's members (ADMIN+). */
export async function setTeamMembers(ctx: AgentContext, teamId: string, input: { userIds: string[] }) {
  requireRole(ctx, "ADMIN", "change team members");
  const data = parseInput(z.object({ userIds: z.array(z.string()).max(500) }), input);
  const team = await ctx.prisma.team.findFirst({ where: { id: teamId, accountId: ctx.accountId } });
  if (!team) throw new NotFoundError("Team", teamId);
  const userIds = await checkUsers(ctx, data.userIds);
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await tx.teamMember.deleteMany({ where: { accountId: ctx.accountId, teamId } });
    await tx.teamMember.createMany({ data: userIds.map((userId) => ({ userId, teamId, accountId: ctx.accountId })) });
    await recordAccessChange(tx, ctx.accountId, "team members changed");
    return tx.team.findFirstOrThrow({ where: { id: teamId } });
  });
}
