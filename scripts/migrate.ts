// npm run db:migrate — applies prisma/migrations to DATABASE_URL, or to the embedded database in
// DATA_DIR (default ./data) when DATABASE_URL is unset.
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../src/db/embedded.js";
import { applyMigrations } from "../src/db/migrate.js";

const databaseUrl = process.env.DATABASE_URL;
let embedded: EmbeddedPostgres | undefined;
try {
  embedded = databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: process.env.DATA_DIR ?? "./data" });
  const target = embedded ? `embedded database in ${embedded.dataDir}` : describe(databaseUrl!);
  const { applied } = await applyMigrations(embedded?.url ?? databaseUrl!, { log: (m) => console.log(m) });
  console.log(applied.length ? `${applied.length} migration(s) applied to ${target}` : `${target} is up to date`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await embedded?.close();
}

function describe(url: string): string {
  const { host, pathname } = new URL(url); // no credentials in the output
  return `${host}${pathname}`;
}
