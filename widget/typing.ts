/**
 * Typing indicators in the widget: the visitor's keystrokes tell the agents (at most one signal
 * every few seconds, renewed while typing; the server lets one lapse after 6 s), and an agent
 * typing a reply shows "… is typing" under the messages until it stops, lapses, or the reply comes.
 */
import type { Api } from "./api.js";

/** One signal per this many ms while the visitor keeps typing (under the server's 6 s lapse). */
const RENEW_MS = 3_000;

export function createTyping(api: Api, token: () => string | null, show: (text: string | null) => void) {
  let sentAt = 0;
  let hideTimer: ReturnType<typeof setTimeout> | undefined;

  const hide = () => {
    clearTimeout(hideTimer);
    show(null);
  };

  return {
    /** The visitor typed: tell the agents, unless told a moment ago. */
    keystroke() {
      const t = token();
      if (!t || Date.now() - sentAt < RENEW_MS) return;
      sentAt = Date.now();
      api.typing(t, true).catch(() => {});
    },
    /** The visitor sent (or cleared) the message: agents stop seeing them type. */
    stop() {
      const t = token();
      if (!t || sentAt === 0) return;
      sentAt = 0;
      api.typing(t, false).catch(() => {});
    },
    /** An agent's reply arrived: whoever was typing it is done. */
    replied: hide,
    /** Follows agents' typing until `signal` aborts, reconnecting after network or server loss. */
    async follow(signal: AbortSignal) {
      let delay = 1000;
      while (!signal.aborted) {
        const t = token();
        if (!t) return;
        try {
          await api.agentTyping(
            t,
            (e) => {
              delay = 1000;
              clearTimeout(hideTimer);
              if (!e.typing) return show(null);
              show(`${e.authorName ?? "Someone"} is typing…`);
              hideTimer = setTimeout(hide, Math.max(0, new Date(e.expiresAt).getTime() - Date.now()));
            },
            signal,
          );
        } catch {
          // Network, server restart or an ended chat: retry below (a forgotten chat has no token).
        }
        if (signal.aborted) return;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 30_000);
      }
    },
  };
}
