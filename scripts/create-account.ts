// npm run account:create -- --name <company> --admin <email> [--tier FREE|STARTER|PROFESSIONAL|ENTERPRISE]
import { flag, runCommand } from "./lib.js";

const accountName = flag("name");
const adminEmail = flag("admin");
const tier = (flag("tier") ?? "FREE").toUpperCase();
if (!accountName || !adminEmail || !/^\S+@\S+\.\S+$/.test(adminEmail) || !["FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE"].includes(tier)) {
  console.error("Usage: npm run account:create -- --name <company> --admin <email> [--tier FREE|STARTER|PROFESSIONAL|ENTERPRISE]");
  process.exit(2);
}
await runCommand({ name: "createAccount", accountName, adminEmail, tier: tier as "FREE" });
