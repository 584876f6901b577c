/**
 * The review proxy's sound: its AAC packets (indexed beside the frames) fetched by Range, decoded with
 * WebCodecs `AudioDecoder`, and scheduled through Web Audio.
 *
 * While playing, the audio is the clock: `clock()` says how far playback has got by what is being heard now
 * (`AudioContext.getOutputTimestamp`), and the player paints the frame due at that time, so picture and
 * sound stay within a frame of each other. Stepping plays a short scrub of the frame's own audio.
 * Sample s of the track plays with frame s * fps / rate (the encode aligned it to frame 0). The packets are
 * in the proxy, or, for a video encoded in segments, in its own audio file (the index window's `audio.url`):
 * the same code plays both.
 */

import { base64Bytes } from "./source.js";

const LEAD = 0.08; // seconds between asking for playback and its first sound: time to decode the first packets
const CHUNK = 1.0; // seconds of audio fetched and decoded at a time while playing
const SCRUB = 0.06; // seconds of sound a frame step plays (at least a frame)
const KEPT_CHUNKS = 24; // decoded chunks kept (about 9 MB of stereo): a looping clip decodes its sound once

export class AudioTrack {
  /** The track of `source` (a ProxySource whose index windows carry `audio`), or null without sound. */
  static async create(source, index, fps) {
    const audio = index.audio;
    if (!audio || typeof AudioDecoder === "undefined" || typeof AudioContext === "undefined") return null;
    const config = {
      codec: audio.codec,
      sampleRate: audio.sample_rate,
      numberOfChannels: audio.channels,
      description: base64Bytes(audio.description),
    };
    try {
      const { supported } = await AudioDecoder.isConfigSupported(config);
      if (!supported) return null;
    } catch {
      return null;
    }
    return new AudioTrack(source, config, fps);
  }

  constructor(source, config, fps) {
    this.source = source;
    this.config = config;
    this.fps = fps;
    this.rate = config.sampleRate;
    this.muted = false;
    this.scrubbing = true; // a setting: steps play a short sound
    this.ctx = null;
    this.output = null; // the gain node every sound goes through (tests listen here)
    this.run = 0; // playback generation: a newer play or stop ends older loops
    this.sources = new Set();
    this.chunks = new Map(); // "from:to" -> Promise of decoded buffers, oldest first
  }

  /**
   * Decode the first chunk of playback from `frame` ahead of time (a clip was opened). Decoding needs no
   * AudioContext (which waits for a gesture), so even the page's first play finds its sound ready.
   */
  warm(frame) {
    const from = this.secondsOf(frame);
    this.decoded(from, from + CHUNK).catch(() => {});
  }

  /** `decodeSpan`, remembered for the last few chunks. */
  decoded(from, to) {
    const key = `${from}:${to}`;
    let job = this.chunks.get(key);
    if (!job) {
      job = this.decodeSpan(from, to);
      job.catch(() => this.chunks.delete(key));
      this.chunks.set(key, job);
      while (this.chunks.size > KEPT_CHUNKS) this.chunks.delete(this.chunks.keys().next().value);
    }
    return job;
  }

