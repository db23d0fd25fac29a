import type { PrismaClient } from "../generated/prisma/client.js";
import { provisionAccount } from "./accounts.js";
import { fallbackEmailFor } from "./inboxes.js";
import { randomUUID } from "node:crypto";

/** The demo data's sign-in emails, printed in the start log. */
export const DEMO = {
  accountName: "Acme Demo",
  superAdmin: "owner@acme.test",
  admin: "admin@acme.test",
  agents: ["alice@acme.test", "bob@acme.test", "carol@acme.test"],
};

/**
 * Creates the demo account: a SUPER_ADMIN, an ADMIN, three agents (one on a FREE seat),
 * teams Sales and Support, inboxes Sales and Support, the help desk and the default pipeline.
 */
export async function seedDemo(prisma: PrismaClient) {
  const { account, superAdmin, helpDesk } = await provisionAccount(prisma, {
    name: DEMO.accountName,
    tier: "PROFESSIONAL",
    superAdmin: { email: DEMO.superAdmin, firstName: "Olivia", lastName: "Owner" },
  });
  const accountId = account.id;
  return prisma.$transaction(async (tx) => {
    const mk = (email: string, firstName: string, lastName: string, role: "ADMIN" | "AGENT", seat: "PAID" | "FREE", chatCapacity?: number) =>
      tx.user.create({ data: { accountId, email, firstName, lastName, role, seat, chatCapacity } });
    const admin = await mk(DEMO.admin, "Adam", "Admin", "ADMIN", "PAID");
    const alice = await mk(DEMO.agents[0], "Alice", "Agent", "AGENT", "PAID", 5);
    const bob = await mk(DEMO.agents[1], "Bob", "Agent", "AGENT", "PAID", 5);
    const carol = await mk(DEMO.agents[2], "Carol", "Agent", "AGENT", "FREE");
    const sales = await tx.team.create({ data: { accountId, name: "Sales", members: { create: [{ userId: alice.id }, { userId: admin.id }] } } });
    const support = await tx.team.create({
      data: { accountId, name: "Support", members: { create: [{ userId: bob.id }, { userId: carol.id }] } },
    });
    for (const [name, team] of [["Sales", sales], ["Support", support]] as const) {
      const id = randomUUID();
      await tx.inbox.create({
        data: {
          id,
          accountId,
          name,
          kind: "INBOX",
          fallbackEmail: fallbackEmailFor(id),
          teams: { create: [{ teamId: team.id }] },
          users: { create: [{ userId: superAdmin.id }] },
        },
      });
    }
    await tx.inboxTeam.create({ data: { accountId, inboxId: helpDesk.id, teamId: support.id } });
    return { account, superAdmin, admin, agents: [alice, bob, carol] };
  });
}

/** Seeds the demo account when the database has no account yet (first start of an embedded database). */
export async function seedIfEmpty(prisma: PrismaClient, log: (m: string) => void = () => {}) {
  if ((await prisma.account.count()) > 0) return false;
  await seedDemo(prisma);
  log(`Seeded the demo account "${DEMO.accountName}" (sign in as ${DEMO.superAdmin}, ${DEMO.admin}, ${DEMO.agents.join(", ")}).`);
  return true;
}
