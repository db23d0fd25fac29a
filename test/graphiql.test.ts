import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

/** What a browser asks for when it opens the address bar's /graphql. */
const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0" };

/** Every asset the page names: src and href attributes, and file paths quoted in its inline scripts (Monaco's workers). */
function assetsOf(html: string): string[] {
  const attributes = [...html.matchAll(/\s(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]);
  const scripts = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/gi)].flatMap((m) => [...m[1].matchAll(/["']((?:https?:)?\/\/?[^"'\s]+\.(?:js|css|ico|png|svg|woff2?|ttf|json))["']/gi)].map((x) => x[1]));
  return [...new Set([...attributes, ...scripts])];
}

describe("item 21: GraphiQL without internet", () => {
  test("item 21: /graphql opened by a browser is GraphiQL, and every asset it names answers 200 from this server", async () => {
    const page = await fetch(t.url, { headers: BROWSER });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("renderYogaGraphiQL");

    const assets = assetsOf(html);
    // The script, its styles, the favicon and the three Monaco workers.
    expect(assets.length).toBeGreaterThanOrEqual(6);
    const origin = new URL(t.url).origin;
    for (const asset of assets) {
      const url = new URL(asset, t.url);
      expect(url.origin, `${asset} is not on this server`).toBe(origin);
      const res = await fetch(url, { headers: { "user-agent": BROWSER["user-agent"] } });
      expect(res.status, asset).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length, asset).toBeGreaterThan(0);
      if (asset.endsWith(".js")) {
        expect(res.headers.get("content-type"), asset).toMatch(/javascript/);
        // Nothing the page runs goes to a CDN for more code or styles.
        expect(body.toString("utf8"), asset).not.toMatch(/unpkg\.com|cdn\.jsdelivr\.net|fonts\.googleapis\.com/);
      }
      if (asset.endsWith(".css")) expect(res.headers.get("content-type"), asset).toMatch(/text\/css/);
    }
  });

  test("item 21: an unknown asset is 404, and the API still answers JSON on the same path", async () => {
    expect((await fetch(new URL("/graphiql-assets/nope.js", t.url))).status).toBe(404);
    const res = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(await res.json()).toEqual({ data: { __typename: "Query" } });
  });
});
