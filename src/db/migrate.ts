import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** The project's committed migrations, independent of the working directory. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

// Any fixed 64-bit key works as long as every instance of this server uses the same one.
const MIGRATION_LOCK_KEY = 7_146_398_215_003n;

// Prisma's own table, column for column, so `prisma migrate status` reads our history.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  /** sha256 hex of the file's bytes, as Prisma records it. */
  checksum: string;
}

/** Reads `<dir>/<name>/migration.sql` for every subdirectory, sorted by name. */
export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const bytes = await fs.readFile(path.join(dir, name, "migration.sql")).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (bytes === undefined) continue;
    migrations.push({ name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  return migrations;
}

/**
 * Applies the pending migrations of `migrationsDir` (default: the project's `prisma/migrations`)
 * to the database at `databaseUrl`, in name order.
 *
 * Holds `pg_advisory_lock` on one connection for the whole run, so concurrent callers (several
 * server instances starting together) apply each migration once. Each pending migration runs in
 * its own transaction together with its `_prisma_migrations` row; whether it is pending is decided
 * inside that transaction, which also keeps concurrent callers correct on the embedded database,
 * where every connection shares one session and the advisory lock is re-entrant.
 *
 * @throws when a recorded migration's checksum differs from its file, or a migration is recorded
 *   as started but never finished (a failed `prisma migrate deploy`).
 * @returns the names of the migrations this call applied (empty when up to date).
 */
export async function applyMigrations(
  databaseUrl: string,
  opts: { migrationsDir?: string; log?: (msg: string) => void } = {},
): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => undefined);
  const migrations = await readMigrations(opts.migrationsDir);
  const client = await connectClient(databaseUrl);
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      for (const migration of migrations) {
        if (await applyOne(client, migration)) {
          applied.push(migration.name);
          log(`applied migration ${migration.name}`);
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    await client.end();
  }
  return { applied };
}

/** Applies one migration unless already recorded; returns whether it applied it. */
async function applyOne(client: pg.Client, migration: Migration): Promise<boolean> {
  await client.query("BEGIN");
  try {
    const { rows } = await client.query<{ checksum: string; finished_at: Date | null }>(
      `SELECT checksum, finished_at FROM "_prisma_migrations"
       WHERE migration_name = $1 AND rolled_back_at IS NULL ORDER BY started_at`,
      [migration.name],
    );
    const finished = rows.find((row) => row.finished_at !== null);
    if (finished) {
      if (finished.checksum !== migration.checksum) {
        throw new Error(
          `Migration ${migration.name} was applied with checksum ${finished.checksum}, but its migration.sql ` +
            `now has checksum ${migration.checksum}: an applied migration must not be edited; add a new one.`,
        );
      }
      await client.query("COMMIT");
      return false;
    }
    if (rows.length > 0) {
      throw new Error(
        `Migration ${migration.name} is recorded as started but not finished (a failed earlier run). ` +
          `Fix the database, then mark it with \`prisma migrate resolve\` or delete its _prisma_migrations row.`,
      );
    }
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
       VALUES ($1, $2, now(), $3, 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query("COMMIT");
    return true;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    if (error instanceof Error && !error.message.startsWith("Migration ")) {
      error.message = `Migration ${migration.name} failed: ${error.message}`;
    }
    throw error;
  }
}

/**
 * Connects one `pg` client, retrying for up to `timeoutMs` (default 15 s) while the server closes
 * connections as they open. That is how the embedded database refuses a connection beyond its
 * single slot, and also how a PostgreSQL that is still starting or full behaves; anything else
 * (refused, auth, unknown database) fails at once.
 */
export async function connectClient(databaseUrl: string, timeoutMs = 15_000): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const client = new pg.Client({ connectionString: databaseUrl });
    client.on("error", () => undefined); // surfaced by the failing call instead
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!isTransientConnectError(error) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function isTransientConnectError(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (
    code === "ECONNRESET" ||
    code === "57P03" || // cannot_connect_now: starting up
    code === "53300" || // too_many_connections
    /Connection terminated unexpectedly/.test(message ?? "")
  );
}
