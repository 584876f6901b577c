/**
 * A WebCodecs `VideoDecoder` for all-intra proxy frames, with a queue of our own in front of it so an
 * urgent frame (the one a reviewer just asked for) overtakes prefetching, and a promise per frame.
 *
 * Chunks carry the frame number as their timestamp, so each output frame says which frame it is. With
 * `optimizeForLatency` the decoder hands every frame out as soon as it is decoded instead of holding one
 * back; decoding a keyframe never depends on earlier chunks, so the queue may run in any order.
 */

const DEPTH = 2; // chunks handed to the decoder at once: enough to keep it busy, few enough to reorder

/** The VideoDecoder configuration: low latency, else the decoder holds one frame back and N paints N-1. */
function decoderConfig(config) {
  return {
    codec: config.codec,
    description: config.description,
    codedWidth: config.codedWidth,
    codedHeight: config.codedHeight,
    optimizeForLatency: true,
    hardwareAcceleration: "no-preference",
  };
}

export class FrameDecoder {
  /** `config`: {codec, description (Uint8Array), codedWidth, codedHeight}. */
  constructor(config) {
    this.config = decoderConfig(config);
    this.queue = []; // {frame, bytes, resolve, reject}
    this.waiting = new Map(); // frame -> [{resolve, reject}] handed to the decoder
    this.submitted = 0;
    this.closed = false;
    this.decoder = null;
  }

  static async supported(config) {
    if (typeof VideoDecoder === "undefined") return false;
    try {
      const { supported } = await VideoDecoder.isConfigSupported(decoderConfig(config));
      return supported;
    } catch {
      return false;
    }
  }

  open() {
    this.decoder = new VideoDecoder({
      output: (frame) => this.onOutput(frame),
      error: (error) => this.onError(error),
    });
    this.decoder.configure(this.config);
  }

  /** A promise of the decoded `VideoFrame` of `frame` (the caller closes it). Urgent frames jump the queue. */
  decode(frame, bytes, { urgent = false } = {}) {
    if (this.closed) return Promise.reject(new Error("decoder closed"));
    return new Promise((resolve, reject) => {
      const job = { frame, bytes, resolve, reject };
      if (urgent) this.queue.unshift(job);
      else this.queue.push(job);
      this.pump();
    });
  }

  /** Move a queued frame to the front (the reviewer just asked for it). */
  promote(frame) {
    const i = this.queue.findIndex((job) => job.frame === frame);
    if (i > 0) this.queue.unshift(...this.queue.splice(i, 1));
  }

  /** Drop queued (not yet submitted) jobs that `keep` rejects; their promises resolve to null. */
  prune(keep) {
    const kept = [];
    for (const job of this.queue) {
      if (keep(job.frame)) kept.push(job);
      else job.resolve(null);
    }
    this.queue = kept;
  }

  pump() {
    if (!this.decoder || this.decoder.state === "closed") this.open();
    while (this.submitted < DEPTH && this.queue.length) {
      const job = this.queue.shift();
      const list = this.waiting.get(job.frame) || [];
      list.push(job);
      this.waiting.set(job.frame, list);
      this.submitted++;
      try {
        this.decoder.decode(new EncodedVideoChunk({ type: "key", timestamp: job.frame, data: job.bytes }));
      } catch (error) {
        this.onError(error);
        return;
      }
    }
  }

  onOutput(videoFrame) {
    const frame = videoFrame.timestamp;
    const list = this.waiting.get(frame);
    if (!list || !list.length) {
      videoFrame.close(); // nobody asked (a reset raced with it)
      return;
    }
    const job = list.shift();
    if (!list.length) this.waiting.delete(frame);
    this.submitted--;
    job.resolve(videoFrame); // one output per submitted chunk, so each request gets its own frame
    this.pump();
  }

  onError(error) {
    // A failed decoder is closed for good: fail what it held, and start a fresh one for the rest.
    for (const list of this.waiting.values()) for (const job of list) job.reject(error);
    this.waiting.clear();
    this.submitted = 0;
    try {
      if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    } catch {
      /* already closed */
    }
    this.decoder = null;
    if (!this.closed && this.queue.length) queueMicrotask(() => this.pump());
  }

  close() {
    this.closed = true;
    for (const job of this.queue) job.resolve(null);
    this.queue = [];
    for (const list of this.waiting.values()) for (const job of list) job.resolve(null);
    this.waiting.clear();
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
  }
}
