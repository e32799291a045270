// The admin UI's page script: copy buttons, and live updates (poll /api/status and
// refresh the page's fields).  Only an enhancement: every action is a plain form that
// works without this file.  Values are written with textContent / properties only,
// never as HTML.
"use strict";

// <button data-copy="ID" hidden>: shown only where the clipboard API is there
// (a secure context: *.localhost is one), copies the text of element ID.
(function () {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch (e) {
        button.textContent = "Copy failed: select the text and copy it";
      }
      window.setTimeout(() => { button.textContent = label; }, 4000);
    });
  }
})();

(function () {
  const live = document.querySelector("[data-live]");
  if (!live) return;
  const PERIOD_MS = 2000;

  function yesNo(v) { return v ? "yes" : "no"; }

  function reachText(r) {
    if (!r) return "not tested";
    const secs = Number(r.seconds || 0).toFixed(1);
    return r.ok ? `reachable in ${secs} s (${r.at})`
                : `failed after ${secs} s: ${r.error} (${r.at})`;
  }

  function setField(root, field, value) {
    for (const el of root.querySelectorAll(`[data-field="${field}"]`)) {
      if (el.tagName === "PROGRESS") el.value = Number(value) || 0;
      else el.textContent = String(value);
    }
  }

  function update(s) {
    setField(live, "tor.running", yesNo(s.tor.running));
    setField(live, "tor.version", s.tor.version);
    setField(live, "tor.bootstrap", s.tor.bootstrap);
    setField(live, "tor.summary", s.tor.summary);
    const sb = s.tor.sandbox || {};  // tor's own seccomp filter (apaf.tor.sandbox)
    setField(live, "tor.sandbox", sb.on ? "on (tor's own seccomp filter)" : `off${sb.why_off ? ": " + sb.why_off : ""}`);
    setField(live, "service_running", s.service_running ? "running" : "stopped");
    for (const el of live.querySelectorAll("[data-show-when=bootstrapped]")) {
      el.hidden = s.tor.bootstrap < 100;
    }
    for (const row of live.querySelectorAll("[data-app]")) {
      const app = s.apps.find((a) => a.name === row.dataset.app);
      if (!app) continue;
      setField(row, "onion", app.onion || "—");
      setField(row, "published", yesNo(app.published));
      setField(row, "running", yesNo(app.running));
      setField(row, "reachability", reachText(app.reachability));
    }
  }

  async function poll() {
    if (document.hidden) {  // a background tab: no requests until it is shown again
      window.setTimeout(poll, PERIOD_MS);
      return;
    }
    try {
      const r = await fetch("/api/status", { credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) { window.location.assign("/login"); return; }
      if (r.ok) update(await r.json());
    } catch (e) {
      // The runtime may be restarting: keep polling.
    }
    window.setTimeout(poll, PERIOD_MS);
  }
  window.setTimeout(poll, PERIOD_MS);
})();
