// Literature page: clicking a node of the network opens the evidence sentences for that pair.
(function () {
  "use strict";
  function wire() {
    var box = document.querySelector('[data-chart="literature-network"]');
    if (!box || typeof box.on !== "function") { return false; }
    box.on("plotly_click", function (ev) {
      var p = ev && ev.points && ev.points[0];
      if (p && typeof p.customdata === "string" && p.customdata.indexOf("/literature/evidence?") === 0) {
        window.location.href = p.customdata;
      }
    });
    return true;
  }
  var tries = 0;
  var timer = window.setInterval(function () {
    tries += 1;
    if (wire() || tries > 40) { window.clearInterval(timer); }
  }, 250);
})();
