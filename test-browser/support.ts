import { mkdir } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

/** Where screenshots go (gitignored): look at them, a test passing on a blank page is a defect. */
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "artifacts");

/** Debian's Chromium, headless, with nothing that talks to the network on its own. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  // launch() gives the browser a fresh temporary --user-data-dir of its own, removed on close.
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface SitePage {
  html: string;
  /** Extra response headers (a Content-Security-Policy, …). */
  headers?: Record<string, string>;
}

/**
 * A website on another origin than the inbox server (another port), serving the pages a test
 * puts in `pages` by path.
 */
export async function startSite() {
  const pages = new Map<string, SitePage>();
  const server = http.createServer((req, res) => {
    const page = pages.get((req.url ?? "/").split("?")[0]);
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...page.headers });
    res.end(page.html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    /** Serves `html` at `path`; returns its URL. */
    page(pathname: string, page: SitePage) {
      pages.set(pathname, page);
      return `${origin}${pathname}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A shop's page with the embed snippet just before </body>. */
export function shopPage(snippet: string, head = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>${head}</head>
<body style="font-family: sans-serif; margin: 40px"><h1>Acme shop</h1><p>Hand-made teapots, shipped worldwide.</p><button>Add to cart</button>
${snippet}
</body></html>`;
}

/** The widget's launcher button (playwright's CSS locators pierce the open shadow root). */
export const launcher = (page: Page) => page.locator("inbox-chat-widget .launcher");
export const panel = (page: Page) => page.locator("inbox-chat-widget .panel");
export const messageList = (page: Page) => page.locator("inbox-chat-widget .log");

export const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

/** "rgb(r, g, b)" as getComputedStyle reports a hex colour. */
export function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
