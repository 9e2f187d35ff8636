// The SLO detail page's two charts, drawn with uPlot from the page's own history.json
// (same origin, the session's cookie). Deploys and incidents are drawn as vertical markers,
// the SLO's alerts as shaded bands from when they started firing to when they ended (or now).
// The range/view picker is a plain GET form; with JS it redraws in place and keeps the URL.
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

  function bandsOf(overlays, end) {
    return (overlays.alerts || []).filter(function (alert) { return alert.starts_at; }).map(function (alert) {
      return {
        from: Date.parse(alert.starts_at) / 1000,
        to: alert.ends_at ? Date.parse(alert.ends_at) / 1000 : end
      };
    });
  }

  function bandPlugin(bands) {
    return {
      hooks: {
        drawClear: function (u) {
          var ctx = u.ctx;
          var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
          ctx.save();
          ctx.fillStyle = "rgba(197, 48, 48, 0.15)";
          bands.forEach(function (band) {
            var x0 = Math.max(left, u.valToPos(band.from, "x", true));
            var x1 = Math.min(right, u.valToPos(band.to, "x", true));
            if (x1 > x0) { ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height); }
          });
          ctx.restore();
        }
      }
    };
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

  function budgetChart(element, history, marks, bands, view) {
    var burndown = history.burndown || { t: [], remaining: [] };
    var ideal = history.ideal || { t: [], remaining: [] };
    var data = uPlot.join([
      [burndown.t, burndown.remaining],
      [ideal.t, ideal.remaining]
    ]);
    // a calendar view spans its whole period (the ideal line's), the rolling one the range
    var range = view !== "rolling" && ideal.t.length === 2
      ? [ideal.t[0], ideal.t[1]]
      : [Date.parse(history.from) / 1000, Date.parse(history.to) / 1000];
    return new uPlot({
      width: widthOf(element),
      height: 240,
      scales: { x: { time: true, range: range } },
      axes: [{}, percentAxis()],
      series: [
        {},
        { label: "remaining", stroke: "#2f855a", width: 2, spanGaps: true, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(2) + "%"; } },
        { label: "ideal", stroke: "#718096", dash: [6, 4], width: 1.5, spanGaps: true, value: function (u, v) { return v == null ? "—" : (v * 100).toFixed(2) + "%"; } }
      ],
      plugins: [bandPlugin(bands), markerPlugin(marks)]
    }, data, element);
  }

  function sliChart(element, history, marks, bands) {
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
      plugins: [bandPlugin(bands), markerPlugin(marks)]
    }, [sli.t, sli.min, sli.last, objective], element);
  }

  var plots = [];

  function draw(box, source, view) {
    var state = document.getElementById("chart-state");
    state.textContent = "Loading the history…";
    box.removeAttribute("data-drawn");
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("history answered " + answer.status); }
        return answer.json();
      })
      .then(function (document_) {
        var overlays = document_.overlays || {};
        var history = document_.history;
        var marks = markersOf(overlays);
        var bands = bandsOf(overlays, Date.parse(history.to) / 1000);
        plots.forEach(function (plot) { plot.destroy(); });
        plots = [
          budgetChart(document.getElementById("chart-budget"), history, marks, bands, view),
          sliChart(document.getElementById("chart-sli"), history, marks, bands)
        ];
        var points = (history.burndown || { t: [] }).t.length + ((history.series || {}).sli || { t: [] }).t.length;
        state.textContent = points
          ? marks.length + " markers, " + bands.length + " alert periods."
          : "No history recorded in this range yet.";
        box.setAttribute("data-drawn", "true");
        box.setAttribute("data-range", document_.range);
        box.setAttribute("data-view", document_.view);
      })
      .catch(function (error) {
        state.textContent = "The history could not be read (" + error.message + ").";
      });
  }

  function start() {
    var box = document.getElementById("slo-charts");
    if (!box || typeof uPlot === "undefined") { return; }
    draw(box, box.getAttribute("data-src"), box.getAttribute("data-view"));
    var form = document.getElementById("chart-picker");
    if (!form) { return; }
    var base = box.getAttribute("data-src").split("?")[0];
    function apply(event) {
      if (event) { event.preventDefault(); }
      var query = "?range=" + encodeURIComponent(form.elements.range.value) +
        "&view=" + encodeURIComponent(form.elements.view.value);
      window.history.replaceState(null, "", window.location.pathname + query);
      draw(box, base + query, form.elements.view.value);
    }
    form.addEventListener("submit", apply);
    form.elements.range.addEventListener("change", apply);
    form.elements.view.addEventListener("change", apply);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
