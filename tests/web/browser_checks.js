// Layout and text checks the browser harness (tests/web/test_browser_pages.py) runs inside each page.
// Returns {overflow: [...], overlap: [...], reprs: [...], nav: [...]}, each entry a readable string.
() => {
  const W = window.innerWidth;
  const out = { overflow: [], overlap: [], reprs: [], nav: [], csp: [] };

  const label = (el) => {
    if (!el || el === document.body) return "body";
    let s = el.tagName.toLowerCase();
    if (el.id) return `${s}#${el.id}`;
    const cls = Array.from(el.classList).filter((c) => !c.startsWith("js-")).slice(0, 2);
    if (cls.length) s += "." + cls.join(".");
    const parent = el.parentElement;
    const ctx = parent && parent !== document.body ? (parent.id ? `#${parent.id} > ` : `${parent.tagName.toLowerCase()}${parent.classList[0] ? "." + parent.classList[0] : ""} > `) : "";
    return ctx + s;
  };
  // content of a closed <details> (all but its summary) is not shown, whatever its boxes say
  const folded = (el) => {
    let d = el.parentElement ? el.parentElement.closest("details:not([open])") : null;
    while (d) {
      const summary = d.querySelector(":scope > summary");
      if (!(summary && (summary === el || summary.contains(el)))) return true;
      d = d.parentElement ? d.parentElement.closest("details:not([open])") : null;
    }
    return false;
  };
  const visible = (el, style) => {
    if (folded(el)) return false;
    if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const clips = (style) => style.overflowX !== "visible" || style.overflowY !== "visible";
  const skipInside = (el) => el.closest("svg, .js-plotly-plot, [data-chart] .plot-container, select, option, .sr-only, .skip-link, details:not([open]) > .menu");

  // ---- horizontal overflow --------------------------------------------------------------------
  const doc = document.scrollingElement || document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) out.overflow.push(`the page scrolls sideways: ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
  const all = Array.from(document.body.querySelectorAll("*"));
  let reported = 0;
  for (const el of all) {
    if (reported >= 5) break;
    if (skipInside(el) && !el.matches(".js-plotly-plot")) continue;
    const style = getComputedStyle(el);
    if (!visible(el, style) || style.position === "fixed") continue;
    const r = el.getBoundingClientRect();
    if (r.right <= W + 1 && r.left >= -1) continue;
    // inside a scrolling / clipping container (e.g. .table-wrap) it cannot widen the page
    let a = el.parentElement, clipped = false;
    while (a && a !== document.body) { if (clips(getComputedStyle(a))) { clipped = true; break; } a = a.parentElement; }
    if (clipped) continue;
    out.overflow.push(`${label(el)} reaches x=${Math.round(r.left)}..${Math.round(r.right)} in a ${W}px window`);
    reported++;
  }

  // ---- overlap between siblings (each box extended by what overflows out of it) ---------------
  const extent = new Map();
  const extentOf = (el) => {
    if (extent.has(el)) return extent.get(el);
    const r = el.getBoundingClientRect();
    let box = { l: r.left, t: r.top, r: r.right, b: r.bottom };
    const style = getComputedStyle(el);
    if (el.matches(".js-plotly-plot") && !clips(style)) {
      const svg = el.querySelector(".main-svg");
      if (svg) { const s = svg.getBoundingClientRect(); box = { l: Math.min(box.l, s.left), t: Math.min(box.t, s.top), r: Math.max(box.r, s.right), b: Math.max(box.b, s.bottom) }; }
    }
    if (!clips(style) && !el.matches("svg, .js-plotly-plot, select, textarea, input, img, canvas")) {
      for (const child of el.children) {
        const cs = getComputedStyle(child);
        if (!visible(child, cs) || cs.position === "fixed" || cs.position === "absolute") continue;
        const e = extentOf(child);
        box = { l: Math.min(box.l, e.l), t: Math.min(box.t, e.t), r: Math.max(box.r, e.r), b: Math.max(box.b, e.b) };
      }
    }
    extent.set(el, box);
    return box;
  };
  const inFlow = (el) => {
    const s = getComputedStyle(el);
    // inline boxes that wrap span whole lines and "overlap" their neighbours on paper only: not compared
    return visible(el, s) && !["absolute", "fixed", "sticky"].includes(s.position) && !["contents", "inline"].includes(s.display) && s.float === "none";
  };
  let overlaps = 0;
  for (const parent of [document.body, ...all]) {
    if (overlaps >= 8) break;
    if (parent !== document.body && skipInside(parent)) continue;
    const ps = getComputedStyle(parent);
    if (ps.display === "inline" || parent.matches("p, span, a, label, button, summary, td, th, li, dt, dd, h1, h2, h3, h4, code, small, strong, em")) continue;
    const kids = Array.from(parent.children).filter((k) => !k.matches("script, style, template, br, tr, thead, tbody") && inFlow(k));
    for (let i = 0; i < kids.length; i++) {
      for (let j = i + 1; j < Math.min(kids.length, i + 4); j++) {
        const a = extentOf(kids[i]), b = extentOf(kids[j]);
        const w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
        if (w > 3 && h > 3) {
          out.overlap.push(`${label(kids[i])} overlaps ${label(kids[j])} by ${Math.round(w)}×${Math.round(h)}px`);
          overlaps++;
        }
      }
    }
  }

  // ---- charts: the drawing fits its box, and axes carry titles ---------------------------------
  out.charts = [];
  for (const gd of document.querySelectorAll(".js-plotly-plot")) {
    const box = gd.getBoundingClientRect();
    const svg = gd.querySelector(".main-svg");
    if (svg) {
      const s = svg.getBoundingClientRect();
      if (s.bottom > box.bottom + 4 || s.right > box.right + 4) out.charts.push(`${label(gd)}: the drawing (${Math.round(s.width)}×${Math.round(s.height)}px) is larger than its box (${Math.round(box.width)}×${Math.round(box.height)}px)`);
      const parent = gd.parentElement;
      if (parent) { const p = parent.getBoundingClientRect(); if (s.bottom > p.bottom + 4 && clips(getComputedStyle(parent))) out.charts.push(`${label(gd)}: cut off by its container`); }
    }
    const data = gd.data || [];
    const axial = data.some((t) => !["pie", "table", "indicator", "sunburst", "treemap", "sankey", "parcoords", "funnel", "funnelarea", "parcats"].includes(t.type || "scatter"));
    if (axial && data.length) {
      const xt = Array.from(gd.querySelectorAll("[class^='g-x'][class$='title'] text, .g-xtitle text")).some((t) => t.textContent.trim());
      const yt = Array.from(gd.querySelectorAll("[class^='g-y'][class$='title'] text, .g-ytitle text")).some((t) => t.textContent.trim());
      if (!xt || !yt) out.charts.push(`${label(gd)}: ${!xt && !yt ? "no axis titles" : !xt ? "no x-axis title" : "no y-axis title"}`);
    }
  }

  // ---- raw Python reprs and double-escaped markup in the visible text -------------------------
  const text = document.body.innerText;
  const patterns = [
    [/\['[^\n]{0,40}/, "a Python list repr"],
    [/\{'[^\n]{0,40}/, "a Python dict repr"],
    [/&(gt|lt|amp|quot|#\d+);/, "double-escaped markup"],
    [/\b\d+\.\d{7,}\b/, "a long float repr"],
    [/(^|[:=(]\s*|\t)(None|nan|NaN|undefined|null)(\s*$|[,;)\t])/m, "a missing value printed as a word"],
    [/(^|\s)#{1,3} [A-Z][a-z]+/, "raw markdown (a '#' heading shown as text)"],
    [/object at 0x[0-9a-f]+|<built-in|Traceback \(most recent/, "a Python object repr or traceback"],
  ];
  for (const [re, what] of patterns) {
    const m = text.match(re);
    if (m) out.reprs.push(`${what}: "${m[0].trim().slice(0, 60)}"`);
  }
  const cells = document.querySelectorAll("td, dd, .num, .badge, li");
  for (const c of cells) {
    const t = c.innerText.trim();
    if (["None", "nan", "NaN", "undefined", "null", "[]", "{}"].includes(t)) { out.reprs.push(`${label(c)} shows "${t}"`); break; }
  }

  // ---- no inline executable script (the Content-Security-Policy forbids them) ----------------
  for (const s of document.querySelectorAll("script:not([src])")) {
    const type = (s.getAttribute("type") || "").toLowerCase();
    if (!["application/json", "application/ld+json", "text/template"].includes(type)) {
      out.csp.push(`inline <script>: "${s.textContent.trim().slice(0, 60)}"`);
    }
  }
  for (const el of document.querySelectorAll("*")) {
    const handler = Array.from(el.attributes).find((a) => /^on[a-z]+$/.test(a.name));
    if (handler) { out.csp.push(`inline handler ${handler.name} on ${label(el)}`); break; }
  }
  for (const a of document.querySelectorAll("a[href^='javascript:' i]")) { out.csp.push(`javascript: link ${label(a)}`); break; }

  // ---- the top bar stays one line -------------------------------------------------------------
  const header = document.querySelector("header.top");
  if (header) {
    if (header.getBoundingClientRect().height > 64) out.nav.push(`the top bar is ${Math.round(header.getBoundingClientRect().height)}px tall (it wrapped)`);
    const items = Array.from(header.querySelectorAll("nav.main > a, nav.main > details > summary"));
    const tops = new Set(items.map((i) => Math.round(i.getBoundingClientRect().top)));
    if (tops.size > 1) out.nav.push(`the navigation wraps onto ${tops.size} lines`);
    if (header.scrollWidth > header.clientWidth + 1) out.nav.push("the top bar is cut off on the right");
  }
  return out;
}
