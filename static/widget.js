/* Deskhand's widget: one <script src=".../widget.js"> on any site. A launcher and a panel with the
   knowledge base, the request form and live chat, drawn in a shadow root so that the host page's
   styles and ours never meet. No framework, no cookies: the chat is known by a token kept in this
   site's localStorage. Every text comes from /widget/config in the visitor's language.
   Options (data- attributes on the script tag): data-language="de", data-email, data-name (a signed-in
   visitor of the host site), data-open="true", data-position="left". */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__deskhandWidget) return;
  window.__deskhandWidget = true;
  var base = new URL(me.src, location.href).origin;
  var opt = me.dataset || {};
  var lang = opt.language || (navigator.language || "en");
  var store = "deskhand-chat:" + base;
  var cfg, T, root, panel, launcher, body, tabs = {}, current = "", stream = null, lastId = 0, chat = null;

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "html") node.innerHTML = attrs[k]; /* only server-sanitized HTML comes here */
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (kids || []).forEach(function (kid) { if (kid) node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid); });
    return node;
  }
  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k] == null ? "" : values[k]; }); }
  function api(path, options) {
    options = options || {};
    var headers = {"Accept": "application/json"};
    if (options.body) headers["Content-Type"] = "application/json";
    if (options.token) headers["X-Chat-Token"] = options.token;
    return fetch(base + path, {method: options.method || "GET", headers: headers, mode: "cors", credentials: "omit",
      body: options.body ? JSON.stringify(options.body) : undefined}).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
        if (!response.ok) { var error = new Error(data.detail || T.error); error.data = data; error.status = response.status; throw error; }
        return data;
      });
    });
  }
  function debounce(fn, ms) { var t; return function () { var a = arguments; clearTimeout(t); t = setTimeout(function () { fn.apply(null, a); }, ms); }; }

  var CSS = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".launch{position:fixed;bottom:20px;right:20px;z-index:2147483000;border:0;border-radius:999px;padding:12px 18px;" +
    "font-size:15px;font-weight:600;color:#fff;background:var(--brand);box-shadow:0 4px 14px rgba(0,0,0,.22);cursor:pointer}" +
    ".left .launch,.left .panel{right:auto;left:20px}" +
    ".launch:focus-visible,button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}" +
    ".panel{position:fixed;bottom:76px;right:20px;z-index:2147483000;width:min(380px,calc(100vw - 24px));height:min(560px,calc(100vh - 100px));" +
    "display:flex;flex-direction:column;background:#fff;color:#1f2937;border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden;font-size:14px;line-height:1.45}" +
    ".panel[hidden]{display:none}.head{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--brand);color:#fff}" +
    ".head img{height:24px;max-width:90px;object-fit:contain;background:#fff;border-radius:4px;padding:2px}.head h2{flex:1;margin:0;font-size:16px}" +
    ".x{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}" +
    ".tabs{display:flex;border-bottom:1px solid #e5e7eb}.tabs button{flex:1;border:0;background:#fff;padding:10px 4px;font-size:14px;cursor:pointer;color:#4b5563;border-bottom:3px solid transparent}" +
    ".tabs button[aria-selected=true]{color:#111827;font-weight:600;border-bottom-color:var(--brand)}" +
    ".body{flex:1;overflow:auto;padding:14px}.body iframe{border:0;width:100%;height:100%;display:block}.body.flush{padding:0}" +
    "label{display:block;font-weight:600;margin:10px 0 4px}input,textarea{width:100%;font:inherit;padding:8px 10px;border:1px solid #cbd5e1;border-radius:6px;color:#111827;background:#fff}" +
    "textarea{min-height:70px;resize:vertical}.go{margin-top:10px;border:0;border-radius:6px;padding:9px 14px;font:inherit;font-weight:600;color:#fff;background:var(--brand);cursor:pointer}" +
    ".link{background:none;border:0;padding:0;color:var(--brand);font:inherit;cursor:pointer;text-decoration:underline}" +
    ".muted{color:#6b7280;font-size:13px}.err{color:#b91c1c}ul.hits{list-style:none;margin:8px 0;padding:0}ul.hits li{border-bottom:1px solid #f1f5f9}" +
    "ul.hits button{display:block;width:100%;text-align:left;background:none;border:0;padding:9px 2px;font:inherit;cursor:pointer;color:#111827}" +
    "ul.hits strong{display:block;color:var(--brand)}mark{background:#fef08a;color:inherit}" +
    ".article h3{margin:8px 0;font-size:17px}.article img{max-width:100%}.article pre{white-space:pre-wrap}.vote{margin-top:16px;padding-top:10px;border-top:1px solid #e5e7eb}" +
    ".vote button{margin-right:8px}.log{display:flex;flex-direction:column;gap:8px;min-height:120px}" +
    ".msg{max-width:85%;padding:8px 10px;border-radius:10px;background:#f1f5f9;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".msg.customer{align-self:flex-end;background:var(--brand);color:#fff}.msg.system{align-self:center;background:none;color:#6b7280;font-size:13px}" +
    ".msg b{display:block;font-size:12px;opacity:.8}.compose{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb}" +
    ".compose textarea{min-height:40px;height:40px}.compose .go{margin:0}.bar{display:flex;gap:12px;padding:0 10px 10px}";

  function build() {
    var host = el("div", {id: "deskhand-widget"});
    root = host.attachShadow({mode: "open"});
    var css = CSS.replace(/var\(--brand\)/g, cfg.color);
    /* A constructed style sheet: a host page's Content-Security-Policy without 'unsafe-inline' (ours
       too) refuses a <style> element but not this. */
    var style = null;
    try { var sheet = new CSSStyleSheet(); sheet.replaceSync(css); root.adoptedStyleSheets = [sheet]; }
    catch (e) { style = el("style", {text: css}); }
    var wrap = el("div", {"class": opt.position === "left" ? "left" : ""});
    launcher = el("button", {"class": "launch", type: "button", "aria-expanded": "false", "aria-controls": "dh-panel",
      text: cfg.label, onclick: function () { toggle(); }});
    body = el("div", {"class": "body", role: "tabpanel"});
    var tablist = el("div", {"class": "tabs", role: "tablist"});
    [["kb", T.answers], ["request", T.request], ["chat", T.chat]].forEach(function (pair) {
      if (!cfg.apps[pair[0]]) return;
      tabs[pair[0]] = el("button", {type: "button", role: "tab", "aria-selected": "false", text: pair[1],
        onclick: function () { show(pair[0]); }});
      tablist.appendChild(tabs[pair[0]]);
    });
    panel = el("div", {"class": "panel", id: "dh-panel", role: "dialog", "aria-label": cfg.name, hidden: true}, [
      el("div", {"class": "head"}, [cfg.logo ? el("img", {src: base + cfg.logo, alt: ""}) : null, el("h2", {text: cfg.name}),
        el("button", {"class": "x", type: "button", "aria-label": T.close, text: "×", onclick: function () { toggle(false); }})]),
      Object.keys(tabs).length > 1 ? tablist : null, body]);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { toggle(false); launcher.focus(); } });
    wrap.appendChild(launcher); wrap.appendChild(panel);
    if (style) root.appendChild(style);
    root.appendChild(wrap);
    document.body.appendChild(host);
    if (opt.open === "true" || loadChat()) toggle(true);
  }

  function toggle(open) {
    open = open === undefined ? panel.hidden : open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open && !current) show(loadChat() && tabs.chat ? "chat" : Object.keys(tabs)[0]);
  }

  function show(name) {
    current = name;
    Object.keys(tabs).forEach(function (key) { tabs[key].setAttribute("aria-selected", String(key === name)); });
    body.className = "body" + (name === "request" ? " flush" : "");
    body.textContent = "";
    Array.prototype.forEach.call(panel.querySelectorAll(".extra"), function (node) { node.remove(); });
    if (stream) { stream.close(); stream = null; }
    ({kb: showSearch, request: showRequest, chat: showChat})[name]();
  }

  /* -- answers: the knowledge base ------------------------------------------------------------ */
  function showSearch(query) {
    var list = el("ul", {"class": "hits"});
    var note = el("p", {"class": "muted", "aria-live": "polite"});
    var input = el("input", {id: "dh-q", type: "search", autocomplete: "off", placeholder: T.search_placeholder, value: query || ""});
    var asked = 0;
    function run() {
      var q = input.value.trim(), mine = ++asked;
      api("/widget/kb/search?" + new URLSearchParams({q: q, lang: cfg.language})).then(function (data) {
        if (mine !== asked) return; /* an answer to an older query, arriving late */
        list.textContent = "";
        note.textContent = data.results.length ? (q ? "" : T.popular) : T.no_results;
        data.results.forEach(function (hit) {
          list.appendChild(el("li", {}, [el("button", {type: "button", onclick: function () { showArticle(hit.id, input.value); }},
            [el("strong", {text: hit.title}), el("span", {"class": "muted", html: hit.snippet_html || ""})])]));
        });
      }).catch(function () { note.textContent = T.error; });
    }
    input.addEventListener("input", debounce(run, 250));
    body.appendChild(el("label", {"for": "dh-q", text: T.search_label}));
    body.appendChild(input); body.appendChild(note); body.appendChild(list);
    run();
    input.focus();
  }

  function showArticle(id, query) {
    body.textContent = "";
    var back = el("button", {"class": "link", type: "button", text: "← " + T.back, onclick: function () { showSearch(query); }});
    body.appendChild(back);
    api("/widget/kb/articles/" + encodeURIComponent(id) + "?" + new URLSearchParams({lang: cfg.language})).then(function (article) {
      var vote = el("div", {"class": "vote"});
      function voted(helpful) {
        vote.textContent = "";
        vote.appendChild(el("p", {text: T.thanks}));
        api("/widget/kb/articles/" + id + "/feedback", {method: "POST", body: {helpful: helpful, comment: ""}}).catch(function () {});
        if (helpful) api("/widget/kb/articles/" + id + "/deflected", {method: "POST", body: {source: "widget"}}).catch(function () {});
        else if (cfg.apps.request || cfg.apps.chat) {
          vote.appendChild(el("button", {"class": "link", type: "button", text: cfg.apps.chat ? T.chat : T.request,
            onclick: function () { show(cfg.apps.chat ? "chat" : "request"); }}));
        }
      }
      vote.appendChild(el("p", {text: T.helpful_question}));
      vote.appendChild(el("button", {"class": "go", type: "button", text: T.yes, onclick: function () { voted(true); }}));
      vote.appendChild(el("button", {"class": "go", type: "button", text: T.no, onclick: function () { voted(false); }}));
      body.appendChild(el("div", {"class": "article"}, [el("h3", {text: article.title}), el("div", {html: article.body_html}),
        el("p", {}, [el("a", {href: article.url, target: "_blank", rel: "noopener", text: T.open_article})]), vote]));
    }).catch(function () { body.appendChild(el("p", {"class": "err", text: T.error})); });
  }

  /* -- a request: the web form the admin chose, in a frame ------------------------------------ */
  function showRequest() {
    var url = new URL(cfg.apps.request, base);
    url.searchParams.set("lang", cfg.language);
    body.appendChild(el("iframe", {src: url.toString(), title: T.request}));
  }

  /* -- live chat -------------------------------------------------------------------------------- */
  function loadChat() {
    if (chat) return chat;
    try { chat = JSON.parse(localStorage.getItem(store) || "null"); } catch (e) { chat = null; }
    return chat;
  }
  function saveChat(value) {
    chat = value;
    try { if (value) localStorage.setItem(store, JSON.stringify(value)); else localStorage.removeItem(store); } catch (e) { /* private mode */ }
  }

  function showChat() {
    if (loadChat()) return showConversation();
    var note = el("p", {"class": "muted", text: T.chat_intro});
    var error = el("p", {"class": "err", role: "alert"});
    var form = el("form", {novalidate: true});
    var open = true;
    [["dh-name", T.name, "text", opt.name || "", "name"], ["dh-email", T.email, "email", opt.email || "", "email"]].forEach(function (f) {
      form.appendChild(el("label", {"for": f[0], text: f[1]}));
      form.appendChild(el("input", {id: f[0], name: f[4], type: f[2], value: f[3], autocomplete: f[4], required: f[4] === "email", maxlength: 254}));
    });
    form.appendChild(el("label", {"for": "dh-message", text: T.message}));
    form.appendChild(el("textarea", {id: "dh-message", name: "message", required: true, maxlength: 2000}));
    var submit = el("button", {"class": "go", type: "submit", text: T.start_chat});
    form.appendChild(submit);
    form.appendChild(error);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      api("/widget/chats", {method: "POST", body: {name: form.elements.name.value, email: form.elements.email.value,
        message: form.elements.message.value, language: cfg.language, page_url: (location.origin + location.pathname).slice(0, 500) /* not the query: it may hold the site's own tokens */}}).then(function (data) {
        if (data.status === "ticket") {
          body.textContent = "";
          body.appendChild(el("p", {role: "status", text: fmt(T.filed, {ticket: data.ticket || ""})}));
          return;
        }
        saveChat({id: data.id, token: data.token, email: form.elements.email.value});
        lastId = 0;
        showConversation();
      }).catch(function (e) {
        submit.disabled = false;
        error.textContent = e.message;
        var field = e.data && e.data.field && form.elements[e.data.field];
        if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
      });
    });
    body.appendChild(note);
    body.appendChild(form);
    api("/widget/chat/availability?" + new URLSearchParams({lang: cfg.language})).then(function (data) {
      open = !!data.open;
      if (!open) { note.textContent = data.message || T.leave_message; submit.textContent = T.send_message; }
    }).catch(function () {});
  }

  function showConversation() {
    body.textContent = "";
    var log = el("div", {"class": "log", role: "log", "aria-live": "polite"});
    var status = el("p", {"class": "muted", role: "status", text: T.waiting});
    var text = el("textarea", {id: "dh-reply", "aria-label": T.message, maxlength: 2000});
    var error = el("p", {"class": "err", role: "alert"});
    var sendButton = el("button", {"class": "go", type: "button", text: T.send});
    var compose = el("div", {"class": "compose extra"}, [text, sendButton]);
    var bar = el("div", {"class": "bar extra"});
    var ended = false;
    function finish(message) {
      ended = true;
      status.textContent = message;
      compose.hidden = true;
      if (stream) { stream.close(); stream = null; }
      bar.textContent = "";
      bar.appendChild(el("button", {"class": "link", type: "button", text: T.new_chat, onclick: function () { saveChat(null); show("chat"); }}));
      if (chat) bar.appendChild(transcriptButton());
    }
    function transcriptButton() {
      var current = chat;
      return el("button", {"class": "link", type: "button", text: T.transcript, onclick: function (event) {
        api("/widget/chats/" + current.id + "/transcript", {method: "POST", token: current.token, body: {}}).then(function () {
          event.target.replaceWith(el("span", {"class": "muted", text: T.transcript_sent}));
        }).catch(function (e) { error.textContent = e.message; });
      }});
    }
    function send() {
      var value = text.value.trim();
      if (!value || ended) return;
      sendButton.disabled = true;
      api("/widget/chats/" + chat.id + "/messages", {method: "POST", token: chat.token, body: {body: value}}).then(function () {
        text.value = ""; error.textContent = "";
      }).catch(function (e) { error.textContent = e.message; if (e.status === 404 || e.status === 403) { saveChat(null); finish(T.ended); } })
        .then(function () { sendButton.disabled = false; text.focus(); });
    }
    sendButton.addEventListener("click", send);
    text.addEventListener("keydown", function (event) { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); } });
    bar.appendChild(el("button", {"class": "link", type: "button", text: T.end_chat, onclick: function () {
      api("/widget/chats/" + chat.id + "/end", {method: "POST", token: chat.token, body: {}}).catch(function () {});
    }}));
    bar.appendChild(transcriptButton());
    body.appendChild(status); body.appendChild(log); body.appendChild(error);
    body.parentNode.insertBefore(compose, body.nextSibling);
    body.parentNode.insertBefore(bar, compose.nextSibling);

    var query = new URLSearchParams({token: chat.token, after: String(lastId)});
    stream = new EventSource(base + "/widget/chats/" + chat.id + "/events?" + query);
    stream.addEventListener("message", function (event) {
      var m = JSON.parse(event.data);
      if (m.id <= lastId) return;
      lastId = m.id;
      log.appendChild(el("div", {"class": "msg " + m.author}, [m.author === "system" ? null : el("b", {text: m.author === "customer" ? T.you : m.name}), m.body]));
      body.scrollTop = body.scrollHeight;
    });
    stream.addEventListener("status", function (event) {
      var s = JSON.parse(event.data);
      if (s.status === "waiting") status.textContent = T.waiting;
      else if (s.status === "active") status.textContent = fmt(T.joined, {name: s.agent || ""});
      else if (s.status === "ticket") finish(fmt(T.filed, {ticket: s.ticket || ""}));
      else if (s.status === "ended") finish(T.ended);
    });
    stream.onerror = function () {
      if (ended) return;
      if (stream && stream.readyState === EventSource.CLOSED) {
        status.textContent = T.offline;
        setTimeout(function () { if (!ended && current === "chat") show("chat"); }, 3000);
      }
    };
    text.focus();
  }

  function start() {
    api("/widget/config?" + new URLSearchParams({lang: lang})).then(function (data) {
      if (!data.enabled) return;
      cfg = data; T = data.text;
      if (!cfg.apps.kb && !cfg.apps.request && !cfg.apps.chat) return;
      build();
    }).catch(function () { /* the help desk is unreachable or this site is not allowed: show nothing */ });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
}());
