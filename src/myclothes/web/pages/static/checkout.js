// One click, one order: disable the button once the form is sent (the server is idempotent anyway).
const form = document.getElementById("checkout-form");
if (form) {
  form.addEventListener("submit", () => {
    const button = document.getElementById("place-order");
    if (button) { button.disabled = true; button.textContent = "Placing your order…"; }
  });
}
