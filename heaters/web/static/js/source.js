/**
 * Encoded frames of a video's review proxy: the frame index (fetched in aligned blocks, so any frame's byte
 * range is one small request away) and the frame bytes, fetched with HTTP Range requests that batch runs of
 * adjacent frames. Every proxy frame is a keyframe, so each frame's bytes decode on their own.
 */

import { planRanges, sliceBatch } from "./frames.js";

const BLOCK = 1024; // frames per index request
const BYTE_BUDGET = 96 << 20; // encoded bytes kept in memory

export class ProxySource {
  /** `video`: {id, proxy_url, index_url, total_frames}. */
  constructor(video, { fetchImpl = (...args) => fetch(...args) } = {}) {
    this.video = video;
    this.fetch = fetchImpl;
    this.blocks = new Map(); // block number -> Promise<index window>
    this.bytes = new Map(); // frame -> Uint8Array, in insertion (age) order
    this.byteTotal = 0;
    this.inflight = new Map(); // frame -> Promise<Uint8Array>
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

  /**
   * The encoded bytes of each of `frames` (a Map frame -> Uint8Array). Frames already in memory or on the
   * way are shared; the rest are fetched in as few Range requests as their byte layout allows.
   */
  async fetchFrames(frames) {
    const wanted = frames.filter((f) => f >= 0 && f < this.video.total_frames);
    const missing = wanted.filter((f) => !this.bytes.has(f) && !this.inflight.has(f));
    const byBlock = new Map();
    for (const f of missing) {
      const b = Math.floor(f / BLOCK);
      if (!byBlock.has(b)) byBlock.set(b, []);
      byBlock.get(b).push(f);
    }
    for (const [block, list] of byBlock) {
      const job = this.indexBlock(block).then((index) => this.fetchBatches(list, index));
      for (const f of list) {
        const one = job.then((got) => {
          const data = got.get(f);
          if (!data) throw new Error(`frame ${f} missing from the proxy response`);
          return data;
        });
        one.catch(() => {}).finally(() => this.inflight.delete(f));
        this.inflight.set(f, one);
      }
    }
    const result = new Map();
    await Promise.all(
      wanted.map(async (f) => {
        result.set(f, this.bytes.get(f) || (await this.inflight.get(f)));
      }),
    );
    return result;
  }

  async fetchBatches(frames, index) {
    const got = new Map();
    await Promise.all(
      planRanges(frames, index).map(async (batch) => {
        const response = await this.fetch(this.video.proxy_url, {
          headers: { Range: `bytes=${batch.start}-${batch.end - 1}` },
          credentials: "same-origin",
        });
        if (response.status !== 206 && response.status !== 200) {
          throw new Error(`proxy bytes ${batch.start}-${batch.end - 1}: HTTP ${response.status}`);
        }
        let buffer = await response.arrayBuffer();
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
    this.bytes.set(frame, data);
    this.byteTotal += data.byteLength;
    // Oldest first: encoded frames are cheap to fetch again, so plain age is a good enough policy.
    for (const [old, bytes] of this.bytes) {
      if (this.byteTotal <= BYTE_BUDGET) break;
      this.bytes.delete(old);
      this.byteTotal -= bytes.byteLength;
    }
  }
}

/** Decode a base64 string (the avcC description) into bytes. */
export function base64Bytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
