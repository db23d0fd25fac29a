// npm run build: the production build in dist/ (plain JavaScript, so that `npm start` can check and
// run it without tsx):
//   dist/server/index.js               the server, src/ bundled by esbuild (packages stay in node_modules), with source maps
//   dist/server/rich-text-worker.mjs   the rich-text worker thread (src/services/rich-text-worker.ts)
//   dist/embedded-template/            an initialized embedded database with the migrations applied (src/db/embedded-template.ts)
//   dist/widget/                       the chat widget (scripts/build-widget.ts, from postinstall; untouched here)
//   dist/server/build-info.json        the hash of the inputs, written last: `npm start` rebuilds when it differs
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What the build is made from: any change in these makes dist/ stale. */
const INPUTS = ["src", "prisma/migrations", "prisma/schema.prisma", "package-lock.json", "scripts/build.mjs"];

function listFiles(entry) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [entry];
  return fs
    .readdirSync(entry)
    .sort()
    .flatMap((name) => listFiles(path.join(entry, name)));
}

/** sha256 over the inputs' relative paths and contents (a few MB: tens of milliseconds). */
export function inputHash(root = ROOT) {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    for (const file of listFiles(path.join(root, input))) {
      hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file)).update("\0");
    }
  }
  return hash.digest("hex");
}

/** sha256 over the inputs' paths, sizes and mtimes: a stat per file, no reads (the check at every start). */
export function inputStamp(root = ROOT) {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    for (const file of listFiles(path.join(root, input))) {
      const { size, mtimeMs } = fs.statSync(file);
      hash.update(`${path.relative(root, file)}\0${size}\0${mtimeMs}\0`);
    }
  }
  return hash.digest("hex");
}

/**
 * Whether `<outDir>/server` holds a build of the current inputs: the same files with the same
 * sizes and mtimes as at build time, or else (a checkout that touched files) the same contents. A deployed build (no src/ beside
 * it, as in the container image) is current by definition: there is nothing to rebuild it from.
 */
export function buildIsCurrent(outDir = path.join(ROOT, "dist"), root = ROOT) {
  let info;
  try {
    info = JSON.parse(fs.readFileSync(path.join(outDir, "server", "build-info.json"), "utf8"));
  } catch {
    return false;
  }
  if (!fs.existsSync(path.join(root, "src"))) return true;
  const stamp = inputStamp(root);
  if (info.inputStamp === stamp) return true;
  if (info.inputHash !== inputHash(root)) return false;
  // Same contents, touched files: remember the new stamp so the next start skips the reads.
  try {
    fs.writeFileSync(path.join(outDir, "server", "build-info.json"), JSON.stringify({ ...info, inputStamp: stamp }, null, 2) + "\n");
  } catch {
    // a read-only build is still current
  }
  return true;
}

/**
 * Builds the server and the embedded-database template into `outDir` (default dist/).
 * `log` receives one line per step with its duration.
 */
export async function build({ outDir = path.join(ROOT, "dist"), log = console.log } = {}) {
  const esbuild = await import("esbuild");
  const started = performance.now();
  const stamp = inputStamp();
  const hash = inputHash();
  const serverDir = path.join(outDir, "server");
  fs.rmSync(path.join(serverDir, "build-info.json"), { force: true });
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Packages load from node_modules as they are: PGlite finds its WASM files, Prisma its query
    // compiler, GraphiQL its assets, and `npm ci --omit=dev` installs exactly what runs.
    packages: "external",
    sourcemap: true,
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
  };
  await Promise.all([
    esbuild.build({ ...common, entryPoints: { index: "src/index.ts", "embedded-template": "src/db/embedded-template.ts" }, outdir: serverDir }),
    esbuild.build({ ...common, entryPoints: ["src/services/rich-text-worker.ts"], outfile: path.join(serverDir, "rich-text-worker.mjs") }),
  ]);
  const compiled = performance.now();
  log(`server compiled into ${path.relative(ROOT, serverDir) || serverDir} in ${(compiled - started).toFixed(0)} ms`);

  const { writeEmbeddedTemplate } = await import(pathToFileURL(path.join(serverDir, "embedded-template.js")).href);
  const template = await writeEmbeddedTemplate({ dir: path.join(outDir, "embedded-template"), migrationsDir: path.join(ROOT, "prisma", "migrations") });
  log(
    `embedded database template (${template.migrations} migrations, ${(template.bytes / 1024 / 1024).toFixed(1)} MB) in ${(performance.now() - compiled).toFixed(0)} ms`,
  );

  fs.writeFileSync(path.join(serverDir, "build-info.json"), JSON.stringify({ inputHash: hash, inputStamp: stamp, builtAt: new Date().toISOString() }, null, 2) + "\n");
}

// `node scripts/build.mjs [outDir]`: outDir defaults to dist/ (tests build into a temp dir).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await build(process.argv[2] ? { outDir: path.resolve(process.argv[2]) } : {});
}
