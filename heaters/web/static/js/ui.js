/**
 * Small pieces of page furniture for the review page: the status line, the shortcut overlay built from the
 * key map, and the review lease kept alive while the page is open.
 */

import { api } from "./api.js";
import { groups } from "./keymap.js";

/** Show `text` in the status line (an aria-live region); `kind` is "info", "warn" or "error". */
export function say(text, kind = "info") {
  const status = document.getElementById("review-status");
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = kind;
  clearTimeout(say.timer);
  if (kind === "info") say.timer = setTimeout(() => (status.textContent = ""), 4000);
}

/** Fill the help dialog from the key map (so the overlay lists exactly the keys that work). */
export function buildHelp(dialog) {
  const body = dialog.querySelector("[data-help-body]");
  body.replaceChildren();
  for (const group of groups()) {
    const section = document.createElement("section");
    const title = document.createElement("h3");
    title.textContent = group.title;
    const list = document.createElement("dl");
    for (const [keys, , description] of group.bindings) {
      const dt = document.createElement("dt");
      for (const key of keys.split(/\s{2,}/)) {
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        dt.append(kbd, " ");
      }
      const dd = document.createElement("dd");
      dd.textContent = description;
      list.append(dt, dd);
    }
    section.append(title, list);
    body.append(section);
  }
}

export function toggleHelp(dialog, open = !dialog.open) {
  if (open && !dialog.open) dialog.showModal();
  else if (!open && dialog.open) dialog.close();
}

/**
 * Hold the review lease on a video while this page is open: claim now and every `seconds`, so another
 * reviewer is not handed the same video and an abandoned page lets it go when the lease runs out.
 */
export function keepLease(videoId, seconds = 60) {
  const claim = () =>
    api("POST", `/api/videos/${videoId}/claim`).catch((error) => {
      if (error && error.status === 409) say(error.detail || error.error || "another reviewer holds this video", "warn");
    });
  claim();
  return setInterval(claim, seconds * 1000);
}

/** Render the frame counter: absolute frame, timecode, and position inside the clip. */
export function renderCounter(el, { frame, timecode, clip }) {
  if (!el) return;
  el.querySelector("[data-frame]").textContent = frame < 0 ? "–" : String(frame);
  el.querySelector("[data-timecode]").textContent = timecode;
  el.querySelector("[data-in-clip]").textContent = clip
    ? `${frame - clip.start_frame + 1} / ${clip.end_frame - clip.start_frame}`
    : "";
}
