/**
 * The review player: frame-exact playback of a video's all-intra proxy with WebCodecs, painting a canvas.
 *
 * A requested frame is taken from the cache of decoded frames around the playhead, or fetched first and
 * alone (one Range request for exactly its bytes), decoded ahead of any prefetching, and painted. After each
 * paint the frames around the playhead are fetched in the background, leaning the way the reviewer moves, as
 * many as the measured link moves within a short budget; a prefetch still on its way when the
 * reviewer jumps elsewhere is cancelled. Both caches are bounded by bytes, and every VideoFrame is closed
 * when it leaves its cache.
 *
 * `createPlayer` picks this player, or the `<video>` fallback when WebCodecs is missing or switched off, and
 * publishes it as `window.heaters.player` ({seek(frame) -> Promise, frame}) for automation.
 */

import { AudioTrack } from "./audio.js";
import { FrameDecoder } from "./decoder.js";
import { VideoElementPlayer } from "./fallback.js";
import { FrameCache, videoFrameBytes } from "./frames.js";
import { BasePlayer } from "./playback.js";
import { planPrefetch } from "./prefetch.js";
import { ProxySource, base64Bytes } from "./source.js";

// Decoded frames kept around the playhead: 97 frames of 720p, the proxy's largest size (1.4 MB a frame as
// I420), so stepping back and forth and a 3 s loop need no decode again. More buys little (a decode takes
// about 5 ms) and adds its full size to the renderer's memory.
const DECODED_BYTES = 128 << 20;
// The link time one prefetch request may take: short, so a jump elsewhere soon gets the link to itself.
const PREFETCH_SECONDS = 0.25;
// While playing, hold this much link time of frames ahead (fetched in requests of PREFETCH_SECONDS each).
const PLAY_AHEAD_SECONDS = 1;
const STEP_AHEAD = 16; // frames ahead kept ready while stepping (at most; fewer on a slow link)
const STEP_BEHIND = 8;

export class WebCodecsPlayer extends BasePlayer {
  constructor(video, canvas, source, decoder, size) {
    super(video);
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.source = source;
    this.decoder = decoder;
    canvas.width = size.width;
    canvas.height = size.height;
    this.cache = new FrameCache(DECODED_BYTES, { sizeOf: videoFrameBytes, onEvict: (vf) => vf.close() });
    this.pending = new Map(); // frame -> Promise<boolean> (decoded into the cache)
    this.prefetchTimer = 0;
    this.prefetching = null; // {frames: Set, abort: AbortController} of the prefetch on its way
    this.kind = "webcodecs";
    this.audio = null; // the proxy's sound, when it has some and the browser decodes it
  }

  startClock(start, rate, loop) {
    // Sound (and its clock) at normal speed forward; faster or backwards plays the pictures only.
    return this.audio && rate === 1 ? this.audio.play(start, loop) : super.startClock(start, rate, loop);
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
    this.source.focus(frame);
    if (!this.cache.has(frame)) {
      this.cancelPrefetchUnless(frame);
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
    // A missed frame comes alone: one Range request for exactly its bytes, nothing else on the link.
    if (!bytes) bytes = await this.source.fetchWanted(frame);
    // The playhead may have arrived here while the bytes were on their way: then this frame goes first.
    const vf = await this.decoder.decode(frame, bytes, { urgent: urgent || frame === this.target });
    if (!vf) return false; // dropped from the queue: the playhead went elsewhere
    this.cache.set(frame, vf);
    return true;
  }

  /** A jump to a frame the prefetch on its way does not bring: cancel it, so the jump has the link alone. */
  cancelPrefetchUnless(frame) {
    const job = this.prefetching;
    if (job && !job.frames.has(frame)) {
      job.abort.abort();
      this.prefetching = null;
    }
  }

  schedulePrefetch() {
    clearTimeout(this.prefetchTimer);
    this.prefetchTimer = setTimeout(() => this.prefetchAround(this.target), 0);
  }

  /**
   * Keep the frames around the playhead fetched and decoded, as many as the link carries within
   * PREFETCH_SECONDS (PLAY_AHEAD_SECONDS of them ahead while playing), one request at a time; when it
   * arrives with the playhead still near, plan again.
   */
  async prefetchAround(playhead) {
    this.decodeAround(playhead);
    if (this.prefetching) return; // the one on its way plans again when it lands
    const link = this.source.link;
    const playing = this.playing;
    const inClip = playhead >= this.lo && playhead < this.hi;
    const plan = planPrefetch({
      playhead,
      lo: inClip ? this.lo : 0,
      hi: inClip ? this.hi : this.total,
      direction: this.direction,
      ahead: playing ? Math.ceil((2 * Math.abs(this.rate) * this.fps.num) / this.fps.den) : STEP_AHEAD,
      behind: playing ? 0 : STEP_BEHIND,
      ready: (f) => this.cache.has(f) || this.pending.has(f) || this.source.has(f),
      sizeOf: (f) => this.source.sizeOf(f),
      horizonBytes: playing ? link.bytesPerSecond * PLAY_AHEAD_SECONDS : link.bytesWithin(PREFETCH_SECONDS),
      batchBytes: link.bytesWithin(PREFETCH_SECONDS),
    });
    if (!plan.frames.length) return;
    const job = { frames: new Set(plan.frames), abort: new AbortController() };
    this.prefetching = job;
    try {
      await this.source.fetchFrames(plan.frames, { signal: job.abort.signal });
    } catch (error) {
      if (error.name !== "AbortError") console.warn("prefetch failed", error);
      return;
    } finally {
      if (this.prefetching === job) this.prefetching = null;
    }
    if (Math.abs(this.target - playhead) > STEP_AHEAD) return; // moved far; its paint plans again
    this.schedulePrefetch();
  }

  /** Decode the fetched frames nearest the playhead that are not decoded yet (the decoder drops the rest). */
  decodeAround(playhead) {
    const near = (f) => Math.abs(f - playhead) <= (this.playing ? 2 * STEP_AHEAD : STEP_AHEAD);
    this.decoder.prune((f) => near(f) || f === this.target);
    const frames = [];
    for (let d = 1; d <= STEP_AHEAD; d++) frames.push(playhead + d * this.direction, playhead - d * this.direction);
    for (const f of frames) {
      if (f < this.lo || f >= this.hi || this.cache.has(f) || this.pending.has(f)) continue;
      if (this.source.cached(f)) this.load(f, false).catch(() => {});
    }
  }

  /** The next clip's first frame, fetched early so opening it shows a picture at once; its paint does the rest. */
  prefetch(lo, _hi) {
    this.source
      .afterWanted()
      .then(() => this.source.fetchFrames([lo]))
      .catch(() => {});
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
