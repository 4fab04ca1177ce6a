// Landing page: apply a filter as soon as a select changes (the Apply button still works without JS).
for (const form of document.querySelectorAll("form[data-auto-submit]")) {
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement) form.requestSubmit();
  });
}
