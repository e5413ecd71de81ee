// The inspector's own script: the live feed (Server-Sent Events), the Traffic table with its
// filters and detail view, and the credential countdowns. No build step, nothing fetched
// from elsewhere.
"use strict";

(function () {
  const prefix = document.body.dataset.prefix;
  const live = document.getElementById("live");
  const MAX_ROWS = 1000;
  let seen = 0;
  let lost = 0;

  function text(tag, value, className) {
    const cell = document.createElement(tag);
    cell.textContent = value === null || value === undefined ? "" : String(value);
    if (className) cell.className = className;
    return cell;
  }

  function clock(at) {
    return new Date(at * 1000).toISOString().slice(11, 23);
  }

  // --- Traffic ---------------------------------------------------------------------------
  const table = document.getElementById("traffic");
  const body = table ? table.tBodies[0] : null;
  const form = document.getElementById("filters");

  function filters() {
    return {
      connection: form.elements.connection.value,
      status: form.elements.status.value,
      path: form.elements.path.value.trim().toLowerCase(),
    };
  }

  function matches(record, f) {
    if (f.connection === "-" && record.connection) return false;
    if (f.connection && f.connection !== "-" && record.connection !== f.connection) return false;
    if (f.status && String(record.status || "").charAt(0) !== f.status.charAt(0)) return false;
    if (f.path && record.path.toLowerCase().indexOf(f.path) < 0) return false;
    return true;
  }

  function row(record) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.seq = record.seq;
    tr.record = record;
    tr.className = "s" + String(record.status || 0).charAt(0) + (record.fault ? " faulted" : "");
    tr.setAttribute("aria-label", record.method + " " + record.path + " " + (record.status || "no answer"));
    tr.append(text("td", clock(record.at)), text("td", record.connection || "—"),
      text("td", record.method), text("td", record.path, "path"),
      text("td", record.query, "query"), text("td", record.status || "—", "status"),
      text("td", record.ms, "num"), text("td", record.count, "num"),
      text("td", record.fault || ""));
    return tr;
  }

  function applyFilters() {
    const f = filters();
    let shown = 0;
    for (const tr of body.rows) {
      tr.hidden = !matches(tr.record, f);
      if (!tr.hidden) shown += 1;
    }
    document.getElementById("shown").textContent = shown + " of " + body.rows.length + " shown";
    document.getElementById("empty").hidden = body.rows.length > 0;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({connection: form.elements.connection.value,
      status: f.status, path: form.elements.path.value.trim()})) {
      if (v) params.set(k, v);
    }
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  }

  const shownSeqs = new Set();
  let waiting = [];

  // Records are added a frame at a time, in one DOM insertion, so a burst of hundreds a
  // second costs the page one layout per frame rather than one per record.
  function flush() {
    const f = filters();
    const fragment = document.createDocumentFragment();
    for (const record of waiting.reverse()) {
      if (shownSeqs.has(record.seq)) continue;
      shownSeqs.add(record.seq);
      const tr = row(record);
      tr.hidden = !matches(record, f);
      fragment.appendChild(tr);
    }
    waiting = [];
    body.insertBefore(fragment, body.firstChild);
    while (body.rows.length > MAX_ROWS) {
      shownSeqs.delete(Number(body.rows[body.rows.length - 1].dataset.seq));
      body.deleteRow(body.rows.length - 1);
    }
    applyFilters();
  }

  function addRecord(record) {
    if (!waiting.length) requestAnimationFrame(flush);
    waiting.push(record);
  }

  function pretty(value) {
    if (value === null || value === undefined) return "(none)";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  async function showDetail(seq) {
    const section = document.getElementById("detail");
    const answer = await fetch(prefix + "/exchanges/" + seq, {cache: "no-store"});
    const data = await answer.json();
    section.hidden = false;
    const r = data.record;
    if (!r) {
      document.getElementById("detail-title").textContent = "Exchange " + seq + " is no longer kept";
      return;
    }
    document.getElementById("detail-title").textContent =
      r.method + " " + r.path + " → " + (r.status || "no answer");
    const d = data.detail;
    document.getElementById("detail-note").textContent = d ? (r.ms + " ms, " + d.answer_bytes + " bytes answered" + (r.fault ? ", fault: " + r.fault : ""))
      : "Only the summary was kept: no inspector page was open when this exchange happened.";
    document.getElementById("curl").value = data.curl || "";
    document.getElementById("req-headers").textContent = d ? pretty(d.request_headers) : "";
    document.getElementById("req-body").textContent = d ? pretty(d.request_body) : "";
    document.getElementById("ans-headers").textContent = d ? pretty(d.answer_headers) : "";
    document.getElementById("ans-body").textContent = d ? pretty(d.answer_body) : "";
    document.getElementById("detail-title").focus();
  }

  if (body) {
    const initial = JSON.parse(document.getElementById("initial").textContent);
    waiting = initial.reverse();
    flush();
    form.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
    form.addEventListener("input", applyFilters);
    form.addEventListener("change", applyFilters);
    body.addEventListener("click", function (event) {
      const tr = event.target.closest("tr");
      if (tr) showDetail(tr.dataset.seq);
    });
    body.addEventListener("keydown", function (event) {
      const tr = event.target.closest("tr");
      if (!tr) return;
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); showDetail(tr.dataset.seq); }
      const next = event.key === "ArrowDown" ? tr.nextElementSibling : event.key === "ArrowUp" ? tr.previousElementSibling : null;
      if (next) { event.preventDefault(); next.focus(); }
    });
    document.getElementById("copy-curl").addEventListener("click", async function () {
      const area = document.getElementById("curl");
      const said = document.getElementById("copied");
      try {
        await navigator.clipboard.writeText(area.value);
        said.textContent = "copied";
      } catch (err) {
        area.select();
        said.textContent = document.execCommand("copy") ? "copied" : "select the text and copy it";
      }
    });
  }

  // --- Live feed (every page: an open page is what makes the mock keep whole exchanges) ----
  if (window.EventSource) {
    const source = new EventSource(prefix + "/events");
    source.addEventListener("open", function () { live.textContent = "live"; live.className = "live on"; });
    source.addEventListener("error", function () { live.textContent = "reconnecting…"; live.className = "live"; });
    source.addEventListener("exchange", function (event) {
      const data = JSON.parse(event.data);
      seen += 1;
      lost = data.dropped;
      live.textContent = "live · " + seen + " new" + (lost ? " · " + lost + " lost (browser too slow)" : "");
      if (body) addRecord(data.record);
      followTraffic();
    });
  }

  // --- Pages that follow the traffic (Syncs, Connections) ---------------------------------
  // Their content is fetched again, at most every two seconds while exchanges arrive, and
  // swapped in place: scroll position and open details stay as they were.
  const main = document.getElementById("main");
  let refreshDue = false;
  async function refresh() {
    const answer = await fetch(location.href, {cache: "no-store"});
    if (!answer.ok) return;
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    const opened = [...main.querySelectorAll("details")].map(d => d.open);
    main.replaceChildren(...fresh.getElementById("main").childNodes);
    main.querySelectorAll("details").forEach((d, i) => { d.open = opened[i] || false; });
    tickCountdowns();
  }
  function followTraffic() {
    if (main.dataset.refresh !== "on" || refreshDue) return;
    refreshDue = true;
    setTimeout(function () { refreshDue = false; refresh(); }, 2000);
  }

  // --- Countdowns ----------------------------------------------------------------------------
  function tickCountdowns() {
    for (const span of document.querySelectorAll(".countdown[data-ends]")) {
      let left = Math.floor((Date.parse(span.dataset.ends) - Date.now()) / 1000);
      if (left <= 0) { span.textContent = "(expired)"; continue; }
      const d = Math.floor(left / 86400); left -= d * 86400;
      const h = Math.floor(left / 3600); left -= h * 3600;
      const m = Math.floor(left / 60);
      span.textContent = "(" + d + " d " + h + " h " + m + " min " + (left - m * 60) + " s left)";
    }
  }
  if (document.querySelector(".countdown[data-ends]")) {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
  }
})();
