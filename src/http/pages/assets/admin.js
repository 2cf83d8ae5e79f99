// twofold admin console: draws the charts whose data the server put in each canvas's data-chart
// attribute (the CSP allows no inline script). Chart.js is served from /assets/chart.umd.min.js.
// Every chart also has a data table next to it, so the numbers are there without this script.
'use strict';

(function () {
  if (typeof window.Chart === 'undefined') return;
  var COLORS = {
    success: '#1e6b3a',
    second_factor_asked: '#2554c7',
    denied: '#b45309',
    failed: '#b42318',
    score: '#6d28d9',
    count: '#2554c7',
  };

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute('data-chart'));
    } catch (e) {
      return;
    }
    var stacked = spec.kind === 'stacked-bar';
    var chart = new window.Chart(canvas, {
      type: spec.horizontal ? 'bar' : 'bar',
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set) {
          return { label: set.label, data: set.data, backgroundColor: COLORS[set.key] || COLORS.count, borderWidth: 0 };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? 'y' : 'x',
        plugins: { legend: { display: spec.datasets.length > 1, position: 'bottom' } },
        scales: {
          x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
    var points = 0;
    spec.datasets.forEach(function (set) {
      set.data.forEach(function (v) {
        points += v;
      });
    });
    // Read by the browser tests: the chart exists and what it drew adds up to this.
    canvas.setAttribute('data-rendered', 'true');
    canvas.setAttribute('data-total', String(points));
    return chart;
  }

  Array.prototype.forEach.call(document.querySelectorAll('canvas[data-chart]'), draw);
})();
