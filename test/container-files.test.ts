import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../src/config.js";

/**
 * Docker cannot run on the project's machines (and hadolint is not packaged for them), so the
 * container files are checked here for what would break a deployment: the Dockerfile runs as a
 * non-root user, has a health check on /health, and starts the same command as
 * `npm run start:dist`; compose.yaml wires two replicas to one PostgreSQL, one Redis, one JWT
 * secret and one file volume behind one proxy port, with an environment the server accepts.
 * test/production-build.test.ts runs that command itself.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage, continuation lines joined, comments dropped. */
function dockerStages(text: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!current && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) current += line.slice(0, -1) + " ";
    else {
      logical.push(current + line);
      current = "";
    }
  }
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (op.toUpperCase() === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.trim())!;
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else {
      expect(stages.length, `${op} before any FROM`).toBeGreaterThan(0);
      stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args: args.trim() });
    }
  }
  return stages;
}

const stages = dockerStages(read("Dockerfile"));
const runtime = stages.at(-1)!;
const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1);

describe("Dockerfile", () => {
  test("is multi-stage: the build stage compiles with dev dependencies, the runtime gets production ones only", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runs = (s: (typeof stages)[number]) => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
    const builder = stages.find((s) => /npm run build/.test(runs(s)));
    expect(builder, "a stage runs npm run build").toBeDefined();
    expect(builder).not.toBe(runtime);
    expect(runs(builder!)).toMatch(/npm ci\b/);
    const prodInstall = stages.find((s) => /npm ci\b[^\n]*--omit=dev/.test(runs(s)));
    expect(prodInstall, "a stage installs with npm ci --omit=dev").toBeDefined();
    const copies = runtime.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies.some((c) => c.includes(`--from=${prodInstall!.name}`) && c.includes("node_modules"))).toBe(true);
    expect(copies.some((c) => c.includes(`--from=${builder!.name}`) && /\bdist\b/.test(c))).toBe(true);
    // The runtime reads its migrations from prisma/migrations (src/db/migrate.ts) and needs
    // package.json's "type": "module" for dist/server/*.js.
    expect(copies.some((c) => c.includes("prisma/migrations"))).toBe(true);
    expect(copies.some((c) => /^package\.json\b/.test(c))).toBe(true);
    // Every stage starts from the same Node line the project tests on.
    for (const s of stages) expect(s.from).toMatch(/^node:20\b/);
  });

  test("runs as a non-root user, and the user is set before the command", () => {
    const user = last("USER");
    expect(user, "USER in the final stage").toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    const idx = (i?: Instruction) => runtime.instructions.indexOf(i!);
    expect(idx(user)).toBeLessThan(idx(last("CMD")));
    // The data directory the non-root user writes to is owned by it.
    const dataDir = /DATA_DIR=(\S+)/.exec(runtime.instructions.filter((i) => i.op === "ENV").map((i) => i.args).join(" "))?.[1];
    expect(dataDir).toBeDefined();
    expect(runtime.instructions.some((i) => i.op === "RUN" && i.args.includes(`chown ${user!.args}:${user!.args} ${dataDir}`))).toBe(true);
  });

  test("has a health check against /health on the server's port", () => {
    const health = last("HEALTHCHECK");
    expect(health).toBeDefined();
    expect(health!.args).toMatch(/CMD/);
    expect(health!.args).toContain("/health");
    expect(health!.args).toMatch(/process\.env\.PORT \|\| 4000/);
    expect(runtime.instructions.some((i) => i.op === "EXPOSE" && i.args === "4000")).toBe(true);
    // No curl/wget in the slim image: the check must use what the image has.
    expect(health!.args).not.toMatch(/\b(curl|wget)\b/);
  });

  test("starts the same command as npm run start:dist, which npm start runs once the build is current", () => {
    const cmd = JSON.parse(last("CMD")!.args) as string[];
    expect(cmd).toEqual(pkg.scripts["start:dist"].split(" "));
    expect(read("scripts/start.mjs")).toContain('"dist", "server", "index.js"');
    expect(pkg.scripts.build).toBe("node scripts/build.mjs");
  });

  test("copies only files that exist and that .dockerignore does not exclude", () => {
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    for (const must of ["node_modules", ".git", "dist", "src/generated"]) expect(ignored).toContain(must);
    for (const s of stages) {
      for (const copy of s.instructions.filter((i) => i.op === "COPY" && !i.args.includes("--from="))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          expect(fs.existsSync(path.join(ROOT, source)), `COPY ${source}`).toBe(true);
          expect(ignored, `COPY ${source} is excluded by .dockerignore`).not.toContain(source);
        }
      }
    }
  });

  test("tsx and the Prisma CLI are build tools, not runtime dependencies", () => {
    for (const name of ["tsx", "prisma"]) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.devDependencies[name]).toBeDefined();
    }
    // What the build leaves external and the server imports at run time stays a runtime dependency.
    for (const name of ["@prisma/client", "@electric-sql/pglite", "@graphql-yoga/render-graphiql", "esbuild"]) expect(pkg.dependencies[name]).toBeDefined();
  });
});

