// Dashboard behaviour, no inline script (CSP): copy buttons, the collapsed navigation menu.
(function () {
  // <button data-copy="#id">: copies an input's value or an element's text (pull commands, new token secrets).
  function copyFrom(source) {
    var text = "value" in source && source.tagName !== "BUTTON" ? source.value : source.textContent.trim();
    if (source.select) source.select();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var scratch = document.createElement("textarea");
    scratch.value = text;
    scratch.setAttribute("readonly", "");
    scratch.className = "visually-hidden";
    document.body.appendChild(scratch);
    scratch.select();
    document.execCommand("copy");
    document.body.removeChild(scratch);
    return Promise.resolve();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    copyFrom(source).then(function () {
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

  // A card whose table scrolls sideways (phones) must be reachable by keyboard to scroll it.
  function focusableScrollers() {
    document.querySelectorAll(".card").forEach(function (card) {
      if (card.scrollWidth > card.clientWidth + 1) {
        if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "0");
      } else if (card.getAttribute("tabindex") === "0" && !card.matches("a, button")) {
        card.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", focusableScrollers);
  window.addEventListener("resize", focusableScrollers);
  document.addEventListener("htmx:afterSettle", focusableScrollers);

  // The navigation collapses behind "Menu" on narrow screens; Escape closes it and returns focus to the button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".navtoggle");
    if (!toggle) return;
    var bar = toggle.closest(".topbar");
    var open = bar.getAttribute("data-menu") !== "open";
    bar.setAttribute("data-menu", open ? "open" : "closed");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var bar = document.querySelector('.topbar[data-menu="open"]');
    if (!bar) return;
    bar.setAttribute("data-menu", "closed");
    var toggle = bar.querySelector(".navtoggle");
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  });
})();
