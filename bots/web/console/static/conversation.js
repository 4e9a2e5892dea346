/* brandbot console conversation view: live transcript, actions without reload, canned replies. */
(function () {
  "use strict";

  var C = window.BrandbotConsole;
  var root = document.getElementById("conversation");
  if (!C || !root) return;
  var id = root.dataset.id;
  var el = C.el;

  function transcript() { return document.getElementById("transcript"); }

  function nearBottom(list) { return list.scrollHeight - list.scrollTop - list.clientHeight < 120; }

  function scrollDown() { var t = transcript(); if (t) t.scrollTop = t.scrollHeight; }

  function timeText(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    return d.toISOString().slice(11, 16);
  }

  function authorOf(ev) {
    if (ev.direction === "in") return "customer";
    if (ev.author === "staff" || (typeof ev.author === "string" && ev.author.indexOf("staff:") === 0)) return "staff";
    return "bot";
  }

  function sentimentClass(label, score) {
    var l = String(label || "").toLowerCase();
    if (l.indexOf("neg") === 0 || (!l && score <= -0.25)) return "neg";
    if (l.indexOf("pos") === 0 || (!l && score >= 0.25)) return "pos";
    return "neu";
  }

  function chip(className, text, title) {
    var c = el("span", "chip " + className, text);
    if (title) c.title = title;
    return c;
  }

  /* One transcript line for a live "message" event (built node by node: text stays text). */
  function messageItem(ev) {
    var author = authorOf(ev);
    var li = el("li", "msg msg-" + author + " is-new");
    var metaLine = el("div", "msg-meta");
    var name = author === "customer" ? "Customer" : author === "staff" ? (ev.author_name || "Staff") : "Bot";
    metaLine.appendChild(el("span", "msg-author", name));
    var time = el("time", "", timeText(ev.at));
    if (ev.at) time.setAttribute("datetime", ev.at);
    metaLine.appendChild(time);
    if (ev.delivery && ev.delivery !== "sent" && ev.delivery !== "duplicate") metaLine.appendChild(chip("chip-bad", ev.delivery));
    li.appendChild(metaLine);
    if (ev.text) li.appendChild(el("p", "msg-text", ev.text));
    (Array.isArray(ev.attachments) ? ev.attachments : []).forEach(function (a) {
      var line = el("p", "msg-attachment attachment-" + String(a.kind || "file"));
      line.appendChild(chip("chip-attachment", a.label || a.kind || "Attachment"));
      if (a.detail) line.appendChild(el("span", "attachment-detail", " " + a.detail));
      if (typeof a.url === "string" && /^https?:\/\//i.test(a.url)) {
        var link = el("a", "", " open");
        link.href = a.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.appendChild(link);
      }
      li.appendChild(line);
    });
    var nlu = ev.nlu;
    if (author === "customer" && nlu && typeof nlu === "object") {
      var p = el("p", "nlu");
      if (nlu.intent) p.appendChild(chip("chip-intent", nlu.intent, "Intent"));
      if (typeof nlu.confidence === "number") p.appendChild(chip("", Math.floor(nlu.confidence * 100) + "%", "Confidence"));
      var s = nlu.sentiment;
      if (s && typeof s === "object") {
        var score = typeof s.score === "number" ? " " + (s.score >= 0 ? "+" : "") + s.score.toFixed(2) : "";
        p.appendChild(chip("sent-" + sentimentClass(s.label, s.score), (s.label || "sentiment") + score, "Sentiment"));
      }
      if (p.childNodes.length) li.appendChild(p);
    }
    return li;
  }

  C.on("message", function (ev) {
    if (ev.conversation_id !== id) return;
    var list = transcript();
    if (!list) return;
    var empty = document.getElementById("transcript-empty");
    if (empty) empty.remove();
    var stick = nearBottom(list) || authorOf(ev) === "staff";
    list.appendChild(messageItem(ev));
    if (stick) scrollDown();
  });

  C.on("note", function (ev) {
    if (ev.conversation_id !== id) return;
    var notes = document.getElementById("notes");
    if (!notes || notes.querySelector('[data-note-id="' + String(ev.note_id).replace(/[^0-9]/g, "") + '"]')) return;
    var empty = document.getElementById("notes-empty");
    if (empty) empty.remove();
    var li = el("li", "note is-new");
    li.dataset.noteId = String(ev.note_id);
    li.appendChild(el("p", "note-text", ev.text || ""));
    li.appendChild(el("p", "note-meta", (ev.author_name || "Staff") + " · " + timeText(ev.at)));
    notes.appendChild(li);
  });

  // -- parts of the page that change with the mode and assignment -------------------------

  var refreshing = null;

  async function refresh(withTranscript) {
    try {
      var doc = await C.fetchDocument(window.location.pathname);
      if (!doc) return;
      ["conv-status", "conv-actions", "window-info", "notes"].forEach(function (part) { C.swap(doc, part); });
      var fresh = doc.getElementById("conversation");
      if (fresh) root.dataset.mode = fresh.dataset.mode;
      if (withTranscript && C.swap(doc, "transcript")) scrollDown();
      C.tick();
    } catch (e) {
      C.flash("Could not refresh the conversation; reload the page.", "error");
    }
  }

  function scheduleRefresh(withTranscript) {
    clearTimeout(refreshing);
    refreshing = setTimeout(function () { refresh(withTranscript); }, 150);
  }

  C.on("mode", function (ev) { if (ev.conversation_id === id) scheduleRefresh(false); });
  C.on("assign", function (ev) { if (ev.conversation_id === id) scheduleRefresh(false); });
  C.on("resync", function () { scheduleRefresh(true); });
  C.on("erased", function (ev) {
    if (ev.conversation_id === id) C.flash("This customer was erased by an admin: this page is out of date.", "error");
  });

  // -- actions: forms sent with fetch -------------------------------------------------------

  document.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.matches || !(form.matches("form.js-action") || form.id === "reply-form")) return;
    if (event.defaultPrevented) return;
    event.preventDefault();
    var result = await C.postForm(form);
    if (!result.ok) {
      C.flash(result.data.error || "That did not work.", "error");
      return;
    }
    C.flash(result.data.message, "ok");
    var box = form.querySelector("textarea");
    if (box) box.value = "";
    closeMenu();
    // the live stream brings new messages and notes; without it, reload them too.
    refresh(!C.live.connected);
  });

  // -- the composer: Enter sends, "/" opens the canned replies --------------------------------

  var reply = document.getElementById("reply-text");
  var form = document.getElementById("reply-form");
  var menu = document.getElementById("shortcut-menu");
  var canned = Array.prototype.map.call(document.querySelectorAll("#canned [data-shortcut]"), function (li) {
    return { shortcut: li.dataset.shortcut, title: li.dataset.title, text: li.dataset.text };
  });
  var active = -1;
  var shown = [];

  function closeMenu() {
    if (!menu) return;
    menu.hidden = true;
    menu.replaceChildren();
    shown = [];
    active = -1;
    if (reply) { reply.removeAttribute("aria-activedescendant"); reply.setAttribute("aria-expanded", "false"); }
  }

  function choose(item) {
    reply.value = item.text;
    closeMenu();
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
  }

  function highlight(index) {
    active = index;
    Array.prototype.forEach.call(menu.children, function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) reply.setAttribute("aria-activedescendant", "canned-option-" + index);
  }

  function openMenu(prefix) {
    shown = canned.filter(function (c) { return c.shortcut.indexOf(prefix) === 0 || c.title.toLowerCase().indexOf(prefix) >= 0; });
    menu.replaceChildren();
    if (!shown.length) { closeMenu(); return; }
    shown.forEach(function (c, i) {
      var li = el("li", "shortcut-option");
      li.id = "canned-option-" + i;
      li.setAttribute("role", "option");
      li.appendChild(el("code", "", "/" + c.shortcut));
      li.appendChild(el("span", "shortcut-title", c.title));
      li.appendChild(el("span", "shortcut-text", c.text));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(c); });
      menu.appendChild(li);
    });
    menu.hidden = false;
    reply.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  if (reply && form && menu) {
    reply.setAttribute("aria-controls", "shortcut-menu");
    reply.setAttribute("aria-autocomplete", "list");
    reply.setAttribute("aria-expanded", "false");
    reply.addEventListener("input", function () {
      var m = /^\/([a-z0-9_-]*)(\s?)$/.exec(reply.value);
      if (!m) { closeMenu(); return; }
      var exact = canned.filter(function (c) { return c.shortcut === m[1]; })[0];
      if (m[2] && exact) { choose(exact); return; }  // "/refund " expands at once
      openMenu(m[1]);
    });
    reply.addEventListener("keydown", function (e) {
      if (!menu.hidden && shown.length) {
        if (e.key === "ArrowDown") { e.preventDefault(); highlight((active + 1) % shown.length); return; }
        if (e.key === "ArrowUp") { e.preventDefault(); highlight((active - 1 + shown.length) % shown.length); return; }
        if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); choose(shown[Math.max(0, active)]); return; }
        if (e.key === "Escape") { e.preventDefault(); closeMenu(); return; }
      }
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (reply.value.trim() || form.querySelector("select[name=template_kind]")) form.requestSubmit();
      }
    });
    reply.addEventListener("blur", function () { setTimeout(closeMenu, 150); });
  }

  // suggested replies: a click puts the text in the reply box (the agent still reviews it).
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".suggestion-use");
    if (!button || !reply) return;
    reply.value = button.dataset.text || "";
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
  });

  scrollDown();
})();
