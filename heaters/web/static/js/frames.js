/**
 * Frame arithmetic for the review player, with no DOM: frames <-> time with a rational frame rate, timecodes,
 * which proxy bytes to fetch for a set of frames, a byte-bounded cache policy around the playhead, key-repeat
 * acceleration, and where the cuts are.
 *
 * Everything on the timeline is an integer frame index; seconds only appear at the edges (the `<video>`
 * fallback and the timecode display). The frame rate stays a fraction so 30000/1001 never drifts.
 */

/** Parse "30000/1001", "25" or {num, den} into {num, den} (both positive integers). */
export function parseFps(fps) {
  if (typeof fps === "object" && fps !== null) return checkFps(Number(fps.num), Number(fps.den));
  const text = String(fps).trim();
  const [num, den = "1"] = text.split("/");
  return checkFps(Number(num), Number(den));
}

function checkFps(num, den) {
  if (!Number.isInteger(num) || !Number.isInteger(den) || num <= 0 || den <= 0) {
    throw new RangeError(`not a frame rate: ${num}/${den}`);
  }
  return { num, den };
}

/** Seconds at which `frame` starts. */
export function frameToSeconds(frame, fps) {
  return (frame * fps.den) / fps.num;
}

/** Seconds at the middle of `frame`: where a `<video>` element must seek to show exactly that frame. */
export function frameCentreSeconds(frame, fps) {
  return ((2 * frame + 1) * fps.den) / (2 * fps.num);
}

/** The frame showing at `seconds` (a tiny tolerance absorbs float error at frame boundaries). */
export function secondsToFrame(seconds, fps) {
  return Math.floor((seconds * fps.num) / fps.den + 1e-6);
}

/** Whole frames per second as a timecode counts them (30 for 29.97). */
export function nominalRate(fps) {
  return Math.round(fps.num / fps.den);
}

