// Self test, run when the page is opened with #selftest (the Chromium
// test in render/stats_test.go): each chart drawn with a size, the bar
// counts, and no resource fetched.
(function () {
  if (location.hash !== "#selftest") return;
  var out = [];
  ["chart-timeline", "chart-pdd", "chart-failures"].forEach(function (id) {
    var fig = document.getElementById(id);
    if (!fig) { out.push(id + "=missing"); return; }
    var svg = fig.querySelector("svg");
    if (!svg) { out.push(id + "=empty"); return; }
    var box = svg.getBoundingClientRect();
    var bars = svg.querySelectorAll("rect.bar").length;
    var drawn = 0;
    svg.querySelectorAll("rect.bar").forEach(function (r) { if (r.getBBox().width > 0) drawn++; });
    out.push(id + "=" + bars + (box.width > 100 && box.height > 40 && drawn === bars ? "" : "!"));
  });
  out.push("resources=" + performance.getEntriesByType("resource").length);
  var pre = document.getElementById("selftest");
  pre.textContent = out.join(" ");
  pre.hidden = false;
})();
