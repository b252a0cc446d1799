/**
 * The pages' only script (vanilla JS, served at /static/app.js): live updates
 * over server-sent events re-render the page's main region in place, and
 * charts draw from the JSON the server allows this viewer to see.
 */
export const clientScript = String.raw`
(function () {
  'use strict';
  function drawCharts() {
    if (!window.Chart) return;
    document.querySelectorAll('canvas[data-src]').forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      canvas.dataset.drawn = '1';
      fetch(canvas.dataset.src, { headers: { accept: 'application/json' } }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) return;
        new window.Chart(canvas, { type: 'bar', data: { labels: data.labels, datasets: [{ label: canvas.getAttribute('aria-label'), data: data.values, backgroundColor: '#0b4f8a' }] },
          options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
      });
    });
  }
  var refreshing = false, again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.pathname + location.search, { headers: { accept: 'text/html' } }).then(function (r) { return r.text(); }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, 'text/html');
      var fresh = doc.getElementById('main'), current = document.getElementById('main');
      if (fresh && current) {
        var focused = document.activeElement && document.activeElement.id;
        // A live part (the video call, issue 5) survives the refresh: it moves into the fresh content as it is.
        var keep = current.querySelector('[data-keep][id]');
        current.innerHTML = fresh.innerHTML;
        if (keep) { var slot = document.getElementById(keep.id); if (slot) slot.replaceWith(keep); }
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        drawCharts();
      }
    }).finally(function () { refreshing = false; if (again) { again = false; refresh(); } });
  }
  var src = document.body.dataset.live;
  if (src && window.EventSource) {
    var es = new EventSource(src);
    es.onmessage = function () { refresh(); };
  }
  drawCharts();
})();
`;
