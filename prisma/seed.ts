// npm run db:seed: adds the demo account (see src/services/seed.ts) unless it exists.
import { runCommand } from "../scripts/lib.js";

await runCommand({ name: "seed" });