type Service = { image?: string; build?: unknown; environment?: Record<string, string>; volumes?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: unknown; command?: string[] };
const compose = parse(read("compose.yaml"), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describe("compose.yaml", () => {
  const servers = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

  test("has PostgreSQL, Redis, two server replicas built from this Dockerfile and one proxy port", () => {
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
    expect(compose.services.redis.image).toMatch(/^redis:/);
    expect(servers.map(([name]) => name).sort()).toEqual(["server-1", "server-2"]);
    for (const [, s] of servers) expect(s.build).toBe(".");
    const published = Object.entries(compose.services).filter(([, s]) => s.ports?.length);
    expect(published.map(([name]) => name)).toEqual(["proxy"]);
    expect(compose.services.proxy.ports).toHaveLength(1);
  });

  test("the replicas share the database, Redis, the JWT secret and the stored files", () => {
    const [a, b] = servers.map(([, s]) => s);
    for (const key of ["DATABASE_URL", "REDIS_URL", "JWT_SECRET", "PUBLIC_URL", "DATA_DIR"]) {
      expect(a.environment?.[key], key).toBeDefined();
      expect(b.environment?.[key], key).toBe(a.environment?.[key]);
    }
    expect(new URL(a.environment!.DATABASE_URL).hostname).toBe("postgres");
    const pgEnv = compose.services.postgres.environment!;
    const db = new URL(a.environment!.DATABASE_URL);
    expect([db.username, db.password, db.pathname.slice(1)]).toEqual([pgEnv.POSTGRES_USER, pgEnv.POSTGRES_PASSWORD, pgEnv.POSTGRES_DB]);
    expect(new URL(a.environment!.REDIS_URL).hostname).toBe("redis");
    // Required, never a default baked into the file.
    expect(a.environment!.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    const fileVolume = a.volumes?.find((v) => v.endsWith(`:${a.environment!.DATA_DIR}`));
    expect(fileVolume, "DATA_DIR is a volume").toBeDefined();
    expect(b.volumes).toContain(fileVolume);
    expect(Object.keys(compose.volumes)).toContain(fileVolume!.split(":")[0]);
    for (const [, s] of servers) {
      expect(s.depends_on?.postgres.condition).toBe("service_healthy");
      expect(s.depends_on?.redis.condition).toBe("service_healthy");
    }
  });

  test("the servers' environment is one the server accepts (production, so no generated secrets)", () => {
    const env: Record<string, string> = { ...servers[0][1].environment, JWT_SECRET: "x".repeat(64), PUBLIC_URL: "http://localhost:8080" };
    const config = loadConfig(env);
    expect(config.nodeEnv).toBe("production");
    expect(config.port).toBe(4000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.databaseUrl).toBe(env.DATABASE_URL);
    expect(config.redisUrl).toBe(env.REDIS_URL);
    expect(config.dataDir).toBe("/data");
  });

  test("the proxy balances over both replicas on their port and passes WebSocket upgrades", () => {
    const mount = compose.services.proxy.volumes!.find((v) => v.includes("nginx.conf"))!;
    const conf = read(mount.split(":")[0]);
    const upstreams = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(upstreams.sort()).toEqual(servers.map(([name, s]) => `${name}:${s.environment!.PORT}`).sort());
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_buffering off;/); // SSE subscriptions
    const listen = /listen\s+(\d+);/.exec(conf)![1];
    expect(compose.services.proxy.ports![0]).toMatch(new RegExp(`:${listen}$`));
    for (const name of ["server-1", "server-2"]) expect(compose.services.proxy.depends_on?.[name].condition).toBe("service_healthy");
  });
});
