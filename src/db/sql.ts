import { createHash } from "node:crypto";
import pg from "pg";
import { Prisma, type PrismaClient } from "../generated/prisma/client.js";

/**
 * What code that writes raw SQL inside a transaction needs: Prisma's `$queryRaw` and
 * `$executeRaw` tagged templates. A Prisma transaction client has them, and so does the plain
 * `pg` transaction of `sqlTransaction`, so such code runs in either.
 */
export type SqlTx = Pick<Prisma.TransactionClient, "$queryRaw" | "$executeRaw">;

/** The `pg` pool under each Prisma client made by createPrismaClient (shared: one pool, one limit). */
const pools = new WeakMap<PrismaClient, pg.Pool>();

export function registerPool(prisma: PrismaClient, pool: pg.Pool) {
  pools.set(prisma, pool);
}

/** The pool under a client made by createPrismaClient (for its usage figures in /metrics). */
export function poolOf(prisma: PrismaClient): pg.Pool | undefined {
  return pools.get(prisma);
}

/**
 * For the pool's `onConnect`: a new connection must start with no prepared statements
 * (statementName), as `pg` assumes. Not so on the embedded database: its one session outlives the
 * connection that ended, statements and all, and the next connection's first Parse of one would
 * fail as "already exists".
 */
export function forgetPreparedStatements(client: pg.ClientBase): Promise<unknown> {
  return client.query("DEALLOCATE ALL");
}

// Results as Prisma's raw queries return them: int8 as bigint, `timestamp` (stored in UTC, as
// Prisma writes it) as a Date in UTC. Other types keep pg's conversions (json parsed, enums and
// text as strings, arrays of text as arrays); intake's statements need no others.
const INT8 = 20;
const TIMESTAMP = 1114;
const parseTimestamp = (value: string) => new Date(`${value.replace(" ", "T")}Z`);
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8) return (value: string) => BigInt(value);
    if (oid === TIMESTAMP) return parseTimestamp;
    return pg.types.getTypeParser(oid, format);
  },
};

/** Parameters as Prisma sends them: a Date as its UTC instant, a bigint as its digits. */
function toParam(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toParam);
  return value;
}

function toSql(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql {
  return query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
}

/**
 * Statements run as named prepared statements, one name per statement text: a connection parses
 * and plans a statement once, not on every run (the unnamed statement is parsed and planned each
 * time: two of every three protocol steps PostgreSQL spent on intake's statements). Texts beyond
 * MAX_PREPARED (a statement built with a varying list) run unnamed, so no connection collects an
 * unbounded number of prepared statements.
 */
const MAX_PREPARED = 256;
const statementNames = new Map<string, string>();

function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined || statementNames.size >= MAX_PREPARED) return known;
  const name = `s${createHash("sha256").update(text).digest("base64url").slice(0, 22)}`;
  statementNames.set(text, name);
  return name;
}

function queryConfig(sql: Prisma.Sql): pg.QueryConfig {
  return { name: statementName(sql.text), text: sql.text, values: sql.values.map(toParam), types };
}

/** Statements a `pg` transaction sends with its COMMIT (see deferUntilCommit). */
const deferred = new WeakMap<SqlTx, Prisma.Sql[]>();

/**
 * Asks a transaction of sqlTransaction to run `statement` at commit, in the same message as the
 * COMMIT: whatever it locks is released inside the database, without waiting for this process
 * to read a reply and send the next statement (a busy server takes a while to). For a statement
 * that takes a hot lock, such as the account's event cursor. A failing statement rolls back the
 * whole transaction, so it must fail rather than quietly do nothing. Returns false (and does
 * nothing) for other transactions: the caller runs the statement itself.
 */
export function deferUntilCommit(tx: SqlTx, statement: Prisma.Sql): boolean {
  const list = deferred.get(tx);
  if (!list) return false;
  list.push(statement);
  return true;
}

/** A literal for a value in SQL text, for statements sent in one simple query with COMMIT. */
function literal(client: pg.PoolClient, value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`Cannot inline ${value} into SQL`);
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value instanceof Date) return client.escapeLiteral(value.toISOString());
  if (Array.isArray(value)) return `ARRAY[${value.map((v) => literal(client, v)).join(", ")}]`;
  if (typeof value === "string") return client.escapeLiteral(value);
  return client.escapeLiteral(JSON.stringify(value));
}

/** The statement with its parameters written in as escaped literals (statements with no `$n` of their own). */
function inline(client: pg.PoolClient, sql: Prisma.Sql): string {
  return sql.text.replace(/\$(\d+)/g, (_, n: string) => literal(client, sql.values[Number(n) - 1]));
}