  context() {
    if (!this.ctx) {
      this.ctx = new AudioContext({ sampleRate: this.rate, latencyHint: "interactive" });
      this.output = this.ctx.createGain();
      this.output.connect(this.ctx.destination);
      this.setMuted(this.muted);
    }
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    return this.ctx;
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.output) this.output.gain.value = muted ? 0 : 1;
  }

  /** Seconds of the track (from frame 0) for a frame number, and back. */
  secondsOf(frame) {
    return (frame * this.fps.den) / this.fps.num;
  }

  /** The context time being heard now (what has left the speakers), by the output timestamp. */
  heard(now = performance.now()) {
    const ctx = this.ctx;
    const stamp = ctx.getOutputTimestamp ? ctx.getOutputTimestamp() : null;
    if (stamp && stamp.performanceTime) return stamp.contextTime + (now - stamp.performanceTime) / 1000;
    return ctx.currentTime - (ctx.outputLatency || ctx.baseLatency || 0);
  }

  /**
   * Start sounding at frame `start`; returns the clock: a function of a performance time giving the seconds
   * of playback heard by then (0 until the first sound). Audio is fetched and scheduled a chunk ahead.
   * Given `loop` ({lo, hi}: the clip playing in a loop, `start` inside it) the sound goes round the clip on
   * its own, scheduled ahead across each restart, and the clock runs on (its `loops` is that clip): a loop
   * costs no pause for the next sound to be decoded and lead in.
   */
  play(start, loop = null) {
    const ctx = this.context();
    const run = ++this.run;
    this.stopSources(); // what an earlier play scheduled ahead (a loop restarting, a new speed)
    const origin = ctx.currentTime + LEAD; // context time at which frame `start` sounds
    const from = this.secondsOf(start);
    const round = loop && start >= loop.lo && start < loop.hi ? loop : null;
    const span = round && { from: this.secondsOf(round.lo), to: this.secondsOf(round.hi) };
    this.stream(run, from, origin - from, span).catch((error) => console.warn("audio playback", error));
    const clock = (now) => Math.max(0, this.heard(now) - origin);
    clock.loops = round;
    return clock;
  }

  /**
   * Schedule the track from second `at` on, at context time track time + `shift`, about two chunks ahead of
   * what is heard. With `loop` ({from, to}, track seconds) the track starts again at `from` when it reaches
   * `to`, the shift moved on by the loop's length. Chunks are decoded whole (a loop's last one too), so they
   * are the ones `warm` and earlier loops keep.
   */
  async stream(run, at, shift, loop) {
    while (run === this.run) {
      const end = loop ? Math.min(at + CHUNK, loop.to) : at + CHUNK;
      await this.schedule(run, at, end, shift, at + CHUNK);
      if (loop && end >= loop.to) {
        shift += loop.to - loop.from;
        at = loop.from;
      } else {
        at = end;
        if (at > this.duration()) return;
      }
      while (run === this.run && this.ctx.currentTime < at + shift - 2 * CHUNK) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  duration() {
    return this.secondsOf(this.source.video.total_frames) + 0.1;
  }

  /** Decode the audio of track seconds [from, decodeTo) and schedule [from, to) of it at context time (track
   * time + `shift`), dropping whatever would start in the past; a null `shift` means as soon as it is decoded. */
  async schedule(run, from, to, shift, decodeTo = to) {
    const buffers = await this.decoded(from, decodeTo);
    if (run !== this.run) return;
    const ctx = this.ctx;
    if (shift === null) shift = ctx.currentTime + 0.005 - from;
    for (const { time, buffer } of buffers) {
      const a = Math.max(time, from);
      const b = Math.min(time + buffer.duration, to);
      if (b <= a) continue;
      let when = a + shift;
      let offset = a - time;
      let length = b - a;
      const late = ctx.currentTime - when;
      if (late > 0) {
        when += late;
        offset += late;
        length -= late;
      }
      if (length <= 0) continue;
      const node = ctx.createBufferSource();
      node.buffer = buffer;
      node.connect(this.output);
      node.start(when, offset, length);
      this.sources.add(node);
      node.onended = () => this.sources.delete(node);
    }
  }

  /** Decoded audio of track seconds [from, to) as [{time, buffer}], one AudioBuffer per packet. */
  async decodeSpan(from, to) {
    const packets = await this.packets(from, to);
    if (!packets.length) return [];
    const out = [];
    const decoder = new AudioDecoder({
      output: (data) => {
        out.push({ time: data.timestamp / 1e6, buffer: toBuffer(data) });
        data.close();
      },
      error: (error) => console.warn("audio decode", error),
    });
    decoder.configure(this.config);
    for (const p of packets) {
      decoder.decode(new EncodedAudioChunk({ type: "key", timestamp: (p.pts / this.rate) * 1e6, data: p.data }));
    }
    await decoder.flush();
    decoder.close();
    // The first packet only primes the decoder (AAC overlaps each packet with the one before).
    return out.slice(1);
  }

  /** The packets playing during track seconds [from, to), one before, with their bytes. */
  async packets(from, to) {
    const fps = this.fps;
    const lo = Math.max(0, Math.floor((from * fps.num) / fps.den));
    const hi = Math.min(this.source.video.total_frames, Math.ceil((to * fps.num) / fps.den) + 1);
    if (lo >= hi) return [];
    const found = new Map(); // packet number -> {pts, offset, size}
    const windows = await this.source.indexWindows(lo, hi);
    let url; // the file the packets are in: the proxy, or a segmented video's own audio file
    for (const window of windows) {
      const audio = window.audio;
      if (!audio) continue;
      url = audio.url || url;
      audio.pts.forEach((pts, i) => {
        if (pts / this.rate < to && (pts + 1024) / this.rate > from - 1024 / this.rate) {
          found.set(audio.first + i, { pts, offset: audio.offsets[i], size: audio.sizes[i] });
        }
      });
    }
    const list = [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    await this.source.fetchSpans(list, url);
    return list;
  }

  /** A short sound of `frame` (its first SCRUB seconds), for stepping. */
  scrub(frame) {
    if (!this.scrubbing || this.muted) return;
    this.context();
    const run = ++this.run;
    this.stopSources();
    const from = this.secondsOf(frame);
    const length = Math.max(SCRUB, this.secondsOf(1));
    this.schedule(run, from, from + length, null).catch(() => {});
  }

  stop() {
    this.run++;
    this.stopSources();
  }

  stopSources() {
    for (const node of this.sources) {
      try {
        node.stop();
      } catch {
        /* not started yet */
      }
    }
    this.sources.clear();
  }

  close() {
    this.stop();
    if (this.ctx) this.ctx.close().catch(() => {});
  }
}

/** An AudioBuffer holding one decoded AudioData (any sample format, as planar float). */
function toBuffer(data) {
  const buffer = new AudioBuffer({
    numberOfChannels: data.numberOfChannels,
    length: data.numberOfFrames,
    sampleRate: data.sampleRate,
  });
  for (let c = 0; c < data.numberOfChannels; c++) {
    const plane = new Float32Array(data.numberOfFrames);
    data.copyTo(plane, { planeIndex: c, format: "f32-planar" });
    buffer.copyToChannel(plane, c);
  }
  return buffer;
}
