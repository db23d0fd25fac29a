import sanitizeHtml from "sanitize-html";
import { ValidationError } from "./errors.js";

const TAGS = [
  "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small", "br", "p", "div", "span", "blockquote", "pre", "code", "hr",
  "h1", "h2", "h3", "h4", "h5", "h6",
  "ul", "ol", "li",
  "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
  "a", "img",
];

/** Removed together with their content (sanitize-html keeps the text of other removed tags). */
const NON_TEXT_TAGS = [
  "script", "style", "textarea", "option", "select", "xmp", "noscript", "noembed", "noframes", "template",
  "head", "title", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
];

const CELL = ["align", "valign", "width", "height", "colspan", "rowspan"];
const ATTRIBUTES: Record<string, string[]> = {
  "*": ["style", "title", "dir", "lang"],
  a: ["href", "target", "rel"],
  img: ["src", "alt", "width", "height"],
  table: ["width", "align", "border", "cellpadding", "cellspacing", "summary"],
  th: [...CELL, "scope"],
  td: CELL,
  tr: ["align", "valign"],
  col: ["span", "width", "align", "valign"],
  colgroup: ["span", "width", "align", "valign"],
  ol: ["start", "type", "reversed"],
  ul: ["type"],
  li: ["value"],
  p: ["align"],
  div: ["align"],
  h1: ["align"], h2: ["align"], h3: ["align"], h4: ["align"], h5: ["align"], h6: ["align"],
};

