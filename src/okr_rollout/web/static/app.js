// A little help where JavaScript runs; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Documents: a Print button (browsers without JavaScript print from their menu).
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  // Portfolio filters apply as soon as they change.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", () => form.submit());
  }
  // Voiding asks once more (without JavaScript, the void page itself is the confirmation).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
