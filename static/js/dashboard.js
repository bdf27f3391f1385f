// Copy buttons for pull commands: <button data-copy="#input-id">. No inline script (CSP).
(function () {
  function copyFrom(input) {
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    document.execCommand("copy");
    return Promise.resolve();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    copyFrom(input).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
    });
  });
  // Select the whole command when a pull input gets focus.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input.pull")) event.target.select();
  });
})();
