/*
 * Fernhollow Bank chat widget: one <script> tag, no framework.
 *
 *   <script src="https://assistant.example/widget.js" data-key="SITE_KEY" data-title="Fernhollow Bank"
 *           data-color="#0b5d4b" data-position="right|left" data-api="https://assistant.example"></script>
 *
 * A floating bubble opens a panel; replies stream from POST {api}/api/chat (Server-Sent Events read from
 * a fetch stream), with their sources as links, thumbs up/down and a "Talk to a person" button. The
 * session id and the transcript live in localStorage, so the conversation survives page loads. All markup
 * and CSS live in a Shadow DOM: the page's CSS does not reach the widget and the widget's does not leak.
 * Text is only ever inserted as text (never as HTML); links are http(s) only. It does not send anything
 * until the customer writes, and never sees sentiment or risk (the server keeps those to staff).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__fernhollowWidget) return;
  window.__fernhollowWidget = true;

  var d = script.dataset;
  var cfg = {
    key: d.key || "",
    title: d.title || "Fernhollow Bank",
    color: /^#[0-9a-f]{3,8}$|^[a-z]+$|^rgb/i.test(d.color || "") ? d.color : "#0b5d4b",
    position: d.position === "left" ? "left" : "right",
    api: (d.api || new URL(script.src, location.href).origin).replace(/\/+$/, ""),
    greeting: d.greeting || "Hi! Ask me about accounts, cards, loans or transfers."
  };
  var STORE = "fernhollow-widget:" + cfg.key;
  var MAX_KEPT = 40;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
  }
  var state = load();
  state.messages = Array.isArray(state.messages) ? state.messages : [];
  function save() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }

  var CSS = [
    ":host{all:initial !important}",
    ".root{all:initial;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2321;",
    "  --c:" + cfg.color + "}",
    ":where(.root) :where(*){box-sizing:border-box;font:inherit;margin:0}",
    ".bubble{position:fixed;bottom:20px;" + cfg.position + ":20px;width:60px;height:60px;border-radius:50%;",
    "  border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 16px #0004;z-index:2147483000;",
    "  display:flex;align-items:center;justify-content:center}",
    ".bubble svg{width:28px;height:28px;fill:#fff}",
    ".bubble:focus-visible,.panel button:focus-visible,.panel textarea:focus-visible,.panel a:focus-visible",
    "  {outline:3px solid #f5b700;outline-offset:2px}",
    ".panel{position:fixed;bottom:92px;" + cfg.position + ":20px;width:380px;max-width:calc(100vw - 24px);",
    "  height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;z-index:2147483000;",
    "  box-shadow:0 8px 32px #0005;display:flex;flex-direction:column;overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header h2{font-weight:600;font-size:16px;flex:1;color:#fff}",
    "header button{background:transparent;border:0;color:#fff;cursor:pointer;font-size:13px;padding:4px 6px;",
    "  border-radius:6px}",
    "header .x{font-size:22px;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f6f7f6}",
    ".msg{max-width:88%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #dde2df;border-bottom-left-radius:4px}",
    ".bot.pending::after{content:'\\2026';opacity:.6}",
    ".err{color:#8a1c13;background:#fde2e1;border-color:#f3b7b2}",
    ".sources{margin-top:8px;padding-top:6px;border-top:1px solid #e4e8e6;font-size:13px;white-space:normal}",
    ".sources ol{padding-left:20px;margin:4px 0 0}",
    ".sources a{color:var(--c);text-decoration:underline}",
    ".acts{display:flex;gap:6px;margin-top:6px}",
    ".acts button{border:1px solid #dde2df;background:#fff;border-radius:6px;cursor:pointer;padding:1px 7px;",
    "  font-size:13px}",
    ".acts svg{width:15px;height:15px;fill:#4a5550;vertical-align:middle}",
    ".acts button[aria-pressed=true]{background:#e7f1ee;border-color:var(--c)}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e8e6;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #c9d0cc;border-radius:10px;padding:8px 10px;height:42px;",
    "  max-height:120px;background:#fff;color:#1d2321}",
    "form button{background:var(--c);color:#fff;border:0;border-radius:10px;padding:0 14px;cursor:pointer}",
    "form button:disabled{opacity:.5;cursor:default}",
    ".person{margin:0 10px 10px;border:1px solid var(--c);color:var(--c);background:#fff;border-radius:10px;",
    "  padding:7px;cursor:pointer;font-size:14px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.panel{inset:0;width:100vw;max-width:none;height:100%;max-height:none;",
    "  border-radius:0}.bubble{bottom:14px;" + cfg.position + ":14px}}"
  ].join("\n");

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text) n.textContent = text;
    return n;
  }

  var host = el("fernhollow-chat", { "data-fernhollow": "widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS;
  var root = el("div", { "class": "root" });
  var icon = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 ' +
    '2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  function svg(d) { return '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="' + d + '"/></svg>'; }
  var THUMB_UP = svg("M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z");
  var THUMB_DOWN = svg("M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 " +
    "4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z");
  var bubble = el("button", { "class": "bubble", type: "button", "aria-expanded": "false",
    "aria-controls": "fh-panel", "aria-label": "Open chat: " + cfg.title });
  bubble.innerHTML = icon; // a constant: no page or server text is ever put into innerHTML
  var panel = el("section", { "class": "panel", id: "fh-panel", role: "dialog", "aria-label": cfg.title });
  panel.hidden = true;
  var header = el("header");
  var h2 = el("h2", {}, cfg.title);
  var newChat = el("button", { type: "button", "class": "new", title: "Start a new conversation" }, "New chat");
  var close = el("button", { type: "button", "class": "x", "aria-label": "Close chat" }, "\u00d7");
  header.append(h2, newChat, close);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var form = el("form");
  var label = el("label", { "for": "fh-input", "class": "sr" }, "Your message");
  var input = el("textarea", { id: "fh-input", rows: "1", maxlength: "4000",
    placeholder: "Type your question\u2026", "aria-label": "Your message" });
  var send = el("button", { type: "submit" }, "Send");
  form.append(label, input, send);
  var person = el("button", { type: "button", "class": "person" }, "Talk to a person");
  panel.append(header, log, form, person);
  root.append(bubble, panel);
  shadow.append(style, root);

  function headers() {
    return { "Content-Type": "application/json", "X-Widget-Key": cfg.key };
  }

  function safeUrl(u) {
    try { var p = new URL(u); return p.protocol === "https:" || p.protocol === "http:" ? p.href : null; }
    catch (e) { return null; }
  }

  function renderSources(box, sources) {
    if (!sources || !sources.length) return;
    var wrap = el("div", { "class": "sources" });
    wrap.append(el("span", {}, "Sources:"));
    var ol = el("ol");
    sources.forEach(function (s) {
      var li = el("li");
      var href = safeUrl(s.url);
      var text = [s.title, s.section].filter(Boolean).join(" \u2014 ");
      if (href) {
        li.append(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, text));
      } else {
        li.textContent = text;
      }
      ol.append(li);
    });
    wrap.append(ol);
    box.append(wrap);
  }

  function renderActions(box, msg) {
    if (!msg.turn_id) return;
    var acts = el("div", { "class": "acts" });
    [[1, THUMB_UP, "Helpful"], [-1, THUMB_DOWN, "Not helpful"]].forEach(function (b) {
      var btn = el("button", { type: "button", "aria-label": b[2], title: b[2], "aria-pressed": String(msg.rating === b[0]) });
      btn.innerHTML = b[1]; // constant SVG
      btn.addEventListener("click", function () { rate(msg, b[0], acts); });
      acts.append(btn);
    });
    box.append(acts);
  }

  function addMessage(msg) {
    var box = el("div", { "class": "msg " + (msg.role === "user" ? "user" : "bot") + (msg.error ? " err" : "") });
    box.append(el("div", { "class": "text" }, msg.text || ""));
    if (msg.role !== "user") { renderSources(box, msg.sources); renderActions(box, msg); }
    log.append(box);
    log.scrollTop = log.scrollHeight;
    return box;
  }

  function rerender() {
    log.textContent = "";
    if (!state.messages.length) addMessage({ role: "bot", text: cfg.greeting });
    state.messages.forEach(addMessage);
  }

  function setOpen(open, restoring) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + cfg.title);
    state.open = open;
    save();
    if (restoring) return; // a page load does not move the focus
    if (open) { log.scrollTop = log.scrollHeight; input.focus(); } else { bubble.focus(); }
  }

  async function errorText(res) {
    var msg = "Sorry, the assistant is unavailable right now.";
    try { msg = (await res.json()).error.message || msg; } catch (e) { /* keep the default */ }
    if (res.status === 429) {
      return "You're sending messages quickly. Please try again in " + (res.headers.get("Retry-After") || "a few") + " seconds.";
    }
    return msg;
  }

  var busy = false;
  async function ask(text) {
    if (busy || !text.trim()) return;
    busy = true; send.disabled = true;
    var user = { role: "user", text: text };
    state.messages.push(user); save();
    if (state.messages.length === 1) rerender(); else addMessage(user);
    var msg = { role: "bot", text: "" };
    var box = addMessage(msg);
    box.classList.add("pending");
    var textNode = box.querySelector(".text");
    try {
      var res = await fetch(cfg.api + "/api/chat", { method: "POST", headers: headers(),
        body: JSON.stringify({ message: text, session_id: state.session_id || undefined }) });
      if (!res.ok || !res.body) throw new Error(await errorText(res));
      var reader = res.body.getReader(), decoder = new TextDecoder(), buf = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buf += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
        var cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          handle(buf.slice(0, cut), msg, textNode);
          buf = buf.slice(cut + 2);
        }
      }
      if (!msg.done) throw new Error("The connection was interrupted. Please try again.");
    } catch (e) {
      msg.error = true;
      msg.text = msg.text || (e && e.message) || "Sorry, something went wrong.";
    }
    box.classList.remove("pending");
    if (!msg.error) state.messages.push(msg); // errors are shown, not kept
    save();
    var fresh = addMessage(msg);
    box.replaceWith(fresh);
    busy = false; send.disabled = false;
  }

  function handle(frame, msg, textNode) {
    var event = "message", data = "";
    frame.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
    });
    if (!data) return;
    var p;
    try { p = JSON.parse(data); } catch (e) { return; }
    if (event === "session") { state.session_id = p.session_id; save(); }
    else if (event === "token") { msg.text = (msg.text ? msg.text + " " : "") + p.text; textNode.textContent = msg.text; log.scrollTop = log.scrollHeight; }
    else if (event === "citations") { msg.sources = p.sources; }
    else if (event === "handoff") { if (p.offered) person.classList.add("offered"); }
    else if (event === "final") { msg.turn_id = p.turn_id; msg.done = true; if (!msg.text) msg.text = p.text; }
    else if (event === "error") { msg.error = true; msg.done = true; msg.text = p.message; }
  }

  async function rate(msg, rating, acts) {
    msg.rating = rating; save();
    acts.querySelectorAll("button").forEach(function (b, i) { b.setAttribute("aria-pressed", String((i === 0 ? 1 : -1) === rating)); });
    try {
      await fetch(cfg.api + "/api/feedback", { method: "POST", headers: headers(),
        body: JSON.stringify({ turn_id: msg.turn_id, rating: rating, session_id: state.session_id }) });
    } catch (e) { /* feedback is best effort */ }
  }

  async function handoff() {
    if (!state.session_id) state.session_id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())).replace(/-/g, "");
    var msg = { role: "bot", text: "" };
    try {
      var res = await fetch(cfg.api + "/api/handoff", { method: "POST", headers: headers(),
        body: JSON.stringify({ session_id: state.session_id }) });
      if (!res.ok) throw new Error(await errorText(res));
      msg.text = (await res.json()).text;
    } catch (e) { msg.error = true; msg.text = e.message; }
    state.messages.push({ role: "user", text: "Talk to a person" }, msg); save(); rerender();
  }

  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  newChat.addEventListener("click", function () { state = { open: true, messages: [] }; save(); rerender(); input.focus(); });
  person.addEventListener("click", handoff);
  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; ask(t); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  function mount() {
    document.body.append(host);
    rerender();
    if (state.open) setOpen(true, true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
