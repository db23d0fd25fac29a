// Live delivery to many agents: `npm run bench:realtime` (PostgreSQL required).
//   DATABASE_URL  server to create a throwaway database on (default postgresql://postgres@127.0.0.1:5432/postgres)
//   AGENTS        agents connected over WebSocket, all members of the inbox (default 1000)
//   RATE          messages per second published through publishInboundMessage (default 100)
//   SECONDS       how long to publish (default 10)
//   THREADS       spread the messages over this many conversations (follow-ups in existing threads,
//                 the usual traffic); default: every message starts a new conversation (the costliest intake)
//   CPU_PROF      write the server's CPU profile to /tmp/prof (node --cpu-prof)
//   SERVER_JS     run this JavaScript entry instead of src/index.ts under tsx: profiles of code
//                 built with `npx esbuild $(find src -name '*.ts') --outdir=/tmp/build/src --format=esm
//                 --platform=node` (node_modules and prisma linked beside it) have line numbers
//   SERVER_URL    use a server already running (e.g. on its own host) instead of starting one: the
//                 GraphQL URL it printed (http://host:port/graphql);
//                 DATABASE_URL must then name that server's database (an account with AGENTS users
//                 is added to it and left there) and JWT_SECRET its secret; give that server
//                 RATE_LIMIT_INTAKE_MAX=1000000 and RATE_LIMIT_OPERATIONS_MAX=10000000
//   SOAK_MINUTES  soak mode: publish for this many minutes (defaults then AGENTS=300, RATE=10) with
//                 subscribe/unsubscribe churn, and print the server's RSS and heap after a full GC
//                 at the start, every minute, the middle and the end (read through the inspector:
//                 the server then runs with --inspect=127.0.0.1:0); not with SERVER_URL
//   CHURN         soak: subscriptions ended and replaced per second, cycling through the agents and
//                 two selections (default AGENTS/30: each agent resubscribes about every 30 s)
//   RECONNECTS    soak: agents per second whose socket is dropped and connected again, resuming
//                 with `after` their last cursor (default 1)
//   HEAP_SNAPSHOTS soak: a directory to write server heap snapshots to at minute 2, the middle and the end
// By default the server runs as its own process (`src/index.ts`) on a fresh database; this process
// plays the partner and every agent. Latency is from publishInboundMessage returning to each agent
// receiving the message.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { GraphQLClient } from "graphql-request";
import WebSocket from "ws";
import { createAuth } from "../src/auth.js";
import { connectServerMemory, inspectorUrl, type MemoryFigures, type ServerMemory } from "./server-memory.js";
import { loadConfig } from "../src/config.js";
import { createPrismaClient } from "../src/db/client.js";
import { provisionAccount } from "../src/services/accounts.js";
import { toGlobalId } from "../src/schema/ids.js";

/** User and system (kernel) CPU seconds a process has used so far (Linux /proc). */
function processCpu(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }; // utime, stime in clock ticks (USER_HZ 100)
}

/** User + system CPU seconds used so far by every PostgreSQL process on this machine (backends, writer, WAL...). */
function postgresCpu(): number {
  let seconds = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
      const { user, system } = processCpu(Number(pid));
      seconds += user + system;
    } catch {
      // the process ended while being read
    }
  }
  return seconds;
}

