// dlrig web: small conveniences for the build editors. Every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const area of document.querySelectorAll(".editor textarea")) {
    area.addEventListener("keydown", (event) => {
      // Tab indents with two spaces (YAML), Ctrl/Cmd+Enter submits the form.
      if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey) {
        event.preventDefault();
        area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        // the editor's YAML view submits with its "Apply YAML" button
        area.form.requestSubmit(area.form.querySelector("[data-ctrl-enter]"));
      }
    });
    const line = Number(area.dataset.errorLine);
    if (line > 0) selectLine(area, line);
  }
});

// Select line `n` (1-based) of a textarea and scroll it into view: where the error is.
function selectLine(area, n) {
  const lines = area.value.split("\n");
  const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
  const end = start + (lines[n - 1] || "").length;
  area.focus();
  area.setSelectionRange(start, end);
  const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
  area.scrollTop = Math.max(0, (n - 3) * lineHeight);
}
