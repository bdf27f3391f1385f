// A queued or running promotion's page reloads itself until the job has finished (no <meta refresh>: it is
// announced to screen readers as a timed change of page, and cannot stop once the job ends).
(function () {
  "use strict";
  var marker = document.querySelector("[data-refresh-seconds]");
  if (!marker) return;
  window.setTimeout(function () { window.location.reload(); }, Number(marker.dataset.refreshSeconds) * 1000);
})();
