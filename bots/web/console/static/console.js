/* brandbot console: what every page shares.
 *
 * - posting forms with fetch (X-CSRFToken header, JSON answer), flashes
 * - the live event stream (/console/events), handed to the page's handlers
 * - the waiting badge, the page title count and a short beep (WebAudio, no file)
 *   when a customer starts waiting
 * - ticking wait times, confirmation of dangerous forms
 *
 * Text that customers or staff wrote is put on the page with textContent /
 * createElement only, never innerHTML.
 */
(function () {
  "use strict";

  var body = document.body;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var handlers = {};
  var live = { connected: false, source: null };

  // -- helpers -------------------------------------------------------------

  function on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); }

  function emit(type, data) {
    (handlers[type] || []).forEach(function (fn) {
      try { fn(data); } catch (e) { if (window.console) window.console.error(e); }
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function flash(message, kind) {
    var box = document.getElementById("flashes");
    if (!box || !message) return;
    var p = el("p", "flash flash-" + (kind || "ok"), message);
    box.appendChild(p);
    setTimeout(function () { p.remove(); }, kind === "error" ? 12000 : 5000);
  }

  /* POST a form with fetch; resolves to {ok, status, data}. */
  async function postForm(form) {
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      var r = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      });
      var data = {};
      try { data = await r.json(); } catch (e) { data = { error: "unexpected answer (HTTP " + r.status + ")" }; }
      if (r.status === 401) { window.location.reload(); }
      return { ok: r.ok, status: r.status, data: data };
    } catch (e) {
      return { ok: false, status: 0, data: { error: "The server cannot be reached; nothing was changed." } };
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  /* Fetch a page of ours and parse it (our own server-rendered, escaped HTML). */
  async function fetchDocument(url) {
    var r = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" });
    if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
    if (!r.ok) throw new Error("HTTP " + r.status);
    return new DOMParser().parseFromString(await r.text(), "text/html");
  }

  /* Replace the element #id of this page with the one in doc (if both exist). */
  function swap(doc, id) {
    var fresh = doc.getElementById(id);
    var old = document.getElementById(id);
    if (fresh && old) old.replaceWith(document.adoptNode(fresh));
    return !!(fresh && old);
  }

  // -- time ----------------------------------------------------------------

  function since(iso) {
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return "just now";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    return Math.floor(hours / 24) + " d";
  }

  function tick() {
    document.querySelectorAll("time.ticking[data-since]").forEach(function (t) {
      var text = since(t.dataset.since);
      if (t.textContent !== text) t.textContent = text;
      var minutes = (Date.now() - Date.parse(t.dataset.since)) / 60000;
      t.classList.toggle("wait-long", minutes >= 10);
    });
  }

  // -- the waiting badge, title and sound ------------------------------------

  var badge = document.getElementById("waiting-badge");
  var badgeCount = document.getElementById("waiting-badge-count");
  var baseTitle = body.dataset.title || document.title;
  var waiting = badge ? parseInt(badge.dataset.count || "0", 10) || 0 : 0;

  function setWaiting(n) {
    waiting = Math.max(0, n);
    if (badge) {
      badge.dataset.count = String(waiting);
      badge.hidden = waiting === 0;
      if (badgeCount) badgeCount.textContent = String(waiting);
    }
    document.title = (waiting ? "(" + waiting + ") " : "") + baseTitle;
  }

  var sound = { ctx: null, enabled: true };
  try { sound.enabled = window.localStorage.getItem("bb_console_sound") !== "off"; } catch (e) { /* storage blocked */ }
  var soundToggle = document.getElementById("sound-toggle");

  function showSound() {
    if (!soundToggle) return;
    soundToggle.hidden = false;
    soundToggle.setAttribute("aria-pressed", sound.enabled ? "true" : "false");
    soundToggle.textContent = sound.enabled ? "Sound on" : "Sound off";
  }

  function unlockAudio() {
    // browsers only start audio after a user gesture: make the context on the first one.
    if (sound.ctx || !(window.AudioContext || window.webkitAudioContext)) return;
    try { sound.ctx = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { sound.ctx = null; }
  }

  function beep() {
    if (!sound.enabled || !sound.ctx) return;
    var ctx = sound.ctx;
    if (ctx.state === "suspended") ctx.resume();
    var t = ctx.currentTime;
    [0, 0.18].forEach(function (offset, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = i ? 1175 : 880;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.15);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.16);
    });
  }

  if (soundToggle) {
    soundToggle.addEventListener("click", function () {
      sound.enabled = !sound.enabled;
      try { window.localStorage.setItem("bb_console_sound", sound.enabled ? "on" : "off"); } catch (e) { /* ignore */ }
      showSound();
      if (sound.enabled) { unlockAudio(); beep(); }
    });
  }
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, unlockAudio, { once: true, capture: true });
  });

  on("mode", function (ev) {
    if (ev.mode === "waiting" && ev.old !== "waiting") {
      setWaiting(waiting + 1);
      beep();
    } else if (ev.old === "waiting" && ev.mode !== "waiting") {
      setWaiting(waiting - 1);
    }
  });

  // -- the live stream -----------------------------------------------------------

  var statusDot = document.getElementById("live-status");
  var statusText = document.getElementById("live-status-text");

  function setLive(connected) {
    var was = live.connected;
    live.connected = connected;
    if (statusDot) {
      statusDot.dataset.state = connected ? "on" : "off";
      statusDot.title = connected ? "Live updates on" : "Reconnecting…";
    }
    if (statusText) statusText.textContent = connected ? "Live updates on" : "Live updates reconnecting";
    if (connected && !was && live.everConnected) emit("resync", { type: "resync" });
    if (connected) live.everConnected = true;
  }

  var TYPES = ["message", "mode", "assign", "note", "erased", "resync"];

  function connect() {
    if (!window.EventSource) return;
    var page = document.querySelector("[data-events]:not(body)");
    var url = (page || body).dataset.events;
    if (!url) return;
    var source = new EventSource(url, { withCredentials: true });
    live.source = source;
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("error", function () { setLive(false); });
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (e) {
        var data;
        try { data = JSON.parse(e.data); } catch (err) { return; }
        emit(type, data);
      });
    });
  }

  // -- forms -----------------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("js-confirm")) {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) event.preventDefault();
    }
  });

  // -- start -----------------------------------------------------------------------

  window.BrandbotConsole = {
    on: on, emit: emit, el: el, flash: flash, postForm: postForm, fetchDocument: fetchDocument,
    swap: swap, tick: tick, live: live, setWaiting: setWaiting,
  };

  setWaiting(waiting);
  showSound();
  tick();
  setInterval(tick, 15000);
  // page scripts (deferred after this one) register their handlers first.
  document.addEventListener("DOMContentLoaded", connect);
})();
