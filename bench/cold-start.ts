// Start-to-first-answered-query of a server process, measured from outside as a user sees it:
// spawn the command, POST `{ __typename }` every 10 ms until one answers 200, stop the process.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * CPU time (user + system, all threads) the process has used so far, from /proc: on a busy shared
 * machine a steadier figure than wall time. Not its children's (npm start's node is one).
 */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 100 Hz ticks
  } catch {
    return undefined;
  }
}

/** Milliseconds (wall, and CPU of the spawned process) from spawning `command` to the first answered query, with `dataDir` as DATA_DIR. */
export async function timeToFirstQuery(command: string[], dataDir: string, env: Record<string, string> = {}): Promise<{ ms: number; cpuMs?: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { ...process.env, NODE_ENV: "development", HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir, SMTP_LISTEN: "off", DATABASE_URL: "", REDIS_URL: "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
    // Its own process group: `npm start` runs node as a child, and both must stop.
    detached: true,
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command.join(" ")} exited with ${child.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ __typename }"}' });
        if (res.ok && ((await res.json()) as { data?: unknown }).data) return { ms: performance.now() - started, cpuMs: cpuMs(child.pid!) };
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
}

/** Median of `runs` cold starts on a fresh data dir, and of `runs` starts on the data dir the first one left. */
export async function coldStarts(command: string[], runs: number) {
  const fresh: { ms: number; cpuMs?: number }[] = [];
  const existing: { ms: number; cpuMs?: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-bench-start-"));
    try {
      const env = { JWT_SECRET: randomBytes(32).toString("hex") };
      fresh.push(await timeToFirstQuery(command, dataDir, env));
      existing.push(await timeToFirstQuery(command, dataDir, env));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpu = (xs: { cpuMs?: number }[]) => (xs.every((x) => x.cpuMs !== undefined) ? median(xs.map((x) => x.cpuMs!)) : undefined);
  return { fresh: median(fresh.map((x) => x.ms)), existing: median(existing.map((x) => x.ms)), freshCpu: cpu(fresh), existingCpu: cpu(existing) };
}
