"use strict";
// Filters the report cards by their data-* attributes. Without this script every card shows.
(() => {
  const form = document.getElementById("filters");
  const shown = document.getElementById("shown");
  const cards = Array.from(document.querySelectorAll("article.card"), (card) => ({
    card,
    split: card.dataset.split,
    kinds: JSON.parse(card.dataset.kinds),
    wrong: card.dataset.wrong.split(" ").filter(Boolean),
    outvoted: card.dataset.outvoted.split(" ").filter(Boolean),
  }));
  // One test per filter; an empty choice, or a filter the page does not have, lets every card through.
  const matches = {
    model: (c, model) => c.wrong.includes(model) || c.outvoted.includes(model),
    split: (c, split) => c.split === split,
    kind: (c, kind) => c.kinds.includes(kind),
    why: (c, reason) => c[reason].length > 0,
  };
  const apply = () => {
    const chosen = Object.entries(matches)
      .map(([name, match]) => [form.elements.namedItem(name)?.value, match])
      .filter(([value]) => value);
    let count = 0;
    for (const c of cards) {
      const visible = chosen.every(([value, match]) => match(c, value));
      c.card.hidden = !visible;
      count += visible ? 1 : 0;
    }
    shown.textContent = `${count} of ${cards.length} reports shown`;
  };
  form.addEventListener("change", apply);
  document.getElementById("show-all").addEventListener("click", () => {
    form.reset();
    apply();
  });
  form.hidden = false;
  apply();
})();
