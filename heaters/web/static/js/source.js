/**
 * Encoded frames of a video's review proxy: the frame index (fetched in aligned blocks, so any frame's byte
 * range is one small request away) and the frame bytes, fetched with HTTP Range requests that batch runs of
 * adjacent frames. Every proxy frame is a keyframe, so each frame's bytes decode on their own.
 *
 * Each completed Range request feeds an estimate of the link (what the prefetching plans by); a fetch can be
 * cancelled with an AbortSignal; fetched bytes are kept in a cache bounded by bytes, nearest the playhead.
 */

import { FrameCache, planRanges, sliceBatch } from "./frames.js";
import { LinkEstimate } from "./prefetch.js";

const BLOCK = 1024; // frames per index request
// Encoded bytes kept in memory: about 10 minutes of a 480p proxy, 3 of a 720p one with busy content. They
// spare the network when the reviewer comes back; a decode from them costs only milliseconds.
const ENCODED_BYTES = 64 << 20;

export class ProxySource {
  /** `video`: {id, proxy_url, index_url, total_frames}. */
  constructor(video, { fetchImpl = (...args) => fetch(...args) } = {}) {
    this.video = video;
    this.fetch = fetchImpl;
    this.blocks = new Map(); // block number -> Promise<index window>
    this.loaded = new Map(); // block number -> index window, once it has arrived
    this.bytes = new FrameCache(ENCODED_BYTES, { sizeOf: (data) => data.byteLength });
    this.link = new LinkEstimate();
    this.inflight = new Map(); // frame -> Promise<Uint8Array>
    this.wanted = 0; // fetches of a frame a reviewer is waiting for
    this.waiters = []; // resolvers of afterWanted()
    this.meta = null; // codec, description, width, height, fps of the first window
  }

  /** The decoder configuration and picture size, from the first index window. */
  async config() {
    const index = await this.indexBlock(0);
    return this.meta || index;
  }

  indexBlock(block) {
    let pending = this.blocks.get(block);
    if (!pending) {
      const start = block * BLOCK;
      const end = Math.min(start + BLOCK, this.video.total_frames);
      const url = `${this.video.index_url}?start=${start}&end=${end}`;
      pending = this.fetch(url, { credentials: "same-origin" }).then(async (response) => {
        if (!response.ok) throw new Error(`frame index ${start}-${end}: HTTP ${response.status}`);
        const index = await response.json();
        if (index.start === undefined) index.start = start;
        if (!this.meta) this.meta = index;
        this.loaded.set(block, index);
        // A video still encoding in segments: a block reaching past the encoded part is asked for again
        // next time, so frames encoded meanwhile appear without a reload; so is a block whose sound is still
        // being made (a segmented video's track comes a little after its first pictures).
        if ((index.complete === false && index.offsets.length < end - start) || index.audio_pending) {
          setTimeout(() => this.blocks.get(block) === pending && this.blocks.delete(block), 0);
        }
        if (index.audio && !this.meta.audio) {
          this.meta.audio = index.audio;
          this.meta.peaks = index.peaks;
          if (this.onAudio) this.onAudio(index);
        }
        return index;
      });
      pending.catch(() => this.blocks.delete(block)); // a failed block is asked for again next time
      this.blocks.set(block, pending);
    }
    return pending;
  }

  /** Load the index for frames [start, end) (so later fetches of them need no index request). */
  async ensureIndex(start, end) {
    const jobs = [];
    for (let b = Math.floor(start / BLOCK); b * BLOCK < end; b++) jobs.push(this.indexBlock(b));
    await Promise.all(jobs);
  }

  /** The index windows covering frames [start, end). */
  indexWindows(start, end) {
    const jobs = [];
    for (let b = Math.floor(start / BLOCK); b * BLOCK < end; b++) jobs.push(this.indexBlock(b));
    return Promise.all(jobs);
  }

  /**
   * Fetch the bytes of `spans` ([{offset, size}], e.g. audio packets) into each span's `data`, joining
   * spans that lie close together into one Range request; `url` is the file they are in (default: the proxy).
   */
  async fetchSpans(spans, url = this.video.proxy_url) {
    const todo = spans.filter((s) => !s.data).sort((a, b) => a.offset - b.offset);
    const runs = [];
    for (const span of todo) {
      const last = runs[runs.length - 1];
      if (last && span.offset >= last.end && span.offset - last.end <= 4096) {
        last.spans.push(span);
        last.end = span.offset + span.size;
      } else {
        runs.push({ start: span.offset, end: span.offset + span.size, spans: [span] });
      }
    }
    await Promise.all(
      runs.map(async (run) => {
        const response = await this.fetch(url, {
          headers: { Range: `bytes=${run.start}-${run.end - 1}` },
          credentials: "same-origin",
        });
        if (response.status !== 206 && response.status !== 200) throw new Error(`audio bytes: HTTP ${response.status}`);
        let buffer = await response.arrayBuffer();
        if (response.status === 200) buffer = buffer.slice(run.start, run.end);
        for (const span of run.spans) span.data = new Uint8Array(buffer, span.offset - run.start, span.size);
      }),
    );
  }

