/**
 * The whole video as a zoomable strip on one canvas: a ruler of timecodes on top, a filmstrip of thumbnails,
 * the sound's waveform, and the clips at the bottom coloured by state, numbered, with the current clip
 * outlined, cuts scene detection was unsure of notched (check those first), and the playhead. Click to seek,
 * drag a clip boundary to move that cut, wheel (or +/-) to zoom around the pointer, Shift+wheel to pan.
 *
 * The view follows the playhead; all positions are frames, converted to pixels only when drawing.
 */

import { rulerStep, timecode } from "./frames.js";

const RULER = 16; // px of timecode ruler
const FILM = 48; // px of filmstrip
const WAVE = 28; // px of waveform
const STRIP = 30; // px of clip strip
const GRAB_PX = 6; // how close to a boundary a press grabs it
const MIN_SPAN = 20; // frames visible at the deepest zoom

const STATE_COLOURS = {
  pending_review: "--clip-pending",
  approved: "--clip-approved",
  exporting: "--clip-approved",
  exported: "--clip-done",
  keyframed: "--clip-done",
  embedded: "--clip-done",
  skipped: "--clip-skipped",
  rejected: "--clip-rejected",
  export_failed: "--clip-failed",
  keyframe_failed: "--clip-failed",
  embed_failed: "--clip-failed",
};

/** Start frames of the clips whose cut scene detection proposed with low confidence. */
export function lowConfidenceCuts(clips) {
  return clips.filter((clip) => clip.cut && clip.cut.low).map((clip) => clip.start_frame);
}

export class Timeline {
  /** `onSeek(frame)`; `onMoveCut(oldFrame, newFrame)`; `canMove(cutFrame)` says whether a boundary may move. */
  constructor(canvas, { total, fps, filmstrip = null, onSeek, onMoveCut, canMove = () => true }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.total = total;
    this.fps = fps;
    this.filmstrip = filmstrip;
    this.peaks = null; // {rate, channels, data: Int8Array} once loaded
    this.onSeek = onSeek;
    this.onMoveCut = onMoveCut;
    this.canMove = canMove;
    this.clips = [];
    this.current = null;
    this.playhead = 0;
    this.view = { from: 0, to: total };
    this.drag = null;
    this.queued = false;
    canvas.height = this.height();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    new ResizeObserver(() => this.redraw()).observe(canvas);
  }

  height() {
    return RULER + (this.filmstrip ? FILM : 0) + (this.peaks ? WAVE : 0) + STRIP + 4;
  }

  /** Draw the waveform from `peaks` ({rate, channels, data: Int8Array of [bin][channel][min,max]}). */
  setPeaks(peaks) {
    this.peaks = peaks;
    this.redraw();
  }

  setClips(clips, current) {
    this.clips = clips;
    this.current = current;
    // Cuts detection was unsure of, marked on the strip so a reviewer checks them first.
    this.canvas.dataset.lowConfidenceCuts = lowConfidenceCuts(clips).join(",");
    this.redraw();
  }

  setPlayhead(frame) {
    this.playhead = frame;
    const { from, to } = this.view;
    const span = to - from;
    if (frame < from || frame >= to) this.setView(frame - span / 2, frame + span / 2);
    else this.redraw();
  }

  setView(from, to) {
    const span = Math.min(this.total, Math.max(MIN_SPAN, to - from));
    let start = Math.max(0, Math.min(from, this.total - span));
    this.view = { from: start, to: start + span };
    this.redraw();
  }

  /** Zoom by `factor` (<1 zooms in) keeping frame `anchor` under the same pixel. */
  zoom(factor, anchor = this.playhead) {
    const { from, to } = this.view;
    const ratio = (anchor - from) / (to - from);
    const span = Math.min(this.total, Math.max(MIN_SPAN, (to - from) * factor));
    this.setView(anchor - ratio * span, anchor - ratio * span + span);
  }

  /** Show the clip [lo, hi) with some context on both sides. */
  frameClip(lo, hi) {
    const pad = Math.max(MIN_SPAN, (hi - lo) * 0.5);
    this.setView(lo - pad, hi + pad);
  }

  x(frame) {
    const { from, to } = this.view;
    return ((frame - from) / (to - from)) * this.canvas.clientWidth;
  }

  frameAt(px) {
    const { from, to } = this.view;
    return Math.floor(from + (px / this.canvas.clientWidth) * (to - from));
  }

  /** The cut (clip start) whose boundary is under `px`, if any and if it may move. */
  boundaryAt(px) {
    let best = null;
    for (const clip of this.clips.slice(1)) {
      const d = Math.abs(this.x(clip.start_frame) - px);
      if (d <= GRAB_PX && (best === null || d < best.d)) best = { frame: clip.start_frame, d };
    }
    return best && this.canMove(best.frame) ? best.frame : null;
  }

  down(e) {
    const px = e.offsetX;
    const cut = this.boundaryAt(px);
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = cut === null ? { seek: true } : { cut, to: cut };
    if (this.drag.seek) this.onSeek(this.clampFrame(this.frameAt(px)));
  }

  move(e) {
    if (!this.drag) {
      this.canvas.style.cursor = this.boundaryAt(e.offsetX) === null ? "pointer" : "ew-resize";
      return;
    }
    if (this.drag.seek) this.onSeek(this.clampFrame(this.frameAt(e.offsetX)));
    else {
      this.drag.to = this.clampFrame(Math.round(this.frameAt(e.offsetX + 0.5)));
      this.redraw();
    }
  }

  up() {
    const drag = this.drag;
    this.drag = null;
    if (drag && !drag.seek && drag.to !== drag.cut) this.onMoveCut(drag.cut, drag.to);
    this.redraw();
  }

