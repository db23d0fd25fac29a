import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { afterAll, expect, test } from "vitest";
import WebSocket from "ws";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test("`npm start`'s entry point serves, then on SIGTERM closes sockets with 1001 and exits cleanly", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-shutdown-"));
  dirs.push(dataDir);
  // Always the embedded database: this is what a fresh clone runs.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "development" };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    child.stdout.on("data", () => {
      const match = /ready at (http:\/\/\S+)/.exec(output);
      // The token hint is the last start line: wait for it so the whole banner has arrived.
      if (match && output.includes("npm run token")) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  expect(output).toContain("npm run token -- --email owner@acme.test");
  expect((await fetch(url.replace("/graphql", "/health"))).status).toBe(200);

  const socket = new WebSocket(url.replace("http", "ws"), "graphql-transport-ws");
  await once(socket, "open");
  socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
  await once(socket, "message");
  const closed = once(socket, "close");
  child.kill("SIGTERM");
  const [code] = (await closed) as [number];
  expect(code).toBe(1001);
  const [exitCode] = (await once(child, "exit")) as [number];
  expect(exitCode).toBe(0);
  expect(output).toContain("SIGTERM: shutting down");
});
