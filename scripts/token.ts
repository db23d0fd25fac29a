// npm run token -- --email <user> [--account <account id>] [--expires 30d]
import { flag, runCommand } from "./lib.js";

const email = flag("email");
if (!email) {
  console.error("Usage: npm run token -- --email <user email> [--account <account id>] [--expires 30d]");
  process.exit(2);
}
await runCommand({ name: "token", email, accountId: flag("account"), expiresIn: flag("expires") });
