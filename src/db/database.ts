import type { PrismaClient } from "../generated/prisma/client.js";
import { createPrismaClient } from "./client.js";
import { startEmbeddedPostgres } from "./embedded.js";
import { loadEmbeddedTemplate } from "./embedded-template.js";
import { applyMigrations } from "./migrate.js";

export interface Database {
  url: string;
  /** True when this process runs the database itself (PGlite in `dataDir`). */
  embedded: boolean;
  prisma: PrismaClient;
  /** Disconnects Prisma, then stops the embedded database if there is one. */
  close(): Promise<void>;
}

/**
 * Opens the application's database: PostgreSQL at `databaseUrl` when given, otherwise an embedded
 * PGlite with its data in `dataDir` (one connection, so Prisma's pool gets `max: 1`).
 * Applies pending migrations, then connects Prisma, so a returned database is ready for queries.
 * `log` receives one line per applied migration and where the database is.
 */
export async function openDatabase(opts: {
  databaseUrl?: string;
  dataDir: string;
  log?: (m: string) => void;
}): Promise<Database> {
  const log = opts.log ?? (() => undefined);
  // A fresh embedded database starts from the build's template (migrations included) when it fits.
  const embedded = opts.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: opts.dataDir, template: () => loadEmbeddedTemplate() });
  const url = opts.databaseUrl ?? embedded!.url;
  if (embedded) log(`embedded database in ${embedded.dataDir} at ${embedded.url}`);
  let prisma: PrismaClient | undefined;
  try {
    await applyMigrations(url, { log });
    prisma = createPrismaClient(url, { maxConnections: embedded?.maxConnections });
    await prisma.$connect();
    // The embedded server frees the migration connection's slot a moment after it closes; a
    // query that raced it would be refused, so wait until Prisma's one connection is in.
    if (embedded) await untilReady(prisma);
  } catch (error) {
    await prisma?.$disconnect().catch(() => undefined);
    await embedded?.close();
    throw error;
  }
  const client = prisma;
  let closing: Promise<void> | undefined;
  return {
    url,
    embedded: embedded !== undefined,
    prisma: client,
    close: () =>
      (closing ??= (async () => {
        try {
          await client.$disconnect();
        } finally {
          await embedded?.close();
        }
      })()),
  };
}

async function untilReady(prisma: PrismaClient, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await prisma.$queryRaw`SELECT 1`;
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Readiness probe: true when `SELECT 1` succeeds within `timeoutMs` (default 2000), false otherwise.
 * Never throws.
 */
export async function checkDatabase(prisma: PrismaClient, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([prisma.$queryRaw`SELECT 1`.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
