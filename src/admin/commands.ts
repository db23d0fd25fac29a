import type { Auth } from "../auth.js";
import type { PrismaClient, Tier } from "../generated/prisma/client.js";
import { provisionAccount } from "../services/accounts.js";
import { DEMO, seedDemo } from "../services/seed.js";

/** Operator commands behind `npm run token | account:create | partner:create | db:seed`. */
export type AdminCommand =
  | { name: "token"; email: string; accountId?: string; expiresIn?: string }
  | { name: "createAccount"; accountName: string; adminEmail: string; tier: Tier }
  | { name: "createPartner"; partnerName: string; expiresIn?: string }
  | { name: "seed" };

export class AdminCommandError extends Error {}

/** Runs one operator command; returns `{ message, token? }` for the CLI to print. */
export async function runAdminCommand(prisma: PrismaClient, auth: Auth, cmd: AdminCommand): Promise<{ message: string; token?: string }> {
  switch (cmd.name) {
    case "token": {
      const email = cmd.email.trim().toLowerCase();
      const users = await prisma.user.findMany({ where: { email, removedAt: null, ...(cmd.accountId ? { accountId: cmd.accountId } : {}) }, include: { account: true } });
      if (users.length === 0) throw new AdminCommandError(`No user with email ${email}${cmd.accountId ? ` in account ${cmd.accountId}` : ""}.`);
      if (users.length > 1)
        throw new AdminCommandError(`${email} is a user of several accounts; add --account with one of: ${users.map((u) => `${u.accountId} (${u.account.name})`).join(", ")}`);
      const [user] = users;
      const token = await auth.sign({ typ: "agent", userId: user.id, accountId: user.accountId }, { expiresIn: cmd.expiresIn ?? "30d" });
      return { message: `Token for ${user.firstName} ${user.lastName} (${user.role}) of "${user.account.name}":`, token };
    }
    case "createAccount": {
      const { account, superAdmin } = await provisionAccount(prisma, {
        name: cmd.accountName,
        tier: cmd.tier,
        superAdmin: { email: cmd.adminEmail, firstName: cmd.adminEmail.split("@")[0] },
      });
      const token = await auth.sign({ typ: "agent", userId: superAdmin.id, accountId: account.id });
      return { message: `Created account "${account.name}" (${account.id}) with super admin ${superAdmin.email}. Token:`, token };
    }
    case "createPartner": {
      const partner = await prisma.partner.create({ data: { name: cmd.partnerName } });
      const token = await auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: cmd.expiresIn ?? "365d" });
      return { message: `Created partner "${partner.name}" (${partner.id}). Partner token:`, token };
    }
    case "seed": {
      if (await prisma.user.findFirst({ where: { email: DEMO.superAdmin } })) return { message: `The demo account already exists (${DEMO.superAdmin}).` };
      const { account } = await seedDemo(prisma);
      return { message: `Seeded "${account.name}". Sign in with: npm run token -- --email ${DEMO.superAdmin}` };
    }
  }
}
