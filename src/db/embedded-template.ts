import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { applyMigrations, readMigrations, type Migration } from "./migrate.js";

/**
 * An initialized embedded database (initdb done, the committed migrations applied), dumped once at
 * build time with PGlite's `dumpDataDir()`. A first start loads it with PGlite's `loadDataDir`
 * instead of running initdb (about 1 s instead of 4 here); the server still checks and applies
 * migrations newer than the template at every start.
 *
 * Two levels below the project root in the sources (src/db/) and in the build (dist/server/),
 * so this resolves to `<root>/dist/embedded-template` from both.
 */
export const EMBEDDED_TEMPLATE_DIR = fileURLToPath(new URL("../../dist/embedded-template/", import.meta.url));

interface TemplateManifest {
  /** The dump's file name, `pgdata.<sha256 prefix>.tar.gz`, so a reader never sees half of a new one. */
  file: string;
  pgliteVersion: string;
  /** The migrations inside the dump, in order. */
  migrations: { name: string; checksum: string }[];
}

const MANIFEST = "manifest.json";

/** The installed PGlite's version: a dump is only loaded by the PGlite that made it. */
export function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@electric-sql/pglite") return pkg.version ?? "unknown";
    }
    if (path.dirname(dir) === dir) return "unknown";
    dir = path.dirname(dir);
  }
}

/**
 * Creates the template in `dir` (default {@link EMBEDDED_TEMPLATE_DIR}): PGlite in memory, the
 * migrations of `migrationsDir` applied through the same runner the server uses, then dumped.
 * The manifest is written last and names the dump, so concurrent readers see the old or the new one.
 */
export async function writeEmbeddedTemplate(opts: { dir?: string; migrationsDir?: string } = {}): Promise<{ file: string; bytes: number; migrations: number }> {
  const dir = opts.dir ?? EMBEDDED_TEMPLATE_DIR;
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 });
  let dump: Blob;
  let migrations: Migration[];
  try {
    await server.start();
    const port = Number(server.getServerConn().split(":").pop());
    migrations = await readMigrations(opts.migrationsDir);
    await applyMigrations(`postgresql://postgres@127.0.0.1:${port}/postgres`, { migrationsDir: opts.migrationsDir });
    await server.stop();
    await new Promise<void>((resolve) => setImmediate(resolve));
    dump = await db.dumpDataDir("gzip");
  } finally {
    await server.stop().catch(() => undefined);
    await db.close();
  }
  const bytes = Buffer.from(await dump.arrayBuffer());
  const file = `pgdata.${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.tar.gz`;
  fs.mkdirSync(dir, { recursive: true });
  const old = fs.readdirSync(dir).filter((n) => n.startsWith("pgdata.") && n !== file);
  writeAtomically(path.join(dir, file), bytes);
  const manifest: TemplateManifest = { file, pgliteVersion: pgliteVersion(), migrations: migrations.map(({ name, checksum }) => ({ name, checksum })) };
  writeAtomically(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  // Older dumps stay a moment for readers that read the previous manifest; the next build drops them.
  for (const name of old) if (Date.now() - fs.statSync(path.join(dir, name)).mtimeMs > 60_000) fs.rmSync(path.join(dir, name), { force: true });
  return { file: path.join(dir, file), bytes: bytes.length, migrations: migrations.length };
}

function writeAtomically(file: string, data: string | Buffer) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * The template's dump when one exists and fits: made by the installed PGlite, and holding a prefix
 * of the current migrations (same names, same checksums). Anything else (no build, a build from
 * other migrations, an unreadable file) gives `undefined`, and the caller runs initdb instead.
 */
export async function loadEmbeddedTemplate(opts: { dir?: string; migrationsDir?: string } = {}): Promise<Blob | undefined> {
  const dir = opts.dir ?? EMBEDDED_TEMPLATE_DIR;
  let manifest: TemplateManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8")) as TemplateManifest;
  } catch {
    return undefined;
  }
  if (manifest.pgliteVersion !== pgliteVersion()) return undefined;
  const current = await readMigrations(opts.migrationsDir);
  const fits = manifest.migrations.length <= current.length && manifest.migrations.every((m, i) => m.name === current[i].name && m.checksum === current[i].checksum);
  if (!fits) return undefined;
  try {
    return new Blob([fs.readFileSync(path.join(dir, path.basename(manifest.file)))]);
  } catch {
    return undefined;
  }
}
