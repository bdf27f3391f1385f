// The repository form shows the remote or virtual settings only for that kind.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.settings");
  if (!form) return;
  const select = form.querySelector("select[name=kind]");
  const sync = () => {
    const kind = select ? select.value : form.dataset.kind;
    form.querySelectorAll("fieldset[data-for-kind]").forEach((set) => {
      set.hidden = set.dataset.forKind !== kind;
    });
  };
  if (select) select.addEventListener("change", sync);
  sync();
});