  cached(frame) {
    return this.bytes.get(frame);
  }

  /** The byte size of `frame` if its index window is loaded (for planning), else undefined. */
  sizeOf(frame) {
    const index = this.loaded.get(Math.floor(frame / BLOCK));
    const i = index ? frame - index.start : -1;
    return i >= 0 && i < index.sizes.length ? index.sizes[i] : undefined;
  }

  /** Whether `frame`'s bytes are in memory or on their way. */
  has(frame) {
    return this.bytes.has(frame) || this.inflight.has(frame);
  }

  /** Move the playhead of the byte cache: bytes far from it go first. */
  focus(frame) {
    this.bytes.focus(frame);
  }

  /** The bytes of the frame a reviewer is waiting for; other fetches may wait for it with `afterWanted`. */
  async fetchWanted(frame) {
    this.wanted++;
    try {
      return (await this.fetchFrames([frame])).get(frame);
    } finally {
      if (--this.wanted === 0) for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  /** Resolves once no wanted frame is on its way, so thumbnails and such never share the link with one. */
  afterWanted() {
    return this.wanted ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  /**
   * The encoded bytes of each of `frames` (a Map frame -> Uint8Array). Frames already in memory or on the
   * way are shared; the rest are fetched in as few Range requests as their byte layout allows. `signal`
   * cancels the requests this call starts (their frames are no longer on the way at once, so a later call
   * fetches them afresh).
   */
  async fetchFrames(frames, { signal } = {}) {
    const wanted = frames.filter((f) => f >= 0 && f < this.video.total_frames);
    const missing = wanted.filter((f) => !this.bytes.has(f) && !this.inflight.has(f));
    const byBlock = new Map();
    for (const f of missing) {
      const b = Math.floor(f / BLOCK);
      if (!byBlock.has(b)) byBlock.set(b, []);
      byBlock.get(b).push(f);
    }
    for (const [block, list] of byBlock) {
      const job = this.indexBlock(block).then((index) => this.fetchBatches(list, index, signal));
      const mine = new Map();
      for (const f of list) {
        const one = job.then((got) => {
          const data = got.get(f);
          if (!data) throw new Error(`frame ${f} missing from the proxy response`);
          return data;
        });
        one.catch(() => {}).finally(() => this.inflight.get(f) === one && this.inflight.delete(f));
        this.inflight.set(f, one);
        mine.set(f, one);
      }
      signal?.addEventListener("abort", () => {
        for (const [f, one] of mine) if (this.inflight.get(f) === one) this.inflight.delete(f);
      });
    }
    const result = new Map();
    await Promise.all(
      wanted.map(async (f) => {
        result.set(f, this.bytes.get(f) || (await this.inflight.get(f)));
      }),
    );
    return result;
  }

  async fetchBatches(frames, index, signal) {
    const got = new Map();
    await Promise.all(
      planRanges(frames, index).map(async (batch) => {
        const response = await this.fetch(this.video.proxy_url, {
          headers: { Range: `bytes=${batch.start}-${batch.end - 1}` },
          credentials: "same-origin",
          signal,
        });
        if (response.status !== 206 && response.status !== 200) {
          throw new Error(`proxy bytes ${batch.start}-${batch.end - 1}: HTTP ${response.status}`);
        }
        const headers = performance.now();
        let buffer = await response.arrayBuffer();
        this.link.add(buffer.byteLength, (performance.now() - headers) / 1000);
        // A server that ignores Range answers 200 with the whole file; take our part of it.
        if (response.status === 200) buffer = buffer.slice(batch.start, batch.end);
        for (const [frame, data] of sliceBatch(batch, buffer, index)) {
          got.set(frame, data);
          this.remember(frame, data);
        }
      }),
    );
    return got;
  }

  remember(frame, data) {
    if (this.bytes.has(frame)) return;
    // A frame of a batch is a view of the batch's buffer: keep a copy of its own, so the cache's byte count
    // is what it really holds and an evicted frame frees its memory.
    const own = data.byteLength === data.buffer.byteLength ? data : data.slice();
    this.bytes.set(frame, own);
  }
}

/** Decode a base64 string (the avcC description) into bytes. */
export function base64Bytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
