/**
 * The review player: frame-exact playback of a video's all-intra proxy with WebCodecs, painting a canvas.
 *
 * A requested frame is taken from the cache of decoded frames around the playhead, or fetched (a Range
 * request for a run of frames), decoded ahead of any prefetching, and painted. After each paint the frames
 * around the playhead are fetched and decoded in the background, leaning the way the reviewer moves.
 * Every VideoFrame is closed when it leaves the cache.
 *
 * `createPlayer` picks this player, or the `<video>` fallback when WebCodecs is missing or switched off, and
 * publishes it as `window.heaters.player` ({seek(frame) -> Promise, frame}) for automation.
 */

import { AudioTrack } from "./audio.js";
import { FrameDecoder } from "./decoder.js";
import { VideoElementPlayer } from "./fallback.js";
import { FrameCache, fetchOrder } from "./frames.js";
import { BasePlayer } from "./playback.js";
import { ProxySource, base64Bytes } from "./source.js";

const CACHE_BYTES = 192 << 20; // decoded I420 frames kept around the playhead
const FETCH_RUN = 24; // frames fetched with a cache miss, so the next steps find their bytes

export class WebCodecsPlayer extends BasePlayer {
  constructor(video, canvas, source, decoder, size) {
    super(video);
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.source = source;
    this.decoder = decoder;
    canvas.width = size.width;
    canvas.height = size.height;
    const perFrame = size.width * size.height * 1.5;
    this.cache = new FrameCache(Math.min(300, Math.max(24, Math.floor(CACHE_BYTES / perFrame))), (vf) => vf.close());
    this.pending = new Map(); // frame -> Promise<boolean> (decoded into the cache)
    this.prefetchTimer = 0;
    this.kind = "webcodecs";
    this.audio = null; // the proxy's sound, when it has some and the browser decodes it
  }

  startClock(start, rate) {
    // Sound (and its clock) at normal speed forward; faster or backwards plays the pictures only.
    return this.audio && rate === 1 ? this.audio.play(start) : super.startClock(start, rate);
  }

  stopClock() {
    if (this.audio) this.audio.stop();
  }

  setRange(lo, hi) {
    super.setRange(lo, hi);
    if (this.audio) this.audio.warm(lo);
  }

  step(n) {
    const shown = super.step(n);
    if (this.audio) this.audio.scrub(this.target);
    return shown;
  }

  setMuted(muted) {
    if (this.audio) this.audio.setMuted(muted);
    super.setMuted(muted);
  }

  /** Sound that arrived after the player started (see `ProxySource.onAudio`); `onSound` is told. */
  async takeSound(window) {
    if (this.audio) return;
    const audio = await AudioTrack.create(this.source, window, this.fps);
    if (!audio || this.audio) return;
    audio.setMuted(this.muted);
    this.audio = audio;
    if (this.onSound) this.onSound();
  }

  /** Paint `frame` once it is decoded, unless another frame was asked for meanwhile. */
  async show(frame) {
    this.cache.focus(frame);
    if (!this.cache.has(frame)) {
      try {
        await this.load(frame, true);
      } catch (error) {
        if (this.target === frame) this.fail(error);
        throw error;
      }
    }
    if (this.target !== frame || !this.cache.has(frame)) return this.target === frame ? this.show(frame) : false;
    this.paint(frame);
    return true;
  }

  paint(frame) {
    const vf = this.cache.get(frame);
    this.ctx.drawImage(vf, 0, 0, this.canvas.width, this.canvas.height);
    this.frame = frame;
    this.notify();
    this.schedulePrefetch();
  }

  fail(error) {
    console.error("frame", this.target, error);
    for (const fn of this.listeners) fn(this.frame, this, error);
  }

  /** Decode `frame` into the cache (sharing a decode already on its way). */
  load(frame, urgent) {
    let job = this.pending.get(frame);
    if (job && urgent) this.decoder.promote(frame);
    if (!job) {
      job = this.decodeInto(frame, urgent).finally(() => this.pending.delete(frame));
      this.pending.set(frame, job);
    }
    return job;
  }

