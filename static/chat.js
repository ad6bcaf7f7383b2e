/* Live chat in the agents' app: the sidebar badge of waiting chats and the chat console.
   Server-sent events (EventSource) bring what is new; no framework. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function badge() {
    var spot = document.getElementById("chat-badge");
    if (!spot || !window.EventSource) return;
    var source = new EventSource(spot.getAttribute("data-events"));
    source.addEventListener("queue", function (event) {
      var counts = JSON.parse(event.data);
      spot.textContent = counts.waiting > 0 ? String(counts.waiting) : "";
      spot.hidden = counts.waiting === 0;
      spot.setAttribute("aria-label", spot.getAttribute("data-label").replace("%s", counts.waiting));
      var lists = document.getElementById("chat-lists");
      if (lists) refreshLists(lists);
    });
  }

  function refreshLists(lists) {
    fetch(lists.getAttribute("data-url"), {headers: {"HX-Request": "true"}, credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var parsed = new DOMParser().parseFromString(html, "text/html");
        lists.replaceChildren.apply(lists, Array.prototype.slice.call(parsed.body.childNodes));
      });
  }

  function addMessage(log, data) {
    if (log.querySelector('[data-id="' + data.id + '"]')) return;
    var item = el("li", "chat-msg chat-" + data.author);
    item.setAttribute("data-id", data.id);
    if (data.author !== "system") {
      item.appendChild(el("strong", "", data.name));
      item.appendChild(document.createTextNode(" "));
      var at = el("time", "muted", new Date(data.at).toLocaleTimeString(document.documentElement.lang || [], {hour: "2-digit", minute: "2-digit", hourCycle: "h23"}));
      at.setAttribute("datetime", data.at);
      item.appendChild(at);
    }
    var body = el("p", "");
    data.body.split("\n").forEach(function (line, index) {
      if (index) body.appendChild(document.createElement("br"));
      body.appendChild(document.createTextNode(line));
    });
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function console_() {
    var log = document.getElementById("chat-log");
    if (!log || !window.EventSource) return;
    log.scrollTop = log.scrollHeight;
    var status = document.getElementById("chat-status");
    var url = log.getAttribute("data-events") + "?after=" + log.getAttribute("data-after");
    var source = new EventSource(url);
    var leaving = false;
    document.addEventListener("submit", function (event) {
      if (event.target.id !== "chat-reply") { leaving = true; source.close(); }  // an action: its page follows
    });
    source.addEventListener("message", function (event) { addMessage(log, JSON.parse(event.data)); });
    source.addEventListener("status", function (event) {
      var state = JSON.parse(event.data);
      if (!leaving && status && status.getAttribute("data-status") !== state.status) {
        source.close();
        window.location.reload();  // the actions change with the status
      }
      if (state.status === "ended" || state.status === "ticket") source.close();
    });
    var form = document.getElementById("chat-reply");
    if (!form) return;
    var box = form.querySelector("textarea");
    var error = document.getElementById("chat-error");
    box.focus();
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!box.value.trim()) return;
      var data = new FormData(form);
      box.value = "";
      fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                          headers: {"Accept": "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken")}})
        .then(function (answer) { return answer.json().then(function (json) { return [answer.ok, json]; }); })
        .then(function (result) {
          error.hidden = result[0];
          if (!result[0]) { error.textContent = result[1].detail; box.value = data.get("body"); }
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { badge(); console_(); });
})();
