import { z } from "zod";
import type { Prisma, Role } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { hasRole, recordAccessChange, requireRole } from "./access.js";
import { transactionWithEvents } from "../realtime/events.js";
import { ForbiddenError, NotFoundError, ValidationError } from "./errors.js";
import { isUniqueViolation } from "./prisma-errors.js";
import { email, name, parseInput } from "./validation.js";

type UserQuery = Omit<Prisma.UserFindManyArgs, "where" | "orderBy">;

const role = z.enum(["SUPER_ADMIN", "ADMIN", "AGENT"]);
const seat = z.enum(["PAID", "FREE"]);
const capacity = z.number().int().min(0, "Must be 0 or more").max(1000).nullable();

/** The account's users that are not removed, in creation order. */
export function listUsers(ctx: AgentContext, query: UserQuery = {}) {
  return ctx.prisma.user.findMany({ ...query, where: { accountId: ctx.accountId, removedAt: null }, orderBy: { createdAt: "asc" } });
}

function assertMayGrant(ctx: AgentContext, target: Role) {
  if (target === "SUPER_ADMIN" && ctx.user.role !== "SUPER_ADMIN") throw new ForbiddenError("Only a super admin can grant the super admin role");
}

/** Adds a user to the caller's account (ADMIN+; only a SUPER_ADMIN can create another SUPER_ADMIN). */
export async function createUser(
  ctx: AgentContext,
  input: { email: string; firstName: string; lastName?: string | null; role?: Role | null; seat?: "PAID" | "FREE" | null; chatCapacity?: number | null },
) {
  requireRole(ctx, "ADMIN", "add users");
  const data = parseInput(
    z.object({
      email: email(),
      firstName: name(),
      lastName: z.string().trim().max(120).nullish(),
      role: role.nullish(),
      seat: seat.nullish(),
      chatCapacity: capacity.optional(),
    }),
    input,
  );
  assertMayGrant(ctx, data.role ?? "AGENT");
  try {
    return await ctx.prisma.user.create({
      data: {
        accountId: ctx.accountId,
        email: data.email,
        firstName: data.firstName,
        lastName: data.lastName ?? "",
        role: data.role ?? "AGENT",
        seat: data.seat ?? "PAID",
        chatCapacity: data.chatCapacity ?? null,
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw ValidationError.field("input.email", "A user with this email already exists in this account");
    throw err;
  }
}

async function findUser(ctx: AgentContext, id: string) {
  const user = await ctx.prisma.user.findFirst({ where: { id, accountId: ctx.accountId, removedAt: null } });
  if (!user) throw new NotFoundError("User", id);
  return user;
}

async function otherSuperAdmins(ctx: AgentContext, userId: string) {
  return ctx.prisma.user.count({ where: { accountId: ctx.accountId, role: "SUPER_ADMIN", removedAt: null, id: { not: userId } } });
}

/**
 * Changes a user's role, seat, capacity or name (ADMIN+). An ADMIN cannot change a SUPER_ADMIN,
 * and the account's last SUPER_ADMIN cannot be demoted.
 */
export async function updateUser(
  ctx: AgentContext,
  id: string,
  input: { firstName?: string | null; lastName?: string | null; role?: Role | null; seat?: "PAID" | "FREE" | null; chatCapacity?: number | null },
) {
  requireRole(ctx, "ADMIN", "change users");
  const data = parseInput(
    z.object({ firstName: name().nullish(), lastName: z.string().trim().max(120).nullish(), role: role.nullish(), seat: seat.nullish(), chatCapacity: capacity.optional() }),
    input,
  );
  return transactionWithEvents(ctx.prisma, async (tx) => {
    // Lock the account's super admins so two concurrent demotions cannot both pass the "last one" check.
    await tx.$queryRaw`SELECT id FROM "User" WHERE "accountId" = ${ctx.accountId} AND role = 'SUPER_ADMIN' FOR UPDATE`;
    const user = await findUser({ ...ctx, prisma: tx } as AgentContext, id);
    if (user.role === "SUPER_ADMIN" && ctx.user.role !== "SUPER_ADMIN") throw new ForbiddenError("An admin cannot change a super admin");
    if (data.role) assertMayGrant(ctx, data.role);
    if (user.role === "SUPER_ADMIN" && data.role && data.role !== "SUPER_ADMIN" && (await otherSuperAdmins({ ...ctx, prisma: tx } as AgentContext, id)) === 0) {
      throw ValidationError.field("input.role", "The account's last super admin cannot be demoted");
    }
    await recordAccessChange(tx, ctx.accountId, "user changed");
    return tx.user.update({
      where: { id: user.id },
      data: {
        firstName: data.firstName ?? undefined,
        lastName: data.lastName ?? undefined,
        role: data.role ?? undefined,
        seat: data.seat ?? undefined,
        chatCapacity: data.chatCapacity === undefined ? undefined : data.chatCapacity,
      },
    });
  });
}

/** Removes a user (ADMIN+): they keep their history but can no longer sign in or be routed to. */
export async function removeUser(ctx: AgentContext, id: string) {
  requireRole(ctx, "ADMIN", "remove users");
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await tx.$queryRaw`SELECT id FROM "User" WHERE "accountId" = ${ctx.accountId} AND role = 'SUPER_ADMIN' FOR UPDATE`;
    const scoped = { ...ctx, prisma: tx } as AgentContext;
    const user = await findUser(scoped, id);
    if (user.role === "SUPER_ADMIN" && !hasRole(ctx.user.role, "SUPER_ADMIN")) throw new ForbiddenError("An admin cannot remove a super admin");
    if (user.role === "SUPER_ADMIN" && (await otherSuperAdmins(scoped, id)) === 0) {
      throw ValidationError.field("input.userId", "The account's last super admin cannot be removed");
    }
    await tx.inboxUser.deleteMany({ where: { accountId: ctx.accountId, userId: id } });
    await tx.teamMember.deleteMany({ where: { accountId: ctx.accountId, userId: id } });
    await tx.channelRoutingUser.deleteMany({ where: { accountId: ctx.accountId, userId: id } });
    await recordAccessChange(tx, ctx.accountId, "user removed");
    return tx.user.update({ where: { id }, data: { removedAt: new Date(), availability: "AWAY" } });
  });
}

/** The caller's own notification preferences. */
export async function updateNotificationPreferences(ctx: AgentContext, input: { muteNewMessageNotifications: boolean }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    await recordAccessChange(tx, ctx.accountId, "notification preferences changed");
    return tx.user.update({ where: { id: ctx.user.id }, data: { muteNewMessageNotifications: input.muteNewMessageNotifications } });
  });
}
