// Keep the current category's chip in view on a narrow screen (the category bar scrolls sideways).
(() => {
  const chip = document.querySelector(".categories [aria-current]");
  if (chip && chip.offsetLeft + chip.offsetWidth > innerWidth) chip.closest("ul").scrollLeft = chip.offsetLeft - 12;
})();
