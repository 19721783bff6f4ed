// Vitals timeline: one plotly figure with a panel per vital on a shared time axis (figure built by the
// server, web/pages/monitoring.py timeline_figure). The box takes the figure's height, so the chart
// never spills over the alerts table below it.
(function () {
  "use strict";
  const box = document.getElementById("vitals");
  const holder = document.getElementById("timeline-figure");
  if (!box || !holder || !window.theralab) return;
  const figure = JSON.parse(holder.textContent);
  const height = figure.layout.height || 400;
  box.style.height = `${height}px`;
  window.theralab.loadPlotly().then((Plotly) => {
    figure.layout.autosize = true;
    figure.layout.font = { family: getComputedStyle(document.body).fontFamily, size: 12 };
    Plotly.newPlot(box, figure.data, figure.layout, { responsive: true, displaylogo: false });
  }).catch((err) => { box.textContent = `The chart could not be drawn: ${err.message}`; });
})();
