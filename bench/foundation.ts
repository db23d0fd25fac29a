// npm run bench:foundation — start to the first answered query on the embedded database: separate
// processes (the production build as `npm start` and the container run it, and the sources under
// tsx), each on a fresh and on an existing data dir; then in-process cold/warm starts and the SQL
// statements one `inboxes { channels }` query issues. BENCH_START_RUNS (default 3) runs per median.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { DEMO } from "../src/services/seed.js";
import { buildIsCurrent, build } from "../scripts/build.mjs";
import { coldStarts } from "./cold-start.js";

const statements: string[] = [];
const originalQuery = pg.Client.prototype.query;
// Count what actually reaches PostgreSQL through adapter-pg (which uses pg.Client underneath).
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string };
  statements.push(typeof first === "string" ? first : (first?.text ?? "?"));
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

{
  if (!buildIsCurrent()) await build({ log: () => {} });
  const runs = Number(process.env.BENCH_START_RUNS ?? 3);
  console.log(`start to first answered query, separate processes, median of ${runs} (fresh data dir / existing data dir; CPU: the process's own CPU time until then):`);
  for (const [label, command] of [
    ["npm start (the build)", ["npm", "start", "--silent"]],
    ["node dist/server/index.js (the container's command)", ["node", "--enable-source-maps", "dist/server/index.js"]],
    ["tsx src/index.ts (npm run dev without watch)", ["node", "--import", "tsx", "src/index.ts"]],
  ] as const) {
    const { fresh, existing, freshCpu, existingCpu } = await coldStarts([...command], runs);
    const cpu = command[0] === "node" && freshCpu !== undefined ? `   (CPU ${freshCpu.toFixed(0)} ms / ${existingCpu!.toFixed(0)} ms)` : "";
    console.log(`  ${label.padEnd(52)} ${fresh.toFixed(0).padStart(6)} ms / ${existing.toFixed(0).padStart(6)} ms${cpu}`);
  }
  console.log("");
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-bench-"));
const config = loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, JWT_SECRET: randomBytes(32).toString("hex") });

async function firstQuery(label: string) {
  const started = performance.now();
  const server = await startServer(config, { log: () => {} });
  const user = await server.prisma.user.findFirstOrThrow({ where: { email: DEMO.superAdmin } });
  const token = await server.services.auth.sign({ typ: "agent", userId: user.id, accountId: user.accountId });
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ viewer { email } }" }),
  });
  await res.json();
  console.log(`${label}: ${(performance.now() - started).toFixed(0)} ms from start to the first answered query`);
  return { server, token };
}

try {
  const cold = await firstQuery("cold start (empty data dir: initdb, migrations, seed)");
  await cold.server.close();
  const { server, token } = await firstQuery("warm start (existing data dir)");
  const account = await server.prisma.account.findFirstOrThrow();
  for (const inbox of await server.prisma.inbox.findMany({ where: { accountId: account.id } })) {
    for (const type of ["CHAT", "FORM"] as const) {
      await server.prisma.channel.create({ data: { accountId: account.id, inboxId: inbox.id, type, name: `${inbox.name} ${type}` } });
    }
  }
  const query = "{ inboxes { id name channels { id name type status } } }";
  statements.length = 0;
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data: { inboxes: { channels: unknown[] }[] } };
  console.log(`\n${query}: ${body.data.inboxes.length} inboxes, ${body.data.inboxes.reduce((n, i) => n + i.channels.length, 0)} channels, ${statements.length} SQL statements:`);
  for (const s of statements) console.log(`  ${s.replace(/\s+/g, " ").slice(0, 220)}`);
  await server.close();
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
