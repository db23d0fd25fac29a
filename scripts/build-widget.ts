import { gzipSync } from "node:zlib";
import { buildWidgetAssets, writeWidgetAssets, WIDGET_BUILD_DIR } from "../src/http/routes/widget-build.js";

/** Builds the chat widget into dist/widget (run by postinstall; the server builds in memory when this is missing or stale). */
const assets = await buildWidgetAssets();
await writeWidgetAssets(assets);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `widget built into ${WIDGET_BUILD_DIR}: loader.js ${kb(assets.loader.body.length)} (${kb(gzipSync(assets.loader.body).length)} gzipped), ` +
    `${assets.chatFile} ${kb(assets.chat.body.length)} (${kb(gzipSync(assets.chat.body).length)} gzipped)`,
);
