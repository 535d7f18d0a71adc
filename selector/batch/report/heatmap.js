// Draws each instance's outcome matrix as an SVG heat map from the JSON
// embedded in the page (the same data as report.json). Heat maps are drawn
// when their instance is opened, so a page of many instances stays light.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var NAMES = { P: "PASS", F: "FAIL", E: "ERROR", S: "SKIP", "-": "missing" };
  var data = JSON.parse(document.getElementById("bp-data").textContent);
  var differingOnly = document.getElementById("differing-only");

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // artifactOf maps each column to its artifact.
  function artifactOf(h) {
    var out = [];
    h.artifacts.forEach(function (a) {
      for (var i = 0; i < a.cases; i++) out.push(a);
    });
    return out;
  }

  // shown lists the columns to draw: all, or those where the rows that ran
  // disagree.
  function shown(h, onlyDiffering) {
    var cols = [];
    for (var c = 0; c < h.cases.length; c++) {
      if (!onlyDiffering) { cols.push(c); continue; }
      var seen = null, differs = false;
      h.rows.forEach(function (r) {
        if (r.status !== "ok") return;
        var x = r.cells.charAt(c);
        if (seen === null) seen = x; else if (x !== seen) differs = true;
      });
      if (differs) cols.push(c);
    }
    return cols;
  }

  function draw(container) {
    var inst = data.instances[Number(container.dataset.index)];
    var h = inst.heatmap;
    container.textContent = "";
    var cols = shown(h, differingOnly.checked);
    if (cols.length === 0) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = h.cases.length === 0 ? "no test case ran" : "no case differs between the rows";
      container.appendChild(p);
      return;
    }
    var chosen = {}, out = {}, label = {};
    inst.candidates.forEach(function (c) {
      if (c.chosen) chosen[c.id] = true;
      if (c.out) out[c.id] = true;
      if (c.resolved !== undefined && c.resolved !== null) label[c.id] = c.resolved ? " ✓" : " ✗";
    });
    var labels = h.rows.map(function (r) {
      var l = (chosen[r.name] ? "▶ " : "") + r.name + (label[r.name] || "");
      return r.status === "ok" ? l : l + " (" + r.status + ")";
    });
    var longest = labels.reduce(function (m, l) { return Math.max(m, l.length); }, 4);
    var labelW = Math.min(longest, 40) * 7 + 14;
    var cw = Math.max(4, Math.min(16, Math.floor(900 / cols.length)));
    var ch = 15, top = 24;
    var width = labelW + cols.length * cw + 4, height = top + h.rows.length * ch + 4;
    var svg = el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
      "class": "heatmap-svg", "data-rows": h.rows.length, "data-cols": cols.length }, container);
    el("title", {}, svg, inst.instance_id + ": outcome matrix");

    // Artifact bands over their columns.
    var arts = artifactOf(h);
    for (var i = 0; i < cols.length;) {
      var a = arts[cols[i]], j = i;
      while (j < cols.length && arts[cols[j]] === a) j++;
      var x = labelW + i * cw, w = (j - i) * cw;
      var band = el("rect", { x: x, y: 2, width: Math.max(w - 1, 1), height: 16, "class": "artifact-band" + (a.generated ? " generated" : "") }, svg);
      el("title", {}, band, a.id + " (" + (j - i) + " cases shown)");
      if (w > 30) el("text", { x: x + 3, y: 14 }, svg, a.id.length * 7 > w - 6 ? a.id.slice(0, Math.max(1, Math.floor((w - 6) / 7))) : a.id);
      i = j;
    }

    h.rows.forEach(function (r, ri) {
      var y = top + ri * ch;
      var cls = "rowlabel" + (out[r.name] ? " out" : "") + (chosen[r.name] ? " chosen" : "");
      var t = el("text", { x: labelW - 6, y: y + 11, "text-anchor": "end", "class": cls }, svg, labels[ri]);
      if (r.reason) el("title", {}, t, r.reason);
      var g = el("g", { "class": "row", "data-row": r.name }, svg);
      cols.forEach(function (c, k) {
        var o = r.cells.charAt(c);
        var cell = el("rect", { x: labelW + k * cw, y: y, width: cw - 1, height: ch - 1,
          "class": "cell c-" + (o === "-" ? "missing" : o), "data-outcome": NAMES[o] || o }, g);
        el("title", {}, cell, r.name + " × " + arts[c].id + " " + h.cases[c] + ": " + (NAMES[o] || o));
      });
    });
    (h.flaky || []).forEach(function (c) {
      var k = cols.indexOf(c);
      if (k < 0) return;
      var f = el("rect", { x: labelW + k * cw, y: top - 1, width: cw - 1, height: h.rows.length * ch, "class": "flaky" }, svg);
      el("title", {}, f, h.cases[c] + ": flaky on base (quarantined)");
    });
    container.dataset.drawn = "true";
  }

  function drawOpen() {
    var n = 0;
    document.querySelectorAll("details.instance[open] .heatmap").forEach(function (c) { draw(c); n++; });
    return n;
  }

  var most = data.instances.reduce(function (m, i) { return Math.max(m, i.heatmap ? i.heatmap.cases.length : 0); }, 0);
  differingOnly.checked = most > 300;
  document.querySelectorAll("details.instance").forEach(function (d) {
    d.addEventListener("toggle", function () {
      var c = d.querySelector(".heatmap");
      if (d.open && c && !c.dataset.drawn) draw(c);
    });
  });
  differingOnly.addEventListener("change", drawOpen);
  var n = drawOpen();
  document.body.dataset.rendered = "ok";
  document.body.dataset.heatmaps = String(n);
  console.log("bestpatch report: drew " + n + " heat maps");
})();
