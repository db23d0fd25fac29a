// npm run partner:create -- --name <partner name>
import { flag, runCommand } from "./lib.js";

const partnerName = flag("name");
if (!partnerName) {
  console.error("Usage: npm run partner:create -- --name <partner name>");
  process.exit(2);
}
await runCommand({ name: "createPartner", partnerName, expiresIn: flag("expires") });
