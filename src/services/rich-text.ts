import sanitizeHtml from "sanitize-html";

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
 * @returns the safe HTML, or null when nothing visible is left (no text and no image), e.g. for
 *   a body that was only a script or an empty wrapper
 */
export function sanitizeRichText(html: string): string | null {
  const clean = sanitizeHtml(html, OPTIONS).trim();
  const text = clean.replace(/<[^>]*>/g, "").replace(/&nbsp;|&#160;|&#xa0;/gi, "").trim();
  return text || /<img\b/i.test(clean) ? clean : null;
}
