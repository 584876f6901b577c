/**
 * Every clip of the video in frame order: its number, a thumbnail of its first frame (decoded in the
 * browser from the proxy, through the filmstrip), in/out timecodes, length and state. Click a row to open
 * the clip; the state filter narrows the list. Rows are fixed-height and only the visible ones exist in the
 * DOM, so a video of thousands of clips scrolls as lightly as one of ten.
 */

import { timecode } from "./frames.js";

const ROW = 44; // px per row (keep in step with .clip-row in review.css)
const OVERSCAN = 6; // rows rendered above and below the visible ones

export class ClipList {
  /** `root` holds a `select[data-filter]` and a `[data-rows]` scroll box; `onOpen(clip)`. */
  constructor(root, { fps, dropFrame, filmstrip = null, onOpen }) {
    this.root = root;
    this.box = root.querySelector("[data-rows]");
    this.filter = root.querySelector("[data-filter]");
    this.count = root.querySelector("[data-count]");
    this.fps = fps;
    this.dropFrame = dropFrame;
    this.film = filmstrip;
    this.onOpen = onOpen;
    this.clips = [];
    this.shown = [];
    this.current = null;
    this.spacer = document.createElement("div");
    this.spacer.className = "clip-rows-spacer";
    this.box.append(this.spacer);
    this.rows = new Map(); // clip id -> row element currently in the DOM
    this.box.addEventListener("scroll", () => this.render());
    this.box.addEventListener("click", (event) => {
      const row = event.target.closest("[data-clip]");
      const clip = row && this.shown.find((c) => String(c.id) === row.dataset.clip);
      if (clip) this.onOpen(clip);
    });
    this.filter.addEventListener("change", () => this.setClips(this.clips, this.current, { force: true }));
    if (this.film) {
      const ready = this.film.onReady;
      this.film.onReady = (frame) => {
        ready(frame);
        this.paintThumbs();
      };
    }
  }

  setClips(clips, current, { force = false } = {}) {
    const same = clips === this.clips && !force;
    const moved = current && (!this.current || current.id !== this.current.id);
    this.clips = clips;
    this.current = current;
    if (same) {
      this.render(); // only the current row's mark moves
      if (moved) this.reveal(current); // a newly opened clip comes into view; scrolling by hand is left alone
      return;
    }
    const state = this.filter.value;
    this.shown = state ? clips.filter((c) => stateGroup(c.state) === state) : clips;
    this.spacer.style.height = `${this.shown.length * ROW}px`;
    if (this.count) this.count.textContent = `${this.shown.length} of ${clips.length}`;
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.render();
    if (moved) this.reveal(current);
  }

  /** Keep the current clip's row in view. */
  reveal(clip) {
    const i = this.shown.findIndex((c) => c.id === clip.id);
    if (i < 0) return;
    const top = i * ROW;
    if (top < this.box.scrollTop) this.box.scrollTop = top;
    else if (top + ROW > this.box.scrollTop + this.box.clientHeight) this.box.scrollTop = top + ROW - this.box.clientHeight;
  }

  /** The clip before/after `clip` in the list as filtered. */
  neighbour(clip, step) {
    const i = this.shown.findIndex((c) => c.id === clip.id);
    if (i < 0) return this.shown[0] || null;
    return this.shown[i + step] || null;
  }

  render() {
    const first = Math.max(0, Math.floor(this.box.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(this.shown.length, Math.ceil((this.box.scrollTop + this.box.clientHeight) / ROW) + OVERSCAN);
    const wanted = new Set();
    for (let i = first; i < last; i++) {
      const clip = this.shown[i];
      wanted.add(clip.id);
      let row = this.rows.get(clip.id);
      if (!row) {
        row = this.makeRow(clip);
        this.rows.set(clip.id, row);
        this.box.append(row);
      }
      row.style.top = `${i * ROW}px`;
      row.classList.toggle("current", this.current !== null && clip.id === this.current.id);
    }
    for (const [id, row] of this.rows) {
      if (!wanted.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    if (this.film) {
      this.film.keep = new Set([...this.rows.keys()].map((id) => this.byId(id).start_frame));
      this.film.request([]);
    }
    this.paintThumbs();
  }

  byId(id) {
    return this.shown.find((c) => c.id === id);
  }

  makeRow(clip) {
    const row = document.createElement("div");
    row.className = "clip-row";
    row.dataset.clip = String(clip.id);
    row.dataset.state = clip.state;
    const thumb = document.createElement("canvas");
    thumb.width = 64;
    thumb.height = 36;
    thumb.dataset.frame = String(clip.start_frame);
    const text = document.createElement("span");
    const tc = (f) => timecode(f, this.fps, { dropFrame: this.dropFrame });
    const length = clip.end_frame - clip.start_frame;
    text.textContent = `${clip.number} · ${tc(clip.start_frame)}–${tc(clip.end_frame - 1)} · ${length} f`;
    const state = document.createElement("span");
    state.className = "clip-state";
    state.dataset.state = clip.state;
    state.textContent = clip.state.replace(/_/g, " ");
    row.append(thumb, text, state);
    return row;
  }

  paintThumbs() {
    if (!this.film) return;
    for (const row of this.rows.values()) {
      const canvas = row.querySelector("canvas");
      if (canvas.dataset.painted) continue;
      const thumb = this.film.thumb(Number(canvas.dataset.frame));
      if (!thumb) continue;
      canvas.getContext("2d").drawImage(thumb, 0, 0, canvas.width, canvas.height);
      canvas.dataset.painted = "true";
    }
  }
}

/** The filter's groups of states. */
export function stateGroup(state) {
  if (state === "pending_review") return "pending";
  if (state === "skipped" || state === "rejected") return state;
  if (state.endsWith("_failed")) return "failed";
  return "approved";
}