/** Drop-frame timecode applies to the NTSC rates 29.97 and 59.94 only. */
export function isDropFrameRate(fps) {
  const nominal = nominalRate(fps);
  return fps.den === 1001 && fps.num === nominal * 1000 && nominal % 30 === 0;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * SMPTE-style timecode "HH:MM:SS:FF" of a frame. With `dropFrame` (honoured only at 29.97/59.94) frame
 * labels 0 and 1 (0..3 at 59.94) are skipped each minute except every tenth, so the label keeps pace with
 * the wall clock; the separator before the frames becomes ";" as is customary.
 */
export function timecode(frame, fps, { dropFrame = false } = {}) {
  const rate = nominalRate(fps);
  let label = Math.max(0, Math.floor(frame));
  const drop = dropFrame && isDropFrameRate(fps);
  if (drop) {
    const dropped = (rate / 30) * 2; // labels skipped per minute
    const perTenMinutes = rate * 600 - dropped * 9;
    const perMinute = rate * 60 - dropped;
    const tens = Math.floor(label / perTenMinutes);
    const rest = label % perTenMinutes;
    const extra = rest > dropped ? dropped * Math.floor((rest - dropped) / perMinute) : 0;
    label += dropped * 9 * tens + extra;
  }
  const ff = label % rate;
  const totalSeconds = Math.floor(label / rate);
  const ss = totalSeconds % 60;
  const mm = Math.floor(totalSeconds / 60) % 60;
  const hh = Math.floor(totalSeconds / 3600);
  return `${pad(hh)}:${pad(mm)}:${pad(ss)}${drop ? ";" : ":"}${pad(ff)}`;
}

/**
 * Group frames into byte-range requests. `index` has `start`, `offsets` and `sizes` (for frames
 * start..start+n-1). Frames whose bytes are adjacent in the file (or separated by at most `maxGap` bytes,
 * which are fetched and thrown away) share one request, up to `maxBytes` per request.
 * Returns [{frames: [...], start, end}] with `end` exclusive, in file order.
 */
export function planRanges(frames, index, { maxGap = 4096, maxBytes = 8 << 20 } = {}) {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  const batches = [];
  let current = null;
  for (const frame of sorted) {
    const i = frame - index.start;
    if (i < 0 || i >= index.offsets.length) throw new RangeError(`frame ${frame} is outside the index window`);
    const start = index.offsets[i];
    const end = start + index.sizes[i];
    const joins = current && start >= current.end && start - current.end <= maxGap && end - current.start <= maxBytes;
    if (joins) {
      current.frames.push(frame);
      current.end = end;
    } else {
      current = { frames: [frame], start, end };
      batches.push(current);
    }
  }
  return batches;
}

/** Cut the bytes of one fetched batch (an ArrayBuffer of bytes batch.start..batch.end) into its frames. */
export function sliceBatch(batch, buffer, index) {
  if (buffer.byteLength !== batch.end - batch.start) {
    throw new RangeError(`expected ${batch.end - batch.start} bytes, got ${buffer.byteLength}`);
  }
  return batch.frames.map((frame) => {
    const i = frame - index.start;
    const from = index.offsets[i] - batch.start;
    return [frame, new Uint8Array(buffer, from, index.sizes[i])];
  });
}

/**
 * Frames to have ready around the playhead, nearest first, leaning the way playback goes: the playhead,
 * then `ahead` frames in the direction of travel and `behind` the other way, interleaved in proportion (with
 * 16 ahead and 8 behind, two ahead for each one behind; ahead first on a tie), all inside [lo, hi). A
 * plan cut short after any number of frames thus still leans the way the reviewer moves.
 */
export function fetchOrder(playhead, lo, hi, { ahead = 12, behind = 4, direction = 1 } = {}) {
  const dir = direction >= 0 ? 1 : -1;
  const steps = [];
  for (let d = 1; d <= ahead; d++) steps.push([d / ahead, 0, playhead + d * dir]);
  for (let d = 1; d <= behind; d++) steps.push([d / behind, 1, playhead - d * dir]);
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return [playhead, ...steps.map((s) => s[2])].filter((f) => f >= lo && f < hi);
}

/**
 * The bytes a decoded `VideoFrame` holds: what `allocationSize()` says (I420: width x height x 1.5), or its
 * coded size as I420 when the browser cannot tell.
 */
export function videoFrameBytes(vf) {
  try {
    const size = vf.allocationSize();
    if (size > 0) return size;
  } catch {
    /* a closed frame or an opaque (GPU) format: fall back to the coded size */
  }
  return Math.ceil(vf.codedWidth * vf.codedHeight * 1.5);
}

/**
 * A cache of per-frame values bounded by bytes (`sizeOf(value)`), not by count, so its memory is the same
 * whatever the picture size. When over budget, the entry farthest from the playhead goes first (frames
 * behind it count double, since review mostly moves forward), the least recently used among equals; a
 * single entry stays even when it alone is over budget, so the frame at the playhead can always be shown.
 * `onEvict(value, frame)` releases it (closing a VideoFrame is not optional: decoders stall when their
 * frames are never returned, and each holds megabytes outside the JavaScript heap).
 */
export class FrameCache {
  constructor(maxBytes, { sizeOf = () => 1, onEvict = () => {} } = {}) {
    this.maxBytes = Math.max(1, maxBytes);
    this.sizeOf = sizeOf;
    this.onEvict = onEvict;
    this.entries = new Map(); // frame -> {value, bytes, used}
    this.bytes = 0;
    this.playhead = 0;
    this.tick = 0;
  }

  get size() {
    return this.entries.size;
  }

  has(frame) {
    return this.entries.has(frame);
  }

  get(frame) {
    const entry = this.entries.get(frame);
    if (!entry) return undefined;
    entry.used = ++this.tick;
    return entry.value;
  }

  set(frame, value) {
    const old = this.entries.get(frame);
    if (old) {
      this.entries.delete(frame);
      this.bytes -= old.bytes;
      if (old.value !== value) this.onEvict(old.value, frame);
    }
    const bytes = this.sizeOf(value);
    this.entries.set(frame, { value, bytes, used: ++this.tick });
    this.bytes += bytes;
    this.trim();
  }

  /** Move the playhead; entries far from it become the first to go. */
  focus(playhead) {
    this.playhead = playhead;
  }

  cost(frame, entry) {
    const d = frame - this.playhead;
    return [d < 0 ? -2 * d : d, -entry.used];
  }

  trim() {
    while (this.bytes > this.maxBytes && this.entries.size > 1) {
      let worst = null;
      let worstCost = null;
      for (const [frame, entry] of this.entries) {
        const cost = this.cost(frame, entry);
        if (worst === null || cost[0] > worstCost[0] || (cost[0] === worstCost[0] && cost[1] > worstCost[1])) {
          worst = frame;
          worstCost = cost;
        }
      }
      this.delete(worst);
    }
  }

  delete(frame) {
    const entry = this.entries.get(frame);
    if (!entry) return;
    this.entries.delete(frame);
    this.bytes -= entry.bytes;
    this.onEvict(entry.value, frame);
  }

  clear() {
    for (const frame of [...this.entries.keys()]) this.delete(frame);
  }
}

/**
 * Key-repeat acceleration: holding a step key moves 1 frame per repeat at first, then 2, 4 and 8 times
 * the base step, so a long hold crosses a clip quickly while a tap stays exact.
 */
export class KeyRepeat {
  constructor({ thresholds = [8, 20, 40], now = () => Date.now(), gapMs = 250 } = {}) {
    this.thresholds = thresholds;
    this.now = now;
    this.gapMs = gapMs;
    this.count = 0;
    this.key = null;
    this.last = 0;
  }

  /** The step for one key event: `base` times the acceleration for this run of repeats. */
  step(key, base, repeat) {
    const t = this.now();
    const continues = repeat && key === this.key && t - this.last <= this.gapMs;
    this.count = continues ? this.count + 1 : 0;
    this.key = key;
    this.last = t;
    let factor = 1;
    for (const threshold of this.thresholds) if (this.count >= threshold) factor *= 2;
    return base * factor;
  }
}

/** The clip containing `frame` (clips are sorted and partition the video), or null. */
export function clipAt(clips, frame) {
  let lo = 0;
  let hi = clips.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const clip = clips[mid];
    if (frame < clip.start_frame) hi = mid - 1;
    else if (frame >= clip.end_frame) lo = mid + 1;
    else return clip;
  }
  return null;
}

