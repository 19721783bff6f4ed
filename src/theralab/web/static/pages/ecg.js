// ECG trace with detected R peaks (figure built by web/pages/ecg.py): the first 10 s, a range slider for the rest.
(function () {
  "use strict";
  const box = document.getElementById("ecg-plot");
  const holder = document.getElementById("ecg-figure");
  if (!box || !holder || !window.theralab) return;
  const figure = JSON.parse(holder.textContent);
  figure.layout.autosize = true;
  window.theralab.loadPlotly()
    .then((Plotly) => Plotly.newPlot(box, figure.data, figure.layout, { responsive: true, displaylogo: false }))
    .catch((err) => { box.textContent = `The chart could not be drawn: ${err.message}`; });
})();