/** `$queryRaw` and `$executeRaw` over one checked-out `pg` client. */
function clientTx(client: pg.PoolClient): SqlTx {
  const run = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]) => client.query(queryConfig(toSql(query, values)));
  const tx = {
    $queryRaw: (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => run(query, values).then((r) => r.rows),
    $executeRaw: (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => run(query, values).then((r) => r.rowCount ?? 0),
  };
  deferred.set(tx as unknown as SqlTx, []);
  return tx as unknown as SqlTx;
}

/**
 * One raw statement on the Prisma client's pool through `pg` (as `prisma.$queryRaw` would run it,
 * at a fraction of the CPU; see sqlTransaction). Returns the rows.
 */
export async function sqlQuery<T>(prisma: PrismaClient, sql: Prisma.Sql): Promise<T[]> {
  const pool = pools.get(prisma);
  if (!pool) return prisma.$queryRaw<T[]>(sql);
  return (await onPool(pool, sql)).rows as T[];
}

/** sqlQuery for a statement whose row count is wanted (as `prisma.$executeRaw`). */
export async function sqlExecute(prisma: PrismaClient, sql: Prisma.Sql): Promise<number> {
  const pool = pools.get(prisma);
  if (!pool) return prisma.$executeRaw(sql);
  return (await onPool(pool, sql)).rowCount ?? 0;
}

/**
 * One statement on a pooled connection. Unlike `pool.query`, a statement that fails (a unique
 * violation, a bad value) does not cost the connection: `pool.query` closes it, and the embedded
 * database, which serves one connection at a time, then refused the next statement while the
 * closed one was still going away. A connection that really broke is dropped by the pool anyway.
 */
async function onPool(pool: pg.Pool, sql: Prisma.Sql): Promise<pg.QueryResult> {
  const client = await pool.connect();
  try {
    return await client.query(queryConfig(sql));
  } finally {
    client.release();
  }
}

/** Longest a statement of sqlTransaction may run (Prisma's interactive transactions here time out at 30 s). */
const STATEMENT_TIMEOUT_MS = 30_000;

export interface TransactionOptions {
  /** Transaction-scoped advisory locks (pg_advisory_xact_lock keys) taken as the transaction begins. */
  advisoryLocks?: bigint[];
}

/** A 64-bit advisory lock key for a string (the same key whichever transaction takes it). */
export function advisoryLockKey(name: string): bigint {
  return createHash("sha256").update(name).digest().readBigInt64BE(0);
}

/**
 * Runs `fn` in one transaction on a connection of the Prisma client's own pool, through `pg`
 * directly: a statement costs ~0.1 ms of CPU here against ~0.5 ms through Prisma 6.19's client
 * (which compiles every query in WebAssembly). For hot paths written in raw SQL (intake). The
 * pool is Prisma's, so the embedded database's single connection is shared, not doubled; code in
 * `fn` must use the given `tx`, never the Prisma client (that would wait for this connection).
 * A client whose pool is unknown (made elsewhere) falls back to a Prisma transaction.
 */
export async function sqlTransaction<T>(prisma: PrismaClient, fn: (tx: SqlTx) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const locks = opts.advisoryLocks ?? [];
  const pool = pools.get(prisma);
  if (!pool) {
    return prisma.$transaction(
      async (tx) => {
        for (const key of locks) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${key})`;
        return fn(tx);
      },
      { maxWait: 15_000, timeout: 30_000 },
    );
  }
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // The locks come in BEGIN's own message: no round trip of their own. No statement (a lock
    // wait included) runs longer than STATEMENT_TIMEOUT_MS: like Prisma's transaction timeout, a
    // stuck transaction fails and rolls back instead of holding its connection.
    await client.query(
      ["BEGIN", `SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`, ...locks.map((key) => `SELECT pg_advisory_xact_lock(${BigInt.asIntN(64, key)})`)].join(";\n"),
    );
    try {
      const tx = clientTx(client);
      const result = await fn(tx);
      // One simple-query message: the deferred statements, then COMMIT. If one fails, the
      // database skips the rest and the transaction is rolled back below.
      await client.query([...deferred.get(tx)!.map((sql) => inline(client, sql)), "COMMIT"].join(";\n"));
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    }
  } finally {
    // A connection whose rollback failed is in an unknown state: the pool drops it.
    client.release(broken);
  }
}

/** True when `err` is PostgreSQL's unique violation (23505) raised through `pg`, on one of `fields` if given. */
export function isPgUniqueViolation(err: unknown, fields?: string[]): boolean {
  if (!(err instanceof pg.DatabaseError) || err.code !== "23505") return false;
  if (!fields) return true;
  const text = `${err.constraint ?? ""} ${err.detail ?? ""}`;
  return fields.some((f) => text.includes(f));
}
