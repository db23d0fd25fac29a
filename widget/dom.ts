/** Small DOM helpers: elements and SVG icons built node by node (no innerHTML, so Trusted Types pages work). */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    else if (key === "text") el.textContent = String(value);
    else if (key === "class") el.className = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
export function icon(d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

export const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
export const ICON_CLIP = "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";
export const ICON_CLOSE = "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z";

/** Black or white, whichever reads better on the hex colour. */
export function textOn(hex: string): string {
  const full = hex.length === 4 ? `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}` : hex;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(full.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.4 ? "#1f2328" : "#ffffff";
}

/** The visitor's chat as kept in the page's storage (a token for that one conversation). */
export interface StoredChat {
  token: string;
  conversationId: string;
  /** The last event cursor received: a reconnect resumes after it. */
  cursor: string | null;
}

export function chatStore(channelId: string) {
  const key = `inbox-chat:${channelId}`;
  let memory: StoredChat | null = null;
  return {
    load(): StoredChat | null {
      try {
        const raw = localStorage.getItem(key);
        return raw ? (JSON.parse(raw) as StoredChat) : memory;
      } catch {
        return memory;
      }
    },
    save(chat: StoredChat | null) {
      memory = chat;
      try {
        if (chat) localStorage.setItem(key, JSON.stringify(chat));
        else localStorage.removeItem(key);
      } catch {
        // Storage refused (privacy mode): the chat lasts as long as the page.
      }
    },
  };
}
