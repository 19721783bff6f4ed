// Ward board: swap in fresh rows (GET /monitoring/board) when the alert stream announces something
// and every 30 s; sorting the user chose is kept. No inline script (CSP): loaded by monitoring_ward.html.
(function () {
  "use strict";
  const table = document.getElementById("ward");
  const body = document.getElementById("ward-body");
  const status = document.getElementById("board-status");
  if (!table || !body) return;
  let pending = null;

  function resort() {
    const th = table.tHead && table.tHead.querySelector("th[aria-sort]");
    if (!th) return;
    const dir = th.getAttribute("aria-sort");
    const btn = th.querySelector(".sort-btn");
    if (!btn) return;
    th.setAttribute("aria-sort", dir === "ascending" ? "descending" : "ascending");
    btn.click(); // the shared sorter flips it back to the user's direction
  }

  function refresh(reason) {
    fetch("/monitoring/board", { headers: { Accept: "text/html", "X-Fragment": "board" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((html) => {
        body.innerHTML = html;
        if (window.theralab) window.theralab.enhance(body);
        resort();
        if (status) status.textContent = `updated ${new Date().toLocaleTimeString()} (${reason})`;
      })
      .catch((err) => { if (status) status.textContent = `update failed (${err.message}); retrying`; });
  }

  function soon(reason) {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(reason); }, 500);
  }

  table.addEventListener("theralab:sse", () => soon("new alert"));
  setInterval(() => refresh("every 30 s"), 30000);
})();
