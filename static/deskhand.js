// Drag and drop between organization groups; the move is posted with htmx to the same service as
// the API. A refused move puts the customer back where they were.
(function () {
  "use strict";

  function toast(message, isError) {
    var node = document.createElement("div");
    node.className = "toast" + (isError ? " error" : "");
    node.setAttribute("role", isError ? "alert" : "status");
    node.textContent = message;
    document.body.appendChild(node);
    setTimeout(function () { node.remove(); }, 4000);
  }

  function adjustCount(group, delta) {
    var badge = document.querySelector('[data-count="' + group + '"]');
    if (badge) { badge.textContent = String(Math.max(0, parseInt(badge.textContent, 10) + delta)); }
  }

  function onDrop(evt) {
    var item = evt.item;
    var from = evt.from.dataset.organization;
    var to = evt.to.dataset.organization;
    var home = evt.from;
    var homeNext = home.children[evt.oldIndex] || null;
    if (from === to) { return; }
    var membersOfTarget = document.getElementById("members-" + to);
    var onHeader = evt.to.classList.contains("drop");
    if (onHeader) { item.hidden = true; }  // stays in the page (and so keeps the CSRF header) until answered
    htmx.ajax("POST", "/customers/" + item.dataset.customer + "/move", {
      values: { organization: to }, swap: "none", source: item,
    }).then(function () {
      if (item.dataset.moveFailed) {
        delete item.dataset.moveFailed;
        item.hidden = false;
        home.insertBefore(item, homeNext);
      } else {
        if (onHeader) {
          // Dropped on a group's header: show the customer in that group if it is open.
          if (membersOfTarget && membersOfTarget.children.length) { membersOfTarget.prepend(item); item.hidden = false; }
          else { item.remove(); }
        }
        adjustCount(from, -1);
        adjustCount(to, +1);
      }
    });
  }

  document.body.addEventListener("deskhand:moved", function (evt) { toast(evt.detail.message, false); });
  document.body.addEventListener("htmx:responseError", function (evt) {
    var header = evt.detail.xhr.getResponseHeader("HX-Trigger");
    var message = "The move failed; the customer stayed where they were.";
    try { message = JSON.parse(header)["deskhand:move-failed"].message || message; } catch (e) { /* keep default */ }
    if (evt.detail.elt && evt.detail.elt.dataset) { evt.detail.elt.dataset.moveFailed = "1"; }
    toast(message, true);
  });
  document.body.addEventListener("htmx:sendError", function (evt) {
    if (evt.detail.elt && evt.detail.elt.dataset) { evt.detail.elt.dataset.moveFailed = "1"; }
    toast("Deskhand cannot be reached; the customer stayed where they were.", true);
  });

  // The group that receives the drop is highlighted while dragging.
  function highlight(list) {
    var target = list && (list.closest(".group") || list);
    document.querySelectorAll(".drop-target").forEach(function (node) {
      if (node !== target) { node.classList.remove("drop-target"); }
    });
    if (target) { target.classList.add("drop-target"); }
  }

  function makeSortable(list) {
    if (list.dataset.sortable || typeof Sortable === "undefined") { return; }
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: { name: "customers", pull: true, put: true },
      sort: false, draggable: ".customer", handle: ".customer", filter: ".move-menu, input, button",
      preventOnFilter: false, animation: 120, emptyInsertThreshold: 20,
      // Pointer events rather than native drag and drop: works on touch screens and in every browser.
      forceFallback: true, fallbackTolerance: 4,
      onStart: function (evt) {
        document.body.classList.add("dragging");
        // The list keeps its height while the row is lifted out: otherwise the last row of an open
        // group leaves it empty, the groups below move up under the pointer, and the drop lands
        // one group further down.
        evt.from.style.minHeight = evt.from.getBoundingClientRect().height + "px";
      },
      onMove: function (evt) { highlight(evt.to === evt.from ? null : evt.to); },
      onEnd: function (evt) {
        document.body.classList.remove("dragging");
        evt.from.style.minHeight = "";
        highlight(null);
      },
      onAdd: onDrop,
    });
  }

  function init(root) {
    (root || document).querySelectorAll("ul.members[data-organization], ul.drop[data-organization]").forEach(makeSortable);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.body.addEventListener("htmx:afterSettle", function () { init(document); });

  // Double-click (or Enter on a focused row) opens a customer's profile.
  function openRow(evt) {
    var row = evt.target.closest && evt.target.closest("li.customer");
    if (!row || evt.target.closest(".move-menu")) { return; }
    if (evt.type === "keydown" && (evt.key !== "Enter" || evt.target !== row)) { return; }
    window.location.href = "/customers/" + row.dataset.customer;
  }
  document.addEventListener("dblclick", openRow);
  document.addEventListener("keydown", openRow);

  // "/" focuses the global search, as in most tools agents already know.
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      var search = document.getElementById("global-search");
      if (search) { evt.preventDefault(); search.focus(); }
    }
  });
})();

