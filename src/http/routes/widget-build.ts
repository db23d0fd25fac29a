import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { PROJECT_ROOT } from "../../project-root.js";

/**
 * The chat widget's two scripts, built with esbuild from widget/: the loader (the embed snippet's
 * src, cached for minutes) and the widget bundle, named by its content hash (cached for a year).
 * `npm install` builds them into dist/widget (postinstall, `npm run build:widget`); a server that
 * finds no build, or one made from other sources, builds them in memory at its first request.
 */

const ROOT = PROJECT_ROOT;
export const WIDGET_SOURCE_DIR = path.join(ROOT, "widget");
export const WIDGET_BUILD_DIR = path.join(ROOT, "dist", "widget");

export interface WidgetAsset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface WidgetAssets {
  loader: WidgetAsset;
  /** The bundle's file name, `chat.<hash>.js`: the loader points at it. */
  chatFile: string;
  chat: WidgetAsset;
  /** sha256 of the widget sources the build came from. */
  sourceHash: string;
}

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

function asset(body: Buffer): WidgetAsset {
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${sha(body).slice(0, 16)}"` };
}

/** sha256 over the widget's source files (names and contents). */
export async function widgetSourceHash(): Promise<string> {
  const names = (await readdir(WIDGET_SOURCE_DIR)).filter((n) => n.endsWith(".ts")).sort();
  const hash = createHash("sha256");
  for (const name of names) hash.update(name).update("\0").update(await readFile(path.join(WIDGET_SOURCE_DIR, name))).update("\0");
  return hash.digest("hex");
}

/** Builds both scripts in memory: minified IIFEs for browsers of the last few years. */
export async function buildWidgetAssets(): Promise<WidgetAssets> {
  const esbuild = await import("esbuild");
  const common = { bundle: true, minify: true, format: "iife", target: ["es2020", "chrome90", "firefox90", "safari15"], write: false, legalComments: "none" } satisfies import("esbuild").BuildOptions;
  const chatOut = await esbuild.build({ ...common, entryPoints: [path.join(WIDGET_SOURCE_DIR, "chat.ts")], outfile: "chat.js" });
  const chatBody = Buffer.from(chatOut.outputFiles![0].contents);
  const chatFile = `chat.${sha(chatBody).slice(0, 12)}.js`;
  const loaderOut = await esbuild.build({
    ...common,
    entryPoints: [path.join(WIDGET_SOURCE_DIR, "loader.ts")],
    outfile: "loader.js",
    define: { __WIDGET_FILE__: JSON.stringify(chatFile) },
  });
  return { loader: asset(Buffer.from(loaderOut.outputFiles![0].contents)), chatFile, chat: asset(chatBody), sourceHash: await widgetSourceHash() };
}

/** Writes a build to dist/widget: loader.js, chat.<hash>.js and manifest.json. */
export async function writeWidgetAssets(assets: WidgetAssets, dir = WIDGET_BUILD_DIR): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "loader.js"), assets.loader.body);
  await writeFile(path.join(dir, assets.chatFile), assets.chat.body);
  await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ chatFile: assets.chatFile, sourceHash: assets.sourceHash }, null, 2) + "\n");
}

/** The build in dist/widget when it was made from the current sources; otherwise a fresh build in memory. */
export async function loadWidgetAssets(log: (m: string) => void = () => {}): Promise<WidgetAssets> {
  const sourceHash = await widgetSourceHash();
  try {
    const manifest = JSON.parse(await readFile(path.join(WIDGET_BUILD_DIR, "manifest.json"), "utf8")) as { chatFile: string; sourceHash: string };
    if (manifest.sourceHash === sourceHash) {
      const [loader, chat] = await Promise.all([readFile(path.join(WIDGET_BUILD_DIR, "loader.js")), readFile(path.join(WIDGET_BUILD_DIR, manifest.chatFile))]);
      return { loader: asset(loader), chatFile: manifest.chatFile, chat: asset(chat), sourceHash };
    }
    log("[widget] dist/widget was built from other sources: building the widget in memory");
  } catch {
    log("[widget] no dist/widget build: building the widget in memory");
  }
  return buildWidgetAssets();
}
