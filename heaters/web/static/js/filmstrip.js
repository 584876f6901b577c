/**
 * Thumbnails for the timeline, decoded in the browser from the review proxy (no sprite sheets): sampled
 * frames are fetched by Range, decoded by a decoder of their own (so they never delay the player) and
 * drawn small onto canvases kept in a bounded map.
 *
 * Samples sit on a grid of "nice" frame steps, so zooming reuses thumbnails already made.
 */

import { FrameDecoder } from "./decoder.js";
import { base64Bytes } from "./source.js";

const KEEP = 400; // thumbnails kept
const NICE = [1, 2, 5];

/** The smallest step of the form {1,2,5}·10^k frames that is at least `span`. */
export function niceStep(span) {
  let scale = 1;
  for (;;) {
    for (const n of NICE) if (n * scale >= span) return n * scale;
    scale *= 10;
  }
}

export class Filmstrip {
  constructor(source, { height = 48, onReady = () => {} } = {}) {
    this.source = source;
    this.height = height;
    this.onReady = onReady;
    this.thumbs = new Map(); // frame -> canvas (insertion order = age)
    this.wanted = new Set();
    this.pending = new Set(); // frames being fetched or decoded: the timeline redraws often, ask once
    this.decoder = null;
    this.width = height * (16 / 9);
  }

  async start() {
    const index = await this.source.config();
    const config = {
      codec: index.codec,
      description: base64Bytes(index.description),
      codedWidth: index.width,
      codedHeight: index.height,
    };
    if (!(await FrameDecoder.supported(config))) return false;
    this.decoder = new FrameDecoder(config);
    this.width = Math.max(16, Math.round((this.height * index.width) / index.height));
    return true;
  }

  /** Frames to show for the view [from, to) across `slots` thumbnails. */
  samples(from, to, slots) {
    const step = niceStep(Math.max(1, (to - from) / Math.max(1, slots)));
    const frames = [];
    for (let f = Math.floor(from / step) * step; f < to; f += step) {
      if (f >= 0 && f < this.source.video.total_frames) frames.push(f);
    }
    return { step, frames };
  }

  thumb(frame) {
    return this.thumbs.get(frame);
  }

  /** Make sure the thumbnails of `frames` get made (the newest request wins; older queued ones are dropped). */
  request(frames) {
    if (!this.decoder) return;
    // Frames another view (the clip list) keeps asked for stay wanted whatever the timeline asks.
    frames = [...new Set([...frames, ...(this.keep || [])])];
    this.wanted = new Set(frames);
    this.decoder.prune((f) => this.wanted.has(f));
    const missing = frames.filter((f) => !this.thumbs.has(f) && !this.pending.has(f));
    if (!missing.length) return;
    for (const f of missing) this.pending.add(f);
    const done = (f) => this.pending.delete(f);
    // After the frame the reviewer waits for: on a slow link a thumbnail must not delay the picture.
    this.source
      .afterWanted()
      .then(() => this.source.fetchFrames(missing))
      .then((bytes) => {
        for (const f of missing) {
          if (!this.wanted.has(f) || this.thumbs.has(f)) {
            done(f);
            continue;
          }
          this.decoder.decode(f, bytes.get(f)).then(
            (vf) => {
              done(f);
              this.store(f, vf);
            },
            () => done(f),
          );
        }
      })
      .catch((error) => {
        for (const f of missing) done(f);
        console.warn("filmstrip", error);
      });
  }

  store(frame, vf) {
    if (!vf) return;
    const canvas = document.createElement("canvas");
    canvas.width = this.width;
    canvas.height = this.height;
    canvas.getContext("2d").drawImage(vf, 0, 0, canvas.width, canvas.height);
    vf.close();
    this.thumbs.set(frame, canvas);
    for (const old of this.thumbs.keys()) {
      if (this.thumbs.size <= KEEP) break;
      if (!this.wanted.has(old)) this.thumbs.delete(old);
    }
    this.onReady(frame);
  }

  destroy() {
    if (this.decoder) this.decoder.close();
    this.thumbs.clear();
  }
}