// Tickets and tasks: a 4xx answer to an htmx request on these pages carries the fragment with its
// errors next to the fields, so it is swapped in; rows can be checked all at once and walked with
// j / k (x checks the focused row); Ctrl+Enter sends a reply or a note.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function onItemsPage(elt) { return elt && elt.closest && elt.closest("[data-items]"); }

  function toast(message) {
    var node = document.createElement("div");
    node.className = "toast error";
    node.setAttribute("role", "alert");
    node.textContent = message;
    document.body.appendChild(node);
    setTimeout(function () { node.remove(); }, 5000);
  }

  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (onItemsPage(evt.detail.elt) && (status === 404 || status === 409 || status === 422)) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // Other failures get a message of their own here (captured before the Customers page's handler).
  window.addEventListener("htmx:responseError", function (evt) {
    if (!onItemsPage(evt.target)) { return; }
    evt.stopPropagation();
    toast("That did not work (error " + evt.detail.xhr.status + "). Reload the page and try again.");
  }, true);
  window.addEventListener("htmx:sendError", function (evt) {
    if (!onItemsPage(evt.target)) { return; }
    evt.stopPropagation();
    toast("Deskhand cannot be reached; nothing was changed.");
  }, true);

  // Shorter, shareable addresses: a filter left at "any" is not sent.
  document.body.addEventListener("htmx:configRequest", function (evt) {
    var data = evt.detail.formData;
    if (evt.detail.verb !== "get" || !data || !evt.detail.elt.closest || !evt.detail.elt.closest("#filters")) { return; }
    var empty = [];
    data.forEach(function (value, key) { if (value === "") { empty.push(key); } });
    empty.forEach(function (key) { data.delete(key); });
  });

  // A folder belongs to one project: choosing another project clears it, before the filter
  // form's own change handler sends the request (hence the capture phase).
  document.addEventListener("change", function (evt) {
    if (evt.target.id !== "filter-project") { return; }
    var folder = document.getElementById("filter-folder");
    if (folder) { folder.value = ""; }
  }, true);

  // Colours chosen by admins (customer types) are set here: the CSP allows no style attribute.
  function paintTags(root) {
    if (!root.querySelectorAll) { return; }
    root.querySelectorAll("[data-tag-color]").forEach(function (tag) {
      tag.style.setProperty("--tag", tag.dataset.tagColor);
    });
  }
  paintTags(document);
  document.addEventListener("htmx:load", function (evt) { paintTags(evt.detail.elt); });

  document.addEventListener("change", function (evt) {
    if (!evt.target.classList || !evt.target.classList.contains("check-all")) { return; }
    evt.target.closest("table").querySelectorAll('input[name="items"]').forEach(function (box) {
      box.checked = evt.target.checked;
    });
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      return;
    }
    var links = Array.prototype.slice.call(document.querySelectorAll(".items-table a.row-link"));
    if (!links.length) { return; }
    var row = document.activeElement.closest ? document.activeElement.closest("tr.item-row") : null;
    var index = row ? links.indexOf(row.querySelector("a.row-link")) : -1;
    var next = null;
    if (evt.key === "j") { next = links[Math.min(index + 1, links.length - 1)]; }
    else if (evt.key === "k") { next = links[Math.max(index - 1, 0)]; }
    else if (evt.key === "x" && row) {
      var box = row.querySelector('input[name="items"]');
      box.checked = !box.checked;
      evt.preventDefault();
      return;
    }
    if (next) { evt.preventDefault(); next.focus(); }
  });

  document.addEventListener("keydown", function (evt) {
    var field = evt.target;
    if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey) && field.tagName === "TEXTAREA" && field.form &&
        field.form.classList.contains("compose")) {
      evt.preventDefault();
      field.form.requestSubmit();
    }
  });
})();

