// agentic console: live updates. A page whose parts are marked `data-live="<topic>"` follows the tenant's events
// of that topic (GET /console/events?topic=…, Server-Sent Events) and, on each, fetches itself again and swaps
// those parts in, keeping what the user is typing and where their focus is. Without this script the pages read
// the same; they are only as fresh as their last load.
(function () {
  "use strict";
  const parts = document.querySelectorAll("[data-live]");
  if (parts.length === 0 || !("EventSource" in window)) return;
  const topic = parts[0].getAttribute("data-live");
  let pending = false;

  async function refresh() {
    if (pending) return;
    pending = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const part of parts) {
        const fresh = next.querySelector(`[data-live="${part.getAttribute("data-live")}"]`);
        if (!fresh) continue;
        // What the user typed into a form that is still there survives the swap.
        const typed = new Map();
        part.querySelectorAll("textarea[id], input[id]:not([type=hidden])").forEach((field) => typed.set(field.id, field.value));
        const focused = document.activeElement && part.contains(document.activeElement) ? document.activeElement.id : null;
        part.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.importNode(node, true)));
        typed.forEach((value, id) => {
          const field = document.getElementById(id);
          if (field) field.value = value;
        });
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      }
      document.dispatchEvent(new CustomEvent("console:refreshed", { detail: { topic } }));
    } finally {
      pending = false;
    }
  }

  // Each message is one event of the topic (its data is the event's type); a burst refreshes once at a time.
  const events = new EventSource(`/console/events?topic=${encodeURIComponent(topic)}`);
  events.onmessage = refresh;
})();
