// The count of a segment while its filter is typed: asks the preview endpoint (with the
// session cookie) a quarter of a second after the last keystroke, and shows the count or the
// filter's error with its caret. Answers to older requests are dropped.
(function () {
  "use strict";
  const input = document.getElementById("expression");
  const out = document.getElementById("preview");
  if (!input || !out) return;
  let timer = null;
  let asked = 0;

  function show(node) {
    out.replaceChildren(node);
  }

  function text(tag, cls, s) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = s;
    return el;
  }

  async function ask() {
    const expression = input.value.trim();
    if (!expression) {
      out.replaceChildren();
      return;
    }
    const mine = ++asked;
    const started = performance.now();
    const url = "/api/v1/segments/preview?limit=5&expression=" + encodeURIComponent(expression);
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await res.json();
      if (mine !== asked) return;
      if (!res.ok) {
        const pre = text("pre", "error", (body.detail || "").replace(/^expression: /, ""));
        pre.setAttribute("role", "alert");
        show(pre);
        return;
      }
      const span = document.createElement("span");
      const count = text("strong", "count",
        body.count.toLocaleString("en") + " of " + body.customers.toLocaleString("en") +
        " customers (" + (body.share * 100).toFixed(1) + "%)");
      span.append(count);
      const names = body.sample.map(function (m) { return m.name || m.id; });
      if (names.length) span.append(" ", text("span", "muted", "e.g. " + names.join(", ")));
      const ms = Math.round(performance.now() - started);
      span.append(" ", text("span", "muted timing", "· " + ms + " ms"));
      out.dataset.ms = String(ms);
      show(span);
    } catch (e) {
      if (mine === asked) show(text("span", "error", "The count is not available: " + e));
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
  if (input.value.trim() && !out.textContent.trim()) ask();
})();