// Administration → Automations: drag a rule into place; the new order is saved at once.
(function () {
  "use strict";
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("ol.automations[data-reorder]");
    if (!list || typeof Sortable === "undefined") { return; }
    Sortable.create(list, {
      draggable: "li.automation", handle: ".grip", animation: 120, forceFallback: true,
      onEnd: function () {
        var ids = Array.prototype.map.call(list.querySelectorAll("li.automation"), function (li) { return li.dataset.id; });
        var body = new URLSearchParams({ kind: list.dataset.kind, order: ids.join(",") });
        fetch(list.dataset.reorder, { method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRFToken": csrf(), "HX-Request": "true" } });
      },
    });
  });
})();

// Workspace (lead): who else is on an item, the views beside the lists, the search box's results.
(function () {
  "use strict";
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  // Typing in the reply or note box tells the others (at most every 4 s); 6 s idle and it stops.
  var lastTold = 0, idle = null;
  document.addEventListener("input", function (evt) {
    var beat = document.getElementById("presence-beat");
    if (!beat || !evt.target.closest || !evt.target.closest("form.compose")) { return; }
    var flag = document.getElementById("presence-typing");
    flag.value = "1";
    clearTimeout(idle);
    idle = setTimeout(function () { flag.value = "0"; htmx.trigger(beat, "deskhand:typing"); }, 6000);
    if (Date.now() - lastTold > 4000) { lastTold = Date.now(); htmx.trigger(beat, "deskhand:typing"); }
  });
  // Leaving the page ends the presence at once rather than after the missed beats.
  window.addEventListener("pagehide", function () {
    var beat = document.getElementById("presence-beat");
    if (!beat || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf());
    navigator.sendBeacon(beat.dataset.leave, data);
  });

  // The view matching the list's filters stays marked as they change in place.
  function markView() {
    var nav = document.querySelector("[data-views-nav]");
    if (!nav) { return; }
    var here = new URLSearchParams(window.location.search);
    ["view", "page"].forEach(function (key) { here.delete(key); });
    if (here.get("sort") === "-id") { here.delete("sort"); }
    var wanted = Array.from(here.entries()).filter(function (pair) { return pair[1] !== ""; })
      .map(function (pair) { return pair.join("="); }).sort().join("&");
    nav.querySelectorAll("a[href]").forEach(function (link) {
      if (link.classList.contains("views-manage")) { return; }
      var query = new URL(link.href, window.location.href).searchParams;
      var own = Array.from(query.entries()).map(function (pair) { return pair.join("="); }).sort().join("&");
      var current = window.location.pathname === new URL(link.href, window.location.href).pathname && own === wanted;
      if (current) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", markView);

  // The search box's results under it: Escape or a click elsewhere closes them.
  function closeSearch() {
    var popup = document.getElementById("search-popup");
    if (popup) { popup.innerHTML = ""; }
  }
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape" && evt.target.id === "global-search") { closeSearch(); }
  });
  document.addEventListener("click", function (evt) {
    if (!evt.target.closest || !evt.target.closest(".global-search")) { closeSearch(); }
  });
})();

// --- Notifications (issue 15, item 3): the bell's panel closes on Escape or a click elsewhere.
(function () {
  "use strict";
  document.addEventListener("keydown", function (evt) {
    var bell = document.getElementById("bell");
    if (evt.key === "Escape" && bell && bell.open) { bell.open = false; bell.querySelector("summary").focus(); }
  });
  document.addEventListener("click", function (evt) {
    var bell = document.getElementById("bell");
    if (bell && bell.open && evt.target.closest && !evt.target.closest("#bell")) { bell.open = false; }
  });
})();

// --- Email set-up guide (issue 15, item 8): tabs ([data-tabs]) with arrow keys; without script
// every panel shows, one under the other.
(function () {
  "use strict";
  function select(tab, focus) {
    var list = tab.closest("[role=tablist]");
    var root = tab.closest("[data-tabs]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      var on = other === tab;
      other.setAttribute("aria-selected", on ? "true" : "false");
      other.tabIndex = on ? 0 : -1;
      var panel = root.querySelector("#" + other.getAttribute("aria-controls"));
      if (panel) { panel.hidden = !on; }
    });
    if (focus) { tab.focus(); }
  }
  function init(scope) {
    scope.querySelectorAll("[data-tabs] [role=tab][aria-selected=true]").forEach(function (tab) { select(tab, false); });
  }
  document.addEventListener("click", function (evt) {
    var tab = evt.target.closest && evt.target.closest("[data-tabs] [role=tab]");
    if (tab) { select(tab, false); }
  });
  document.addEventListener("keydown", function (evt) {
    var tab = evt.target.closest && evt.target.closest("[data-tabs] [role=tab]");
    if (!tab) { return; }
    var tabs = Array.from(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var at = tabs.indexOf(tab);
    var next = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1}[evt.key];
    if (next === undefined) { return; }
    evt.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length], true);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else { init(document); }
  document.addEventListener("htmx:afterSwap", function (evt) { init(evt.target); });
})();

