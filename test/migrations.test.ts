import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { DataDirInUseError, startEmbeddedPostgres } from "../src/db/embedded.js";
import { applyMigrations, connectClient, readMigrations } from "../src/db/migrate.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const backend = process.env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite";

describe(`migrations on ${backend}`, () => {
  it("the committed migrations produce exactly the schema of prisma/schema.prisma", async () => {
    await withDatabases(2, async ([migrated, fromSchema]) => {
      await applyMigrations(migrated.url);
      // The CLI needs a reachable database (prisma.config.ts gives it the adapter); it only reads.
      const script = await prismaScriptFromEmpty(fromSchema.url);
      await withClient(fromSchema.url, (client) => client.query(script));

      const [expected, actual] = [await catalog(fromSchema.url), await catalog(migrated.url)];
      expect(expected.tables.length).toBeGreaterThan(0);
      expect(actual).toEqual(expected);
    });
  }, 180_000);

  it("applying twice is a no-op, and an edited applied migration is refused", async () => {
    const names = (await readMigrations()).map((m) => m.name);
    await withDatabases(1, async ([db]) => {
      expect((await applyMigrations(db.url)).applied).toEqual(names);
      expect((await applyMigrations(db.url)).applied).toEqual([]);
      expect(await recordedMigrations(db.url)).toEqual(names);

      const edited = await fs.mkdtemp(path.join(os.tmpdir(), "edited-migrations-"));
      try {
        const [first] = await readMigrations();
        await fs.mkdir(path.join(edited, first.name));
        await fs.writeFile(path.join(edited, first.name, "migration.sql"), `-- edited\n${first.sql}`);
        await expect(applyMigrations(db.url, { migrationsDir: edited })).rejects.toThrow(/checksum/);
      } finally {
        await fs.rm(edited, { recursive: true, force: true });
      }
    });
  }, 120_000);

  it("two concurrent runs on a fresh database apply each migration once", async () => {
    const names = (await readMigrations()).map((m) => m.name);
    await withDatabases(1, async ([db]) => {
      const runs = await Promise.all([applyMigrations(db.url), applyMigrations(db.url)]);
      expect(runs.flatMap((r) => r.applied).sort()).toEqual(names);
      expect(await recordedMigrations(db.url)).toEqual(names);
    });
  }, 120_000);
});

describe("embedded database", () => {
  it("keeps its data across close and reopen, and refuses a second opener of the same directory", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "embedded-persist-"));
    try {
      const first = await startEmbeddedPostgres({ dataDir });
      try {
        await withClient(first.url, async (client) => {
          await client.query("CREATE TABLE kept (v text)");
          await client.query("INSERT INTO kept VALUES ($1)", ["still here"]);
        });
        await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(DataDirInUseError);
      } finally {
        await first.close();
      }
      const second = await startEmbeddedPostgres({ dataDir });
      try {
        const { rows } = await withClient(second.url, (client) => client.query("SELECT v FROM kept"));
        expect(rows).toEqual([{ v: "still here" }]);
      } finally {
        await second.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

async function withDatabases(count: number, fn: (dbs: TestDatabase[]) => Promise<void>): Promise<void> {
  const dbs = await Promise.all(Array.from({ length: count }, () => createTestDatabase()));
  try {
    await fn(dbs);
  } finally {
    await Promise.all(dbs.map((db) => db.drop()));
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectClient(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function prismaScriptFromEmpty(databaseUrl: string): Promise<string> {
  const args = ["--no-install", "prisma", "migrate", "diff", "--from-empty"];
  args.push("--to-schema-datamodel", "prisma/schema.prisma", "--script");
  const env = { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: "1" };
  return new Promise((resolve, reject) => {
    execFile("npx", args, { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`prisma migrate diff failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

async function recordedMigrations(url: string): Promise<string[]> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations"
       WHERE finished_at IS NOT NULL AND applied_steps_count = 1 AND length(checksum) = 64 ORDER BY migration_name`,
    ),
  );
  return rows.map((r) => r.migration_name);
}

/** The public schema as sorted lines per kind, leaving out Prisma's own bookkeeping table. */
async function catalog(url: string): Promise<Record<string, string[]>> {
  const queries: Record<string, string> = {
    tables: `SELECT format('%I %s', c.relname, c.relkind) AS line FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND c.relname <> '_prisma_migrations'`,
    columns: `SELECT format('%I.%I %s%s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
        CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
        COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''),
        CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END) AS line
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'`,
    indexes: `SELECT indexdef AS line FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    constraints: `SELECT format('%I.%I %s', c.relname, con.conname, pg_get_constraintdef(con.oid)) AS line
      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> '_prisma_migrations'`,
    // Values as a set: ALTER TYPE ... ADD VALUE appends, while the schema may list a value mid-way.
    enums: `SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumlabel) AS line
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname`,
    sequences: `SELECT sequencename || ' ' || data_type AS line FROM pg_sequences WHERE schemaname = 'public'`,
  };
  return withClient(url, async (client) => {
    const result: Record<string, string[]> = {};
    for (const [kind, sql] of Object.entries(queries)) {
      const { rows } = await client.query<{ line: string }>(sql);
      result[kind] = rows.map((r) => r.line).sort();
    }
    return result;
  });
}
