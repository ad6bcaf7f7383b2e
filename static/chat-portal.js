/* The portal's chat page: the widget's chat protocol (JSON + server-sent events), no framework. */
(function () {
  "use strict";
  var root = document.getElementById("portal-chat");
  if (!root) return;
  var chat = null;  // {id, token}
  var source = null;
  var log = document.getElementById("chat-log");
  var state = document.getElementById("chat-state");
  var last = 0;

  function text(name) { return root.getAttribute("data-" + name); }
  function show(id, message) { var node = document.getElementById(id); node.textContent = message || ""; node.hidden = !message; }

  function post(url, body, headers) {
    return fetch(url, {method: "POST", body: JSON.stringify(body || {}), credentials: "same-origin",
                       headers: Object.assign({"Content-Type": "application/json", "Accept": "application/json"}, headers || {})})
      .then(function (answer) {
        return answer.json().catch(function () { return {}; }).then(function (json) { return {ok: answer.ok, json: json}; });
      });
  }

  function add(data) {
    if (data.id <= last) return;
    last = data.id;
    var item = document.createElement("li");
    item.className = "chat-msg chat-" + data.author;
    if (data.author !== "system") {
      var who = document.createElement("strong");
      who.textContent = data.name;
      item.appendChild(who);
    }
    var body = document.createElement("p");
    body.textContent = data.body;
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function finished(status) {
    document.getElementById("chat-send").hidden = true;
    document.getElementById("chat-end").hidden = true;
    if (source) source.close();
  }

  function listen() {
    source = new EventSource(text("base") + chat.id + "/events?token=" + encodeURIComponent(chat.token) + "&after=" + last);
    source.addEventListener("message", function (event) { add(JSON.parse(event.data)); });
    source.addEventListener("status", function (event) {
      var data = JSON.parse(event.data);
      if (data.status === "waiting") state.textContent = text("waiting");
      else if (data.status === "active") state.textContent = text("with").replace("%s", data.agent || "");
      else if (data.status === "ticket") { state.textContent = text("ticket") + " " + (data.ticket || ""); finished(); }
      else { state.textContent = text("ended"); finished(); }
    });
  }

  document.getElementById("chat-start").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var values = {message: form.elements.message.value};
    if (form.elements.email) { values.email = form.elements.email.value; values.name = form.elements.name.value; }
    post(text("start"), values, {"X-CSRFToken": text("csrf")}).then(function (result) {
      if (!result.ok) { show("chat-start-error", result.json.detail || text("error")); return; }
      chat = {id: result.json.id, token: result.json.token};
      form.hidden = true;
      document.getElementById("chat-availability").hidden = true;
      document.getElementById("chat-room").hidden = false;
      listen();
    });
  });

  var box = document.getElementById("chat-body");
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); document.getElementById("chat-send").requestSubmit(); }
  });
  document.getElementById("chat-send").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = box.value;
    if (!body.trim() || !chat) return;
    box.value = "";
    post(text("base") + chat.id + "/messages", {body: body}, {"X-Chat-Token": chat.token}).then(function (result) {
      show("chat-send-error", result.ok ? "" : (result.json.detail || text("error")));
      if (!result.ok) box.value = body;
    });
  });
  document.getElementById("chat-end").addEventListener("click", function () {
    if (chat) post(text("base") + chat.id + "/end", {}, {"X-Chat-Token": chat.token});
  });
  document.getElementById("chat-transcript").addEventListener("click", function () {
    if (!chat) return;
    post(text("base") + chat.id + "/transcript", {}, {"X-Chat-Token": chat.token}).then(function (result) {
      show("chat-send-error", result.ok ? text("sent") : (result.json.detail || text("error")));
    });
  });
})();
