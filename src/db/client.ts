import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "../generated/prisma/client.js";
import { forgetPreparedStatements, registerPool } from "./sql.js";

/**
 * A Prisma client on `@prisma/adapter-pg` (the same driver for PostgreSQL and the embedded database).
 *
 * Defaults: `maxConnections` 10 (pass `EMBEDDED_MAX_CONNECTIONS`, i.e. 1, for the embedded database),
 * `log` false (warnings and errors only; true adds every query).
 * Connects lazily on the first query; `$connect()` connects now, `$disconnect()` ends the pool.
 * The pool is ours, handed to the adapter, so raw `pg` transactions (src/db/sql.ts) share it.
 */
export function createPrismaClient(
  databaseUrl: string,
  opts: { maxConnections?: number; log?: boolean } = {},
): PrismaClient {
  const max = opts.maxConnections ?? 10;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    // A single-connection pool keeps its connection: closing an idle one and opening the next could
    // overlap on the server, and the embedded database refuses a second connection.
    idleTimeoutMillis: max === 1 ? 0 : 10_000,
    onConnect: forgetPreparedStatements,
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const log: Prisma.LogLevel[] = opts.log ? ["query", "info", "warn", "error"] : ["warn"]; // errors are thrown to the caller, which translates or logs them
  const prisma = new PrismaClient({ adapter, log });
  registerPool(prisma, pool);
  return prisma;
}
