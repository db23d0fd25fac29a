// npm start: runs the production build (dist/server/index.js), building it first when dist/ is
// missing or was made from other sources, so a fresh clone's `npm install && npm start` works.
// The container runs the build directly: `node --enable-source-maps dist/server/index.js`.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, buildIsCurrent, ROOT } from "./build.mjs";

if (!buildIsCurrent()) {
  console.log("dist/ is missing or stale: building (npm run build)");
  await build();
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(path.join(ROOT, "dist", "server", "index.js")).href);
