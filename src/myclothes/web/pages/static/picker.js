// Show the chosen colour in the big product image.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.name !== "sku") return;
  const image = document.getElementById("product-image");
  if (!image || !input.dataset.colour) return;
  image.src = image.src.replace(/[^/]+\.svg$/, encodeURIComponent(input.dataset.colour) + ".svg");
  image.alt = image.alt.replace(/ in .*$/, " in " + input.dataset.colour);
});
