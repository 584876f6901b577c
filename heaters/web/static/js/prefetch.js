/**
 * How much to fetch ahead of the reviewer, by what the link has been measured to carry, with no DOM.
 *
 * The frame a reviewer asks for is always fetched first and alone; these pieces decide what comes after it:
 * an estimate of the link's bandwidth from the fetches that completed, and a plan of the frames around the
 * playhead whose bytes the link moves within a short time budget. On a LAN the plan is the whole window
 * around the playhead; on a slow link a few frames, so a jump elsewhere never waits behind a large prefetch.
 */

import { fetchOrder } from "./frames.js";

/**
 * The link's bandwidth, learnt from completed fetches: the bytes of each response body over the time from
 * its first byte to its last, so the wait before the first byte (latency and the server's time, during
 * which the link is idle) does not make a fast link look slow. Exponentially decayed, as a ratio of decayed
 * sums, so a large body weighs more than a small one that came in a packet or two.
 */
export class LinkEstimate {
  constructor({ initial = 1 << 20, keep = 0.7 } = {}) {
    this.initial = initial; // bytes/s assumed before any fetch completed
    this.keep = keep; // share of the past kept at each new sample
    this.bytes = 0;
    this.seconds = 0;
    this.samples = 0;
  }

  /** Record a response body of `bytes` whose last byte came `bodySeconds` after its first. */
  add(bytes, bodySeconds) {
    if (!(bytes > 0) || !(bodySeconds >= 0)) return;
    this.bytes = this.bytes * this.keep + bytes;
    this.seconds = this.seconds * this.keep + Math.max(bodySeconds, 1e-3);
    this.samples++;
  }

  /** Bandwidth, in bytes per second. */
  get bytesPerSecond() {
    return this.samples ? this.bytes / this.seconds : this.initial;
  }

  /** Bytes the link moves in `seconds` (what one request of that length may ask for). */
  bytesWithin(seconds) {
    return this.bytesPerSecond * seconds;
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
