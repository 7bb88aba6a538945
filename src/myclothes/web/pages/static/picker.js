// The product page's variant picker. Without this script the form still works: it posts a colour and a size and the
// server checks them. With it: the picture follows the colour, the sizes show that colour's stock and price, sold-out
// sizes cannot be picked, and a missing choice or a wrong quantity is explained before anything is sent.
const form = document.getElementById("picker");
const dataNode = document.getElementById("picker-data");
if (form && dataNode) {
  const data = JSON.parse(dataNode.textContent);
  const image = document.getElementById("product-image");
  const price = document.querySelector("[data-testid=price]");
  const problem = document.getElementById("picker-problem");
  const quantityProblem = document.getElementById("quantity-problem");
  const quantity = form.elements.namedItem("quantity");
  const sizes = form.querySelector("fieldset.sizes");
  const checked = (name) => form.querySelector(`input[name=${name}]:checked`);

  const show = (node, message) => { node.textContent = message; };
  const comma = () => Object.assign(document.createElement("span"), { className: "sr-only", textContent: ", " });

  const showColour = (colour) => {
    if (image) {
      image.src = image.src.replace(/[^/]+\.svg$/, encodeURIComponent(colour) + ".svg");
      image.alt = image.alt.replace(/ in .*$/, " in " + colour);
    }
    const states = data.sizes[colour] || {};
    for (const option of form.querySelectorAll(".size-option")) {
      const state = states[option.dataset.size] || { state: "sold_out", note: "Not made" };
      const input = option.querySelector("input");
      option.className = option.className.replace(/state-\S+/, "state-" + state.state);
      option.querySelector(".note").replaceChildren(...(state.note ? [comma(), state.note] : []));
      input.disabled = state.state === "sold_out";
      if (input.disabled && input.checked) {
        input.checked = false;
        show(problem, `Size ${input.value} is sold out in ${colour}: choose another size.`);
      }
    }
    showPrice();
  };

  const showPrice = () => {
    const colour = checked("colour");
    const size = checked("size");
    const exact = colour && size && (data.prices[colour.value] || {})[size.value];
    if (price) price.textContent = exact || price.dataset.from;
  };

  const quantityIsValid = () => /^\s*\d+\s*$/.test(quantity.value) && +quantity.value >= 1 && +quantity.value <= 99;

  form.addEventListener("change", (event) => {
    const input = event.target;
    if (input.name === "colour") showColour(input.value);
    if (input.name === "size") { showPrice(); show(problem, ""); sizes.classList.remove("invalid"); }
    if (input.name === "quantity" && quantityIsValid()) { show(quantityProblem, ""); quantity.removeAttribute("aria-invalid"); }
  });

  // Our own messages replace the browser's bubbles; the server checks the same things for forms sent without them.
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    if (!checked("colour") || !checked("size")) {
      event.preventDefault();
      sizes.classList.add("invalid");
      show(problem, checked("colour") ? "Choose a size first." : "Choose a colour and a size first.");
      const first = form.querySelector(checked("colour") ? "input[name=size]:not(:disabled)" : "input[name=colour]");
      if (first) first.focus();
      return;
    }
    if (!quantityIsValid()) {
      event.preventDefault();
      quantity.setAttribute("aria-invalid", "true");
      show(quantityProblem, "The quantity must be a whole number from 1 to 99.");
      quantity.focus();
    }
  });

  const colour = checked("colour");
  if (colour) showColour(colour.value);
}
