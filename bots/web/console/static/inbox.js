/* brandbot console inbox: clickable rows, live refresh of the rows and tab counts. */
(function () {
  "use strict";

  var C = window.BrandbotConsole;
  var table = document.getElementById("inbox-table");
  if (!C || !table) return;
  var note = document.getElementById("inbox-live-note");
  var pending = null;
  var busy = false;
  var again = false;

  function ids(tbody) {
    var set = new Set();
    if (tbody) tbody.querySelectorAll("tr[data-id]").forEach(function (tr) { set.add(tr.dataset.id); });
    return set;
  }

  function updateCounts(tbody) {
    document.querySelectorAll("[data-count-for]").forEach(function (span) {
      var value = tbody.getAttribute("data-count-" + span.dataset.countFor);
      if (value !== null && span.textContent !== value) span.textContent = value;
    });
    var waiting = tbody.getAttribute("data-count-waiting");
    if (waiting !== null) C.setWaiting(parseInt(waiting, 10) || 0);
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      var doc = await C.fetchDocument(table.dataset.rowsUrl);
      if (!doc) return;
      var fresh = doc.getElementById("inbox-rows");
      var old = document.getElementById("inbox-rows");
      if (!fresh || !old) return;
      var before = ids(old);
      var added = 0;
      fresh.querySelectorAll("tr[data-id]").forEach(function (tr) {
        if (!before.has(tr.dataset.id)) { tr.classList.add("is-new"); added += 1; }
      });
      old.replaceWith(document.adoptNode(fresh));
      updateCounts(fresh);
      C.tick();
      if (added && note) note.textContent = added === 1 ? "1 new conversation" : added + " new conversations";
    } catch (e) {
      /* the next event or the periodic refresh tries again */
    } finally {
      busy = false;
      if (again) { again = false; schedule(); }
    }
  }

  function schedule() {
    clearTimeout(pending);
    pending = setTimeout(refresh, 250);
  }

  ["mode", "assign", "message", "erased", "resync"].forEach(function (type) { C.on(type, schedule); });
  setInterval(function () { if (!C.live.connected) refresh(); }, 30000);

  // a whole row opens its conversation (the customer link stays the keyboard path).
  table.addEventListener("click", function (event) {
    var tr = event.target.closest("tr[data-href]");
    if (!tr || event.target.closest("a, button, input, select")) return;
    if (event.ctrlKey || event.metaKey) window.open(tr.dataset.href, "_blank", "noopener");
    else window.location.assign(tr.dataset.href);
  });

  // filters apply as soon as they change.
  var filters = document.getElementById("inbox-filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { filters.requestSubmit(); });
    });
  }
})();
