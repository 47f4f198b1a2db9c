"use strict";
// Filters the report cards by their data-* attributes, and keeps and saves the reviewer's decisions. Without this
// script every card shows, and there are neither filters nor decisions.
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
  const marks = Array.from(document.querySelectorAll("p.budget"));
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
    // A budget mark counts the first reports of the whole queue: among filtered cards it would mislead.
    for (const mark of marks) mark.hidden = chosen.length > 0;
    shown.textContent = `${count} of ${cards.length} reports shown`;
  };
  form.addEventListener("change", apply);
  document.getElementById("show-all").addEventListener("click", () => {
    form.reset();
    apply();
  });
  form.hidden = false;
  apply();

  // Decisions live in this page alone (not in the browser's storage, which would keep them past the page): a
  // decision is a fieldset's state, stamped when it last changed.
  const columns = ["report_id", "label_set", "verdict", "answer", "locations", "reviewed_at"];
  const decisions = Array.from(document.querySelectorAll("fieldset.decision"), (fieldset) => ({
    fieldset,
    report: fieldset.closest("article.card").dataset.report,
    correction: fieldset.querySelector(".correction"),
    reviewedAt: "",
  }));
  const decided = document.getElementById("decided");
  let unsaved = false;
  const verdictOf = (d) => d.fieldset.querySelector('input[type="radio"]:checked')?.value ?? "";
  // A decision's row of the saved file; none while a label marked wrong still lacks the right answer.
  const rowOf = (d) => {
    const verdict = verdictOf(d);
    const label = d.fieldset.dataset;
    if (verdict === "right") return [d.report, label.labelSet, verdict, label.answer, label.locations, d.reviewedAt];
    const answer = d.fieldset.querySelector('select[name="answer"]').value;
    if (!answer) return null;
    const sites = answer === "Yes"
      ? Array.from(d.fieldset.querySelectorAll('input[name="site"]:checked'), (box) => box.value) : [];
    return [d.report, label.labelSet, verdict, answer, sites.join(";"), d.reviewedAt];
  };
  const rows = () => decisions.filter(verdictOf).map(rowOf);
  const tell = () => {
    const made = rows();
    const complete = made.filter(Boolean).length;
    const pending = made.length - complete;
    const state = complete || unsaved
      ? `${complete} decision${complete === 1 ? "" : "s"}, ${unsaved ? "not saved yet" : "saved"}` : "no decisions yet";
    decided.textContent = state
      + (pending ? `; ${pending} marked wrong without the right answer (not saved until it has one)` : "");
  };
  for (const d of decisions) {
    const changed = () => {
      d.correction.hidden = verdictOf(d) !== "wrong";
      d.reviewedAt = new Date().toISOString();
      unsaved = true;
      tell();
    };
    d.fieldset.addEventListener("change", changed);
    // A misclick undone: the label is no longer decided, and its correction is blank again.
    d.fieldset.querySelector("button.undecide").addEventListener("click", () => {
      for (const input of d.fieldset.querySelectorAll("input")) input.checked = false;
      d.fieldset.querySelector('select[name="answer"]').value = "";
      changed();
    });
    d.fieldset.hidden = false;
  }
  const quoted = (field) => `"${String(field).replaceAll('"', '""')}"`;
  document.getElementById("save-decisions").addEventListener("click", () => {
    const lines = [columns, ...rows().filter(Boolean)].map((fields) => fields.map(quoted).join(","));
    // A download the browser writes to disk: nothing leaves the machine, and no server is needed.
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    link.download = "reviewer_decisions.csv";
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    unsaved = false;
    tell();
  });
  window.addEventListener("beforeunload", (event) => {
    if (unsaved) event.preventDefault();
  });
  if (decisions.length) {
    document.getElementById("decisions").hidden = false;
    document.getElementById("decisions-note").hidden = false;
    tell();
  }
})();
