// Image viewer: the input image and its Grad-CAM heatmap, pixel axes with y downwards as in the image.
(function () {
  "use strict";
  const holder = document.getElementById("image-data");
  if (!holder || !window.theralab) return;
  const data = JSON.parse(holder.textContent);
  const ax = { title: { text: "x (pixels)" } };
  const ay = { title: { text: "y (pixels)" }, autorange: "reversed", scaleanchor: "x" };
  const base = { type: "heatmap", z: data.image, colorscale: "Greys", reversescale: true, showscale: false,
                 hovertemplate: "x %{x}, y %{y}: %{z:.2f}<extra></extra>" };
  const margin = { l: 60, r: 20, t: 40, b: 50 };
  window.theralab.loadPlotly().then((Plotly) => {
    Plotly.newPlot("img-plot", [base], { title: { text: "Input (28 × 28)" }, xaxis: ax, yaxis: ay, margin },
      { responsive: true, displaylogo: false });
    Plotly.newPlot("cam-plot", [base, { type: "heatmap", z: data.heatmap, colorscale: "Jet", opacity: 0.45, zmin: 0,
      zmax: 1, colorbar: { title: { text: "Grad-CAM" } } }],
      { title: { text: "Grad-CAM heatmap" }, xaxis: ax, yaxis: ay, margin }, { responsive: true, displaylogo: false });
  });
})();
