/**
 * The embed snippet's script: tiny and cacheable for minutes. It only finds its own tag and
 * injects the widget bundle, whose file name carries its content hash (cached for a year), so a
 * new widget reaches every site within the loader's cache time without a change to the snippet.
 * The nonce of the snippet's tag is passed on, so a page with `script-src 'nonce-…' 'strict-dynamic'`
 * runs the widget too.
 */
declare const __WIDGET_FILE__: string;

(() => {
  const tag = (document.currentScript ?? document.querySelector('script[src*="/widget/loader.js"][data-channel-id]')) as HTMLScriptElement | null;
  const channelId = tag?.getAttribute("data-channel-id");
  if (!tag || !channelId) return;
  const loaded = ((window as unknown as { __inboxChat?: Record<string, boolean> }).__inboxChat ??= {});
  if (loaded[channelId]) return;
  loaded[channelId] = true;
  const base = tag.src.replace(/\/widget\/loader\.js(?:[?#].*)?$/, "");
  const script = document.createElement("script");
  script.async = true;
  script.src = `${base}/widget/${__WIDGET_FILE__}`;
  script.setAttribute("data-channel-id", channelId);
  script.setAttribute("data-base", base);
  if (tag.nonce) script.nonce = tag.nonce;
  (document.head ?? document.documentElement).appendChild(script);
})();
