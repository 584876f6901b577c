/**
 * How much to fetch ahead of the reviewer, by what the link has been measured to carry, with no DOM.
 *
 * The frame a reviewer asks for is always fetched first and alone; these pieces decide what comes after it:
 * an estimate of the link from the fetches that completed, and a plan of the frames around the playhead whose
 * bytes one request brings within a short time budget. On a LAN the plan is the whole window
 * around the playhead; on a slow link a few frames, so a jump elsewhere never waits behind a large prefetch.
 */

import { fetchOrder } from "./frames.js";

/**
 * What the link carries, learnt from completed fetches: a fetch takes a wait (request to first byte: latency
 * and server time) plus its body's bytes over the bandwidth. Both are exponentially decayed: the bandwidth as
 * a ratio of decayed sums (bytes over body seconds), so a large fetch weighs more than a small one whose body
 * came in a packet or two; the wait as a decayed mean. `bytesWithin(seconds)` is then what one more request
 * brings in that time.
 */
export class LinkEstimate {
  constructor({ initial = 1 << 20, initialWait = 0.05, keep = 0.7 } = {}) {
    this.initial = initial; // bytes/s assumed before any fetch completed
    this.initialWait = initialWait;
    this.keep = keep; // share of the past kept at each new sample
    this.bytes = 0;
    this.bodySeconds = 0;
    this.waitSum = 0;
    this.waitWeight = 0;
    this.samples = 0;
  }

  /** Record a fetch of `bytes` whose first byte came after `waitSeconds` and its last `bodySeconds` later. */
  add(bytes, waitSeconds, bodySeconds) {
    if (!(bytes > 0) || !(waitSeconds >= 0) || !(bodySeconds >= 0)) return;
    this.bytes = this.bytes * this.keep + bytes;
    this.bodySeconds = this.bodySeconds * this.keep + Math.max(bodySeconds, 1e-3);
    this.waitSum = this.waitSum * this.keep + waitSeconds;
    this.waitWeight = this.waitWeight * this.keep + 1;
    this.samples++;
  }

  /** Bandwidth, in bytes per second. */
  get bytesPerSecond() {
    return this.samples ? this.bytes / this.bodySeconds : this.initial;
  }

  /** Seconds from a request to its first byte. */
  get waitSeconds() {
    return this.samples ? this.waitSum / this.waitWeight : this.initialWait;
  }

  /** Bytes one request brings within `seconds`, its wait included. */
  bytesWithin(seconds) {
    return this.bytesPerSecond * Math.max(0, seconds - this.waitSeconds);
  }
}

/**
 * The frames to prefetch now around `playhead`, in the order of `fetchOrder` (leaning the way of travel):
 *
 * - `horizonBytes`: the nearest frames whose bytes add up to this are the ones to hold; those already
 *   `ready(frame)` (decoded, fetched or on the way) count towards it but are not fetched again;
 * - `batchBytes`: at most this many bytes are asked for now (at least one frame when any is missing);
 * - `sizeOf(frame)`: the frame's bytes from the index, or undefined when its index window is not loaded
 *   (such a frame counts as the largest size seen so far).
 *
 * Returns {frames, bytes}: the frames to fetch and their total bytes.
 */
export function planPrefetch({ playhead, lo, hi, direction = 1, ahead = 16, behind = 8, ready = () => false,
  sizeOf = () => undefined, horizonBytes, batchBytes = horizonBytes }) {
  let held = 0;
  let largest = 0;
  const frames = [];
  let bytes = 0;
  for (const frame of fetchOrder(playhead, lo, hi, { ahead, behind, direction })) {
    const known = sizeOf(frame);
    if (known !== undefined) largest = Math.max(largest, known);
    const size = known ?? largest;
    if (frame !== playhead && held + size > horizonBytes) break;
    held += size;
    if (ready(frame)) continue;
    if (frames.length && bytes + size > batchBytes) break;
    frames.push(frame);
    bytes += size;
  }
  return { frames, bytes };
}
