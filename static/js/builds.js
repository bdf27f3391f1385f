// Build pages. No inline script (CSP): the log follows new lines, the form shows the chosen source.
(function () {
  function followLog() {
    var log = document.getElementById("build-log");
    var follow = document.getElementById("log-follow");
    if (log && (!follow || follow.checked)) log.scrollTop = log.scrollHeight;
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.closest && event.target.closest("#build-log")) followLog();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.closest && event.target.closest("#build-log")) followLog();
  });

  function showSource(form) {
    var checked = form.querySelector("input[name=source]:checked");
    form.setAttribute("data-source", checked ? checked.value : "git");
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "source" && event.target.form) showSource(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.buildform");
    if (form) showSource(form);
  });
})();
