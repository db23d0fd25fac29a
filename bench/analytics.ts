// Times one `analytics` service call over 100,000 conversations (~3 messages each) on PostgreSQL.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:analytics
//
// Creates a throwaway database on that server, applies the migrations, fills it with
// generate_series SQL, prints min/median milliseconds per call, and drops the database
// (BENCH_KEEP_DATABASE=1 keeps it, to EXPLAIN the statements by hand).
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import type { AgentContext } from "../src/context.js";
import { createPrismaClient } from "../src/db/client.js";
import { applyMigrations } from "../src/db/migrate.js";
import { provisionAccount } from "../src/services/accounts.js";
import { getAnalytics } from "../src/services/analytics.js";

const SERVER_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 100_000);
const AGENTS = 10;
const DAYS = 90;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const START = new Date("2024-01-01T00:00:00Z");

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function fill(url: string) {
  const prisma = createPrismaClient(url);
  const { account, superAdmin, helpDesk } = await provisionAccount(prisma, {
    name: "Bench",
    tier: "ENTERPRISE",
    superAdmin: { email: "owner@bench.test", firstName: "Owner" },
  });
  const agents: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    agents.push((await prisma.user.create({ data: { accountId: account.id, email: `agent${i}@bench.test`, firstName: `Agent ${i}` } })).id);
  }
  const channels: string[] = [];
  for (const type of ["CHAT", "TEAM_EMAIL", "WHATSAPP", "FACEBOOK_MESSENGER"] as const) {
    channels.push((await prisma.channel.create({ data: { accountId: account.id, inboxId: helpDesk.id, type, name: type } })).id);
  }

  // Spread evenly over DAYS; two in three closed 1-50 h later; one in seven unassigned.
  await prisma.$executeRawUnsafe(
    `INSERT INTO "Conversation" (id, "accountId", "inboxId", "channelId", "assigneeId", status, "createdAt", "closedAt", "lastActivityAt", "updatedAt")
     SELECT gen_random_uuid()::text, $1, $2, ($3::text[])[1 + g % 4],
            CASE WHEN g % 7 = 0 THEN NULL ELSE ($4::text[])[1 + g % ${AGENTS}] END,
            (CASE WHEN g % 3 = 0 THEN 'OPEN' ELSE 'CLOSED' END)::"ConversationStatus",
            t, CASE WHEN g % 3 = 0 THEN NULL ELSE t + (1 + g % 50) * interval '1 hour' END, t, t
     FROM generate_series(1, $5::int) g,
          LATERAL (SELECT $6::timestamp + g * ($7::float8 / $5::int) * interval '1 second' AS t) ts`,
    account.id, helpDesk.id, channels, agents, CONVERSATIONS, START.toISOString().replace("Z", ""), DAYS * 86_400,
  );
  // Per conversation: the customer's message, an agent reply 1-240 min later, and a comment
  // (even rows) or a second customer message (odd rows).
  await prisma.$executeRawUnsafe(
    `WITH c AS (
       SELECT id, "accountId", "channelId", "assigneeId", "createdAt", row_number() OVER (ORDER BY "createdAt") AS n
       FROM "Conversation" WHERE "accountId" = $1
     )
     INSERT INTO "Message" (id, "accountId", "conversationId", "channelId", direction, kind, "senderType", "authorId", text, "createdAt")
     SELECT gen_random_uuid()::text, c."accountId", c.id, c."channelId", m.direction::"MessageDirection", m.kind::"MessageKind",
            m.sender::"SenderType", m.author, 'bench', m.at
     FROM c CROSS JOIN LATERAL (VALUES
       ('INBOUND', 'MESSAGE', 'CONTACT', NULL, c."createdAt"),
       ('OUTBOUND', 'MESSAGE', 'AGENT', coalesce(c."assigneeId", ($2::text[])[1 + c.n % ${AGENTS}]), c."createdAt" + (1 + c.n % 240) * interval '1 minute'),
       (CASE WHEN c.n % 2 = 0 THEN 'OUTBOUND' ELSE 'INBOUND' END, CASE WHEN c.n % 2 = 0 THEN 'COMMENT' ELSE 'MESSAGE' END,
        CASE WHEN c.n % 2 = 0 THEN 'AGENT' ELSE 'CONTACT' END, CASE WHEN c.n % 2 = 0 THEN ($2::text[])[1 + (c.n + 1) % ${AGENTS}] END,
        c."createdAt" + interval '5 minutes')
     ) AS m(direction, kind, sender, author, at)`,
    account.id, agents,
  );
  await prisma.$executeRawUnsafe(`ANALYZE "Conversation"; `);
  await prisma.$executeRawUnsafe(`ANALYZE "Message"`);
  const user = await prisma.user.findUniqueOrThrow({ where: { id: superAdmin.id } });
  return { prisma, ctx: { kind: "agent", prisma, accountId: account.id, user } as unknown as AgentContext };
}

async function time(label: string, call: () => Promise<unknown>) {
  if (RUNS === 0) return; // BENCH_RUNS=0 with BENCH_KEEP_DATABASE=1: just fill a database
  await call(); // warm-up: connections, plans, caches
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await call();
    ms.push(performance.now() - started);
  }
  ms.sort((x, y) => x - y);
  console.log(`${label}: min ${ms[0].toFixed(1)} ms, median ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms (${RUNS} runs)`);
}

const name = `bench_analytics_${randomBytes(6).toString("hex")}`;
await admin((c) => c.query(`CREATE DATABASE "${name}"`));
const url = new URL(SERVER_URL);
url.pathname = `/${name}`;
let prisma: Awaited<ReturnType<typeof fill>>["prisma"] | undefined;
try {
  await applyMigrations(url.toString());
  const filling = performance.now();
  const filled = await fill(url.toString());
  prisma = filled.prisma;
  const counts = await prisma.$queryRawUnsafe<Array<{ conversations: number; messages: number }>>(
    `SELECT (SELECT count(*)::int FROM "Conversation") AS conversations, (SELECT count(*)::int FROM "Message") AS messages`,
  );
  console.log(`filled ${counts[0].conversations} conversations, ${counts[0].messages} messages in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  const end = new Date(START.getTime() + DAYS * 86_400_000);
  const { ctx } = filled;
  await time(`analytics, all ${DAYS} days (Europe/Berlin)`, () => getAnalytics(ctx, { from: START, to: end, timeZone: "Europe/Berlin" }));
  await time("analytics, last 30 days (Europe/Berlin)", () =>
    getAnalytics(ctx, { from: new Date(end.getTime() - 30 * 86_400_000), to: end, timeZone: "Europe/Berlin" }),
  );
  await time("analytics, last 7 days (UTC)", () => getAnalytics(ctx, { from: new Date(end.getTime() - 7 * 86_400_000), to: end }));
} finally {
  await prisma?.$disconnect();
  if (process.env.BENCH_KEEP_DATABASE) console.log(`kept database ${url.toString()}`);
  else await admin(async (c) => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    await c.query(`DROP DATABASE IF EXISTS "${name}"`);
  });
}
