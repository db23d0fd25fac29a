// Inbound email throughput through the built-in SMTP receiver: `npm run bench:email` (PostgreSQL required).
//   DATABASE_URL  server to create a throwaway database on (default postgresql://postgres@127.0.0.1:5432/postgres)
//   N             messages to send (default 2000)
//   CONCURRENCY   SMTP connections in flight, each sending message after message (default 16)
//   SENDERS       distinct customers; a sender's later messages answer its first (In-Reply-To) (default 200)
// Each message goes nodemailer -> SMTP (loopback) -> parse -> SPF/DKIM/DMARC (mailauth, against an
// in-process DNS: this machine has no internet, and real DNS latency is the network's, not ours) ->
// intake transaction -> 250. Prints messages per second and the CPU per message of this process
// (client and server share it) and of PostgreSQL (utime+stime from /proc of the backends serving
// the bench's database, found in pg_stat_activity, before and after; PostgreSQL must run on this
// machine; other databases' work on the same server is not counted).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { provisionAccount } from "../src/services/accounts.js";
import { teamEmailSettings } from "../src/services/channel-settings.js";

const baseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const N = Number(process.env.N ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const SENDERS = Number(process.env.SENDERS ?? 200);
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds used so far by each backend serving `database` (by pid), read from /proc. */
async function backendCpu(database: string): Promise<Map<number, number>> {
  const pids = await withClient(baseUrl, (c) => c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [database]));
  const cpu = new Map<number, number>();
  for (const { pid } of pids.rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS); // utime, stime
    } catch {
      // the backend ended meanwhile
    }
  }
  return cpu;
}

/** CPU seconds the database's backends used between two readings (a backend started meanwhile counts from zero). */
const cpuBetween = (before: Map<number, number>, after: Map<number, number>) => [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const name = `bench_email_${randomBytes(4).toString("hex")}`;
await withClient(baseUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
const dbUrl = new URL(baseUrl);
dbUrl.pathname = `/${name}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-email-"));
const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: randomBytes(32).toString("hex"), DATABASE_URL: dbUrl.toString(), PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, DELIVERY_WORKER: "false", LOG_LEVEL: "silent", SMTP_LISTEN: "127.0.0.1:0" });
// The senders' domain publishes SPF for loopback; every other name is NXDOMAIN, as real DNS would answer.
config.transports.email.resolver = async (name, type) => {
  if (type === "TXT" && name === "customers.bench.test") return [["v=spf1 ip4:127.0.0.1 -all"]];
  throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: "ENOTFOUND" });
};
const server = await startServer(config, { log: () => {} });
try {
  const { account } = await provisionAccount(server.prisma, { name: "Bench", tier: "PROFESSIONAL", superAdmin: { email: "owner@bench.test", firstName: "Owner" } });
  const inbox = await server.prisma.inbox.create({ data: { accountId: account.id, name: "Support", fallbackEmail: `inbox-${randomBytes(4).toString("hex")}@bench.test` } });
  const address = "support@bench.test";
  await server.prisma.channel.create({ data: { accountId: account.id, inboxId: inbox.id, type: "TEAM_EMAIL", name: "Support", emailAddress: address, settings: teamEmailSettings.parse({ address }) } });

  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: server.smtp!.port, secure: false, ignoreTLS: true, pool: true, maxConnections: CONCURRENCY, maxMessages: Infinity });
  const messageIdOf = (i: number) => `<bench-${i}@customers.bench.test>`;
  const raw = (i: number) => {
    const sender = i % SENDERS;
    const answers = i >= SENDERS ? [`In-Reply-To: ${messageIdOf(sender)}`] : [];
    return [
      `From: Customer ${sender} <customer${sender}@customers.bench.test>`,
      `To: ${address}`,
      `Subject: ${answers.length ? "Re: " : ""}Order question ${sender}`,
      `Message-ID: ${messageIdOf(i)}`,
      ...answers,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Hello, this is message ${i} about my order ${sender}. When will it ship?`,
      "",
    ].join("\r\n");
  };
  const send = (i: number) => transport.sendMail({ envelope: { from: `customer${i % SENDERS}@customers.bench.test`, to: [address] }, raw: raw(i) });

  // Warm-up: the first message of every sender (new conversations, connection set-up, JIT).
  const warm = Math.min(SENDERS, N);
  for (let i = 0; i < warm; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, warm - i) }, (_, k) => send(i + k)));

  const measured = N - warm;
  const pgBefore = await backendCpu(name);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = warm;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await send(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const pgCpu = cpuBetween(pgBefore, await backendCpu(name));
  transport.close();

  const stored = await server.prisma.message.count({ where: { accountId: account.id } });
  if (stored !== N) throw new Error(`expected ${N} messages stored, found ${stored}`);
  const perMessageMs = (s: number) => ((s * 1000) / measured).toFixed(2);
  console.log(`email intake over SMTP: ${measured} messages (after ${warm} warm-up), ${CONCURRENCY} connections, ${SENDERS} senders (threads)`);
  console.log(`  ${(measured / seconds).toFixed(0)} messages/s (${seconds.toFixed(2)} s); all ${stored} stored`);
  console.log(`  PostgreSQL CPU ${perMessageMs(pgCpu)} ms per message (${pgCpu.toFixed(2)} s over the run)`);
  console.log(`  this process (SMTP client + server) CPU ${perMessageMs((cpu.user + cpu.system) / 1e6)} ms per message`);
} finally {
  await server.close();
  await withClient(baseUrl, async (c) => {
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    await c.query(`DROP DATABASE IF EXISTS "${name}"`);
  });
  await rm(dataDir, { recursive: true, force: true });
}
