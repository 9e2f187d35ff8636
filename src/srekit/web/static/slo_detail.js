// The SLO detail page's two charts, drawn with uPlot from the page's own history.json
// (same origin, the session's cookie). Deploys and incidents are drawn as vertical markers.
(function () {
  "use strict";

  function markersOf(overlays) {
    var marks = [];
    function add(list, field, css) {
      (list || []).forEach(function (item) {
        if (item[field]) { marks.push({ t: Date.parse(item[field]) / 1000, css: css }); }
      });
    }
    add(overlays.deployments, "at", "deploy");
    add(overlays.gate_denials, "at", "denied");
    add(overlays.incidents, "opened_at", "incident");
    return marks;
  }

  var COLOURS = { deploy: "#2b6cb0", denied: "#c05621", incident: "#c53030" };

  function markerPlugin(marks) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1);
          marks.forEach(function (mark) {
            var x = u.valToPos(mark.t, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) { return; }
            ctx.strokeStyle = COLOURS[mark.css];
            ctx.setLineDash(mark.css === "incident" ? [] : [4, 3]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }
      }
    };
  }

  function widthOf(element) {
    return Math.max(280, Math.min(element.clientWidth || 600, 1100));
  }

  function percentAxis() {
    return {
      values: function (u, splits) {
        return splits.map(function (v) { return (v * 100).toFixed(v > -0.1 && v < 0.1 ? 2 : 1) + "%"; });
      },
      size: 70
    };
  }

  function budgetChart(element, history, marks) {
    var burndown = history.burndown || { t: [], remaining: [] };
    var ideal = history.ideal || { t: [], remaining: [] };
    var data = uPlot.join([
      [burndown.t, burndown.remaining],
      [ideal.t, ideal.remaining]
    ]);
    return new uPlot({
      width: widthOf(element),
      height: 240,
      scales: { x: { time: true, range: [Date.parse(history.from) / 1000, Date.parse(history.to) / 1000] } },
      axes: [{}, percentAxis()],
      series: [
        {},
        { label: "remaining", stroke: "#2f855a", width: 2, spanGaps: true, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(2) + "%"; } },
        { label: "ideal", stroke: "#718096", dash: [6, 4], width: 1.5, spanGaps: true, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(2) + "%"; } }
      ],
      plugins: [markerPlugin(marks)]
    }, data, element);
  }

  function sliChart(element, history, marks) {
    var sli = (history.series && history.series.sli) || { t: [], min: [], last: [] };
    var objective = sli.t.map(function () { return history.objective; });
    return new uPlot({
      width: widthOf(element),
      height: 240,
      scales: { x: { time: true, range: [Date.parse(history.from) / 1000, Date.parse(history.to) / 1000] } },
      axes: [{}, percentAxis()],
      series: [
        {},
        { label: "SLI (lowest)", stroke: "#b7791f", width: 1, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(3) + "%"; } },
        { label: "SLI", stroke: "#2b6cb0", width: 2, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(3) + "%"; } },
        { label: "objective", stroke: "#c53030", dash: [6, 4], width: 1.5, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(3) + "%"; } }
      ],
      plugins: [markerPlugin(marks)]
    }, [sli.t, sli.min, sli.last, objective], element);
  }

  function start() {
    var box = document.getElementById("slo-charts");
    if (!box || typeof uPlot === "undefined") { return; }
    var state = document.getElementById("chart-state");
    fetch(box.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("history answered " + answer.status); }
        return answer.json();
      })
      .then(function (document_) {
        var marks = markersOf(document_.overlays || {});
        var history = document_.history;
        budgetChart(document.getElementById("chart-budget"), history, marks);
        sliChart(document.getElementById("chart-sli"), history, marks);
        var points = (history.burndown || { t: [] }).t.length;
        state.textContent = points ? marks.length + " markers." : "No history recorded in these 30 days yet.";
        box.setAttribute("data-drawn", "true");
      })
      .catch(function (error) {
        state.textContent = "The history could not be read (" + error.message + ").";
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
