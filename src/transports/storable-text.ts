/**
 * Text that arrives in a transport body (a Meta webhook, an inbound email) is the customer's,
 * relayed by a provider that retries or bounces whatever we refuse: so instead of answering 400,
 * the characters PostgreSQL cannot store are dropped from it before anything is written.
 * NUL (U+0000) is removed; an unpaired UTF-16 surrogate is replaced by U+FFFD, as a UTF-8 decoder
 * does with a broken sequence. (Call events, written by a telephony provider's program, are
 * refused with 400 instead: see src/services/calls.ts.)
 */

const NUL = /\u0000/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSTORABLE = /\u0000|[\ud800-\udfff]/;

/** `text` without NUL, with unpaired surrogates replaced by U+FFFD. */
export function storableText(text: string): string {
  if (!UNSTORABLE.test(text)) return text;
  return text.replace(NUL, "").replace(LONE_SURROGATE, "\ufffd");
}

/** A transport body nested deeper than storableDeep's bound. */
export class TooDeepError extends Error {
  constructor(readonly maxDepth: number) {
    super(`Nested deeper than ${maxDepth} levels`);
  }
}

/**
 * `value` with storableText applied to every string and object key, deeply (JSON-like data: plain
 * objects, arrays, scalars). TooDeepError past `maxDepth` levels (JSON.parse takes any depth).
 */
export function storableDeep<T>(value: T, maxDepth = 64): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return storableText(v);
    if (v === null || typeof v !== "object") return v;
    if (depth >= maxDepth) throw new TooDeepError(maxDepth);
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    // fromEntries defines own properties: a "__proto__" key stays a key.
    return Object.fromEntries(Object.entries(v).map(([key, item]) => [storableText(key), walk(item, depth + 1)]));
  };
  return walk(value, 0) as T;
}

/** `text` cut to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}
