(function () {
  "use strict";
  var arrows = Array.prototype.slice.call(document.querySelectorAll("g.arrow"));
  var panel = document.getElementById("msg");
  var cur = -1;
  function select(i, scroll) {
    if (i < 0 || i >= arrows.length) return;
    if (cur >= 0) arrows[cur].classList.remove("sel");
    cur = i;
    var a = arrows[i];
    a.classList.add("sel");
    var src = document.getElementById("raw-" + a.getAttribute("data-msg"));
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    var h = document.createElement("div");
    h.className = "msghead";
    h.textContent = a.getAttribute("data-head");
    panel.appendChild(h);
    if (src) {
      var p = src.cloneNode(true);
      p.removeAttribute("id");
      panel.appendChild(p);
    }
    panel.scrollTop = 0;
    if (scroll === "center") reveal(a);
    else if (scroll && a.scrollIntoView) a.scrollIntoView({ block: "nearest" });
  }
  // reveal brings an arrow to the middle of its ladder's scroll box, the
  // box itself just below the sticky title, so that neither the title nor
  // the column names hide it.
  function reveal(a) {
    var wrap = a.closest ? a.closest(".ladder-wrap") : null;
    if (!wrap) { if (a.scrollIntoView) a.scrollIntoView({ block: "center" }); return; }
    var top = document.querySelector("header.top");
    var th = top ? top.getBoundingClientRect().height : 0;
    var wr = wrap.getBoundingClientRect();
    if (wr.top < th || wr.bottom > window.innerHeight) window.scrollBy(0, wr.top - th - 8);
    wr = wrap.getBoundingClientRect();
    var strip = wrap.querySelector(".ladder-head");
    var sh = strip ? strip.getBoundingClientRect().height : 0;
    var ar = a.getBoundingClientRect();
    wrap.scrollTop += (ar.top + ar.height / 2) - (wr.top + sh + (wr.height - sh) / 2);
  }
  arrows.forEach(function (a, i) {
    a.addEventListener("click", function () { select(i, false); });
  });
  // A finding's evidence links (#arrow-N) select their arrow in place,
  // as the ladder's own clicks do, rather than jumping to the fragment.
  function arrowIndex(n) {
    for (var i = 0; i < arrows.length; i++) if (arrows[i].getAttribute("data-msg") === n) return i;
    return -1;
  }
  var evLinks = Array.prototype.slice.call(document.querySelectorAll(".findings a.ev"));
  evLinks.forEach(function (e) {
    e.addEventListener("click", function (ev) {
      var i = arrowIndex(e.getAttribute("data-msg"));
      if (i < 0) return;
      ev.preventDefault();
      select(i, "center");
      if (history.replaceState) history.replaceState(null, "", "#arrow-" + e.getAttribute("data-msg"));
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "ArrowDown" || e.key === "j") { select(cur < 0 ? 0 : cur + 1, true); e.preventDefault(); }
    else if (e.key === "ArrowUp" || e.key === "k") { select(cur < 0 ? 0 : cur - 1, true); e.preventDefault(); }
  });
  var root = document.documentElement;
  var btn = document.getElementById("theme");
  function dark() {
    var t = root.getAttribute("data-theme");
    if (t) return t === "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  if (btn) btn.addEventListener("click", function () {
    root.setAttribute("data-theme", dark() ? "light" : "dark");
    try { localStorage.setItem("sipscope-theme", root.getAttribute("data-theme")); } catch (e) {}
  });
  try { var saved = localStorage.getItem("sipscope-theme"); if (saved) root.setAttribute("data-theme", saved); } catch (e) {}
  // #arrow-N selects arrow N on load (a link to one message) and brings
  // it to the middle of the view, below the sticky title; without a hash
  // the first message fills the pane, so that it is never empty.
  var m = /^#arrow-(\d+)$/.exec(location.hash);
  var picked = false;
  if (m) {
    for (var i = 0; i < arrows.length; i++) {
      if (arrows[i].getAttribute("data-msg") === m[1]) {
        select(i, "center");
        picked = true;
        // The browser's own jump to the fragment comes after this script:
        // place the arrow again once it is done.
        var a = arrows[i];
        window.addEventListener("load", function () { setTimeout(function () { reveal(a); }, 0); });
        break;
      }
    }
  }
  if (!picked && arrows.length > 0 && location.hash === "") select(0, false);
  if (location.hash === "#selftest") {
    var ok = 0;
    arrows.forEach(function (a) {
      a.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      var want = document.getElementById("raw-" + a.getAttribute("data-msg"));
      var pre = panel.querySelector("pre.sipmsg");
      var box = a.getBBox ? a.getBBox() : { width: 1, height: 1 };
      if (want && pre && pre.textContent === want.textContent && pre.textContent.length > 0 &&
          a.classList.contains("sel") && box.width > 0 && box.height > 0) ok++;
    });
    var keys = "none";
    if (arrows.length > 1) {
      select(0, false);
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
      var down = cur === 1;
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
      keys = down && cur === 0 ? "ok" : "fail";
    }
    // Anything the page fetched (images, styles, scripts, fonts, XHR)
    // shows up as a resource timing entry.
    var res = window.performance && performance.getEntriesByType ? performance.getEntriesByType("resource").length : -1;
    var out = document.getElementById("selftest");
    out.textContent = "arrows=" + arrows.length + " clicked=" + ok + " keys=" + keys + " resources=" + res + " " +
      (ok === arrows.length && arrows.length > 0 && keys !== "fail" && res === 0 ? "ok" : "fail");
    out.textContent += " " + layoutChecks() + " " + findingChecks();
    out.hidden = false;
  }
  // findingChecks clicks every evidence link of the findings blocks and
  // checks that it selected the arrow it names, whose message the panel
  // then shows.
  function findingChecks() {
    if (evLinks.length === 0) return "findings=none";
    var good = 0;
    evLinks.forEach(function (e) {
      e.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
      var a = cur >= 0 ? arrows[cur] : null;
      var want = document.getElementById("raw-" + e.getAttribute("data-msg"));
      var pre = panel.querySelector("pre.sipmsg");
      if (a && a.getAttribute("data-msg") === e.getAttribute("data-msg") && a.classList.contains("sel") &&
          want && pre && pre.textContent === want.textContent) good++;
    });
    return "findings=" + good + "/" + evLinks.length + (good === evLinks.length ? " ok" : " fail");
  }
  // layoutChecks measures what a reader sees (issue 15 item 16): the
  // highlight box of every arrow holds its label, line and time, centred;
  // a revealed arrow sits inside its ladder's box with the title in view;
  // the whole of the first ladder is reachable by scrolling its box, which
  // fits the window beside the message pane; a failure is drawn in another
  // colour than a success.
  function layoutChecks() {
    var box = "ok", shown = "ok";
    arrows.forEach(function (a) {
      var hit = a.querySelector("rect.hit").getBBox();
      var top = Infinity, bottom = -Infinity;
      Array.prototype.forEach.call(a.querySelectorAll("line,text,path"), function (e) {
        var b = e.getBBox();
        top = Math.min(top, b.y); bottom = Math.max(bottom, b.y + b.height);
      });
      if (top < hit.y - 0.5 || bottom > hit.y + hit.height + 0.5 ||
          Math.abs((top + bottom) / 2 - (hit.y + hit.height / 2)) > 6) box = "fail";
    });
    var title = document.querySelector("header.top");
    arrows.forEach(function (a) {
      reveal(a);
      var wrap = a.closest(".ladder-wrap"), strip = wrap.querySelector(".ladder-head");
      var r = a.querySelector("line,path").getBoundingClientRect(), w = wrap.getBoundingClientRect();
      var s = strip.getBoundingClientRect(), t = title.getBoundingClientRect();
      if (r.top < s.bottom - 1 || r.bottom > w.bottom + 1 || t.top < -1 || t.bottom > w.top + 1) shown = "fail";
    });
    var reach = "ok";
    var wrap = document.querySelector(".ladder-wrap");
    if (wrap) {
      wrap.scrollIntoView({ block: "end" });
      wrap.scrollLeft = wrap.scrollWidth;
      wrap.scrollTop = wrap.scrollHeight;
      var w = wrap.getBoundingClientRect();
      var lifes = wrap.querySelectorAll("svg.ladder:not([aria-hidden]) line.life");
      var last = lifes[lifes.length - 1].getBoundingClientRect();
      var lastArrow = wrap.querySelectorAll("g.arrow");
      lastArrow = lastArrow[lastArrow.length - 1].getBoundingClientRect();
      var pane = panel.getBoundingClientRect();
      if (last.right > w.right || last.left < w.left || lastArrow.bottom > w.bottom + 1 ||
          w.bottom > window.innerHeight + 1 || w.right > pane.left + 1 || w.height < 100 ||
          // the box with both scrollbars fits the window below the title
          w.height > window.innerHeight - title.getBoundingClientRect().height + 1) reach = "fail";
    }
    var color = "none";
    var fail = document.querySelector("g.arrow.fail line"), good = document.querySelector("g.arrow:not(.fail):not(.retrans):not(.icmp) line");
    if (fail && good) color = getComputedStyle(fail).stroke !== getComputedStyle(good).stroke ? "ok" : "fail";
    // The call list fits its width: no column (To, Call-ID) cut off.
    var list = document.getElementById("calls");
    if (list && list.scrollWidth > list.clientWidth + 1) color += " list=fail";
    return "box=" + box + " shown=" + shown + " reach=" + reach + " color=" + color;
  }
})();
