// The promote form: Confirm runs only what the preview showed, the target follows the source's next stage,
// and the Move option says what will leave the source.
(function () {
  "use strict";
  function init() {
    var form = document.querySelector("form.promoteform");
    if (!form) return;
    var order = JSON.parse((document.getElementById("stage-order") || {}).textContent || "[]");
    var source = form.elements.source_repository, target = form.elements.target_repository;
    var image = form.elements.image, tag = form.elements.source_tag;
    var targetChosen = false;

    function nextStage(key) {
      var at = order.indexOf(key);
      return at >= 0 && at + 1 < order.length ? order[at + 1] : "";
    }
    function describeMove() {
      var what = form.querySelector("[data-move-what]"), where = form.querySelector("[data-move-source]");
      if (what) what.textContent = tag.value.trim() ? tag.value.trim() + " and its per-platform tags"
                                                   : "every tag of " + (image.value.trim() || "the image");
      if (where) where.textContent = source.value || "the source";
    }

    // Once any input differs from the preview, Confirm is gone until the next preview.
    var confirmButton = form.querySelector("[data-confirm]");
    var snapshot = confirmButton ? new URLSearchParams(new FormData(form)).toString() : "";
    function checkPinned() {
      if (!confirmButton || confirmButton.disabled) return;
      if (new URLSearchParams(new FormData(form)).toString() === snapshot) return;
      confirmButton.disabled = true;
      confirmButton.title = "The form changed since the preview";
      var note = form.querySelector(".stale-note");
      if (note) note.hidden = false;
      var preview = document.getElementById("preview");
      if (preview) preview.classList.add("stale");
      var previewButton = form.querySelector("button[name=preview]");
      if (previewButton) previewButton.classList.add("primary");
    }

    target.addEventListener("change", function () { targetChosen = true; });
    source.addEventListener("change", function () {
      if (!targetChosen || target.value === source.value) target.value = nextStage(source.value);
    });
    form.addEventListener("input", function () { describeMove(); checkPinned(); });
    form.addEventListener("change", function () { describeMove(); checkPinned(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
