// Nicer, never needed: every page works without this file.
// A form being sent says so and cannot be sent twice (fetching a paragraph can take seconds).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy) return;
  if (form.dataset.sending === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "yes";
  const button = form.querySelector("button[type=submit]");
  if (button) button.setAttribute("aria-disabled", "true");
  const status = form.querySelector(".busy");
  if (status) status.textContent = form.dataset.busy;
});
// Back to a page from the browser's cache: its forms may be sent again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) {
    delete form.dataset.sending;
    const button = form.querySelector("button[type=submit]");
    if (button) button.removeAttribute("aria-disabled");
    const status = form.querySelector(".busy");
    if (status) status.textContent = "";
  }
});
