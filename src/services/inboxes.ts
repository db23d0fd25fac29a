import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordAccessChange, requireRole, visibleInboxWhere } from "./access.js";
import { transactionWithEvents } from "../realtime/events.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { name, parseInput } from "./validation.js";

/** Domain of the fallback addresses given to inboxes with no team email connected. */
export const FALLBACK_EMAIL_DOMAIN = process.env.FALLBACK_EMAIL_DOMAIN ?? "inbound.inbox.local";

/** The fallback address of an inbox: stable, unique, derived from its id. */
export function fallbackEmailFor(inboxId: string): string {
  return `inbox-${inboxId}@${FALLBACK_EMAIL_DOMAIN}`;
}

type InboxQuery = Omit<Prisma.InboxFindManyArgs, "where" | "orderBy">;

/** Inboxes (not the help desk) the caller can see: all for admins, member ones for agents. */
export function listInboxes(ctx: AgentContext, query: InboxQuery = {}) {
  return ctx.prisma.inbox.findMany({ ...query, where: { ...visibleInboxWhere(ctx), kind: "INBOX" }, orderBy: { createdAt: "asc" } });
}

/** The account's help desk. */
export async function getHelpDesk(ctx: AgentContext, query: InboxQuery = {}) {
  const helpDesk = await ctx.prisma.inbox.findFirst({ ...query, where: { accountId: ctx.accountId, kind: "HELP_DESK" } });
  if (!helpDesk) throw new NotFoundError("Help desk");
  return helpDesk;
}

/** One inbox or help desk of the caller's account that the caller can see. */
export async function getInbox(ctx: AgentContext, id: string, query: InboxQuery = {}) {
  const inbox = await ctx.prisma.inbox.findFirst({ ...query, where: { AND: [visibleInboxWhere(ctx), { id }] } });
  if (!inbox) throw new NotFoundError("Inbox", id);
  return inbox;
}

const membersSchema = z.object({
  userIds: z.array(z.string()).max(500).default([]),
  teamIds: z.array(z.string()).max(100).default([]),
});

async function checkMembers(ctx: AgentContext, members: { userIds: string[]; teamIds: string[] }, root: string[]) {
  const userIds = [...new Set(members.userIds)];
  const teamIds = [...new Set(members.teamIds)];
  const [users, teams] = await Promise.all([
    ctx.prisma.user.count({ where: { accountId: ctx.accountId, id: { in: userIds }, removedAt: null } }),
    ctx.prisma.team.count({ where: { accountId: ctx.accountId, id: { in: teamIds } } }),
  ]);
  if (users !== userIds.length) throw ValidationError.field([...root, "userIds"], "Unknown user");
  if (teams !== teamIds.length) throw ValidationError.field([...root, "teamIds"], "Unknown team");
  return { userIds, teamIds };
}

/** Creates an inbox (ADMIN+). Name is unique per account; members are optional. */
export async function createInbox(ctx: AgentContext, input: { name: string; userIds?: string[]; teamIds?: string[] }) {
  requireRole(ctx, "ADMIN", "create inboxes");
  const data = parseInput(membersSchema.extend({ name: name() }), input);
  const members = await checkMembers(ctx, data, ["input"]);
  const existing = await ctx.prisma.inbox.findFirst({ where: { accountId: ctx.accountId, name: { equals: data.name, mode: "insensitive" } } });
  if (existing) throw ValidationError.field("input.name", "An inbox with this name already exists");
  const id = randomUUID();
  return ctx.prisma.inbox.create({
    data: {
      id,
      accountId: ctx.accountId,
      name: data.name,
      kind: "INBOX",
      fallbackEmail: fallbackEmailFor(id),
      users: { create: members.userIds.map((userId) => ({ userId })) },
      teams: { create: members.teamIds.map((teamId) => ({ teamId })) },
    },
  });
}

/** Replaces the members (users and teams) of an inbox or the help desk (ADMIN+). */
export async function setInboxMembers(ctx: AgentContext, inboxId: string, input: { userIds?: string[]; teamIds?: string[] }) {
  requireRole(ctx, "ADMIN", "change inbox members");
  const data = parseInput(membersSchema, input);
  const inbox = await ctx.prisma.inbox.findFirst({ where: { accountId: ctx.accountId, id: inboxId } });
  if (!inbox) throw new NotFoundError("Inbox", inboxId);
  const members = await checkMembers(ctx, data, ["input"]);
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await tx.inboxUser.deleteMany({ where: { accountId: ctx.accountId, inboxId } });
    await tx.inboxTeam.deleteMany({ where: { accountId: ctx.accountId, inboxId } });
    await tx.inboxUser.createMany({ data: members.userIds.map((userId) => ({ userId, inboxId, accountId: ctx.accountId })) });
    await tx.inboxTeam.createMany({ data: members.teamIds.map((teamId) => ({ teamId, inboxId, accountId: ctx.accountId })) });
    await recordAccessChange(tx, ctx.accountId, "inbox members changed");
    return tx.inbox.findFirstOrThrow({ where: { id: inboxId } });
  });
}
