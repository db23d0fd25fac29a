import type { Prisma, PrismaClient, Tier } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { requireRole } from "./access.js";
import { createDefaultPipeline } from "./pipelines.js";
import { fallbackEmailFor } from "./inboxes.js";
import { randomUUID } from "node:crypto";

export interface ProvisionAccountInput {
  name: string;
  tier?: Tier;
  brandColor?: string;
  /** Defaults to now; accounts created before 2024-04-01 keep inbox tickets. */
  createdAt?: Date;
  superAdmin: { email: string; firstName: string; lastName?: string };
}

/**
 * Creates a tenant with everything it needs to work: the account, its first SUPER_ADMIN,
 * the help desk and the default ticket pipeline, in one transaction.
 */
export async function provisionAccount(prisma: PrismaClient, input: ProvisionAccountInput) {
  return prisma.$transaction(async (tx) => {
    const account = await tx.account.create({
      data: { name: input.name, tier: input.tier ?? "FREE", brandColor: input.brandColor, createdAt: input.createdAt },
    });
    const superAdmin = await tx.user.create({
      data: {
        accountId: account.id,
        email: input.superAdmin.email.trim().toLowerCase(),
        firstName: input.superAdmin.firstName,
        lastName: input.superAdmin.lastName ?? "",
        role: "SUPER_ADMIN",
        seat: "PAID",
      },
    });
    const helpDeskId = randomUUID();
    const helpDesk = await tx.inbox.create({
      data: { id: helpDeskId, accountId: account.id, kind: "HELP_DESK", name: "Help desk", fallbackEmail: fallbackEmailFor(helpDeskId) },
    });
    await tx.inboxUser.create({ data: { accountId: account.id, inboxId: helpDesk.id, userId: superAdmin.id } });
    const pipeline = await createDefaultPipeline(tx, account.id);
    return { account, superAdmin, helpDesk, pipeline };
  });
}

/**
 * An admin changes the account's settings (ForbiddenError below ADMIN). Only the fields given
 * change; the account is returned as stored.
 */
export async function updateAccountSettings(ctx: AgentContext, input: { onlyAssigneeMayReply?: boolean | null }) {
  requireRole(ctx, "ADMIN", "change the account's settings");
  const data: Prisma.AccountUpdateInput = {};
  if (input.onlyAssigneeMayReply != null) data.onlyAssigneeMayReply = input.onlyAssigneeMayReply;
  return ctx.prisma.account.update({ where: { id: ctx.accountId }, data });
}
