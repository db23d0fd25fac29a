import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildIsCurrent, inputHash } from "../scripts/build.mjs";
import { loadEmbeddedTemplate } from "../src/db/embedded-template.js";
import { startEmbeddedPostgres } from "../src/db/embedded.js";
import { readMigrations } from "../src/db/migrate.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";

/**
 * The production build as the container runs it, without Docker: `npm run build` into a temp
 * directory laid out like the image (package.json, node_modules, prisma/migrations, widget/,
 * dist/), then the Dockerfile's CMD with compose.yaml's environment (NODE_ENV=production, a
 * JWT secret, REDIS_URL and a PostgreSQL database when this machine has them; the embedded
 * database otherwise), answering queries from a fresh and from an existing data directory.
 * Built into its own directory, so concurrent runs and the developer's dist/ never collide.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const run = promisify(execFile);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
const image = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-image-"));
const leftovers: (() => Promise<unknown>)[] = [];
// The sources' hash just before and just after the build (others may edit a shared tree meanwhile).
const sourceHashes: string[] = [];

beforeAll(async () => {
  fs.copyFileSync(path.join(ROOT, "package.json"), path.join(image, "package.json"));
  fs.mkdirSync(path.join(image, "prisma"));
  for (const [link, target] of [["node_modules", "node_modules"], ["prisma/migrations", "prisma/migrations"], ["widget", "widget"]]) {
    fs.symlinkSync(path.join(ROOT, target), path.join(image, link));
  }
  sourceHashes.push(inputHash());
  await run(process.execPath, [path.join(ROOT, "scripts", "build.mjs"), path.join(image, "dist")], { cwd: ROOT });
  sourceHashes.push(inputHash());
}, 180_000);

afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose().catch(() => undefined);
  fs.rmSync(image, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs the Dockerfile's CMD (= npm run start:dist) in the image layout; resolves once /health answers. */