  wheel(e) {
    e.preventDefault();
    const { from, to } = this.view;
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const shift = ((e.deltaX || e.deltaY) / this.canvas.clientWidth) * (to - from);
      this.setView(from + shift, to + shift);
    } else {
      this.zoom(e.deltaY > 0 ? 1.25 : 0.8, this.frameAt(e.offsetX));
    }
  }

  clampFrame(f) {
    return Math.max(0, Math.min(this.total - 1, f));
  }

  redraw() {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  draw() {
    const { canvas, ctx } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = this.height();
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = `${height}px`;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const style = getComputedStyle(canvas);
    const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    ctx.fillStyle = colour("--timeline-bg", "#222");
    ctx.fillRect(0, 0, width, height);
    this.drawRuler(width, colour);
    ctx.save();
    ctx.translate(0, RULER);
    if (this.filmstrip) this.drawFilm(width);
    ctx.restore();
    if (this.peaks) this.drawWave(width, RULER + (this.filmstrip ? FILM : 0), colour);
    const top = RULER + (this.filmstrip ? FILM : 0) + (this.peaks ? WAVE : 0) + 2;
    for (const clip of this.clips) {
      const x0 = this.x(clip.start_frame);
      const x1 = this.x(clip.end_frame);
      if (x1 < 0 || x0 > width) continue;
      ctx.fillStyle = colour(STATE_COLOURS[clip.state] || "--clip-pending", "#667");
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), STRIP);
      ctx.fillStyle = colour("--timeline-cut", "#fff");
      ctx.fillRect(Math.round(x0), RULER, 1, height - RULER);
      if (x1 - x0 > 24) {
        // The clip's number, the one the page and the console both say ("clip 7 of 31").
        ctx.fillStyle = colour("--timeline-label", "#000");
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(String(clip.number || ""), Math.max(x0, 0) + 4, top + STRIP - 9);
      }
      if (clip.cut && clip.cut.low) {
        ctx.fillStyle = colour("--timeline-unsure", "#f80");
        ctx.fillRect(Math.round(x0) - 1, top, 3, STRIP);
        ctx.beginPath(); // a notch above the strip: visible at any zoom
        ctx.moveTo(x0 - 5, top);
        ctx.lineTo(x0 + 5, top);
        ctx.lineTo(x0, top + 7);
        ctx.fill();
      }
    }
    if (this.current) {
      const x0 = this.x(this.current.start_frame);
      const x1 = this.x(this.current.end_frame);
      ctx.strokeStyle = colour("--timeline-current", "#fc0");
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 + 1, 1, Math.max(2, x1 - x0 - 2), height - 2);
    }
    if (this.drag && !this.drag.seek) {
      ctx.fillStyle = colour("--timeline-current", "#fc0");
      ctx.fillRect(this.x(this.drag.to) - 1, 0, 3, height);
    }
    const px = this.x(this.playhead + 0.5);
    ctx.fillStyle = colour("--timeline-playhead", "#f33");
    ctx.fillRect(px - 1, 0, 2, height);
  }

  drawRuler(width, colour) {
    const { ctx } = this;
    const { from, to } = this.view;
    const step = rulerStep((to - from) / Math.max(1, width), this.fps);
    ctx.fillStyle = colour("--timeline-ruler", "#aaa");
    ctx.font = "10px ui-monospace, monospace";
    ctx.textBaseline = "top";
    for (let f = Math.ceil(from / step) * step; f < to; f += step) {
      const frame = Math.round(f);
      const x = Math.round(this.x(frame));
      ctx.fillRect(x, RULER - 5, 1, 5);
      ctx.fillText(timecode(frame, this.fps), x + 3, 2);
    }
    ctx.textBaseline = "alphabetic";
  }

  drawWave(width, top, colour) {
    const { ctx } = this;
    const { rate, channels, data } = this.peaks;
    const bins = data.length / (channels * 2);
    const perFrame = (rate * this.fps.den) / this.fps.num;
    const mid = top + WAVE / 2;
    ctx.fillStyle = colour("--timeline-wave", "#7ad");
    const { from, to } = this.view;
    const binAt = (px) => Math.floor((from + (px / width) * (to - from)) * perFrame);
    for (let x = 0; x < width; x++) {
      const b0 = binAt(x);
      const b1 = Math.max(b0 + 1, binAt(x + 1));
      let lo = 0;
      let hi = 0;
      for (let b = Math.max(0, b0); b < Math.min(bins, b1); b++) {
        for (let c = 0; c < channels; c++) {
          const i = (b * channels + c) * 2;
          if (data[i] < lo) lo = data[i];
          if (data[i + 1] > hi) hi = data[i + 1];
        }
      }
      if (hi > lo) ctx.fillRect(x, mid - (hi / 127) * (WAVE / 2 - 1), 1, Math.max(1, ((hi - lo) / 127) * (WAVE / 2 - 1)));
    }
  }

  drawFilm(width) {
    const film = this.filmstrip;
    const slots = Math.max(1, Math.ceil(width / film.width));
    const { step, frames } = film.samples(this.view.from, this.view.to, slots);
    film.request(frames);
    for (const f of frames) {
      const thumb = film.thumb(f);
      if (!thumb) continue;
      // A sample stands for `step` frames: repeat its picture across that width, like an editor's filmstrip.
      const x0 = this.x(f);
      const x1 = Math.min(this.x(Math.min(f + step, this.total)), width);
      this.ctx.save();
      this.ctx.beginPath();
      this.ctx.rect(x0, 0, x1 - x0, FILM);
      this.ctx.clip();
      for (let x = x0; x < x1; x += film.width) this.ctx.drawImage(thumb, x, 0, film.width, FILM);
      this.ctx.restore();
    }
  }
}
