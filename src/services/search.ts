import { Prisma } from "../generated/prisma/client.js";
import { ValidationError } from "./errors.js";

/**
 * The one search rule for `conversations(search:)` and `contacts(search:)`:
 *
 * - websearch syntax, as PostgreSQL's websearch_to_tsquery reads it: words must all match,
 *   `"quoted phrase"`, `or`, `-excluded`; case-insensitive, no stemming ('simple' configuration);
 * - words match whole, except the last one, which also matches as a prefix while the term ends in
 *   it (`zanzi` finds "Zanzibar", `bea-3f` finds "bea-3fa2c1"): search as the user types. A last
 *   word that is excluded (`-foo`), quoted, or `or` matches whole;
 * - a term of digits (with + ( ) - . and spaces, at least 3 digits) also matches phone numbers
 *   containing those digits;
 * - at most MAX_SEARCH_TERM_CHARS characters (ValidationError on `search` past it): a long term
 *   only costs the database (a 100,000-word tsquery ran for seconds inside the embedded database,
 *   which shares the server's event loop, and failed on PostgreSQL).
 */
export const MAX_SEARCH_TERM_CHARS = 1000;

/**
 * Characters of one message's text that go into its conversation's search document. A tsvector
 * holds at most 1 MB (longer texts failed the message's insert on PostgreSQL) and building one
 * runs inside the embedded database on the event loop: the start of a long text is what search finds.
 */
export const SEARCH_INDEXED_CHARS = 20_000;

/** `text` as it goes into a search document (to_tsvector): its first SEARCH_INDEXED_CHARS characters. */
export function searchableText(text: string): string {
  if (text.length <= SEARCH_INDEXED_CHARS) return text;
  const cut = text.slice(0, SEARCH_INDEXED_CHARS);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** The trimmed search term, null when there is none; ValidationError on `path` past MAX_SEARCH_TERM_CHARS. */
export function searchTerm(raw: string | null | undefined, path = "search"): string | null {
  const term = raw?.trim();
  if (!term) return null;
  if (term.length > MAX_SEARCH_TERM_CHARS) throw ValidationError.field(path, `At most ${MAX_SEARCH_TERM_CHARS} characters`);
  return term;
}

/** The word the user is typing, if the term ends in a plain one (not quoted, excluded or `or`). */
function typedWord(term: string): string | null {
  const last = /(\S+)$/.exec(term)?.[1] ?? "";
  if (!last || last.startsWith("-") || last.includes('"') || /^or$/i.test(last)) return null;
  return last;
}

/**
 * The tsquery of `term` (see the rules above). The last word's lexemes are the tail of
 * websearch_to_tsquery's text exactly as phraseto_tsquery writes that word alone; each of them
 * gets `:*` (prefix match). If the tail is not that (no lexemes, say), the query stays whole-word.
 */
export function searchQuery(term: string): Prisma.Sql {
  const word = typedWord(term);
  if (!word) return Prisma.sql`websearch_to_tsquery('simple', ${term})`;
  return Prisma.sql`(SELECT (CASE
      WHEN q.tail <> '' AND right(q.whole, length(q.tail)) = q.tail
       AND (length(q.whole) = length(q.tail) OR substr(q.whole, length(q.whole) - length(q.tail), 1) IN (' ', '('))
      THEN left(q.whole, length(q.whole) - length(q.tail)) || regexp_replace(q.tail, '''(\\s|$)', ''':*\\1', 'g')
      ELSE q.whole END)::tsquery
    FROM (SELECT websearch_to_tsquery('simple', ${term})::text AS whole, phraseto_tsquery('simple', ${word})::text AS tail) q)`;
}

/** The digits of a phone-like term (at least 3), else null. */
export function phoneDigits(term: string): string | null {
  if (!/^[+\d\s().-]+$/.test(term)) return null;
  const digits = term.replace(/\D/g, "");
  return digits.length >= 3 ? digits : null;
}

/**
 * SQL condition: the contact (columns of alias `c`) matches `term`: its name, email (also its
 * domain, and split at `@` and `.`, so its parts match) and phone against searchQuery, or its phone's digits contain a
 * phone-like term's digits.
 */
export function contactMatchSql(term: string, alias = "c"): Prisma.Sql {
  const c = Prisma.raw(`"${alias}"`);
  const document = Prisma.sql`to_tsvector('simple', concat_ws(' ', ${c}.name, ${c}.email, split_part(${c}.email, '@', 2), translate(${c}.email, '@.', '  '), ${c}.phone))`;
  const digits = phoneDigits(term);
  const byPhone = digits ? Prisma.sql` OR regexp_replace(coalesce(${c}.phone, ''), '\\D', '', 'g') LIKE ${`%${digits}%`}` : Prisma.empty;
  return Prisma.sql`(${document} @@ ${searchQuery(term)}${byPhone})`;
}

/** The most contacts a search considers (newest first): a search is narrowed by typing, not paged through. */
export const MAX_CONTACT_MATCHES = 1000;