  async decodeInto(frame, urgent) {
    let bytes = this.source.cached(frame);
    if (!bytes) {
      // The wanted frame comes alone, so its decode need not wait for the run fetched along with it.
      const wanted = this.source.fetchFrames([frame]);
      if (urgent) this.source.fetchFrames(this.runAround(frame)).catch(() => {});
      bytes = (await wanted).get(frame);
    }
    // The playhead may have arrived here while the bytes were on their way: then this frame goes first.
    const vf = await this.decoder.decode(frame, bytes, { urgent: urgent || frame === this.target });
    if (!vf) return false; // dropped from the queue: the playhead went elsewhere
    this.cache.set(frame, vf);
    return true;
  }

  /** The frames fetched along with a missed one: a run ahead in the direction of travel, within the clip. */
  runAround(frame) {
    const run = [];
    const lo = frame >= this.lo && frame < this.hi ? this.lo : 0;
    const hi = frame >= this.lo && frame < this.hi ? this.hi : this.total;
    for (let i = 0; i < FETCH_RUN; i++) {
      const f = frame + i * this.direction;
      if (f >= lo && f < hi) run.push(f);
    }
    if (!run.includes(frame)) run.unshift(frame);
    return run;
  }

  schedulePrefetch() {
    clearTimeout(this.prefetchTimer);
    this.prefetchTimer = setTimeout(() => this.prefetchAround(this.target), 0);
  }

  /** Keep the frames around the playhead decoded: more ahead while playing, a few behind when stepping. */
  async prefetchAround(playhead) {
    const ahead = this.playing ? Math.ceil((2 * this.fps.num) / this.fps.den) : 16;
    const order = fetchOrder(playhead, this.lo, this.hi, { ahead, behind: 8, direction: this.direction });
    const wanted = new Set(order);
    this.decoder.prune((f) => wanted.has(f) || f === this.target);
    const missing = order.filter((f) => !this.cache.has(f) && !this.pending.has(f));
    if (!missing.length) return;
    try {
      await this.source.fetchFrames(missing);
    } catch (error) {
      console.warn("prefetch failed", error);
      return;
    }
    if (this.target !== playhead) return; // moved on; the next paint plans again
    for (const f of missing) {
      if (!this.cache.has(f)) this.load(f, false).catch(() => {});
    }
  }

  prefetch(lo, hi) {
    const frames = [];
    for (let f = lo; f < Math.min(hi, lo + FETCH_RUN); f++) frames.push(f);
    this.source.fetchFrames(frames).catch(() => {});
  }

  destroy() {
    super.destroy();
    clearTimeout(this.prefetchTimer);
    if (this.audio) this.audio.close();
    this.decoder.close();
    this.cache.clear();
  }
}

/**
 * The best player for this browser. `video` is the page's video dict; `canvas` and `element` are the two
 * surfaces (only one is shown). `webcodecs` false forces the `<video>` fallback.
 */
export async function createPlayer({ video, canvas, element, webcodecs = true }) {
  let player = null;
  if (webcodecs && typeof VideoDecoder !== "undefined") {
    const source = new ProxySource(video);
    const index = await source.config();
    const config = {
      codec: index.codec,
      description: base64Bytes(index.description),
      codedWidth: index.width,
      codedHeight: index.height,
    };
    if (await FrameDecoder.supported(config)) {
      const made = new WebCodecsPlayer(video, canvas, source, new FrameDecoder(config), index);
      made.audio = await AudioTrack.create(source, index, made.fps);
      // A segmented video's sound may come after its pictures: take it up when an index window brings it.
      source.onAudio = (window) => made.takeSound(window);
      player = made;
    } else {
      console.warn(`WebCodecs cannot decode ${index.codec} here; using the <video> element`);
    }
  }
  if (!player) player = new VideoElementPlayer(video, element);
  canvas.hidden = player.kind !== "webcodecs";
  element.hidden = player.kind === "webcodecs";
  window.heaters = window.heaters || {};
  window.heaters.player = player;
  return player;
}