/** Cut frames (the start of every clip but the first), ascending. */
export function cutsOf(clips) {
  return clips.slice(1).map((clip) => clip.start_frame);
}

/** The last cut before `frame`, or null. */
export function prevCut(clips, frame) {
  const cuts = cutsOf(clips).filter((c) => c < frame);
  return cuts.length ? cuts[cuts.length - 1] : null;
}

/** The first cut after `frame`, or null. */
export function nextCut(clips, frame) {
  return cutsOf(clips).find((c) => c > frame) ?? null;
}

/** The cut nearest to `frame` (the earlier one on a tie), or null when the video has no cuts. */
export function nearestCut(clips, frame) {
  let best = null;
  for (const c of cutsOf(clips)) {
    if (best === null || Math.abs(c - frame) < Math.abs(best - frame)) best = c;
  }
  return best;
}

/** Clamp `frame` into [lo, hi - 1]. */
export function clampFrame(frame, lo, hi) {
  return Math.min(Math.max(frame, lo), Math.max(lo, hi - 1));
}

/**
 * The frame a person typed: a frame number ("1234"), a timecode ("00:01:02:03", ";" before the frames for
 * drop-frame), or seconds with a decimal point ("62.5", "1:02.5", "0:01:02.5"). Null if it is none of these.
 */
export function parseFramePosition(text, fps, { dropFrame = false } = {}) {
  const value = String(text).trim();
  if (/^\d+$/.test(value)) return Number(value);
  const tc = value.match(/^(\d+):(\d{1,2}):(\d{1,2})([:;.,])(\d{1,3})$/);
  if (tc && tc[4] !== "." && tc[4] !== ",") {
    const [hh, mm, ss, ff] = [tc[1], tc[2], tc[3], tc[5]].map(Number);
    const rate = nominalRate(fps);
    if (mm > 59 || ss > 59 || ff >= rate) return null;
    let frame = ((hh * 60 + mm) * 60 + ss) * rate + ff;
    if ((dropFrame || tc[4] === ";") && isDropFrameRate(fps)) {
      const minutes = hh * 60 + mm;
      frame -= ((rate / 30) * 2) * (minutes - Math.floor(minutes / 10));
    }
    return frame;
  }
  const secs = value.replace(",", ".").match(/^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d*)?)$/);
  if (secs) {
    const seconds = Number(secs[1] || 0) * 3600 + Number(secs[2] || 0) * 60 + Number(secs[3]);
    return secondsToFrame(seconds, fps);
  }
  return null;
}

const RULER_STEPS_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/**
 * Frames between ruler ticks so that ticks are at least `minPx` apart at `framesPerPx`: whole frames
 * (1, 2, 5, 10) when zoomed in deep, else round numbers of seconds and minutes.
 */
export function rulerStep(framesPerPx, fps, minPx = 80) {
  const wanted = framesPerPx * minPx;
  for (const frames of [1, 2, 5, 10]) if (frames >= wanted && frames < fps.num / fps.den) return frames;
  for (const seconds of RULER_STEPS_SECONDS) {
    const frames = (seconds * fps.num) / fps.den;
    if (frames >= wanted) return frames;
  }
  return (RULER_STEPS_SECONDS[RULER_STEPS_SECONDS.length - 1] * fps.num) / fps.den;
}
