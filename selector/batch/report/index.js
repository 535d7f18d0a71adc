// Filters the instance index and the instances below it: all, missed
// although the oracle had a fix, mixed ties, abstained. The filter is in
// the address (#filter=missed), so that a filtered view can be linked; a
// link to an instance opens it.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("#filters input[name=filter]");

  function apply(filter) {
    var shown = 0;
    document.querySelectorAll("[data-filterable]").forEach(function (el) {
      var keep = filter === "all" || el.classList.contains("f-" + filter);
      el.hidden = !keep;
      if (keep && el.tagName === "TR") shown++;
    });
    document.body.dataset.filter = filter;
    document.body.dataset.shown = String(shown);
  }

  function fromHash() {
    var m = /^#filter=([a-z]+)$/.exec(location.hash);
    var filter = "all";
    inputs.forEach(function (i) { if (m && i.value === m[1] && !i.disabled) filter = i.value; });
    inputs.forEach(function (i) { i.checked = i.value === filter; });
    apply(filter);
    var inst = /^#inst-/.test(location.hash) && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (inst && inst.tagName === "DETAILS") inst.open = true;
  }

  inputs.forEach(function (i) {
    i.addEventListener("change", function () {
      history.replaceState(null, "", i.value === "all" ? location.pathname : "#filter=" + i.value);
      apply(i.value);
    });
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