// == Replies (helper "replies"): the reply box on the item page. =====================================
// Markdown toolbar and keys (Ctrl/Cmd+B, I, K; Ctrl/Cmd+Enter sends), canned responses from the menu
// or typed after ";" (a picker filtering as you type: arrows, Enter, Esc), images pasted as Markdown
// (uploaded first, kept until the reply is sent). The draft is saved by htmx attributes in the page.
(function () {
  "use strict";

  function box() { return document.querySelector("[data-reply-box]"); }

  function insert(area, before, after, placeholder) {
    var start = area.selectionStart, end = area.selectionEnd;
    var chosen = area.value.slice(start, end) || placeholder || "";
    area.setRangeText(before + chosen + (after || ""), start, end, "end");
    if (!area.value.slice(start, end) && placeholder) {
      area.setSelectionRange(start + before.length, start + before.length + chosen.length);
    }
    area.focus();
    area.dispatchEvent(new Event("input", {bubbles: true}));  // the draft keeps up
  }

  function format(area, what) {
    if (what === "bold") { insert(area, "**", "**", "bold text"); }
    else if (what === "italic") { insert(area, "*", "*", "italic text"); }
    else if (what === "link") { insert(area, "[", "](https://)", "link text"); }
    else if (what === "list") {
      var start = area.value.lastIndexOf("\n", area.selectionStart - 1) + 1;
      area.setSelectionRange(start, start);
      insert(area, "- ", "", "");
    }
  }

  function cannedList() {
    var data = document.getElementById("canned-responses");
    return data ? JSON.parse(data.textContent) : [];
  }

  function fetchCanned(form, id) {
    var url = form.dataset.cannedUrl.replace(/\/0$/, "/" + id);
    return fetch(url, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error("The canned response could not be loaded."); }
      return response.text();
    });
  }

  // The ";" picker: from the ";" before the caret to the caret is the filter.
  var picker = {open: false, start: -1, at: 0, rows: []};

  function closePicker() {
    var list = document.getElementById("canned-picker");
    if (list) { list.hidden = true; list.innerHTML = ""; }
    picker.open = false; picker.start = -1;
  }

  function renderPicker(area) {
    var list = document.getElementById("canned-picker");
    var typed = area.value.slice(picker.start + 1, area.selectionStart).toLowerCase();
    picker.rows = cannedList().filter(function (row) {
      return row.title.toLowerCase().indexOf(typed) !== -1 || (row.shortcut || "").indexOf(typed) === 0;
    }).slice(0, 8);
    if (!picker.rows.length) { closePicker(); return; }
    picker.at = Math.min(picker.at, picker.rows.length - 1);
    list.innerHTML = "";
    picker.rows.forEach(function (row, index) {
      var option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = "canned-option-" + row.id;
      option.setAttribute("aria-selected", index === picker.at ? "true" : "false");
      option.textContent = row.title + (row.shortcut ? "  ;" + row.shortcut : "");
      option.addEventListener("mousedown", function (evt) { evt.preventDefault(); choose(area, index); });
      list.appendChild(option);
    });
    list.hidden = false;
    area.setAttribute("aria-activedescendant", "canned-option-" + picker.rows[picker.at].id);
  }

  function choose(area, index) {
    var row = picker.rows[index], start = picker.start, end = area.selectionStart;
    closePicker();
    fetchCanned(area.form, row.id).then(function (text) {
      area.setRangeText(text, start, end, "end");
      area.focus();
      area.dispatchEvent(new Event("input", {bubbles: true}));
    }).catch(function (error) { window.alert(error.message); });
  }

  document.addEventListener("input", function (evt) {
    var area = evt.target;
    if (area.id !== "reply-body") { return; }
    var caret = area.selectionStart, text = area.value;
    var semi = text.lastIndexOf(";", caret - 1);
    // A ";" at the start or after a space opens the picker; a space typed after it closes it.
    if (semi !== -1 && (semi === 0 || /\s/.test(text[semi - 1])) && !/\s/.test(text.slice(semi + 1, caret))) {
      if (!picker.open || picker.start !== semi) { picker.at = 0; }
      picker.open = true; picker.start = semi;
      renderPicker(area);
    } else if (picker.open) { closePicker(); }
  });

  document.addEventListener("keydown", function (evt) {
    var area = evt.target;
    if (area.id !== "reply-body") { return; }
    if (picker.open) {
      if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
        evt.preventDefault();
        picker.at = (picker.at + (evt.key === "ArrowDown" ? 1 : -1) + picker.rows.length) % picker.rows.length;
        renderPicker(area);
        return;
      }
      if (evt.key === "Enter" || evt.key === "Tab") { evt.preventDefault(); choose(area, picker.at); return; }
      if (evt.key === "Escape") { evt.preventDefault(); closePicker(); return; }
    }
    if (!(evt.ctrlKey || evt.metaKey)) { return; }
    var key = evt.key.toLowerCase();
    if (key === "enter") { evt.preventDefault(); area.form.requestSubmit(); }
    else if (key === "b") { evt.preventDefault(); format(area, "bold"); }
    else if (key === "i") { evt.preventDefault(); format(area, "italic"); }
    else if (key === "k") { evt.preventDefault(); format(area, "link"); }
  });

  document.addEventListener("click", function (evt) {
    var form = box();
    if (!form || !form.contains(evt.target)) { return; }
    var area = document.getElementById("reply-body");
    var tool = evt.target.closest("[data-md]");
    if (tool && tool.dataset.md !== "preview") { format(area, tool.dataset.md); return; }
    var canned = evt.target.closest("[data-canned]");
    if (canned) {
      var menu = canned.closest("details");
      fetchCanned(form, canned.dataset.canned).then(function (text) {
        insert(area, text, "", "");
        if (menu) { menu.open = false; }
      }).catch(function (error) { window.alert(error.message); });
    }
  });

  document.addEventListener("paste", function (evt) {
    var area = evt.target, form = box();
    if (!form || area.id !== "reply-body" || !evt.clipboardData) { return; }
    var file = Array.from(evt.clipboardData.files || []).find(function (f) { return /^image\//.test(f.type); });
    if (!file) { return; }
    evt.preventDefault();
    var data = new FormData();
    data.append("image", file, file.name || "pasted-image.png");
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    fetch(form.dataset.pasteUrl, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.error) { window.alert(answer.error); return; }
        insert(area, answer.markdown + "\n", "", "");
      });
  });
})();

