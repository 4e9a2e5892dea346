/* brandbot web chat page.
 *
 * Everything a customer or the bot wrote is put on the page with textContent,
 * never innerHTML: it is untrusted text and must stay text.
 * Posting answers 202 at once; replies arrive on a Server-Sent Events stream
 * of the visitor's outbox (GET events?after=<cursor>), which also replays the
 * transcript when the page is reloaded. EventSource reconnects by itself with
 * Last-Event-ID; browsers without it poll GET messages?after=<cursor> instead.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) return;
  var api = root.dataset.api;
  var eventsUrl = root.dataset.events;
  var log = document.getElementById("chat-log");
  var hint = document.getElementById("chat-hint");
  var typing = document.getElementById("chat-typing");
  var statusLine = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var TOKEN_KEY = "bb_webchat_token";
  var TYPING_TIMEOUT_MS = 30000;
  // polling fallback (no EventSource): wait up to 5 s on the server while a reply is
  // due or the conversation is lively; otherwise poll every few seconds.
  var LIVELY_MS = 30000;
  var IDLE_POLL_MS = 3000;
  var HIDDEN_POLL_MS = 10000;
  var RECONNECT_MS = 3000;

  var cursor = "0";
  var token = null;
  var shownClientIds = new Set();
  var typingTimer = null;
  var lastActivity = 0;
  var wakePoll = null;

  try { token = window.sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  if (!token) saveToken(root.dataset.token || null);

  function saveToken(value) {
    if (!value) return;
    token = value;
    try { window.sessionStorage.setItem(TOKEN_KEY, value); } catch (e) { /* storage blocked: keep it in memory */ }
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // a pause of the poll loop that a new message cuts short.
  function pollPause(ms) {
    return new Promise(function (resolve) {
      var timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); wakePoll = null; resolve(); }
      wakePoll = done;
    });
  }

  function lively() { return !typing.hidden || Date.now() - lastActivity < LIVELY_MS; }

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "c" + Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function headers(withBody) {
    var h = { "Accept": "application/json" };
    if (withBody) h["Content-Type"] = "application/json";
    if (token) h["X-Webchat-Token"] = token;
    return h;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addBubble(role, text) {
    if (hint) { hint.remove(); hint = null; }
    var div = document.createElement("div");
    div.className = "msg msg-" + role;
    div.dataset.role = role;
    div.textContent = text;
    log.appendChild(div);
    scrollDown();
    return div;
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
    scrollDown();
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
    statusLine.hidden = !text;
  }

  function disableQuickReplies() {
    log.querySelectorAll(".quick-reply").forEach(function (b) { b.disabled = true; });
  }

  function addQuickReplies(buttons) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    buttons.forEach(function (q) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "quick-reply";
      b.textContent = q.title;
      b.addEventListener("click", function () {
        disableQuickReplies();
        send(q.title, q.payload);
      });
      group.appendChild(b);
    });
    log.appendChild(group);
    scrollDown();
  }

  // stream ids "<ms>-<seq>": is a after b?
  function newer(a, b) {
    var x = String(a).split("-"), y = String(b).split("-");
    var xm = Number(x[0]), ym = Number(y[0]);
    if (xm !== ym) return xm > ym;
    return Number(x[1] || 0) > Number(y[1] || 0);
  }

  function accept(entry) {
    if (!entry || !entry.id || !newer(entry.id, cursor)) return;
    cursor = entry.id;
    render(entry);
  }

  function render(entry) {
    if (entry.role === "customer") {
      if (entry.client_id && shownClientIds.has(entry.client_id)) return;
      if (entry.client_id) shownClientIds.add(entry.client_id);
      if (entry.text) addBubble("customer", entry.text);
      return;
    }
    lastActivity = Date.now();
    disableQuickReplies();
    setTyping(false);
    if (entry.text) addBubble("bot", entry.text);
    if (entry.quick_replies && entry.quick_replies.length) addQuickReplies(entry.quick_replies);
  }

  async function send(text, payload) {
    var clientId = newClientId();
    shownClientIds.add(clientId);
    if (text) addBubble("customer", text);
    setTyping(true);
    lastActivity = Date.now();
    if (wakePoll) wakePoll();
    var message = { text: text || "", client_id: clientId };
    if (payload) message.payload = payload;
    var body = JSON.stringify(message);
    // a retry re-sends the same client_id: the server dedupes it.
    for (var attempt = 0; attempt < 4; attempt++) {
      try {
        var r = await fetch(api, { method: "POST", headers: headers(true), body: body, credentials: "same-origin" });
        if (r.status === 202) {
          var d = await r.json();
          saveToken(d.token);
          return;
        }
        if (r.status !== 429 && r.status < 500) break;
      } catch (e) { /* network: retry below */ }
      await sleep(800 * (attempt + 1));
    }
    setTyping(false);
    addBubble("error", root.dataset.error);
  }

  async function poll() {
    for (;;) {
      try {
        var wait = lively() ? 5 : 0;
        var url = api + "?after=" + encodeURIComponent(cursor) + "&wait=" + wait;
        var r = await fetch(url, { headers: headers(false), credentials: "same-origin", cache: "no-store" });
        if (!r.ok) throw new Error("HTTP " + r.status);
        var d = await r.json();
        setStatus("");
        d.messages.forEach(accept);
        if (d.messages.length) continue;
        if (d.retry_ms) await pollPause(d.retry_ms);
        else if (wait === 0) await pollPause(document.hidden ? HIDDEN_POLL_MS : IDLE_POLL_MS);
      } catch (e) {
        setStatus(root.dataset.offline);
        await sleep(2000);
      }
    }
  }

  function listen() {
    var url = eventsUrl + "?after=" + encodeURIComponent(cursor);
    if (token) url += "&token=" + encodeURIComponent(token);
    var source = new EventSource(url);
    source.onopen = function () { setStatus(""); };
    source.onmessage = function (event) {
      var entry;
      try { entry = JSON.parse(event.data); } catch (e) { return; }
      accept(entry);
    };
    source.onerror = function () {
      setStatus(root.dataset.offline);
      // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED (an HTTP
      // error answer): start a new stream from our cursor a little later.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(listen, RECONNECT_MS);
      }
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    disableQuickReplies();
    send(text, null);
    input.focus();
  });

  if (window.EventSource && eventsUrl) listen();
  else poll();
})();