async function startContainerCommand(env: Record<string, string>): Promise<{ origin: string; stop(): Promise<void>; output(): string }> {
  const port = await freePort();
  const [command, ...args] = pkg.scripts["start:dist"].split(" ");
  expect(command).toBe("node");
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: image,
    env: { PATH: process.env.PATH, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  leftovers.push(stop);
  const origin = `http://127.0.0.1:${port}`;
  for (let started = Date.now(); ; ) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    const health = await fetch(`${origin}/health`).catch(() => undefined);
    if (health?.ok) break;
    if (Date.now() - started > 120_000) throw new Error(`no /health within 120 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { origin, stop, output: () => output };
}

/** A public query that reads the database: an unknown chat shows no launcher. */
async function askChatAvailability(origin: string) {
  const res = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "query($id: ID!) { chatAvailability(channelId: $id) { showLauncher } }", variables: { id: toGlobalId("Channel", randomUUID()) } }),
  });
  return { status: res.status, body: (await res.json()) as { data?: { chatAvailability: { showLauncher: boolean } }; errors?: unknown[] } };
}

describe("npm run build", () => {
  test("writes the server bundle with source maps, the worker, the template and the build's input hash", () => {
    const dist = path.join(image, "dist");
    for (const file of ["server/index.js", "server/index.js.map", "server/rich-text-worker.mjs", "server/build-info.json", "embedded-template/manifest.json"]) {
      expect(fs.existsSync(path.join(dist, file)), file).toBe(true);
    }
    const map = JSON.parse(fs.readFileSync(path.join(dist, "server/index.js.map"), "utf8")) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith("src/server.ts"))).toBe(true);
    // Packages stay in node_modules: nothing from them is bundled.
    expect(map.sources.some((s) => s.includes("node_modules"))).toBe(false);
    // Records the hash of the sources it was built from; npm start rebuilds when it differs.
    const info = JSON.parse(fs.readFileSync(path.join(dist, "server/build-info.json"), "utf8")) as { inputHash: string };
    expect(sourceHashes).toContain(info.inputHash);
    const tampered = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-stale-"));
    fs.mkdirSync(path.join(tampered, "server"));
    fs.writeFileSync(path.join(tampered, "server/build-info.json"), JSON.stringify({ inputHash: "0".repeat(64) }));
    expect(buildIsCurrent(tampered)).toBe(false);
    fs.rmSync(tampered, { recursive: true, force: true });
    // A deployed build without sources beside it (the image) counts as current; a missing one never does.
    expect(buildIsCurrent(dist, image)).toBe(true);
    expect(buildIsCurrent(path.join(image, "no-dist"))).toBe(false);
  });

  test("the template is an initialized database holding every current migration", async () => {
    const migrations = await readMigrations();
    const template = await loadEmbeddedTemplate({ dir: path.join(image, "dist", "embedded-template") });
    expect(template).toBeInstanceOf(Blob);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-template-"));
    const db = await startEmbeddedPostgres({ dataDir, template: async () => template });
    try {
      const pg = await import("pg");
      const client = new pg.default.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name`);
      await client.end();
      expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    } finally {
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("a template made from other migrations is not used (initdb instead)", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-migrations-"));
    try {
      for (const m of await readMigrations()) {
        fs.mkdirSync(path.join(other, m.name));
        fs.writeFileSync(path.join(other, m.name, "migration.sql"), m.sql + "\n-- edited\n");
      }
      expect(await loadEmbeddedTemplate({ dir: path.join(image, "dist", "embedded-template"), migrationsDir: other })).toBeUndefined();
      // Fewer migrations than the template holds: not a prefix either.
      const fewer = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-migrations-"));
      expect(await loadEmbeddedTemplate({ dir: path.join(image, "dist", "embedded-template"), migrationsDir: fewer })).toBeUndefined();
      fs.rmSync(fewer, { recursive: true, force: true });
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test("the compiled rich-text worker sanitizes in its thread", async () => {
    const workerUrl = new URL(`file://${path.join(image, "dist", "server", "rich-text-worker.mjs")}`).href;
    const script = `
      const { Worker } = await import("node:worker_threads");
      const w = new Worker(new URL(${JSON.stringify(workerUrl)}));
      w.on("message", (m) => {
        if (m.ready) return w.postMessage({ id: 1, html: "<p>hi<script>alert(1)</script></p>", wantText: true });
        console.log(JSON.stringify(m));
        process.exit(0);
      });
      w.on("error", (e) => { console.error(e); process.exit(1); });`;
    const file = path.join(image, "worker-check.mjs");
    fs.writeFileSync(file, script);
    const { stdout } = await run(process.execPath, [file], { cwd: image, env: { PATH: process.env.PATH } });
    const message = JSON.parse(stdout) as { id: number; result: { html: string } };
    expect(message.id).toBe(1);
    expect(JSON.stringify(message.result)).toContain("hi");
    expect(JSON.stringify(message.result)).not.toContain("script");
  });
});

describe("the container's start command", () => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    if (process.env.DATABASE_URL) database = await createTestDatabase();
    if (database) leftovers.unshift(() => database!.drop());
  });

  test("serves /health and answers queries from a fresh data dir, then again from the same one", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "inbox-image-data-"));
    leftovers.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      JWT_SECRET: randomBytes(32).toString("hex"),
      DATA_DIR: dataDir,
      PUBLIC_URL: "http://localhost:8080",
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    };
    for (const start of ["fresh", "existing"]) {
      const server = await startContainerCommand(env);
      const health = await fetch(`${server.origin}/health`);
      expect(await health.json(), start).toEqual({ status: "ok", database: "ok" });
      const answer = await askChatAvailability(server.origin);
      expect(answer.status, server.output()).toBe(200);
      expect(answer.body).toEqual({ data: { chatAvailability: { showLauncher: false } } });
      // Production: GraphiQL and introspection are off.
      const page = await fetch(`${server.origin}/graphql`, { headers: { accept: "text/html" } });
      expect(await page.text()).not.toContain("graphiql");
      await server.stop();
      expect(server.output()).toMatch(/Inbox server ready at/);
    }
    if (!database) expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
  }, 240_000);
});