/** Busy and total CPU time of the whole machine so far, in clock ticks (Linux /proc/stat). */
function machineCpuTicks(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

const baseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const SOAK_MINUTES = process.env.SOAK_MINUTES ? Number(process.env.SOAK_MINUTES) : undefined;
const AGENTS = Number(process.env.AGENTS ?? (SOAK_MINUTES ? 300 : 1000));
const RATE = Number(process.env.RATE ?? (SOAK_MINUTES ? 10 : 100));
const SECONDS = SOAK_MINUTES ? SOAK_MINUTES * 60 : Number(process.env.SECONDS ?? 10);
const CHURN = Number(process.env.CHURN ?? Math.max(1, Math.round(AGENTS / 30)));
const RECONNECTS = Number(process.env.RECONNECTS ?? 1);
/** Selections the soak's churn alternates: a scalar row, and a relation (through Prisma). */
const SOAK_DOCUMENTS = ["subscription { messageAdded { id text eventCursor } }", "subscription { messageAdded { id text eventCursor conversation { id status } } }"];
/** What a reconnecting agent subscribes with: after the last cursor it received (the gap is replayed from the database). */
const RESUME_DOCUMENT = "subscription ($after: String) { messageAdded(after: $after) { id text eventCursor } }";
const THREADS = process.env.THREADS ? Number(process.env.THREADS) : undefined;
interface Target {
  url: string;
  dbUrl: string;
  secret: string;
  /** The server's process id when it runs on this host (its CPU is then measured). */
  pid?: number;
  /** The server's inspector, when it runs here in soak mode (memory figures). */
  inspector?: string;
  stop(): Promise<void>;
}

/** A fresh database on DATABASE_URL's server and our own server process on it (the default). */
async function startLocalServer(): Promise<Target> {
  const secret = randomBytes(32).toString("hex");
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const dbName = `bench_rt_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(baseUrl);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-rt-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: dbUrl.toString(),
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    JWT_SECRET: secret,
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    RATE_LIMIT_INTAKE_MAX: "1000000",
    RATE_LIMIT_OPERATIONS_MAX: "10000000",
  };
  delete env.REDIS_URL;
  const flags = [...(process.env.CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []), ...(SOAK_MINUTES ? ["--inspect=127.0.0.1:0"] : [])];
  const child = spawn(process.execPath, [...flags, ...(process.env.SERVER_JS ? [process.env.SERVER_JS] : ["--import", "tsx", "src/index.ts"])], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    if (stderr.length < 10_000) stderr += d;
    if (!/^(Debugger listening on|Debugger attached|Debugger ending on|For help, see:)/.test(String(d))) process.stderr.write(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      if (/ready at/.test(out)) process.stderr.write(`[server] ${d}`);
      out += d;
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return {
    url,
    dbUrl: dbUrl.toString(),
    secret,
    pid: child.pid,
    inspector: inspectorUrl(stderr),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A server already running elsewhere (SERVER_URL), on the database DATABASE_URL names, verifying JWT_SECRET. */
function remoteServer(url: string): Target {
  const secret = process.env.JWT_SECRET;
  if (!secret || !process.env.DATABASE_URL) throw new Error("SERVER_URL needs DATABASE_URL (the server's database) and JWT_SECRET (the server's secret)");
  return { url, dbUrl: process.env.DATABASE_URL, secret, stop: async () => {} };
}

const target = process.env.SERVER_URL ? remoteServer(process.env.SERVER_URL.replace(/\/$/, "")) : await startLocalServer();
const { url, dbUrl, secret } = target;
const tag = randomBytes(4).toString("hex");
const prisma = createPrismaClient(dbUrl, { maxConnections: 4 });
const sockets: WebSocket[] = [];
try {
  const { account, helpDesk } = await provisionAccount(prisma, { name: "Bench", tier: "ENTERPRISE", superAdmin: { email: `owner-${tag}@bench.test`, firstName: "Owner" } });
  await prisma.user.createMany({ data: Array.from({ length: AGENTS }, (_, i) => ({ accountId: account.id, email: `agent${i}-${tag}@bench.test`, firstName: `Agent ${i}` })) });
  const agents = await prisma.user.findMany({ where: { accountId: account.id, role: "AGENT" } });
  const inbox = await prisma.inbox.create({ data: { accountId: account.id, name: "Bench", fallbackEmail: `bench-${tag}@bench.test`, users: { create: agents.map((a) => ({ userId: a.id })) } } });
  void helpDesk;
  const partner = await prisma.partner.create({ data: { name: "Bench partner" } });
  const app = await prisma.channelApp.create({ data: { partnerId: partner.id, name: "Bench app", webhookUrl: "http://127.0.0.1:9/none", webhookSecret: "x" } });
  const channel = await prisma.channel.create({ data: { accountId: account.id, inboxId: inbox.id, type: "CUSTOM", name: "Bench", channelAppId: app.id } });
  const auth = await createAuth(loadConfig({ ...process.env, JWT_SECRET: secret, DATA_DIR: os.tmpdir() }));
  const partnerToken = await auth.sign({ typ: "partner", partnerId: partner.id });

  const sentAt = new Map<string, number>();
  // Deliveries that beat the publishing HTTP response: counted (as negative latencies) once it returns.
  const early = new Map<string, number[]>();
  const latencies: number[] = [];
  const received = new Array<number>(agents.length).fill(0);
  const wsUrl = url.replace(/^http/, "ws");
  console.log(`connecting ${agents.length} agents over WebSocket...`);
  // A minimal graphql-transport-ws client per agent (connection_init, subscribe, read `next`
  // frames): the full graphql-ws client costs this process more CPU than it leaves the server.
  const tokens = await Promise.all(agents.map((agent) => auth.sign({ typ: "agent", userId: agent.id, accountId: account.id })));
  // Each agent's current operation id and selection (the soak's churn replaces them).
  const operations = agents.map(() => ({ id: 1, document: SOAK_DOCUMENTS[0] }));
  const cursors = agents.map((): string | undefined => undefined);
  const subscribe = (i: number) =>
    sockets[i].send(JSON.stringify({ id: String(operations[i].id), type: "subscribe", payload: { query: operations[i].document, variables: operations[i].document === RESUME_DOCUMENT ? { after: cursors[i] } : undefined } }));
  const connectAgent = (i: number) => {
    const socket = new WebSocket(wsUrl, "graphql-transport-ws");
    sockets[i] = socket;
    return new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tokens[i]}` } })));
      socket.on("message", (raw) => {
          const frame = raw.toString();
          if (frame.startsWith('{"type":"connection_ack"')) {
            subscribe(i);
            return resolve();
          }
          const text = /"text":"([^"]*)"/.exec(frame)?.[1];
          if (text === undefined) return console.error(`agent ${i}: ${frame.slice(0, 200)}`);
          received[i]++;
          const cursor = /"eventCursor":"(\d+)"/.exec(frame)?.[1];
          if (cursor) cursors[i] = cursor;
          const sent = sentAt.get(text);
          if (sent !== undefined) latencies.push(performance.now() - sent);
          else if (text.startsWith("m-")) early.set(text, [...(early.get(text) ?? []), performance.now()]);
      });
    });
  };
  await Promise.all(agents.map((_, i) => connectAgent(i)));

  /**
   * Soak mode: every second CHURN subscriptions are ended and replaced (cycling through the agents
   * and SOAK_DOCUMENTS) and RECONNECTS sockets dropped and connected again (resuming with `after`,
   * RESUME_DOCUMENT); every minute the
   * server's memory is read after a full GC (and heap snapshots written, with HEAP_SNAPSHOTS).
   */
  const startSoak = async (inspector: string | undefined) => {
    const memory: ServerMemory | undefined = inspector ? await connectServerMemory(inspector) : undefined;
    const samples: Array<{ minute: number; figures: MemoryFigures }> = [];
    const snapshotMinutes = new Set([2, Math.round(SOAK_MINUTES! / 2), SOAK_MINUTES!]);
    const sample = async (minute: number) => {
      if (!memory) return;
      const figures = await memory.afterGc();
      samples.push({ minute, figures });
      console.log(`minute ${minute}: server RSS ${figures.rss} MB, heap ${figures.heapUsed} MB after GC (heap total ${figures.heapTotal} MB, external ${figures.external} MB); ${latencies.length} deliveries so far`);
      if (process.env.HEAP_SNAPSHOTS && snapshotMinutes.has(minute)) {
        const file = path.join(process.env.HEAP_SNAPSHOTS, `server-minute-${minute}.heapsnapshot`);
        await memory.snapshot(file);
        console.log(`  heap snapshot: ${file}`);
      }
    };
    if (!memory) console.log("server memory: not measured (the server runs elsewhere)");
    await sample(0);
    const began = performance.now();
    let stopped = false;
    const sampler = (async () => {
      for (let minute = 1; minute <= SOAK_MINUTES! && !stopped; minute++) {
        await new Promise((r) => setTimeout(r, Math.max(0, began + minute * 60_000 - performance.now())));
        await sample(minute);
      }
    })();
    let churned = 0;
    let reconnected = 0;
    const churn = setInterval(() => {
      for (let k = 0; k < CHURN; k++) {
        const i = churned++ % agents.length;
        if (sockets[i].readyState !== WebSocket.OPEN) continue;
        sockets[i].send(JSON.stringify({ id: String(operations[i].id), type: "complete" }));
        operations[i] = { id: operations[i].id + 1, document: SOAK_DOCUMENTS[churned % SOAK_DOCUMENTS.length] };
        subscribe(i);
      }
      for (let k = 0; k < RECONNECTS; k++) {
        const i = (reconnected++ * 7919) % agents.length; // spread over the agents, apart from the churn's cursor
        if (sockets[i].readyState !== WebSocket.OPEN) continue;
        sockets[i].terminate();
        operations[i] = { id: operations[i].id + 1, document: RESUME_DOCUMENT };
        connectAgent(i).catch((err) => console.error(`agent ${i} reconnect: ${(err as Error).message}`));
      }
    }, 1000);
    return {
      async stop() {
        clearInterval(churn);
        await sampler;
        stopped = true;
        await new Promise((r) => setTimeout(r, 3000));
      },
      report() {
        console.log(`soak: ${SOAK_MINUTES} min, ${CHURN} subscriptions replaced and ${RECONNECTS} sockets reconnected per second`);
        if (samples.length < 2) return;
        const at = (minute: number) => samples.reduce((best, s) => (Math.abs(s.minute - minute) < Math.abs(best.minute - minute) ? s : best));
        const show = (label: string, s: { minute: number; figures: MemoryFigures }) =>
          console.log(`  ${label} (minute ${s.minute}): RSS ${s.figures.rss} MB, heap after GC ${s.figures.heapUsed} MB`);
        show("start", samples[0]);
        show("middle", at(SOAK_MINUTES! / 2));
        show("end", samples.at(-1)!);
        const from = at(Math.min(2, SOAK_MINUTES!));
        const end = samples.at(-1)!;
        const change = (100 * (end.figures.heapUsed - from.figures.heapUsed)) / from.figures.heapUsed;
        console.log(`  heap after GC, minute ${from.minute} -> ${end.minute}: ${from.figures.heapUsed} -> ${end.figures.heapUsed} MB (${change >= 0 ? "+" : ""}${change.toFixed(1)}%; target: within 10%)`);
        memory?.close();
      },
    };
  };

  const partnerClient = new GraphQLClient(url, { headers: { authorization: `Bearer ${partnerToken}` } });
  const publish = async (text: string, thread = text) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await partnerClient.request(
          `mutation($input: PublishInboundMessageInput!) { publishInboundMessage(input: $input) { __typename } }`,
          { input: { channelId: toGlobalId("Channel", channel.id), externalId: text, threadKey: `t-${thread}`, sender: { handle: `c-${thread}` }, text } },
        );
        return;
      } catch (err) {
        // A kept-alive connection the server closed as this request went out (after a pause, e.g. a
        // heap snapshot) fails with ECONNRESET: publish again (the external id makes it idempotent).
        if (!(err instanceof TypeError) || attempt >= 3) throw err;
      }
    }
  };
  // Warm up until every agent's subscription is live (a message reaches all of them).
  for (let w = 0; ; w++) {
    received.fill(0);
    await publish(`warmup-${w}`);
    const deadline = Date.now() + 5000;
    while (received.some((n) => n === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (received.every((n) => n > 0)) break;
    if (w > 20) throw new Error(`only ${received.filter((n) => n > 0).length} of ${agents.length} agents are receiving`);
  }
  latencies.length = 0;
  console.log(`publishing ${RATE} messages/s for ${SECONDS} s to ${agents.length} agents, ${THREADS ? `in ${THREADS} conversations` : "each message a new conversation"}...`);

  const total = RATE * SECONDS;
  const serverCpu0 = target.pid ? processCpu(target.pid) : { user: NaN, system: NaN };
  const machine0 = machineCpuTicks();
  const postgres0 = postgresCpu();
  const benchCpu0 = process.cpuUsage();
  const soak = SOAK_MINUTES ? await startSoak(target.inspector) : undefined;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const text = `m-${n}`;
    inflight.push(
      publish(text, THREADS ? `thread-${n % THREADS}` : text).then(() => {
        const sent = performance.now();
        sentAt.set(text, sent);
        for (const at of early.get(text) ?? []) latencies.push(at - sent);
      }),
    );
  }
  await Promise.all(inflight);
  const publishSeconds = (performance.now() - start) / 1000;
  // Churned subscribers miss what is published while they resubscribe: the soak waits a little only.
  const expected = soak ? (await soak.stop(), latencies.length) : total * agents.length;
  const deadline = Date.now() + 60_000;
  while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const drainSeconds = (performance.now() - start) / 1000;
  const serverCpu1 = target.pid ? processCpu(target.pid) : { user: NaN, system: NaN };
  const serverUser = serverCpu1.user - serverCpu0.user;
  const serverSystem = serverCpu1.system - serverCpu0.system;
  const serverCpu = serverUser + serverSystem;
  const benchCpu = process.cpuUsage(benchCpu0);
  const machine1 = machineCpuTicks();
  const postgresSeconds = postgresCpu() - postgres0;

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  console.log(`\n${agents.length} agents, ${total} messages published in ${publishSeconds.toFixed(1)} s (${(total / publishSeconds).toFixed(0)} messages/s sustained)`);
  console.log(`deliveries: ${latencies.length} of ${expected} within ${drainSeconds.toFixed(1)} s (${(latencies.length / drainSeconds).toFixed(0)} deliveries/s)`);
  console.log(`latency publish-returned -> agent received: p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`);
  const perDelivery = (seconds: number) => ((seconds * 1e6) / Math.max(1, latencies.length)).toFixed(1);
  const benchSeconds = ((benchCpu.user + benchCpu.system) / 1e6).toFixed(1);
  if (target.pid) {
    console.log(`server CPU: ${serverCpu.toFixed(1)} s in ${drainSeconds.toFixed(1)} s (${((100 * serverCpu) / drainSeconds).toFixed(0)}% of one core), ${perDelivery(serverCpu)} µs per delivery (user ${perDelivery(serverUser)} µs, kernel ${perDelivery(serverSystem)} µs); this process (partner + agents): ${benchSeconds} s`);
  } else console.log(`server CPU: not measured (the server runs elsewhere); this process (partner + agents): ${benchSeconds} s`);
  if (postgresSeconds > 0) console.log(`PostgreSQL CPU: ${postgresSeconds.toFixed(1)} s (${((1000 * postgresSeconds) / total).toFixed(2)} ms per message; backends that exited during the run are not counted)`);
  else console.log("PostgreSQL CPU: not measured (no PostgreSQL process on this host)");
  const cores = os.cpus().length;
  console.log(`machine: ${((cores * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total)).toFixed(2)} of ${cores} CPUs busy (server, PostgreSQL, this process and the kernel together)`);
  console.log(`(a delivery can arrive before the publishing HTTP response; such latencies count as negative)`);
  soak?.report();
} finally {
  for (const socket of sockets) socket.terminate();
  await prisma.$disconnect();
  await target.stop();
}
