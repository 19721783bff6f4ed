// ADMET page: colour the prediction cells against the editable traffic-light thresholds.
(() => {
  const table = document.getElementById("admet-table");
  if (!table) return;
  const classes = ["flag-green", "flag-amber", "flag-red"];
  // light fills so the value stays readable (set through the CSSOM, which the CSP allows)
  const colours = { green: "var(--ok-bg)", amber: "var(--medium-bg)", red: "#fbd5d1" };
  function recolour() {
    document.querySelectorAll("#thresholds tbody tr").forEach((tr) => {
      const col = tr.dataset.col, high = tr.dataset.bad === "high";
      const amber = parseFloat(tr.querySelector(".amber").value), red = parseFloat(tr.querySelector(".red").value);
      table.querySelectorAll(`td[data-col="${col}"]`).forEach((td) => {
        td.classList.remove(...classes);
        td.style.backgroundColor = "";
        const v = parseFloat(td.dataset.value);
        if (isNaN(v)) return;
        const isRed = high ? v >= red : v <= red, isAmber = high ? v >= amber : v <= amber;
        const level = isRed ? "red" : isAmber ? "amber" : "green";
        td.classList.add(`flag-${level}`);
        td.style.backgroundColor = colours[level];
        td.title = `${level}: ${high ? "amber at ≥" : "amber at ≤"} ${amber}, red at ${high ? "≥" : "≤"} ${red}`;
      });
    });
  }
  document.querySelectorAll("#thresholds input").forEach((i) => i.addEventListener("input", recolour));
  recolour();
})();
