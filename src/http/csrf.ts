import type { Plugin } from "graphql-yoga";

/** Headers a browser cannot add to a cross-site "simple" request without a CORS preflight. */
export const CSRF_HEADERS = ["x-graphql-csrf", "graphql-require-preflight", "apollo-require-preflight", "x-apollo-operation-name", "x-graphql-yoga-csrf"];

const SIMPLE_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

/**
 * CSRF prevention as Apollo Server does it: a POST that a browser could send cross-site without a
 * preflight (a "simple" content type, e.g. an HTML form or `multipart/form-data`) is refused unless
 * it carries one of CSRF_HEADERS. JSON bodies (`application/json`, `application/graphql-response+json`)
 * always need a preflight, so API clients and the GraphQL-over-HTTP audits are unaffected. GET
 * cannot run mutations (Yoga refuses them with 405), so GET queries stay cacheable and header-free.
 */
export function useCsrfPrevention(endpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== "POST" || url.pathname !== endpoint) return;
      const mime = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      const simple = mime === "" || SIMPLE_TYPES.includes(mime);
      if (!simple || CSRF_HEADERS.some((h) => request.headers.has(h))) return;
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({
            errors: [
              {
                message: `This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Send a JSON body (content-type: application/json) or one of these headers: ${CSRF_HEADERS.join(", ")}.`,
                extensions: { code: "CSRF_BLOCKED" },
              },
            ],
          }),
          { status: 400, headers: { "content-type": "application/json; charset=utf-8" } },
        ),
      );
    },
  };
}
