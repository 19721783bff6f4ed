// theralab's own small script: live job progress over server-sent events, and table sorting.
window.theralab = {
  watchJobs() {
    document.querySelectorAll("tr[data-job]").forEach((row) => {
      const status = row.dataset.status;
      if (["succeeded", "failed", "cancelled"].includes(status)) return;
      const source = new EventSource(`/v1/jobs/${row.dataset.job}/events`);
      source.onmessage = (event) => {
        const job = JSON.parse(event.data);
        if (!job.id) return;
        row.querySelector(".status").textContent = job.status;
        row.querySelector("progress").value = job.progress;
        row.querySelector(".pct").textContent = Math.round(job.progress * 100) + "%";
        row.querySelector(".message").textContent = job.message;
        const link = document.getElementById("result-link");
        if (link && job.status === "succeeded") link.hidden = false;
        const report = document.getElementById("report-link");
        if (report && job.status === "succeeded") report.hidden = false;
      };
      source.addEventListener("end", () => source.close());
      source.onerror = () => source.close();
    });
  },
  sortable(table) {
    table.querySelectorAll("th").forEach((th, col) => {
      th.addEventListener("click", () => {
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const asc = th.dataset.sort !== "asc";
        th.dataset.sort = asc ? "asc" : "desc";
        const key = (r) => { const t = r.cells[col].dataset.value ?? r.cells[col].textContent; const n = parseFloat(t); return isNaN(n) ? t : n; };
        rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (asc ? 1 : -1));
        rows.forEach((r) => body.appendChild(r));
      });
    });
  },
};
