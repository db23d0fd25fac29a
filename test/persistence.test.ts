import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { DEMO } from "../src/services/seed.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

// These start the server on its embedded database on purpose (no DATABASE_URL in the config), in both CI runs.
test("the embedded database seeds once and keeps its data across a restart", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-persist-"));
  dirs.push(dataDir);
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, JWT_SECRET: randomBytes(32).toString("hex") });

  const first = await startServer(config, { log: () => {} });
  expect(await first.prisma.user.count({ where: { email: DEMO.superAdmin } })).toBe(1);
  await first.prisma.team.create({ data: { accountId: (await first.prisma.account.findFirstOrThrow()).id, name: "Made before restart" } });
  await first.close();

  const second = await startServer(config, { log: () => {} });
  try {
    expect(await second.prisma.account.count()).toBe(1);
    expect(await second.prisma.team.count({ where: { name: "Made before restart" } })).toBe(1);
    const res = await fetch(second.url.replace("/graphql", "/health"));
    expect(res.status).toBe(200);
  } finally {
    await second.close();
  }
});

test("without JWT_SECRET a development secret is generated once into the data directory", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "inbox-secret-"));
  dirs.push(dataDir);
  const config = loadConfig({ NODE_ENV: "development", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const first = await startServer(config, { log: () => {} });
  const user = await first.prisma.user.findFirstOrThrow({ where: { email: DEMO.agents[0] } });
  const token = await first.services.auth.sign({ typ: "agent", userId: user.id, accountId: user.accountId });
  await first.close();
  const second = await startServer(config, { log: () => {} });
  try {
    const res = await fetch(second.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ viewer { email } }" }),
    });
    expect(await res.json()).toEqual({ data: { viewer: { email: DEMO.agents[0] } } });
  } finally {
    await second.close();
  }
});
