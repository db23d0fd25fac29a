/**
 * The widget's chatflow side: which flow this page runs (chatWidget.chatflow, by the page's URL),
 * when to show it (its trigger: on load, after N seconds, at N% scrolled, on exit intent), and the
 * quick-reply buttons of a bot's question. chat.ts calls these through a few hooks.
 */
import { h } from "./dom.js";
import type { ChatMessage } from "./api.js";

export interface PageChatflow {
  id: string;
  kind: "LIVE_CHAT" | "BOT";
  trigger: "PAGE_LOAD" | "AFTER_SECONDS" | "SCROLL_PERCENT" | "EXIT_INTENT";
  triggerValue: number | null;
  greeting: string | null;
}

const FLOW = `query InboxChatflow($channelId: ID!, $pageUrl: String) { chatWidget(channelId: $channelId) { chatflow(pageUrl: $pageUrl) { id kind trigger triggerValue greeting } } }`;

/** The flow of this page (null: plain live chat). A GET: no CORS preflight. */
export async function loadChatflow(base: string, channelId: string): Promise<PageChatflow | null> {
  try {
    const variables = JSON.stringify({ channelId, pageUrl: location.href });
    const res = await fetch(`${base}/graphql?query=${encodeURIComponent(FLOW)}&variables=${encodeURIComponent(variables)}`, { credentials: "omit", headers: { accept: "application/json" } });
    const body = (await res.json()) as { data?: { chatWidget?: { chatflow?: PageChatflow | null } | null } };
    return body.data?.chatWidget?.chatflow ?? null;
  } catch {
    return null;
  }
}

/** Calls `fire` once, when the flow's trigger happens on this page. */
export function watchTrigger(flow: PageChatflow, fire: () => void) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    window.removeEventListener("scroll", onScroll);
    document.removeEventListener("mouseout", onExit);
    fire();
  };
  const onScroll = () => {
    const max = document.documentElement.scrollHeight - window.innerHeight;
    if (max <= 0 || (window.scrollY / max) * 100 >= (flow.triggerValue ?? 0)) once();
  };
  // Exit intent: the pointer leaves the window through its top edge (towards the tabs or the address bar).
  const onExit = (e: MouseEvent) => {
    if (!e.relatedTarget && e.clientY <= 0) once();
  };
  if (flow.trigger === "AFTER_SECONDS") setTimeout(once, (flow.triggerValue ?? 0) * 1000);
  else if (flow.trigger === "SCROLL_PERCENT") {
    window.addEventListener("scroll", onScroll, { passive: true });
    onScroll();
  } else if (flow.trigger === "EXIT_INTENT") document.addEventListener("mouseout", onExit);
  else once();
}

/** The quick-reply buttons of a bot message (the latest one only: older questions are answered). */
export function quickReplyButtons(m: ChatMessage, latest: boolean, pick: (label: string) => void): HTMLElement | null {
  const replies = m.quickReplies ?? [];
  if (!latest || m.direction !== "OUTBOUND" || replies.length === 0) return null;
  const row = h("div", { class: "quick", role: "group", "aria-label": "Quick replies" });
  for (const q of replies) {
    const b = h("button", { type: "button", class: "qr", text: q.label });
    b.addEventListener("click", () => pick(q.label));
    row.append(b);
  }
  return row;
}

/** Styles for the quick replies (appended to the widget's sheet). */
export const CHATFLOW_CSS = `.quick{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}.qr{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:14px;padding:4px 10px;font:inherit;font-size:13px;cursor:pointer}.qr:hover{background:var(--accent);color:var(--accent-text)}`;
