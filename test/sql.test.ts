import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma, type PrismaClient } from "../src/generated/prisma/client.js";
import { createPrismaClient } from "../src/db/client.js";
import { deferUntilCommit, sqlQuery, sqlTransaction } from "../src/db/sql.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";

// Raw SQL through `pg` on Prisma's pool (src/db/sql.ts), against the real database: results
// typed as Prisma's raw queries type them, all-or-nothing transactions, statements sent with COMMIT.
describe("raw SQL through pg", () => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url, { maxConnections: db.embedded ? 1 : 4 });
    await prisma.$executeRawUnsafe(`CREATE TABLE t (id int PRIMARY KEY, label text, at timestamp(3), n bigint, doc jsonb, tags text[])`);
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  it("returns what Prisma's $queryRaw returns for the same row (bigint, UTC timestamps, JSON, arrays)", async () => {
    const at = new Date("2026-03-29T01:30:00.123Z");
    await sqlTransaction(prisma, (tx) => tx.$executeRaw`INSERT INTO t VALUES (1, ${"it's"}, ${at}, ${9007199254740993n}, ${JSON.stringify({ a: [1, "x"] })}::jsonb, ${["a", "b,c"]}::text[])`);
    const viaPg = await sqlQuery(prisma, Prisma.sql`SELECT * FROM t WHERE id = 1`);
    const viaPrisma = await prisma.$queryRaw`SELECT * FROM t WHERE id = 1`;
    expect(viaPg).toEqual(viaPrisma);
    expect(viaPg).toEqual([{ id: 1, label: "it's", at, n: 9007199254740993n, doc: { a: [1, "x"] }, tags: ["a", "b,c"] }]);
  });

  it("rolls everything back when the function throws", async () => {
    await expect(
      sqlTransaction(prisma, async (tx) => {
        await tx.$executeRaw`INSERT INTO t (id) VALUES (2)`;
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await prisma.$queryRaw`SELECT id FROM t WHERE id = 2`).toEqual([]);
  });

  it("runs deferred statements with the COMMIT, their values written in as literals", async () => {
    const tricky = "quote ' backslash \\ dollar $1 semicolon ; -- not a comment";
    await sqlTransaction(prisma, async (tx) => {
      await tx.$executeRaw`INSERT INTO t (id) VALUES (3)`;
      const deferred = deferUntilCommit(tx, Prisma.sql`UPDATE t SET label = ${tricky}, at = ${new Date("2026-01-02T03:04:05.006Z")}, n = ${-5n},
        doc = ${JSON.stringify({ q: "it's" })}::jsonb, tags = ${["x'y", null]}::text[] WHERE id = ${3}`);
      expect(deferred).toBe(true);
      // Not run yet: it goes with the COMMIT.
      expect(await tx.$queryRaw`SELECT label FROM t WHERE id = 3`).toEqual([{ label: null }]);
    });
    expect(await sqlQuery(prisma, Prisma.sql`SELECT label, at, n, doc, tags FROM t WHERE id = 3`)).toEqual([
      { label: tricky, at: new Date("2026-01-02T03:04:05.006Z"), n: -5n, doc: { q: "it's" }, tags: ["x'y", null] },
    ]);
  });

  it("rolls the whole transaction back when a deferred statement fails", async () => {
    await expect(
      sqlTransaction(prisma, async (tx) => {
        await tx.$executeRaw`INSERT INTO t (id) VALUES (4)`;
        deferUntilCommit(tx, Prisma.sql`INSERT INTO t (id) VALUES (${1})`); // duplicate key
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await prisma.$queryRaw`SELECT id FROM t WHERE id = 4`).toEqual([]);
    // The connection went back to the pool in a usable state.
    expect(await sqlQuery(prisma, Prisma.sql`SELECT count(*) AS n FROM t`)).toEqual([{ n: 2n }]);
  });

  it("bounds each statement's time, and takes advisory locks as it begins", async () => {
    const settings = await sqlTransaction(prisma, (tx) => tx.$queryRaw<{ timeout: string; locks: bigint }[]>`
      SELECT current_setting('statement_timeout') AS timeout, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`, { advisoryLocks: [42n, -7n] });
    expect(settings).toEqual([{ timeout: "30s", locks: 2n }]);
    // Both were transaction-scoped: gone with the commit, and the setting back to the default.
    expect(await sqlQuery(prisma, Prisma.sql`SELECT current_setting('statement_timeout') AS timeout, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`)).toEqual([
      { timeout: "0", locks: 0n },
    ]);
  });

  it("a Prisma transaction takes no deferred statement: its caller runs it", async () => {
    await prisma.$transaction(async (tx) => {
      expect(deferUntilCommit(tx, Prisma.sql`SELECT 1`)).toBe(false);
    });
  });
  it("prepares a statement once per connection; a failing statement fails with its own error each time and the connection stays usable", async () => {
    const marker = `prepared-${Date.now()}`;
    const prepared = await sqlTransaction(prisma, async (tx) => {
      for (let n = 0; n < 3; n++) expect(await tx.$queryRaw`SELECT ${n}::int AS n, ${marker}::text AS marker`).toEqual([{ n, marker }]);
      return tx.$queryRaw<{ statement: string }[]>`SELECT statement FROM pg_prepared_statements WHERE statement LIKE ${"%AS marker"}`;
    });
    expect(prepared).toEqual([{ statement: "SELECT $1::int AS n, $2::text AS marker" }]);
    for (let n = 0; n < 2; n++) await expect(sqlQuery(prisma, Prisma.sql`SELEC ${n}`)).rejects.toThrow(/syntax error/);
    expect(await sqlQuery(prisma, Prisma.sql`SELECT ${7}::int AS n, ${marker}::text AS marker`)).toEqual([{ n: 7, marker }]);
  });
});
