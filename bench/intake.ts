// Inbound throughput through the real API: `npm run bench:intake` (PostgreSQL required).
//   DATABASE_URL  server to create a throwaway database on (default postgresql://postgres@127.0.0.1:5432/postgres)
//   N             messages to publish (default 2000)
//   CONCURRENCY   publishes in flight (default 16)
//   SENDERS       distinct customers / threads (default 200)
// Prints messages per second, this process's CPU time (server, client and relay share it) and SQL
// statements per intake. Statements are counted on the wire: the server talks to PostgreSQL through
// a small TCP relay that counts the Bind ('B': one per run of a statement, prepared or not) and
// simple Query ('Q') messages it forwards, so every statement sent (BEGIN/COMMIT included) is seen;
// statements sent together in one simple query count once.
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { GraphQLClient } from "graphql-request";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { provisionAccount } from "../src/services/accounts.js";
import { toGlobalId } from "../src/schema/ids.js";

const baseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const N = Number(process.env.N ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const SENDERS = Number(process.env.SENDERS ?? 200);

const PUBLISH = /* GraphQL */ `
  mutation BenchPublish($input: PublishInboundMessageInput!) {
    publishInboundMessage(input: $input) { __typename ... on PublishInboundMessageResult { duplicate message { id } } }
  }`;

/** A TCP relay to PostgreSQL that counts the statements clients send. */
function statementCounter(target: URL) {
  let statements = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    // Without this, Nagle + delayed ACKs add ~40 ms to small round trips and the relay dominates.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let started = false;
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!started) {
          if (buf.length < 4) break;
          const len = buf.readInt32BE(0);
          if (buf.length < len) break;
          const code = buf.readInt32BE(4);
          buf = buf.subarray(len);
          if (code !== 80877103) started = true; // an SSLRequest is followed by the real startup message
          continue;
        }
        if (buf.length < 5) break;
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const type = String.fromCharCode(buf[0]);
        if (type === "B" || type === "Q") statements++;
        buf = buf.subarray(len + 1);
      }
    });
    upstream.on("data", (d) => client.write(d));
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))),
    get statements() { return statements; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

const dbName = `bench_${randomBytes(6).toString("hex")}`;
await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
const dbUrl = new URL(baseUrl);
dbUrl.pathname = `/${dbName}`;
const counter = statementCounter(dbUrl);
const relayPort = await counter.listen();
const relayUrl = new URL(dbUrl);
relayUrl.host = `127.0.0.1:${relayPort}`;

const server = await startServer(
  loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", DATA_DIR: `/tmp/${dbName}`, JWT_SECRET: randomBytes(32).toString("hex"), SEED_ON_FIRST_START: "false", DATABASE_URL: relayUrl.toString(), LOG_LEVEL: "silent" }),
  { log: () => {} },
);
try {
  const prisma = server.prisma;
  const { account } = await provisionAccount(prisma, { name: "Bench", tier: "ENTERPRISE", superAdmin: { email: "owner@bench.test", firstName: "Owner" } });
  const agents = await Promise.all(Array.from({ length: 5 }, (_, i) => prisma.user.create({ data: { accountId: account.id, email: `agent${i}@bench.test`, firstName: `Agent ${i}` } })));
  const inbox = await prisma.inbox.create({ data: { accountId: account.id, name: "Bench", fallbackEmail: `${dbName}@bench.test`, users: { create: agents.map((a) => ({ userId: a.id })) } } });
  const partner = await prisma.partner.create({ data: { name: "Bench partner" } });
  const app = await prisma.channelApp.create({ data: { partnerId: partner.id, name: "Bench app", webhookUrl: "http://127.0.0.1:9/", webhookSecret: "s" } });
  const channel = await prisma.channel.create({
    data: { accountId: account.id, inboxId: inbox.id, type: "CUSTOM", name: "Bench channel", channelAppId: app.id, autoAssign: true, routingUsers: { create: agents.map((a) => ({ userId: a.id })) } },
  });
  const token = await server.services.auth.sign({ typ: "partner", partnerId: partner.id });
  const client = new GraphQLClient(server.url, { headers: { authorization: `Bearer ${token}` } });
  const channelId = toGlobalId("Channel", channel.id);
  const publish = (i: number) => {
    const s = i % SENDERS;
    return client.request<{ publishInboundMessage: { __typename: string } }>(PUBLISH, {
      input: { channelId, externalId: `bench-${i}`, threadKey: `thread-${s}`, sender: { name: `Customer ${s}`, email: `c${s}@bench.test` }, text: `Message ${i} about order ${1000 + s}` },
    });
  };
  await publish(-1); // warm-up (schema, connections, prepared paths)

  const stats = () => admin(async (c) => (await c.query(`SELECT xact_commit::int AS commits, tup_inserted::int AS inserted FROM pg_stat_database WHERE datname = $1`, [dbName])).rows[0] as { commits: number; inserted: number });
  const s0 = await stats();
  const q0 = counter.statements;
  let next = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const r = await publish(next++);
        if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const statements = counter.statements - q0;
  await new Promise((r) => setTimeout(r, 700)); // pg_stat counters are flushed with a delay
  const s1 = await stats();
  const messages = await prisma.message.count({ where: { accountId: account.id } });
  const conversations = await prisma.conversation.count({ where: { accountId: account.id } });
  console.log(`publishInboundMessage on PostgreSQL: ${N} messages, concurrency ${CONCURRENCY}, ${SENDERS} threads`);
  console.log(`  ${(N / seconds).toFixed(0)} messages/s (${seconds.toFixed(2)} s, ${failures} failures; stored ${messages - 1} messages, ${conversations} conversations)`);
  console.log(`  ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms CPU per intake in this process (server, client and relay together)`);
  console.log(`  ${(statements / N).toFixed(1)} SQL statements per intake (counted on the wire, BEGIN/COMMIT included)`);
  console.log(`  ${((s1.inserted - s0.inserted) / N).toFixed(1)} rows inserted and ${((s1.commits - s0.commits) / N).toFixed(2)} commits per intake (pg_stat_database)`);
} finally {
  await server.close();
  await counter.close();
  await admin(async (c) => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
    await c.query(`DROP DATABASE IF EXISTS "${dbName}"`);
  });
}
