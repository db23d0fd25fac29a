// The inbox list's cost against a floor: `npm run bench:inbox` (PostgreSQL required).
//   DATABASE_URL  server to create the throwaway database on (default postgresql://postgres@127.0.0.1:5432/postgres)
//   N             requests per variant and side (default 300)
//   CONCURRENCY   requests in flight (default 10)
// Seeds 100,000 conversations / 1,000,000 messages / 20,000 contacts / 10,000 tickets in one account
// of 10 inboxes and 50 agents (INSERT ... SELECT generate_series), then measures, interleaved in
// one run, the project's `conversations` page (contact, assignee, ticket status, last message)
// against the same rows fetched by one hand-written SQL statement over `pg` behind a minimal
// node:http server in this same process (the floor). CPU is this process's (server and client
// together, for both sides); statements are counted at the `pg` client. Then `viewCounts` (every
// view's count and unread count, src/services/views.ts) for an admin and an agent, p50/p99.
import { randomBytes } from "node:crypto";
import http from "node:http";
import os from "node:os";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { provisionAccount } from "../src/services/accounts.js";

const baseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const N = Number(process.env.N ?? 300);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10);

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

const dbName = `bench_inbox_${randomBytes(4).toString("hex")}`;
await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
const dbUrl = new URL(baseUrl);
dbUrl.pathname = `/${dbName}`;
const server = await startServer(
  loadConfig({ NODE_ENV: "production", PORT: "0", HOST: "127.0.0.1", DATA_DIR: `/tmp/${dbName}`, JWT_SECRET: randomBytes(32).toString("hex"), SEED_ON_FIRST_START: "false", DATABASE_URL: dbUrl.toString(), LOG_LEVEL: "silent", RATE_LIMIT_OPERATIONS_MAX: "10000000" }),
  { log: () => {} },
);
const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 10 });
let floor: http.Server | undefined;
try {
  const prisma = server.prisma;
  const { account, superAdmin } = await provisionAccount(prisma, { name: "Bench", tier: "ENTERPRISE", superAdmin: { email: "owner@bench.test", firstName: "Owner" } });
  const A = account.id;
  const t0 = performance.now();
  const db = await pool.connect();
  const q = (text: string, values: unknown[] = []) => db.query(text, values);
  await q(`INSERT INTO "User" (id, "accountId", email, "firstName", "updatedAt") SELECT 'u' || i, $1, 'agent' || i || '@bench.test', 'Agent ' || i, now() FROM generate_series(0, 49) i`, [A]);
  await q(`INSERT INTO "Partner" (id, name) VALUES ('p0', 'Bench partner')`);
  await q(`INSERT INTO "ChannelApp" (id, "partnerId", name, "webhookUrl", "webhookSecret", "updatedAt") VALUES ('app0', 'p0', 'Bench app', 'http://127.0.0.1:9/', 's', now())`);
  await q(`INSERT INTO "Inbox" (id, "accountId", name, "fallbackEmail") SELECT 'i' || i, $1, 'Inbox ' || i, 'inbox' || i || '@bench.test' FROM generate_series(0, 9) i`, [A]);
  await q(`INSERT INTO "InboxUser" ("accountId", "inboxId", "userId") SELECT $1, 'i' || (i % 10), 'u' || i FROM generate_series(0, 49) i`, [A]);
  await q(`INSERT INTO "Channel" (id, "accountId", "inboxId", type, name, "channelAppId", "updatedAt") SELECT 'ch' || i, $1, 'i' || i, 'CUSTOM', 'Channel ' || i, 'app0', now() FROM generate_series(0, 9) i`, [A]);
  await q(`INSERT INTO "Contact" (id, "accountId", name, email, "createdAt", "updatedAt") SELECT 'k' || i, $1, 'Customer ' || i, 'customer' || i || '@bench.test', now() - i * interval '1 minute', now() FROM generate_series(0, 19999) i`, [A]);
  const { rows: [status] } = await q(`SELECT s.id, s."pipelineId" FROM "PipelineStatus" s JOIN "Pipeline" p ON p.id = s."pipelineId" WHERE s."accountId" = $1 ORDER BY p."isDefault" DESC, s.position LIMIT 1`, [A]);
  await q(`INSERT INTO "Ticket" (id, "accountId", name, "pipelineId", "statusId", "contactId", "lastActivityAt", "updatedAt") SELECT 't' || i, $1, 'Ticket ' || i, $2, $3, 'k' || (i * 2 % 20000), now() - i * interval '10 seconds', now() FROM generate_series(0, 9999) i`, [A, status.pipelineId, status.id]);
  await q(`INSERT INTO "Conversation" (id, "accountId", "inboxId", "channelId", "contactId", subject, "assigneeId", status, "ticketId", "lastActivityAt", "createdAt", "updatedAt", search)
    SELECT 'c' || i, $1, 'i' || (i % 10), 'ch' || (i % 10), 'k' || (i % 20000), 'Order ' || i,
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'u' || (i % 50) END, (CASE WHEN i % 3 = 0 THEN 'CLOSED' ELSE 'OPEN' END)::"ConversationStatus",
      CASE WHEN i % 10 = 0 THEN 't' || (i / 10) END, now() - i * interval '1 second', now() - i * interval '1 second' - interval '1 hour', now(),
      to_tsvector('simple', 'order ' || i || ' customer ' || (i % 20000) || ' parcel ' || (i % 997))
    FROM generate_series(0, 99999) i`, [A]);
  await q(`INSERT INTO "Message" (id, "accountId", "conversationId", "channelId", direction, "senderType", "authorId", text, "createdAt")
    SELECT 'm' || i, $1, 'c' || (i / 10), 'ch' || ((i / 10) % 10), (CASE WHEN i % 2 = 0 THEN 'INBOUND' ELSE 'OUTBOUND' END)::"MessageDirection",
      (CASE WHEN i % 2 = 0 THEN 'CONTACT' ELSE 'AGENT' END)::"SenderType", CASE WHEN i % 2 = 1 THEN 'u' || (i % 50) END,
      'Message ' || i || ' about order ' || (i / 10), now() - (i / 10) * interval '1 second' - (10 - i % 10) * interval '1 millisecond'
    FROM generate_series(0, 999999) i`, [A]);
  await q(`ANALYZE`);
  db.release();
  console.log(`seeded 100,000 conversations, 1,000,000 messages, 20,000 contacts, 10,000 tickets in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const token = await server.services.auth.sign({ typ: "agent", userId: superAdmin.id, accountId: A });
  const LIST = `query Inbox($first: Int, $after: String, $filter: ConversationFilter, $search: String) {
    conversations(first: $first, after: $after, filter: $filter, search: $search) {
      pageInfo { hasNextPage endCursor }
      edges { node { id subject status lastActivityAt contact { id name } assignee { id firstName } ticket { id name status { name } } lastMessage { text direction createdAt author { firstName } } } }
    } }`;

  // The floor: the same rows by one hand-written statement, JSON over node:http.
  const floorSql = (where: string, limit: number) => `
    SELECT c.id, c.subject, c.status, c."lastActivityAt", json_build_object('id', k.id, 'name', k.name) AS contact,
      CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'firstName', u."firstName") END AS assignee,
      CASE WHEN t.id IS NULL THEN NULL ELSE json_build_object('id', t.id, 'name', t.name, 'status', json_build_object('name', s.name)) END AS ticket,
      (SELECT json_build_object('text', m.text, 'direction', m.direction, 'createdAt', m."createdAt", 'author', json_build_object('firstName', a."firstName"))
         FROM "Message" m LEFT JOIN "User" a ON a."accountId" = m."accountId" AND a.id = m."authorId"
        WHERE m."accountId" = c."accountId" AND m."conversationId" = c.id ORDER BY m."createdAt" DESC, m.id DESC LIMIT 1) AS "lastMessage"
    FROM "Conversation" c
    LEFT JOIN "Contact" k ON k."accountId" = c."accountId" AND k.id = c."contactId"
    LEFT JOIN "User" u ON u."accountId" = c."accountId" AND u.id = c."assigneeId"
    LEFT JOIN "Ticket" t ON t."accountId" = c."accountId" AND t.id = c."ticketId"
    LEFT JOIN "PipelineStatus" s ON s."accountId" = t."accountId" AND s.id = t."statusId"
    WHERE c."accountId" = $1 ${where} ORDER BY c."lastActivityAt" DESC, c.id DESC LIMIT ${limit}`;
  floor = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const v = JSON.parse(Buffer.concat(chunks).toString()) as { where: string; limit: number; values: unknown[] };
    const r = await pool.query({ text: floorSql(v.where, v.limit), values: [A, ...v.values] });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ data: { conversations: r.rows } }));
  });
  await new Promise<void>((resolve) => floor!.listen(0, "127.0.0.1", resolve));
  const floorUrl = `http://127.0.0.1:${(floor.address() as { port: number }).port}/`;

  const post = async (url: string, body: unknown, auth?: string) => {
    const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });
    const json = (await r.json()) as { errors?: unknown; data?: { conversations?: { pageInfo?: { endCursor?: string } } } };
    if (json.errors) throw new Error(JSON.stringify(json.errors));
    return json;
  };
  const first = await post(server.url, { query: LIST, variables: { first: 50 } }, token);
  const cursor = first.data!.conversations!.pageInfo!.endCursor!;
  const [cursorAt, cursorId] = JSON.parse(Buffer.from(cursor, "base64url").toString()) as [string, string];
  const variants = [
    { name: "first page", vars: {}, where: "", values: [] as unknown[] },
    { name: "cursor page", vars: { after: cursor }, where: `AND (c."lastActivityAt", c.id) < ($2::timestamp(3), $3)`, values: [cursorAt, cursorId] },
    { name: "filtered (inbox+OPEN)", vars: { filter: { inboxId: Buffer.from("Inbox:i3").toString("base64url"), status: "OPEN" } }, where: `AND c."inboxId" = 'i3' AND c.status = 'OPEN'`, values: [] },
    { name: "search", vars: { search: "parcel 42" }, where: `AND c.search @@ websearch_to_tsquery('simple', 'parcel 42')`, values: [] },
  ];
  const { toGlobalId } = await import("../src/schema/ids.js");
  variants[2].vars = { filter: { inboxId: toGlobalId("Inbox", "i3"), status: "OPEN" } };

  async function run(send: () => Promise<unknown>) {
    return runWith(CONCURRENCY, N, send);
  }
  async function runWith(CONCURRENCY: number, N: number, send: () => Promise<unknown>) {
    const latencies: number[] = [];
    let next = 0;
    const s0 = statements;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) {
        const t = performance.now();
        await send();
        latencies.push(performance.now() - t);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    latencies.sort((a, b) => a - b);
    return { rps: N / seconds, p50: latencies[Math.floor(N * 0.5)], p99: latencies[Math.floor(N * 0.99)], cpu: (cpu.user + cpu.system) / 1000 / N, statements: (statements - s0) / N };
  }

  const fmt = (r: Awaited<ReturnType<typeof run>>) => `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  CPU ${r.cpu.toFixed(2)} ms  ${r.statements.toFixed(1)} stmt`;
  console.log(`\nconcurrency ${CONCURRENCY}, ${N} requests per side and variant; CPU = this process (server + client) per request`);
  for (const size of [10, 50]) {
    for (const v of variants) {
      const project = () => post(server.url, { query: LIST, variables: { first: size, ...v.vars } }, token);
      const floorReq = () => post(floorUrl, { where: v.where, limit: size, values: v.values });
      await project();
      await floorReq();
      // Interleaved: half of each side, then the other half, so drift hits both.
      const a1 = await run(project);
      const b1 = await run(floorReq);
      const a2 = await run(project);
      const b2 = await run(floorReq);
      const avg = (x: typeof a1, y: typeof a1) => ({ rps: (x.rps + y.rps) / 2, p50: (x.p50 + y.p50) / 2, p99: (x.p99 + y.p99) / 2, cpu: (x.cpu + y.cpu) / 2, statements: (x.statements + y.statements) / 2 });
      const p = avg(a1, a2);
      const f = avg(b1, b2);
      console.log(`${`${v.name}, ${size} rows`.padEnd(30)} project ${fmt(p)}`);
      console.log(`${"".padEnd(30)} floor   ${fmt(f)}`);
      console.log(`${"".padEnd(30)} ratio   p50 ${(p.p50 / f.p50).toFixed(2)}x  req/s ${(p.rps / f.rps).toFixed(2)}x  CPU ${(p.cpu / f.cpu).toFixed(2)}x`);
    }
  }
  const viewer = await run(() => post(server.url, { query: "{ viewer { id } }" }, token));
  console.log(`\n{ viewer { id } }               ${fmt(viewer)}`);

  // viewCounts: the four built-in views plus two shared ones, counted for the caller in one
  // statement. Read positions: the owner has read half of the conversations, agent u7 (a member
  // of inbox i7, ~2,000 assigned) every one of its inbox's older half; 1,000 mentions of u7, half read.
  {
    const seed = await pool.connect();
    try {
      await seed.query(`INSERT INTO "ConversationRead" ("accountId", "userId", "conversationId", "lastReadAt", "updatedAt")
        SELECT $1, $2, 'c' || i, now() - i * interval '1 second', now() FROM generate_series(0, 99999, 2) i`, [A, superAdmin.id]);
      await seed.query(`INSERT INTO "ConversationRead" ("accountId", "userId", "conversationId", "lastReadAt", "updatedAt")
        SELECT $1, 'u7', 'c' || i, now() - i * interval '1 second', now() FROM generate_series(50007, 99999, 10) i`, [A]);
      await seed.query(`INSERT INTO "MessageMention" ("accountId", "messageId", "conversationId", "userId", "createdAt", "readAt")
        SELECT $1, 'm' || (i * 10 + 1), 'c' || i, 'u7', now() - i * interval '1 second', CASE WHEN i % 20 = 7 THEN now() END FROM generate_series(7, 9997, 10) i`, [A]);
      await seed.query(`INSERT INTO "View" (id, "accountId", name, filter, "updatedAt") VALUES
        ('v1', $1, 'Inbox 3, open', $2, now()), ('v2', $1, 'Closed, inbox 7', $3, now())`,
        [A, JSON.stringify({ inboxId: toGlobalId("Inbox", "i3"), status: "OPEN" }), JSON.stringify({ inboxId: toGlobalId("Inbox", "i7"), status: "CLOSED" })]);
      await seed.query(`ANALYZE "ConversationRead"; ANALYZE "MessageMention"; ANALYZE "View"`);
    } finally {
      seed.release();
    }
    const agentToken = await server.services.auth.sign({ typ: "agent", userId: "u7", accountId: A });
    const COUNTS = "{ viewCounts { view { id name } count unreadCount } }";
    console.log(`\nviewCounts (6 views, 100,000 conversations), one request at a time; load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    for (const [who, tok] of [["owner (sees all)", token], ["agent u7 (1 inbox)", agentToken]] as const) {
      const once = (await post(server.url, { query: COUNTS }, tok)) as { data: { viewCounts: { view: { name: string }; count: number; unreadCount: number }[] } };
      const r = await runWith(1, Math.min(N, 200), () => post(server.url, { query: COUNTS }, tok));
      console.log(`  ${who.padEnd(20)} ${fmt(r)}`);
      console.log(`  ${"".padEnd(20)} ${once.data.viewCounts.map((c) => `${c.view.name}: ${c.count}/${c.unreadCount}`).join(", ")}`);
    }
  }

  console.log("\nEXPLAIN (the list's statement for each filter, 100,000 conversations):");
  const explainDb = await pool.connect();
  try {
    for (const where of [``, `AND c."inboxId" = 'i3'`, `AND c.status = 'OPEN'`, `AND c."assigneeId" = 'u7'`, `AND c."assigneeId" IS NULL`, `AND c."channelId" = 'ch2'`,
      `AND c."lastActivityAt" >= now() - interval '1 day' AND c."lastActivityAt" < now() - interval '12 hours'`, `AND c.search @@ websearch_to_tsquery('simple', 'parcel 42')`]) {
      const r = await explainDb.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT c.id FROM "Conversation" c WHERE c."accountId" = $1 ${where} ORDER BY c."lastActivityAt" DESC, c.id DESC LIMIT 51`, [A]);
      const plan = r.rows.map((x: Record<string, string>) => x["QUERY PLAN"]);
      console.log(`  ${(where || "(no filter)").slice(0, 60).padEnd(60)} ${plan.find((l: string) => /Index|Seq Scan|Bitmap/.test(l))?.trim()} | ${plan.find((l: string) => /Execution Time/.test(l))?.trim()}`);
    }
  } finally {
    explainDb.release();
  }
} finally {
  await new Promise<void>((resolve) => (floor ? floor.close(() => resolve()) : resolve()));
  await pool.end();
  await server.close();
  await admin(async (c) => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
    await c.query(`DROP DATABASE IF EXISTS "${dbName}"`);
  });
}
