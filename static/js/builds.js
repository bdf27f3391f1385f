// Build pages. No inline script (CSP): the log follows new lines, the form shows the chosen source.
(function () {
  // The live log: polls the log API from a line index and appends each line once, in order (one
  // request at a time, the next asked from the index the last answer ended at). "follow" keeps the
  // last line in view; scrolling up turns it off, scrolling back to the bottom turns it on again.
  function startLog(log) {
    var url = log.getAttribute("data-log-url");
    var follow = document.getElementById("log-follow");
    var next = 0;
    var stickToBottom = function () { if (!follow || follow.checked) log.scrollTop = log.scrollHeight; };
    log.addEventListener("scroll", function () {
      if (!follow || log.getAttribute("data-appending") === "1") return;
      follow.checked = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    });
    if (follow) follow.addEventListener("change", stickToBottom);
    function schedule(ms) { window.setTimeout(poll, ms); }
    function append(lines) {
      var fragment = document.createDocumentFragment();
      for (var i = 0; i < lines.length; i++) {
        var span = document.createElement("span");
        span.className = "line";
        span.textContent = lines[i];
        fragment.appendChild(span);
      }
      log.setAttribute("data-appending", "1");
      log.appendChild(fragment);
      stickToBottom();
      log.removeAttribute("data-appending");
    }
    function poll() {
      fetch(url + "?start=" + next, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (page) {
          if (page.start === next && page.lines.length) {
            append(page.lines);
            next = page.next;
          }
          log.setAttribute("data-lines", String(next));
          if (page.complete) { log.setAttribute("data-complete", "true"); return; }
          schedule(page.lines.length ? 250 : 1000);
        })
        .catch(function () { schedule(2000); });  // a network blip: ask again from the same line
    }
    poll();
  }

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
    var log = document.getElementById("build-log");
    if (log && log.getAttribute("data-log-url")) startLog(log);
  });
})();
