import type { IncomingMessage, ServerResponse } from "node:http";
import type { GraphiQLOptions } from "graphql-yoga";

/**
 * GraphiQL served from this server alone. Yoga's default page loads its script, styles, Monaco
 * workers and favicon from unpkg and GitHub, which a closed network cannot reach (a blank page).
 * `@graphql-yoga/render-graphiql` ships the same bundle as strings; the page here names them as
 * assets under ASSET_PREFIX instead of inlining ~9 MB into every page view, so a browser fetches
 * them once and caches them.
 */

/** Where the GraphiQL assets are served (outside /graphql, so Yoga never sees these requests). */
export const GRAPHIQL_ASSET_PREFIX = "/graphiql-assets/";

interface Asset {
  type: string;
  body: Buffer;
}

type Bundle = typeof import("@graphql-yoga/render-graphiql/graphiql");

let assets: Promise<Map<string, Asset>> | undefined;

/** The bundle is loaded on the first GraphiQL request only: servers that never show it pay nothing. */
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= (import("@graphql-yoga/render-graphiql/graphiql") as Promise<Bundle>).then((b) => {
    const js = "text/javascript; charset=utf-8";
    const favicon = /^data:([^;]+);base64,(.*)$/.exec(b.favicon);
    return new Map<string, Asset>([
      ["yoga-graphiql.js", { type: js, body: Buffer.from(b.js) }],
      ["yoga-graphiql.css", { type: "text/css; charset=utf-8", body: Buffer.from(b.css) }],
      ["editor.worker.js", { type: js, body: Buffer.from(b.editorWorkerService) }],
      ["json.worker.js", { type: js, body: Buffer.from(b.jsonWorker) }],
      ["graphql.worker.js", { type: js, body: Buffer.from(b.graphqlWorker) }],
      ["favicon.ico", favicon ? { type: favicon[1], body: Buffer.from(favicon[2], "base64") } : { type: "image/x-icon", body: Buffer.alloc(0) }],
    ]);
  });
  return assets;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
/** JSON inside a <script>: `<` escaped so no value can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v ?? {}).replace(/</g, "\\u003c");

/** Yoga's `renderGraphiQL`: the page, with every asset a path on this server. */
export function renderLocalGraphiQL(opts: GraphiQLOptions): string {
  const at = (name: string) => `${GRAPHIQL_ASSET_PREFIX}${name}`;
  const workers = { editorWorkerService: at("editor.worker.js"), json: at("json.worker.js"), graphql: at("graphql.worker.js") };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(opts?.title || "Yoga GraphiQL")}</title>
    <link rel="icon" href="${at("favicon.ico")}" />
    <link rel="stylesheet" href="${at("yoga-graphiql.css")}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${scriptJson(workers)};
      self["MonacoEnvironment"] = { globalAPI: false, getWorkerUrl: (_moduleId, label) => new URL(workers[label], location.href).href };
    </script>
    <script src="${at("yoga-graphiql.js")}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector("#root"), ${scriptJson(opts)});
    </script>
  </body>
</html>`;
}

/**
 * Answers GET/HEAD requests for GraphiQL's assets (true when the path was one of them, answered
 * 404 when the name is unknown). `enabled` is false when GraphiQL is off: the assets are not served.
 */
export async function handleGraphiQLAsset(req: IncomingMessage, res: ServerResponse, path: string, enabled: boolean): Promise<boolean> {
  if (!path.startsWith(GRAPHIQL_ASSET_PREFIX)) return false;
  const asset = enabled && (req.method === "GET" || req.method === "HEAD") ? (await loadAssets()).get(path.slice(GRAPHIQL_ASSET_PREFIX.length)) : undefined;
  if (!asset) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("Not found");
    return true;
  }
  res.writeHead(200, { "content-type": asset.type, "content-length": asset.body.length, "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" });
  res.end(req.method === "HEAD" ? undefined : asset.body);
  return true;
}
