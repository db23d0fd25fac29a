/**
 * The website chat widget: a launcher and a chat panel in a shadow root on the host page,
 * rendering the chat channel's settings (chatWidget query) and talking to the visitor API.
 * The conversation starts when the visitor first writes (startChat, then sendVisitorMessage);
 * agents' replies arrive live over SSE; the visitor token is kept in localStorage per channel, so
 * the thread survives reloads and navigation, and each reconnect resumes after the last cursor.
 */
import { ApiError, createApi, type Attachment, type ChatMessage, type WidgetConfig } from "./api.js";
import { chatStore, h, icon, ICON_CHAT, ICON_CLIP, ICON_CLOSE, textOn, type StoredChat } from "./dom.js";
import { CSS } from "./styles.js";
import { createTyping } from "./typing.js";
import { CHATFLOW_CSS, loadChatflow, quickReplyButtons, watchTrigger, type PageChatflow } from "./chatflow.js";

const REPLY_TIME: Record<string, string> = { FEW_MINUTES: "a few minutes", FEW_HOURS: "a few hours", ONE_DAY: "a day" };
/** Settings and availability are read again this often while the page is visible (and on focus). */
const REFRESH_MS = 60_000;

function boot() {
  const tag = document.currentScript as HTMLScriptElement | null;
  const channelId = tag?.getAttribute("data-channel-id");
  const base = tag?.getAttribute("data-base");
  if (!channelId || !base) return;
  const api = createApi(base);
  const store = chatStore(channelId);

  let config: WidgetConfig | null = null;
  let chat: StoredChat | null = store.load();
  let open = false;
  let consented = false;
  let live: AbortController | null = null;
  const messages = new Map<string, ChatMessage & { pending?: boolean; failed?: boolean }>();
  // The page's chatflow (chatflow.ts) and whether its trigger has fired.
  let flow: PageChatflow | null = null;
  let flowShown = false;

  // --- the DOM, built once -------------------------------------------------------------------
  const host = document.createElement("inbox-chat-widget");
  host.setAttribute("data-channel-id", channelId);
  const shadow = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS + CHATFLOW_CSS);
  shadow.adoptedStyleSheets = [sheet];

  const faces = h("div", { class: "faces", "aria-hidden": "true" });
  const title = h("div", { class: "title", id: "inbox-chat-title" });
  const sub = h("div", { class: "sub" });
  const notice = h("div", { class: "notice", role: "status", hidden: true });
  const log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const typingNote = h("div", { class: "typing", role: "status", "aria-live": "polite", hidden: true });
  const consentBox = h("input", { type: "checkbox", id: "inbox-chat-consent" });
  const consentText = h("label", { for: "inbox-chat-consent" });
  const consent = h("div", { class: "consent", hidden: true }, consentBox, consentText);
  const input = h("textarea", { id: "inbox-chat-input", rows: "1", placeholder: "Write a message…", maxlength: "10000" });
  const send = h("button", { class: "send", type: "submit", text: "Send" });
  const error = h("div", { class: "error", role: "alert", hidden: true });
  const fileInput = h("input", { type: "file", class: "sr", id: "inbox-chat-file", tabindex: "-1", "aria-hidden": "true" });
  const attach = h("button", { class: "attach", type: "button", "aria-label": "Attach a file" }, icon(ICON_CLIP));
  const composer = h("form", { class: "composer" }, h("label", { class: "sr", for: "inbox-chat-input", text: "Message" }), attach, fileInput, input, send);
  const close = h("button", { class: "close", type: "button", "aria-label": "Close chat" }, icon(ICON_CLOSE));
  const end = h("button", { class: "end", type: "button", text: "End chat", hidden: true });
  const endEmail = h("input", { type: "email", id: "inbox-chat-end-email", autocomplete: "email", placeholder: "you@example.com" });
  const endConfirm = h("button", { class: "send", type: "submit", text: "End chat" });
  const endCancel = h("button", { class: "cancel", type: "button", text: "Cancel" });
  const ending = h(
    "form",
    { class: "ending", hidden: true, "aria-label": "End the chat" },
    h("label", { for: "inbox-chat-end-email", text: "Email me a transcript (optional)" }),
    endEmail,
    h("div", { class: "row" }, endCancel, endConfirm),
  );
  const panel = h(
    "section",
    { class: "panel", id: "inbox-chat-panel", role: "dialog", "aria-labelledby": "inbox-chat-title", hidden: true },
    h("div", { class: "head" }, faces, h("div", { class: "titles" }, title, sub), end, close),
    notice,
    log,
    typingNote,
    ending,
    consent,
    error,
    composer,
  );
  const promptText = h("span");
  const dismiss = h("button", { class: "dismiss", type: "button", "aria-label": "Dismiss" }, icon(ICON_CLOSE));
  const prompt = h("div", { class: "prompt", hidden: true }, promptText, dismiss);
  const launcher = h("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false", "aria-controls": "inbox-chat-panel" }, icon(ICON_CHAT));
  const root = h("div", { class: "root" }, panel, prompt, launcher);
  shadow.append(root);

  // --- rendering -------------------------------------------------------------------------------
  function render() {
    const status = config?.status;
    if (!config || !status?.showLauncher) {
      host.remove();
      return;
    }
    if (!host.isConnected) {
      (document.body ?? document.documentElement).appendChild(host);
      // For pages (and the browser tests) measuring the time from navigation to a visible launcher.
      performance.mark?.("inbox-chat:launcher");
    }
    root.style.setProperty("--accent", config.color);
    root.style.setProperty("--accent-text", textOn(config.color));
    root.style.fontFamily = config.font;

    faces.replaceChildren(...config.heading.map((p) => h("span", { class: "face", title: p.name, text: p.initials })));
    title.textContent = config.heading.length ? config.heading.map((p) => p.name).join(", ") : "Chat with us";
    if (status.state === "AVAILABLE") sub.textContent = status.typicalReplyTime ? `Typically replies in ${REPLY_TIME[status.typicalReplyTime]}` : "";
    else if (status.returnsAt) sub.textContent = `Back ${new Date(status.returnsAt).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}`;
    else sub.textContent = status.state === "AT_CAPACITY" ? "All agents are busy" : "Away";
    notice.textContent = status.message ?? "";
    notice.hidden = !status.message;

    // GDPR: EXPLICIT asks for the box to be ticked before the chat starts; IMPLIED only shows the text.
    consent.hidden = !!chat || !status.consentText;
    consentBox.hidden = !status.consentRequired;
    consentText.textContent = status.consentText ?? "";
    send.disabled = !chat && status.consentRequired && !consented;

    end.hidden = !chat;
    if (!chat) ending.hidden = true;
    composer.hidden = !ending.hidden;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    const greeting = flowShown ? flow?.greeting : null;
    prompt.hidden = open || !!chat || !(greeting || config.welcomeAsPrompt) || sessionFlag("prompt-dismissed");
    promptText.textContent = greeting || config.welcomeMessage;
    renderMessages();
  }

  function renderMessages() {
    const list = [...messages.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    // Before the chat exists, the welcome message is shown from the settings (startChat posts it).
    if (!chat && config?.welcomeMessage && flow?.kind !== "BOT") list.unshift({ id: "welcome", direction: "OUTBOUND", senderType: "BOT", authorName: null, text: config.welcomeMessage, createdAt: "" });
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.replaceChildren(
      ...list.map((m) =>
        h(
          "li",
          { class: `msg ${m.direction === "INBOUND" ? "in" : "out"}${m.pending ? " pending" : ""}${m.failed ? " failed" : ""}`, "data-id": m.id },
          m.direction === "OUTBOUND" && m.authorName ? h("span", { class: "who", text: m.authorName }) : null,
          m.text ?? "",
          ...(m.attachments ?? []).map(attachmentLink),
          quickReplyButtons(m, m === list.at(-1), (label) => {
            input.value = label;
            void submit();
          }),
        ),
      ),
    );
    if (atBottom || list.at(-1)?.direction === "INBOUND") log.scrollTop = log.scrollHeight;
  }

  /** A flag for this tab's session (prompt dismissed, panel open across a reload); `value` sets it. */
  /** A file or link of a message; server-relative download URLs resolve against the server, not the page. */
  function attachmentLink(a: Attachment) {
    const href = a.downloadUrl ?? a.url;
    const label = `${a.name ?? "attachment"}${a.size ? ` (${Math.max(1, Math.round(a.size / 1024))} KB)` : ""}`;
    if (!href) return h("span", { class: "file", text: label });
    return h("a", { class: "file", href: new URL(href, `${base}/`).href, target: "_blank", rel: "noopener noreferrer", text: label });
  }

  function sessionFlag(name: string, value?: boolean): boolean {
    const key = `inbox-chat:${channelId}:${name}`;
    try {
      if (value !== undefined) value ? sessionStorage.setItem(key, "1") : sessionStorage.removeItem(key);
      return sessionStorage.getItem(key) === "1";
    } catch {
      return !!value;
    }
  }

  function showError(text: string | null) {
    error.textContent = text ?? "";
    error.hidden = !text;
  }

  // --- talking to the server -------------------------------------------------------------------
  async function refreshConfig() {
    try {
      config = await api.config(channelId!, chat?.token);
    } catch (err) {
      if (chat && err instanceof ApiError && err.code === "UNAUTHENTICATED") forget();
      return;
    }
    render();
  }

  const typing = createTyping(api, () => chat?.token ?? null, (text) => {
    typingNote.textContent = text ?? "";
    typingNote.hidden = !text;
  });

  function forget() {
    typing.replied();
    chat = null;
    store.save(null);
    live?.abort();
    live = null;
    messages.clear();
  }

  function remember(list: ChatMessage[]) {
    for (const m of list) messages.set(m.id, m);
    renderMessages();
  }

  /** Loads the thread, then follows it live from the snapshot's cursor (or the last one seen). */
  async function resume() {
    if (!chat) return;
    try {
      const history = await api.history(chat.token);
      remember(history.messages);
      if (!chat.cursor || BigInt(history.eventCursor) > BigInt(chat.cursor)) saveCursor(history.eventCursor);
    } catch (err) {
      if (err instanceof ApiError && (err.code === "UNAUTHENTICATED" || err.code === "NOT_FOUND")) {
        forget();
        render();
        return;
      }
    }
    follow();
  }

  function saveCursor(cursor: string | null | undefined) {
    if (!chat || !cursor) return;
    chat = { ...chat, cursor };
    store.save(chat);
  }

  function follow() {
    if (!chat || live) return;
    const controller = (live = new AbortController());
    void typing.follow(controller.signal);
    let delay = 1000;
    const loop = async () => {
      while (chat && !controller.signal.aborted) {
        try {
          await api.live(
            chat.token,
            chat.cursor,
            (m) => {
              delay = 1000;
              saveCursor(m.eventCursor);
              typing.replied();
              remember([m]);
            },
            controller.signal,
          );
        } catch (err) {
          if (controller.signal.aborted) return;
          if (err instanceof ApiError && err.code === "UNAUTHENTICATED") return forget();
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 30_000);
      }
    };
    void loop();
  }

  /** Follows the admin's changes to the settings (public stream); after a reconnect, reads them again. */
  function watchSettings() {
    let delay = 2000;
    const loop = async () => {
      for (;;) {
        try {
          await api.changes(
            channelId!,
            (next) => {
              delay = 2000;
              config = next;
              render();
            },
            // Whatever changed before the stream was open is read once it is.
            () => void refreshConfig(),
            new AbortController().signal,
          );
        } catch {
          // Network or server gone: retry below.
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 300_000);
      }
    };
    void loop();
  }

  async function submit(files: File[] = []) {
    const text = input.value.trim();
    if ((!text && files.length === 0) || !config) return;
    if (!chat && config.status.consentRequired && !consented) return;
    showError(null);
    const clientMessageId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const local = {
      id: `local:${clientMessageId}`,
      direction: "INBOUND" as const,
      senderType: "CONTACT",
      authorName: null,
      text,
      createdAt: new Date().toISOString(),
      pending: true,
      attachments: files.map((f) => ({ name: f.name, mimeType: f.type, size: f.size, url: null, downloadUrl: null })),
    };
    messages.set(local.id, local);
    input.value = "";
    typing.stop();
    renderMessages();
    try {
      if (!chat) {
        const started = await api.start({ channelId: channelId!, consent: consented || undefined, chatflowId: flow?.id });
        chat = { token: started.visitorToken, conversationId: started.conversationId, cursor: null };
        store.save(chat);
        render();
        await resume();
      }
      const uploads = await Promise.all(files.map((f) => api.upload(chat!.token, f)));
      const sent = await api.send(chat!.token, { text, clientMessageId, attachments: uploads });
      messages.delete(local.id);
      remember([sent]);
    } catch (err) {
      messages.set(local.id, { ...local, pending: false, failed: true });
      renderMessages();
      showError(err instanceof Error ? err.message : "Your message could not be sent");
    }
  }

  /** A bot's chat starts as the visitor opens the panel: the bot greets and asks its first question. */
  async function startBot() {
    if (chat || !flow || flow.kind !== "BOT" || (config?.status.consentRequired && !consented)) return;
    try {
      const started = await api.start({ channelId: channelId!, consent: consented || undefined, chatflowId: flow.id });
      if (chat) return;
      chat = { token: started.visitorToken, conversationId: started.conversationId, cursor: null };
      store.save(chat);
      render();
      await resume();
    } catch (err) {
      showError(err instanceof Error ? err.message : "The chat could not start");
    }
  }

  function toggle(next: boolean) {
    open = next;
    sessionFlag("open", open);
    render();
    if (open) {
      void startBot();
      input.focus();
      void refreshConfig();
    } else launcher.focus();
  }

  /** Ends the chat: a transcript to the given (or known) address; the next message starts a new chat. */
  async function finish() {
    if (!chat) return;
    showError(null);
    try {
      const sentTo = await api.end(chat.token, endEmail.value.trim() || undefined);
      forget();
      endEmail.value = "";
      render();
      notice.textContent = sentTo ? `Chat ended. A transcript is on its way to ${sentTo}.` : "Chat ended.";
      notice.hidden = false;
      input.focus();
    } catch (err) {
      showError(err instanceof Error ? err.message : "The chat could not be ended");
    }
  }

  // --- events ----------------------------------------------------------------------------------
  end.addEventListener("click", () => {
    ending.hidden = false;
    render();
    endEmail.focus();
  });
  endCancel.addEventListener("click", () => {
    ending.hidden = true;
    render();
    input.focus();
  });
  ending.addEventListener("submit", (e) => {
    e.preventDefault();
    void finish();
  });
  launcher.addEventListener("click", () => toggle(!open));
  close.addEventListener("click", () => toggle(false));
  prompt.addEventListener("click", (e) => {
    if (e.target !== dismiss && !dismiss.contains(e.target as Node)) toggle(true);
  });
  dismiss.addEventListener("click", () => {
    sessionFlag("prompt-dismissed", true);
    render();
  });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") toggle(false);
  });
  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const files = [...(fileInput.files ?? [])];
    fileInput.value = "";
    if (files.length) void submit(files);
  });
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit();
  });
  input.addEventListener("input", () => (input.value.trim() ? typing.keystroke() : typing.stop()));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    }
  });
  consentBox.addEventListener("change", () => {
    consented = consentBox.checked;
    render();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void refreshConfig();
  });
  setInterval(() => document.visibilityState === "visible" && void refreshConfig(), REFRESH_MS);

  void loadChatflow(base, channelId).then((found) => {
    flow = found;
    if (found)
      watchTrigger(found, () => {
        flowShown = true;
        render();
      });
  });
  void refreshConfig().then(() => {
    watchSettings();
    if (chat) {
      // Reopened as it was before a reload or a navigation within the site.
      open = sessionFlag("open");
      render();
      void resume();
    }
  });
}

boot();
