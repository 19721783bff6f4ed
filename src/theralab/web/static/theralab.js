// theralab.js: the behaviours every page shares, switched on by attributes (no inline scripts needed).
//   table.data[data-sortable]          click a header to sort (cells may carry data-value for the sort key)
//   table.data[data-page-size="25"]    client paging with a .pager after the table (or its .table-wrap)
//   time[datetime]                     shown in the reader's local time, UTC kept in the title
//   [data-chart="ID"]                  drawn with plotly.js from <script type="application/json" id="ID">
//   [data-live-sse="/v1/..."]          an EventSource; each message is dispatched as "theralab:sse" on the element
//   [data-job]                         live job progress (server-sent events)
//   nav details                        one menu open at a time; Escape / outside click closes
// Pages that add content later call theralab.enhance(root) on it.
(function () {
  "use strict";

  const PLOTLY_SRC = "/static-vendor/plotly.min.js";
  let plotlyLoading = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (plotlyLoading) return plotlyLoading;
    plotlyLoading = new Promise((resolve, reject) => {
      const existing = document.querySelector(`script[src="${PLOTLY_SRC}"]`);
      const script = existing || document.createElement("script");
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => reject(new Error("plotly.js did not load")));
      if (!existing) {
        script.src = PLOTLY_SRC;
        document.head.appendChild(script);
      }
    });
    return plotlyLoading;
  }

  // ---- numbers and times -------------------------------------------------------------------------
  function sortKey(cell) {
    if (!cell) return "";
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    const cleaned = String(raw).replace(/[,\s]/g, "").replace(/[%]$/, "");
    const n = Number(cleaned);
    return cleaned !== "" && !Number.isNaN(n) ? n : String(raw).toLowerCase();
  }

  function compare(a, b) {
    const na = typeof a === "number", nb = typeof b === "number";
    if (na && nb) return a - b;
    if (na) return -1;
    if (nb) return 1;
    return a.localeCompare(b);
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      if (el.dataset.local) return;
      const value = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(value.getTime())) return;
      const utc = value.toISOString().slice(0, 16).replace("T", " ") + " UTC";
      el.title = utc;
      el.textContent = el.dataset.format === "date" ? value.toLocaleDateString() : timeFormat.format(value);
      el.dataset.local = "1";
    });
  }

  // ---- tables ------------------------------------------------------------------------------------
  function pagerFor(table) {
    const anchor = table.closest(".table-wrap") || table;
    let pager = anchor.nextElementSibling;
    if (!pager || !pager.classList.contains("pager")) {
      pager = document.createElement("nav");
      pager.className = "pager";
      anchor.after(pager);
    }
    pager.setAttribute("aria-label", "Table pages");
    return pager;
  }

  function paginate(table, page) {
    const size = parseInt(table.dataset.pageSize, 10);
    if (!size || !table.tBodies[0]) return;
    const rows = Array.from(table.tBodies[0].rows);
    const pages = Math.max(1, Math.ceil(rows.length / size));
    const current = Math.min(Math.max(1, page || parseInt(table.dataset.page || "1", 10)), pages);
    table.dataset.page = String(current);
    rows.forEach((row, i) => row.classList.toggle("is-hidden", Math.floor(i / size) + 1 !== current));
    const pager = pagerFor(table);
    pager.textContent = "";
    if (rows.length <= size) return;
    const info = document.createElement("span");
    info.className = "info";
    const first = (current - 1) * size + 1, last = Math.min(current * size, rows.length);
    info.textContent = `${first}–${last} of ${rows.length}`;
    pager.appendChild(info);
    const button = (label, target, text, currentPage) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      if (currentPage) b.setAttribute("aria-current", "page");
      b.disabled = target < 1 || target > pages;
      b.addEventListener("click", () => paginate(table, target));
      pager.appendChild(b);
    };
    button("Previous page", current - 1, "‹ Previous", false);
    const shown = new Set([1, pages, current - 1, current, current + 1]);
    let gap = false;
    for (let p = 1; p <= pages; p++) {
      if (!shown.has(p)) { if (!gap) { const s = document.createElement("span"); s.textContent = "…"; pager.appendChild(s); gap = true; } continue; }
      gap = false;
      button(`Page ${p}`, p, String(p), p === current);
    }
    button("Next page", current + 1, "Next ›", false);
  }

  function sortable(table) {
    if (!table || table.dataset.sortReady || !table.tHead) return;
    table.dataset.sortReady = "1";
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((th, col) => {
      if (th.dataset.sort === "none") return;
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "sort-btn";
      while (th.firstChild) btn.appendChild(th.firstChild);
      th.appendChild(btn);
      btn.addEventListener("click", () => {
        const body = table.tBodies[0];
        if (!body) return;
        const asc = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const rows = Array.from(body.rows);
        rows.sort((a, b) => compare(sortKey(a.cells[col]), sortKey(b.cells[col])) * (asc ? 1 : -1));
        rows.forEach((r) => body.appendChild(r));
        paginate(table, 1);
      });
    });
  }

  // ---- charts ------------------------------------------------------------------------------------
  function axisTitle(axis) {
    if (!axis) return "";
    return axis.unit ? `${axis.title} (${axis.unit})` : (axis.title || "");
  }

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function toCsv(spec) {
    const lines = [["series", axisTitle(spec.x) || "x", axisTitle(spec.y) || "y"].map(csvCell).join(",")];
    (spec.traces || []).forEach((trace, i) => {
      const xs = trace.x || [], ys = trace.y || [];
      const n = Math.max(xs.length, ys.length);
      for (let k = 0; k < n; k++) lines.push([trace.name || `series ${i + 1}`, xs[k], ys[k]].map(csvCell).join(","));
    });
    return lines.join("\n") + "\n";
  }

  function layoutFor(spec, el) {
    const shapes = (spec.shapes || []).slice();
    const annotations = [];
    (spec.bands || []).forEach((band) => {
      shapes.push({ type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0: band.y0, y1: band.y1,
                    fillcolor: band.color || "#e7effb", opacity: 0.35, line: { width: 0 }, layer: "below" });
      if (band.label) annotations.push({ xref: "paper", x: 1, xanchor: "right", yref: "y", y: band.y1, yanchor: "top",
        text: band.label, showarrow: false, font: { size: 10, color: "#5a6577" } });
    });
    const axis = (a) => ({ title: { text: axisTitle(a), standoff: 8 }, type: (a && a.type) || "linear", automargin: true,
                           gridcolor: "#e8ecf2", zerolinecolor: "#d8dee8", linecolor: "#b9c2d0", ticks: "outside" });
    return {
      title: { text: spec.title || "", x: 0.015, xref: "container", xanchor: "left", font: { size: 15, color: "#1b2433" } },
      xaxis: axis(spec.x), yaxis: axis(spec.y), shapes, annotations,
      margin: { l: 64, r: 24, t: spec.title ? 48 : 16, b: 56 }, autosize: true, height: el.clientHeight || undefined,
      hovermode: "closest", paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
      font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: "#364152" },
      legend: { orientation: "h", y: -0.22, x: 0 }, showlegend: (spec.traces || []).length > 1,
      colorway: ["#1d5fbf", "#d9730d", "#2e8b57", "#b42318", "#7a4fb5", "#0f8a9d", "#8c6d1f", "#5a6577"],
    };
  }

  function addDownload(el, spec) {
    if (!spec.download || el.dataset.downloadReady) return;
    el.dataset.downloadReady = "1";
    const bar = document.createElement("div");
    bar.className = "chart-actions";
    const link = document.createElement("a");
    link.textContent = "Download data (CSV)";
    link.download = spec.download;
    link.href = URL.createObjectURL(new Blob([toCsv(spec)], { type: "text/csv" }));
    bar.appendChild(link);
    el.after(bar);
  }

  function readSpec(el) {
    const id = el.dataset.chart;
    const holder = id && document.getElementById(id);
    if (!holder) return null;
    try { return JSON.parse(holder.textContent); } catch (err) { console.warn("chart spec", id, err); return null; }
  }

  function drawChart(el, spec) {
    spec = spec || readSpec(el);
    if (!spec) return Promise.resolve();
    if (!el.getAttribute("aria-label")) el.setAttribute("aria-label", spec.title || "chart");
    addDownload(el, spec);
    return loadPlotly().then((Plotly) => Plotly.react(el, spec.traces || [], layoutFor(spec, el),
      { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d", "sendDataToCloud"] }))
      .catch((err) => { el.textContent = "The chart could not be drawn: " + err.message; el.classList.add("chart-error"); });
  }

  function charts(root) {
    root.querySelectorAll("[data-chart]").forEach((el) => { if (!el.dataset.drawn) { el.dataset.drawn = "1"; drawChart(el); } });
  }

  // ---- live updates ------------------------------------------------------------------------------
  function liveSse(root) {
    root.querySelectorAll("[data-live-sse]").forEach((el) => {
      if (el.dataset.sseReady) return;
      el.dataset.sseReady = "1";
      const source = new EventSource(el.dataset.liveSse);
      source.onmessage = (event) => {
        let data = event.data;
        try { data = JSON.parse(event.data); } catch (err) { /* plain text message */ }
        el.dispatchEvent(new CustomEvent("theralab:sse", { detail: data, bubbles: true }));
      };
      source.addEventListener("end", () => source.close());
      source.onerror = () => { source.close(); el.dispatchEvent(new CustomEvent("theralab:sse-closed", { bubbles: true })); };
    });
  }

  function watchJobs(root) {
    (root || document).querySelectorAll("[data-job]").forEach((row) => {
      if (row.dataset.watching || ["succeeded", "failed", "cancelled"].includes(row.dataset.status)) return;
      row.dataset.watching = "1";
      const source = new EventSource(`/v1/jobs/${row.dataset.job}/events`);
      source.onmessage = (event) => {
        const job = JSON.parse(event.data);
        if (!job.id) return;
        const set = (sel, fn) => { const el = row.querySelector(sel); if (el) fn(el); };
        set(".status", (el) => { el.textContent = job.status; el.className = "status badge " + statusBadge(job.status); });
        set("progress", (el) => { el.value = job.progress; });
        set(".pct", (el) => { el.textContent = Math.round(job.progress * 100) + "%"; });
        set(".message", (el) => { el.textContent = job.message || ""; });
        if (job.status === "succeeded") {
          ["result-link", "report-link"].forEach((id) => { const link = document.getElementById(id); if (link) link.hidden = false; });
        }
      };
      source.addEventListener("end", () => source.close());
      source.onerror = () => source.close();
    });
  }

  function statusBadge(status) {
    return { succeeded: "badge-ok", failed: "badge-high", cancelled: "badge-muted", running: "badge-info" }[status] || "badge-muted";
  }

  // ---- navigation --------------------------------------------------------------------------------
  function navMenus() {
    const menus = Array.from(document.querySelectorAll("nav.main details"));
    menus.forEach((d) => d.addEventListener("toggle", () => {
      if (d.open) menus.forEach((o) => { if (o !== d) o.open = false; });
    }));
    document.addEventListener("click", (event) => {
      menus.forEach((d) => { if (d.open && !d.contains(event.target)) d.open = false; });
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") menus.forEach((d) => { if (d.open) { d.open = false; d.querySelector("summary").focus(); } });
    });
  }

  // A table wider or taller than its .table-wrap scrolls inside it: make that region reachable by keyboard.
  function scrollRegions(root) {
    root.querySelectorAll(".table-wrap").forEach((wrap) => {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1;
      if (!scrolls || wrap.hasAttribute("tabindex")) return;
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      if (!wrap.getAttribute("aria-label")) {
        const table = wrap.querySelector("table");
        const caption = table && (table.caption ? table.caption.textContent : table.getAttribute("aria-label"));
        const section = wrap.closest("section, .card");
        const heading = section && section.querySelector("h1, h2, h3");
        wrap.setAttribute("aria-label", (caption || (heading && heading.textContent) || "Table").trim() + " (scrolls)");
      }
    });
  }

  // A range input's current value, shown in its <output data-for="input id"> as it moves.
  function sliderOutputs(root) {
    root.querySelectorAll("output[data-for]").forEach((out) => {
      const input = document.getElementById(out.dataset.for);
      if (!input) return;
      const show = () => { out.value = input.value; };
      input.addEventListener("input", show);
      show();
    });
  }

  // Draw a figure the server built (plotly JSON in the element #holderId) into #boxId; `prepare(figure, box)`
  // may adjust it first. If plotly cannot be loaded the box says so.
  function serverFigure(boxId, holderId, prepare) {
    const box = document.getElementById(boxId);
    const holder = document.getElementById(holderId);
    if (!box || !holder) return;
    const figure = JSON.parse(holder.textContent);
    figure.layout.autosize = true;
    if (prepare) prepare(figure, box);
    loadPlotly()
      .then((Plotly) => Plotly.newPlot(box, figure.data, figure.layout, { responsive: true, displaylogo: false }))
      .catch((err) => { box.textContent = `The chart could not be drawn: ${err.message}`; });
  }

  function enhance(root) {
    root = root || document;
    root.querySelectorAll("table.data[data-sortable], table.grid[data-sortable]").forEach(sortable);
    root.querySelectorAll("table.data[data-page-size]").forEach((t) => paginate(t));
    localTimes(root);
    scrollRegions(root);
    sliderOutputs(root);
    charts(root);
    liveSse(root);
    watchJobs(root);
  }

  window.theralab = {
    enhance, sortable, paginate, drawChart, loadPlotly, localTimes, watchJobs, toCsv, axisTitle, serverFigure,
  };

  function start() { navMenus(); enhance(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
