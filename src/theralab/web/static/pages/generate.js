// The generative-design page: live run-file preview with inline validation, and the live run view.
(function () {
  "use strict";

  // ---- the objective form --------------------------------------------------------------------
  function setError(form, name, message) {
    const el = document.getElementById(`f-${name}-error`);
    const input = form.querySelector(`[name="${name}"]`);
    if (el) el.textContent = message || "";
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
    if (!el && message && input) {  // a field rendered without an error slot: add one
      const span = document.createElement("span");
      span.className = "field-error";
      span.id = `f-${name}-error`;
      span.setAttribute("role", "alert");
      span.textContent = message;
      input.after(span);
    }
  }

  function setupForm(form) {
    const toml = document.getElementById("generate-toml");
    const download = document.getElementById("generate-toml-download");
    const status = document.getElementById("generate-status");
    const button = document.getElementById("generate-start");
    let timer = null;
    let shown = new Set();

    function refreshDownload() {
      if (download && toml) download.href = URL.createObjectURL(new Blob([toml.textContent], { type: "application/toml" }));
    }

    function check() {
      fetch("/generate/check", { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then((r) => r.json())
        .then((data) => {
          if (toml) toml.textContent = data.toml;
          refreshDownload();
          shown.forEach((name) => { if (!(name in data.errors)) setError(form, name, ""); });
          shown = new Set(Object.keys(data.errors));
          Object.entries(data.errors).forEach(([name, message]) => setError(form, name, message));
          if (status) status.textContent = data.ok ? "Ready to run." : "Fix the fields marked in red.";
          if (button) button.disabled = !data.ok;
        })
        .catch(() => { if (status) status.textContent = "Could not check the form; it is checked again when you submit."; });
    }

    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 300); });
    form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(check, 50); });
    refreshDownload();
    check();
  }

  // ---- the live run view ----------------------------------------------------------------------
  function setupLive(box) {
    const jobId = box.dataset.job;
    const chart = document.querySelector('[data-chart="generate-curve"]');
    const top = document.getElementById("generate-top");
    const result = document.getElementById("generate-result");
    const summary = document.getElementById("generate-summary");
    let busy = false;
    let finished = false;
    let drawing = Promise.resolve();
    let lastTable = null;

    function refresh() {
      if (busy) return;
      busy = true;
      fetch(`/generate/jobs/${encodeURIComponent(jobId)}/live.json`, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((data) => {
          // redraw only once the first draw (theralab.js, from the page's spec) has finished: two
          // overlapping Plotly draws on one element leave both sets of traces behind
          if (chart && window.theralab && chart.classList.contains("js-plotly-plot")) {
            drawing = drawing.then(() => window.theralab.drawChart(chart, data.curve));
          }
          if (summary && data.summary) summary.innerHTML = data.summary;
          if (top && data.table !== lastTable) {  // unchanged: keep the reader's sort and page
            lastTable = data.table;
            top.innerHTML = data.table;
            if (window.theralab) window.theralab.enhance(top);
          }
          const status = document.getElementById("generate-live-status");  // inside the swapped summary
          if (status) status.textContent = `${data.status}: ${data.calls} of ${data.budget} scoring calls`;
          if (result && data.status === "succeeded") result.hidden = false;
          finished = ["succeeded", "failed", "cancelled", "interrupted"].includes(data.status);
        })
        .catch(() => {})
        .finally(() => { busy = false; });
    }

    box.addEventListener("theralab:sse", refresh);  // theralab.js forwards each job event here
    const poll = setInterval(() => { if (finished) clearInterval(poll); else refresh(); }, 5000);
  }

  function start() {
    const form = document.getElementById("generate-form");
    if (form) setupForm(form);
    const live = document.getElementById("generate-live");
    if (live) setupLive(live);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
