import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/db/embedded.js";

export interface TestDatabase {
  url: string;
  /** True when this is an embedded PGlite (one connection at a time), false on PostgreSQL. */
  embedded: boolean;
  drop(): Promise<void>;
}

/**
 * A new, empty database for one test file, without migrations (the server applies them).
 *
 * With DATABASE_URL set: `CREATE DATABASE t_<16 hex>` on that server; `drop()` terminates its
 * connections and drops it. Otherwise: an embedded PGlite in a fresh directory under os.tmpdir();
 * `drop()` stops it and deletes the directory.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "inbox-test-db-"));
    const embedded = await startEmbeddedPostgres({ dataDir }).catch(async (error: unknown) => {
      await fs.rm(dataDir, { recursive: true, force: true });
      throw error;
    });
    return {
      url: embedded.url,
      embedded: true,
      drop: async () => {
        await embedded.close();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  }

  const name = `t_${randomBytes(8).toString("hex")}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    embedded: false,
    drop: () =>
      withClient(serverUrl, async (client) => {
        await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [name],
        );
        await client.query(`DROP DATABASE IF EXISTS "${name}"`);
      }),
  };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