// --- Organization groups on the customers page (issue 15, item 9): the summary says whether its
// group is open (aria-expanded), kept in step however the group opens (mouse, Enter, Space).
(function () {
  "use strict";
  document.addEventListener("toggle", function (evt) {
    var details = evt.target;
    if (!details.matches || !details.matches("details.group")) { return; }
    var summary = details.querySelector(":scope > summary");
    if (summary) { summary.setAttribute("aria-expanded", details.open ? "true" : "false"); }
  }, true);
})();

// --- Mentions (issue 15, item 3): typing @ in the internal-note box offers colleagues (active
// agents, asked from data-mentions-url as you type); arrows move, Enter or Tab writes the handle,
// Esc or a space closes. Without script, @handle typed by hand works the same.
(function () {
  "use strict";

  var state = {open: false, start: -1, at: 0, rows: [], asked: 0};

  function list() { return document.getElementById("mention-picker"); }

  function close(area) {
    var picker = list();
    if (picker) { picker.hidden = true; picker.innerHTML = ""; }
    if (area) { area.removeAttribute("aria-activedescendant"); }
    state.open = false; state.start = -1; state.rows = [];
  }

  function render(area) {
    var picker = list();
    if (!picker || !state.rows.length) { close(area); return; }
    state.at = Math.min(state.at, state.rows.length - 1);
    picker.innerHTML = "";
    state.rows.forEach(function (row, index) {
      var option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = "mention-option-" + index;
      option.setAttribute("aria-selected", index === state.at ? "true" : "false");
      option.textContent = row.name + "  @" + row.handle;
      option.addEventListener("mousedown", function (evt) { evt.preventDefault(); choose(area, index); });
      picker.appendChild(option);
    });
    picker.hidden = false;
    picker.style.top = (area.offsetTop + area.offsetHeight) + "px";  // under the box, not over its label
    state.open = true;
    area.setAttribute("aria-activedescendant", "mention-option-" + state.at);
  }

  function choose(area, index) {
    var row = state.rows[index], start = state.start, end = area.selectionStart;
    close(area);
    area.setRangeText("@" + row.handle + " ", start, end, "end");
    area.focus();
  }

  // The "@" before the caret that starts a mention: at the start or after a character that is not
  // part of an address (as the server reads mentions), with no space typed since.
  function mentionStart(area) {
    var caret = area.selectionStart, text = area.value;
    var at = text.lastIndexOf("@", caret - 1);
    if (at === -1 || (at > 0 && /[\w.@+-]/.test(text[at - 1]))) { return -1; }
    return /^[\w.+-]{0,63}$/.test(text.slice(at + 1, caret)) ? at : -1;
  }

  document.addEventListener("input", function (evt) {
    var area = evt.target;
    if (area.id !== "note-body" || !area.dataset.mentionsUrl) { return; }
    var start = mentionStart(area);
    if (start === -1) { close(area); return; }
    if (start !== state.start) { state.at = 0; }
    state.start = start;
    var asked = ++state.asked;
    var typed = area.value.slice(start + 1, area.selectionStart);
    fetch(area.dataset.mentionsUrl + "?q=" + encodeURIComponent(typed), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {agents: []}; })
      .then(function (answer) {
        if (asked !== state.asked || state.start !== start) { return; }  // typed on meanwhile
        state.rows = answer.agents || [];
        render(area);
      })
      .catch(function () { close(area); });
  });

  document.addEventListener("keydown", function (evt) {
    var area = evt.target;
    if (area.id !== "note-body" || !state.open) { return; }
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      state.at = (state.at + (evt.key === "ArrowDown" ? 1 : -1) + state.rows.length) % state.rows.length;
      render(area);
    } else if ((evt.key === "Enter" && !(evt.ctrlKey || evt.metaKey)) || evt.key === "Tab") {
      evt.preventDefault();
      choose(area, state.at);
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      close(area);
    }
  });

  document.addEventListener("focusout", function (evt) {
    if (evt.target.id === "note-body") { close(evt.target); }
  });
})();

// --- Knowledge base (issue 16): "Insert article" in the reply and note boxes puts a Markdown link
// to the chosen article at the cursor (the links come from /knowledge/lookup).
(function () {
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-kb-link]");
    if (!button) return;
    var menu = button.closest(".kb-insert");
    var box = menu && document.getElementById(menu.dataset.kbTarget);
    if (!box) return;
    evt.preventDefault();
    var text = button.dataset.kbLink;
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    if (before && !/\s$/.test(before)) text = " " + text;
    box.setRangeText(text, start, end, "end");
    box.dispatchEvent(new Event("input", {bubbles: true}));
    menu.open = false;
    box.focus();
  });
})();
