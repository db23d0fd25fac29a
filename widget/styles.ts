/**
 * The widget's stylesheet, adopted by its shadow root (a constructed sheet: no <style> element,
 * so a page's `style-src` CSP does not apply to it). The host page's rules cannot reach inside
 * the shadow root; the few that reach the host element itself are overridden here with
 * `!important`, which inside a shadow root wins over the page's own `!important`.
 * `--accent` and `--accent-text` are set on .root from the channel's settings.
 */
export const CSS = `
:host { all: initial !important; display: block !important; position: fixed !important; right: 20px !important; bottom: 20px !important;
  left: auto !important; top: auto !important; z-index: 2147483647 !important; visibility: visible !important; opacity: 1 !important;
  transform: none !important; filter: none !important; width: auto !important; height: auto !important; margin: 0 !important; padding: 0 !important;
  pointer-events: auto !important; contain: layout style; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { font-size: 14px; line-height: 1.4; color: #1f2328; display: flex; flex-direction: column; align-items: flex-end; gap: 12px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
button { font: inherit; cursor: pointer; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: var(--accent); color: var(--accent-text);
  display: flex; align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); padding: 0; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.prompt { max-width: 280px; background: #fff; border-radius: 12px; padding: 12px 36px 12px 14px; box-shadow: 0 4px 18px rgba(0,0,0,.18);
  position: relative; cursor: pointer; }
.prompt .dismiss { position: absolute; top: 6px; right: 6px; border: 0; background: transparent; color: #57606a; width: 24px; height: 24px; }
.panel { width: min(360px, calc(100vw - 40px)); height: min(540px, calc(100vh - 110px)); background: #fff; border-radius: 14px;
  box-shadow: 0 8px 30px rgba(0,0,0,.22); display: flex; flex-direction: column; overflow: hidden; }
.head { background: var(--accent); color: var(--accent-text); padding: 14px 12px 12px 16px; display: flex; gap: 10px; align-items: center; }
.faces { display: flex; }
.face { width: 34px; height: 34px; border-radius: 50%; background: rgba(255,255,255,.92); color: #1f2328; font-weight: 600; font-size: 13px;
  display: flex; align-items: center; justify-content: center; border: 2px solid var(--accent); margin-left: -8px; }
.face:first-child { margin-left: 0; }
.titles { flex: 1; min-width: 0; }
.title { font-weight: 600; font-size: 15px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.sub { font-size: 12px; opacity: .9; }
.close { border: 0; background: transparent; color: inherit; width: 32px; height: 32px; border-radius: 50%; padding: 4px; }
.close svg, .dismiss svg { width: 100%; height: 100%; fill: currentColor; }
.notice { background: #fff8c5; color: #3b2e00; padding: 8px 14px; font-size: 13px; border-bottom: 1px solid #eee3a1; }
.log { flex: 1; overflow-y: auto; margin: 0; padding: 14px; list-style: none; display: flex; flex-direction: column; gap: 8px; background: #f6f8fa; }
.msg { max-width: 80%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.in { align-self: flex-end; background: var(--accent); color: var(--accent-text); border-bottom-right-radius: 4px; }
.msg.out { align-self: flex-start; background: #fff; border: 1px solid #d0d7de; border-bottom-left-radius: 4px; }
.msg .who { display: block; font-size: 11px; color: #57606a; margin-bottom: 2px; }
.msg.pending { opacity: .6; }
.msg.failed { outline: 2px solid #cf222e; }
.consent { padding: 10px 14px; font-size: 13px; border-top: 1px solid #d0d7de; display: flex; gap: 8px; align-items: flex-start; }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #d0d7de; align-items: flex-end; }
textarea { flex: 1; resize: none; font: inherit; border: 1px solid #d0d7de; border-radius: 10px; padding: 8px 10px; min-height: 40px; max-height: 120px; color: #1f2328; background: #fff; }
.send { border: 0; background: var(--accent); color: var(--accent-text); border-radius: 10px; height: 40px; padding: 0 14px; font-weight: 600; }
.send:disabled { opacity: .5; cursor: default; }
.end { border: 1px solid currentColor; background: transparent; color: inherit; border-radius: 8px; font-size: 12px; padding: 4px 8px; white-space: nowrap; }
.ending { padding: 12px 14px; border-top: 1px solid #d0d7de; display: flex; flex-direction: column; gap: 8px; font-size: 13px; }
.ending input { font: inherit; border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 10px; }
.ending .row { display: flex; justify-content: flex-end; gap: 8px; }
.cancel { border: 1px solid #d0d7de; background: #fff; color: #1f2328; border-radius: 10px; height: 40px; padding: 0 14px; }
.attach { border: 0; background: transparent; color: #57606a; width: 36px; height: 40px; padding: 6px; }
.attach svg { width: 100%; height: 100%; fill: currentColor; }
.msg .file { display: block; margin-top: 4px; color: inherit; text-decoration: underline; font-size: 13px; }
.typing { font-size: 12px; color: #57606a; padding: 4px 14px; background: #f6f8fa; font-style: italic; }
.error { color: #cf222e; font-size: 12px; padding: 0 14px 8px; }
`;
