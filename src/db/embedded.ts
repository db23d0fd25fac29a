import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * How many client connections the embedded database serves at once: one.
 *
 * pglite-socket 0.2.17 does accept several connections (`maxConnections`), but it multiplexes
 * them onto PGlite's single backend session one protocol *message* at a time. Outside an explicit
 * transaction, a client's Parse/Bind/Execute/Sync sequence that arrives in more than one TCP read
 * can be interleaved with another client's, so one client binds the other's unnamed prepared
 * statement: wrong rows come back silently, or "bind message supplies 2 parameters, but prepared
 * statement "" requires 1". Session state (advisory locks, SET, prepared statements) is shared
 * too. With one connection none of that can happen; pools must use `max: 1`.
 *
 * A connection beyond the limit is accepted and immediately closed (pglite-socket writes
 * "Too many connections" and ends the socket), which `pg` reports as
 * "Connection terminated unexpectedly".
 */
export const EMBEDDED_MAX_CONNECTIONS = 1;

/** Thrown when another live process (or this one) already has the data directory open. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `Embedded database directory ${dataDir} is already in use by process ${pid}` +
        (pid === process.pid ? " (this process)" : "") +
        `. Stop that process, use another DATA_DIR, or set DATABASE_URL to use a PostgreSQL server.`,
    );
    this.name = "DataDirInUseError";
  }
}

export interface EmbeddedPostgres {
  /** `postgresql://postgres@host:port/postgres`, for `pg` and `@prisma/adapter-pg`. */
  url: string;
  /** Always {@link EMBEDDED_MAX_CONNECTIONS}: size client pools with it. */
  maxConnections: number;
  /** Absolute path of the data directory. */
  dataDir: string;
  /** Stops the socket server, then shuts PGlite down cleanly (checkpoint), then unlocks the directory. Idempotent. */
  close(): Promise<void>;
}

const LOCK_FILE = "embedded.lock";
// Directories open in this process: a lock file naming our own pid is only stale if it is not here.
const openDirs = new Set<string>();

/**
 * Starts PGlite with its data in `dataDir` and serves it over the PostgreSQL wire protocol.
 *
 * Defaults: host `127.0.0.1`, port `0` (an ephemeral port, read back into the URL).
 * `dataDir` is created if missing; a first start loads `template` when it gives one, else runs
 * initdb (seconds); later starts reuse the data.
 * The directory is locked with `<dataDir>/embedded.lock` (PGlite itself does not refuse a second
 * opener, which would corrupt the data); a lock left by a dead process is taken over.
 *
 * @throws DataDirInUseError when a live process holds the directory.
 * @returns the URL, the connection limit ({@link EMBEDDED_MAX_CONNECTIONS}) and `close()`.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  host?: string;
  port?: number;
  /**
   * An initialized database (PGlite `dumpDataDir()`, src/db/embedded-template.ts) to load instead
   * of running initdb when `dataDir` holds no database yet; ignored for an existing one.
   */
  template?: () => Promise<Blob | undefined>;
}): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  const host = opts.host ?? "127.0.0.1";
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    const fresh = !fs.existsSync(path.join(dataDir, "PG_VERSION"));
    const loadDataDir = fresh ? await opts.template?.() : undefined;
    db = await PGlite.create({ dataDir, loadDataDir });
    server = new PGLiteSocketServer({
      db,
      host,
      port: opts.port ?? 0,
      maxConnections: EMBEDDED_MAX_CONNECTIONS,
    });
    await server.start();
  } catch (error) {
    await db?.close().catch(() => undefined);
    releaseLock();
    throw error;
  }

  const port = Number(server.getServerConn().split(":").pop());
  const url = `postgresql://postgres@${urlHost(host)}:${port}/postgres`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await server.stop();
        // Let socket "close" handlers queued by stop() run before the database goes away.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await db.close();
      } finally {
        releaseLock();
      }
    })());

  return { url, maxConnections: EMBEDDED_MAX_CONNECTIONS, dataDir, close };
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** Takes the directory's lock file or throws; returns the function that releases it. */
function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockPath, content, { flag: "wx" });
      openDirs.add(dataDir);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        openDirs.delete(dataDir);
        fs.rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    const holder = readLockPid(lockPath);
    if (holder !== undefined && isAlive(holder, dataDir)) throw new DataDirInUseError(dataDir, holder);
    fs.rmSync(lockPath, { force: true }); // stale: its process is gone
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(lockPath, "utf8"));
    const pid = (parsed as { pid?: unknown }).pid;
    return typeof pid === "number" ? pid : undefined;
  } catch {
    return undefined; // unreadable or half-written: treat as stale
  }
}

function isAlive(pid: number, dataDir: string): boolean {
  if (pid === process.pid) return openDirs.has(dataDir);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}
