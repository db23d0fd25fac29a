import { z } from "zod";

/** NUL and unpaired UTF-16 surrogates: PostgreSQL text and jsonb refuse them (a 500 otherwise). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MESSAGE = "Contains characters that cannot be stored (NUL or an unpaired surrogate)";

/** True when `value` is a string PostgreSQL can store. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** Adds the storable-text check to a string schema. */
export function storable<S extends z.ZodString>(schema: S) {
  return schema.refine(isStorableText, MESSAGE);
}

/**
 * A free JSON object (ticket properties and the like): storable keys and strings everywhere,
 * at most `maxBytes` once serialised and `maxDepth` levels deep.
 */
export function storableJsonObject(opts: { maxBytes?: number; maxDepth?: number } = {}) {
  const maxBytes = opts.maxBytes ?? 64_000;
  const maxDepth = opts.maxDepth ?? 10;
  return z.record(z.string(), z.unknown()).superRefine((value, check) => {
    const problem = findProblem(value, 0, maxDepth);
    if (problem) return check.addIssue({ code: "custom", message: problem });
    if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) check.addIssue({ code: "custom", message: `At most ${maxBytes} bytes` });
  });
}

function findProblem(value: unknown, depth: number, maxDepth: number): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : MESSAGE;
  if (value === null || typeof value !== "object") return null;
  if (depth >= maxDepth) return `At most ${maxDepth} levels deep`;
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return MESSAGE;
    const problem = findProblem(item, depth + 1, maxDepth);
    if (problem) return problem;
  }
  return null;
}
