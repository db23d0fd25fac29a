import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "../generated/prisma/client.js";

/**
 * A Prisma client on `@prisma/adapter-pg` (the same driver for PostgreSQL and the embedded database).
 *
 * Defaults: `maxConnections` 10 (pass `EMBEDDED_MAX_CONNECTIONS`, i.e. 1, for the embedded database),
 * `log` false (warnings and errors only; true adds every query).
 * Connects lazily on the first query; `$connect()` connects now, `$disconnect()` ends the pool.
 */
export function createPrismaClient(
  databaseUrl: string,
  opts: { maxConnections?: number; log?: boolean } = {},
): PrismaClient {
  const max = opts.maxConnections ?? 10;
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max,
    // A single-connection pool keeps its connection: closing an idle one and opening the next could
    // overlap on the server, and the embedded database refuses a second connection.
    idleTimeoutMillis: max === 1 ? 0 : 10_000,
  });
  const log: Prisma.LogLevel[] = opts.log ? ["query", "info", "warn", "error"] : ["warn"]; // errors are thrown to the caller, which translates or logs them
  return new PrismaClient({ adapter, log });
}
