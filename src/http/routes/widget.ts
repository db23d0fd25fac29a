import type http from "node:http";
import type { Services } from "../../context.js";
import type { RateLimitPlugins } from "../rate-limit.js";
import { loadWidgetAssets, type WidgetAsset, type WidgetAssets } from "./widget-build.js";
import { handleVisitorUpload } from "./widget-uploads.js";

/**
 * GET /widget/loader.js and GET /widget/chat.<hash>.js: the chat widget's scripts, for any site's
 * page (a `<script src>` needs no CORS; the headers still allow fetches and COEP pages). The loader
 * is cached for 5 minutes and revalidated by ETag; the bundle's name changes with its content, so
 * it is cached for a year. Both are sent gzipped to clients that accept it. POST /widget/uploads
 * takes a visitor's file (src/http/routes/widget-uploads.ts).
 */

const LOADER_CACHE = "public, max-age=300, stale-while-revalidate=86400";
const BUNDLE_CACHE = "public, max-age=31536000, immutable";

export function createWidgetRoutes(log: (m: string) => void, deps: { services: Services; rateLimits?: Pick<RateLimitPlugins, "spend"> }) {
  let assets: Promise<WidgetAssets> | undefined;
  const load = () => {
    assets ??= loadWidgetAssets(log).catch((err) => {
      assets = undefined;
      throw err;
    });
    return assets;
  };

  function send(req: http.IncomingMessage, res: http.ServerResponse, file: WidgetAsset, cacheControl: string) {
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": cacheControl,
      etag: file.etag,
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "cross-origin",
      "access-control-allow-origin": "*",
    };
    if (req.headers["if-none-match"] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? file.gzip : file.body;
    res.writeHead(200, { ...headers, ...(gzip ? { "content-encoding": "gzip" } : {}), "content-length": String(body.length) });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  return {
    /** The current build (built on first use). */
    assets: load,
    /** Serves /widget/*; false for other paths. */
    async handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, requestId: string): Promise<boolean> {
      if (!path.startsWith("/widget/")) return false;
      if (path === "/widget/uploads") {
        await handleVisitorUpload(req, res, { ...deps, requestId });
        return true;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
        res.end("Method not allowed");
        return true;
      }
      const built = await load();
      if (path === "/widget/loader.js") send(req, res, built.loader, LOADER_CACHE);
      else if (path === `/widget/${built.chatFile}`) send(req, res, built.chat, BUNDLE_CACHE);
      // A loader cached before an upgrade names the previous bundle: it gets this one, briefly cached.
      else if (/^\/widget\/chat\.[0-9a-f]{12}\.js$/.test(path)) send(req, res, built.chat, LOADER_CACHE);
      else {
        res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
        res.end("Not found");
      }
      return true;
    },
  };
}
