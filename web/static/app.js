// Kaifang portal behaviour. Loaded from the site itself (CSP script-src 'self');
// every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="ID"> copies the text of element ID.
  for (const b of document.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", async () => {
      const el = document.getElementById(b.dataset.copy);
      if (!el) return;
      const label = b.textContent;
      try {
        await navigator.clipboard.writeText(el.textContent);
        b.textContent = "✓ " + label;
      } catch (e) {
        const r = document.createRange();
        r.selectNodeContents(el);
        const s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
      }
      setTimeout(() => { b.textContent = label; }, 1500);
    });
  }
});