const COLOUR = [/^#[0-9a-f]{3,8}$/i, /^rgba?\(\s*[\d.%]+\s*,\s*[\d.%]+\s*,\s*[\d.%]+\s*(,\s*[\d.%]+\s*)?\)$/i, /^[a-z]{3,20}$/i];
const STYLES = {
  "*": {
    color: COLOUR,
    "background-color": COLOUR,
    "text-align": [/^(left|right|center|justify|start|end)$/i],
    "font-weight": [/^(normal|bold|bolder|lighter|[1-9]00)$/i],
    "font-style": [/^(normal|italic|oblique)$/i],
    "text-decoration": [/^(none|underline|overline|line-through)( (underline|overline|line-through))*$/i],
  },
};

const LINK_SCHEMES = ["http", "https", "mailto", "tel"];
const IMAGE_SCHEMES = ["http", "https", "cid"];

/** The URL's scheme when it has one of `schemes` (after stripping what browsers ignore), else null. */
function absoluteScheme(url: string | undefined, schemes: string[]): string | null {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:").
  const compact = (url ?? "").replace(/[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/g, "");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(compact)?.[1].toLowerCase();
  return scheme && schemes.includes(scheme) ? scheme : null;
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: TAGS,
  allowedAttributes: ATTRIBUTES,
  allowedStyles: STYLES,
  allowedSchemes: LINK_SCHEMES,
  allowedSchemesByTag: { img: IMAGE_SCHEMES },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  nonTextTags: NON_TEXT_TAGS,
  transformTags: {
    a: (tagName, attribs) => {
      const { href, target: _target, rel: _rel, ...rest } = attribs;
      if (!absoluteScheme(href, LINK_SCHEMES)) return { tagName, attribs: rest };
      return { tagName, attribs: { ...rest, href, target: "_blank", rel: "noopener noreferrer nofollow" } };
    },
    img: (tagName, attribs) => {
      const { src, ...rest } = attribs;
      return { tagName, attribs: absoluteScheme(src, IMAGE_SCHEMES) ? attribs : rest };
    },
  },
  // An image whose src did not survive shows nothing: drop the tag.
  exclusiveFilter: (frame) => frame.tag === "img" && !frame.attribs.src,
};

/**
 * Bounds on HTML from outside, checked before it is parsed: sanitizing costs ~1 ms per 1,000
 * characters on the event loop, and grows with the square of the nesting depth (100,000 nested
 * `<div>` took 20 s). 512 levels is where browsers' own parsers stop nesting.
 */
export const RICH_TEXT_LIMITS = { maxChars: 200_000, maxDepth: 512 };

/** HTML past RICH_TEXT_LIMITS: refused for partners (ValidationError on `richText`); an email keeps its text without it. */
export class RichTextTooComplexError extends ValidationError {
  constructor(reason: string) {
    super([{ path: ["richText"], message: reason }]);
  }
}

const VOID_TAGS = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"]);
/** Opening one of these closes an element of the same name still open on top (`<p>a<p>b`, `<li>`...). */
const SIBLING_CLOSES = new Set(["p", "li", "dt", "dd", "tr", "td", "th", "option", "a"]);
const TAG = /<(\/?)([a-z][^\s/<>]*)/gi;

/**
 * How deeply `html` nests, as an HTML parser would see it (close enough: it may count a level too
 * many for sloppy markup, never fewer), in one pass that stops at `max + 1`.
 */
export function htmlDepth(html: string, max = RICH_TEXT_LIMITS.maxDepth): number {
  const open: string[] = [];
  let deepest = 0;
  for (const [, closing, rawName] of html.matchAll(TAG)) {
    const name = rawName.toLowerCase();
    if (closing) {
      const at = open.lastIndexOf(name);
      if (at >= 0) open.length = at;
      continue;
    }
    if (VOID_TAGS.has(name)) continue;
    const top = open[open.length - 1];
    if (SIBLING_CLOSES.has(name) && (top === name || (name[0] === "t" && (top === "td" || top === "th")))) open.pop();
    open.push(name);
    deepest = Math.max(deepest, open.length);
    if (deepest > max) return deepest;
  }
  return deepest;
}

/** Why `html` is past RICH_TEXT_LIMITS, or null when it is within them. */
export function richTextProblem(html: string, limits = RICH_TEXT_LIMITS): string | null {
  if (html.length > limits.maxChars) return `At most ${limits.maxChars} characters of HTML`;
  if (htmlDepth(html, limits.maxDepth) > limits.maxDepth) return `HTML nested at most ${limits.maxDepth} levels deep`;
  return null;
}

/**
 * Sanitizes HTML that comes from outside (an inbound email's HTML body, a partner's published
 * message) before it is stored and later rendered in agents' inbox frontends. The policy is an
 * allowlist, so anything not named here is removed:
 *
 * - Tags: text formatting (b strong i em u s strike sub sup small br p div span blockquote pre
 *   code hr), h1-h6, lists (ul ol li), tables (table thead tbody tfoot tr th td caption colgroup
 *   col), links `a` and images `img`. Other tags are dropped but their text is kept, except the
 *   ones in NON_TEXT_TAGS (script, style, head, svg, math, iframe...), which go with everything
 *   inside them.
 * - URLs must be absolute: `a href` http(s), mailto or tel; `img src` http(s) or `cid:` (inline
 *   email images). Relative and protocol-relative URLs are dropped too (an `<img src="/api/...">`
 *   would otherwise fire a request at the agents' own app), as are javascript:, data:, vbscript:.
 *   An `img` left without a src is removed. Every link opens in a new tab with
 *   rel="noopener noreferrer nofollow".
 * - Attributes: only the presentational ones listed in ATTRIBUTES; no event handlers, no id or
 *   class (DOM clobbering, the app's own CSS), no srcset.
 * - `style` is kept only for colour, background-color, text-align, font-weight, font-style and
 *   text-decoration, each with a value matched whole by a strict pattern (no url(), no
 *   expression(), no positioning), because email HTML carries its emphasis and alignment there.
 *
 * Before parsing, the HTML must be within RICH_TEXT_LIMITS (at most 200,000 characters and 512
 * levels of nesting), else RichTextTooComplexError: nothing unbounded runs on the event loop.
 *
 * @returns the safe HTML, or null when nothing visible is left (no text and no image), e.g. for
 *   a body that was only a script or an empty wrapper
 */
export function sanitizeRichText(html: string, limits = RICH_TEXT_LIMITS): string | null {
  const problem = richTextProblem(html, limits);
  if (problem) throw new RichTextTooComplexError(problem);
  const clean = sanitizeHtml(html, OPTIONS).trim();
  const text = clean.replace(/<[^>]*>/g, "").replace(/&nbsp;|&#160;|&#xa0;/gi, "").trim();
  return text || /<img\b/i.test(clean) ? clean : null;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
const BLOCK_END = /<\/?(p|div|br|li|tr|h[1-6]|blockquote|pre|table|ul|ol|hr)\b[^<>]*>/gi;

/** `html` without its script and style elements (their text is not the message's), in one pass. */
function withoutScripts(html: string): string {
  const lower = html.toLowerCase();
  const open = /<(script|style)\b/g;
  let out = "";
  let at = 0;
  for (let m = open.exec(lower); m; m = open.exec(lower)) {
    out += html.slice(at, m.index);
    const close = m[1] === "script" ? "</script" : "</style";
    const end = lower.indexOf(close, m.index);
    const gt = end < 0 ? -1 : lower.indexOf(">", end);
    if (gt < 0) return out;
    at = open.lastIndex = gt + 1;
  }
  return out + html.slice(at);
}

/**
 * The readable text of an HTML body (an email that has no text part): line breaks for block
 * elements, tags removed, entities decoded, blank lines collapsed. Linear in the input, whatever
 * its nesting, so it also serves HTML past RICH_TEXT_LIMITS.
 */
export function htmlToPlainText(html: string): string | null {
  const text = withoutScripts(html)
    .replace(BLOCK_END, "\n")
    .replace(/<[^<>]*>/g, "")
    .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
      const code = name[0] === "#" ? (name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)) : NaN;
      if (!Number.isNaN(code)) return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : "";
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n[\s]*/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return text || null;
}

/** Bounds for an inbound email's HTML, sanitized off the event loop (rich-text-offload.ts). */
export const EMAIL_RICH_TEXT_LIMITS = { maxChars: 2_000_000, maxDepth: RICH_TEXT_LIMITS.maxDepth };

/** What an inbound email keeps of its HTML body. */
export interface EmailHtml {
  /** The sanitized HTML; null when nothing visible is left or the HTML is past EMAIL_RICH_TEXT_LIMITS. */
  richText: string | null;
  /** The HTML's readable text, when asked for (an email without a text part). */
  text: string | null;
  /** Why the HTML was not kept (past the limits), else null. */
  dropped: string | null;
}

/**
 * An inbound email's HTML body: sanitized when within EMAIL_RICH_TEXT_LIMITS (else dropped, with
 * the reason), and its readable text when `wantText`. Synchronous: rich-text-offload.ts runs it
 * in a worker thread for large bodies.
 */
export function prepareEmailHtml(html: string, wantText: boolean): EmailHtml {
  const dropped = richTextProblem(html, EMAIL_RICH_TEXT_LIMITS);
  const richText = dropped ? null : sanitizeRichText(html, EMAIL_RICH_TEXT_LIMITS);
  return { richText, text: wantText ? htmlToPlainText(richText ?? html) : null, dropped };
}
