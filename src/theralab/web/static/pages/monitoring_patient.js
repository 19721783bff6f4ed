// Vitals timeline: one plotly figure with a panel per vital on a shared time axis (figure built by the
// server, web/pages/monitoring.py timeline_figure). The box takes the figure's height, so the chart
// never spills over the alerts table below it.
if (window.theralab) {
  window.theralab.serverFigure("vitals", "timeline-figure", (figure, box) => {
    box.style.height = `${figure.layout.height || 400}px`;
    figure.layout.font = { family: getComputedStyle(document.body).fontFamily, size: 12 };
  });
}
