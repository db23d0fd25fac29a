// Start-to-first-answered-query of a server process, measured from outside as a user sees it:
// spawn the command, POST `{ __typename }` every 10 ms until one answers 200, stop the process.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
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

/** Milliseconds from spawning `command` to the first answered query, with `dataDir` as DATA_DIR. */
export async function timeToFirstQuery(command: string[], dataDir: string, env: Record<string, string> = {}): Promise<number> {
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
        if (res.ok && ((await res.json()) as { data?: unknown }).data) return performance.now() - started;
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
export async function coldStarts(command: string[], runs: number): Promise<{ fresh: number; existing: number }> {
  const fresh: number[] = [];
  const existing: number[] = [];
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
  return { fresh: median(fresh), existing: median(existing) };
}
