import type { Prisma, Role } from "../generated/prisma/client.js";
import { recordEvents } from "../realtime/events.js";
import type { AgentContext } from "../context.js";
import { ForbiddenError } from "./errors.js";

const RANK: Record<Role, number> = { AGENT: 0, ADMIN: 1, SUPER_ADMIN: 2 };

/** True when `role` is at least `minimum` (SUPER_ADMIN > ADMIN > AGENT). */
export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** Throws ForbiddenError unless the caller has at least `minimum`. */
export function requireRole(ctx: AgentContext, minimum: Role, action = "do this"): void {
  if (!hasRole(ctx.user.role, minimum)) {
    throw new ForbiddenError(`Only ${minimum === "SUPER_ADMIN" ? "a super admin" : "an admin"} can ${action}`);
  }
}

/**
 * Prisma filter for the inboxes a user belongs to (directly or through a team).
 * Admins see every inbox of their account. The one place visibility is decided: every read that
 * depends on which inboxes the caller sees goes through it (shared-execution.ts relies on that).
 */
export function visibleInboxWhere(ctx: AgentContext) {
  if (hasRole(ctx.user.role, "ADMIN")) return { accountId: ctx.accountId };
  // A shared subscription execution carries its group's inbox set instead of one user's id.
  if (ctx.visibleInboxIds) return { accountId: ctx.accountId, id: { in: [...ctx.visibleInboxIds] } };
  return {
    accountId: ctx.accountId,
    OR: [{ users: { some: { userId: ctx.user.id } } }, { teams: { some: { team: { members: { some: { userId: ctx.user.id } } } } } }],
  };
}

/** Ids of the inboxes a user belongs to (directly or through a team), whatever their role. */
export async function memberInboxIds(ctx: Pick<AgentContext, "prisma" | "accountId" | "user">): Promise<string[]> {
  const rows = await ctx.prisma.inbox.findMany({
    where: {
      accountId: ctx.accountId,
      OR: [{ users: { some: { userId: ctx.user.id } } }, { teams: { some: { team: { members: { some: { userId: ctx.user.id } } } } } }],
    },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/**
 * Records, inside the transaction that changes memberships, roles or notification preferences,
 * an `access.changed` event: live subscriptions re-check access when they reach it, so every
 * event after the change (in cursor order) is filtered with the new access.
 */
export function recordAccessChange(tx: Prisma.TransactionClient, accountId: string, reason: string): Promise<void> {
  return recordEvents(tx, accountId, [{ type: "access.changed", inboxId: null, payload: { reason } }]);
}
