// Bandwidth-paced prefetching (prefetch.js) and the proxy source's fetching, run with `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LinkEstimate, planPrefetch } from "../../heaters/web/static/js/prefetch.js";
import { ProxySource } from "../../heaters/web/static/js/source.js";

test("LinkEstimate starts from its guess, then follows completed bodies, large ones weighing more", () => {
  const link = new LinkEstimate({ initial: 1000 });
  assert.equal(link.bytesPerSecond, 1000);
  assert.equal(link.bytesWithin(0.25), 250);
  link.add(0, 0.1); // nothing learned
  assert.equal(link.samples, 0);
  link.add(2_500_000, 1); // 20 Mbit/s
  assert.equal(link.bytesPerSecond, 2_500_000);
  assert.equal(link.bytesWithin(0.25), 625_000);
  // A small body that came in one packet (no measurable time) barely moves it...
  link.add(1000, 0);
  assert.ok(link.bytesPerSecond > 2_000_000 && link.bytesPerSecond < 3_000_000, `${link.bytesPerSecond}`);
  // ...while a run of large ones at another speed takes it there.
  for (let i = 0; i < 20; i++) link.add(10_000_000, 1);
  assert.ok(Math.abs(link.bytesPerSecond - 10_000_000) < 100_000, `${link.bytesPerSecond}`);
});

const flat = (size) => () => size;

test("a plan holds what the link brings within the budget, nearest first and leaning forward", () => {
  const base = { playhead: 100, lo: 0, hi: 1000, ahead: 16, behind: 8, sizeOf: flat(100_000) };
  // 20 Mbit/s for 250 ms moves 625 kB: the playhead's frame and five more, two ahead for one behind...
  const slow = planPrefetch({ ...base, horizonBytes: 625_000, ready: (f) => f === 100 });
  assert.deepEqual(slow.frames, [101, 102, 99, 103, 104]);
  assert.equal(slow.bytes, 500_000);
  // ...backwards when travelling backwards...
  assert.deepEqual(planPrefetch({ ...base, direction: -1, horizonBytes: 625_000, ready: (f) => f === 100 }).frames,
    [99, 98, 101, 97, 96]);
  // ...and the whole window on a LAN.
  const fast = planPrefetch({ ...base, horizonBytes: 100e6, ready: (f) => f === 100 });
  assert.equal(fast.frames.length, 24);
  assert.equal(Math.max(...fast.frames), 116);
  assert.equal(Math.min(...fast.frames), 92);
});

test("frames already ready count towards the horizon, so a step fetches only what came into it", () => {
  const have = new Set([100, 101, 102, 103, 104, 99]);
  const plan = planPrefetch({ playhead: 101, lo: 0, hi: 1000, sizeOf: flat(100_000), horizonBytes: 625_000,
    ready: (f) => have.has(f) });
  assert.deepEqual(plan.frames, [105]);
  const none = planPrefetch({ playhead: 100, lo: 0, hi: 1000, sizeOf: flat(100_000), horizonBytes: 625_000,
    ready: (f) => have.has(f) });
  assert.deepEqual(none.frames, []);
});

test("one request stays within the batch budget but always brings a frame; clip edges bound the plan", () => {
  const base = { playhead: 10, lo: 0, hi: 1000, sizeOf: flat(100_000), ready: (f) => f === 10 };
  const plan = planPrefetch({ ...base, horizonBytes: 1e9, batchBytes: 250_000 });
  assert.deepEqual(plan.frames, [11, 12]);
  // A link so slow that not even one frame fits: still one frame (else nothing would ever be prefetched).
  assert.deepEqual(planPrefetch({ ...base, horizonBytes: 1e9, batchBytes: 10 }).frames, [11]);
  // Only the playhead's frame within the horizon: nothing beyond it.
  assert.deepEqual(planPrefetch({ ...base, horizonBytes: 10 }).frames, []);
  // Inside the clip [8, 12) only.
  const edge = planPrefetch({ ...base, lo: 8, hi: 12, horizonBytes: 1e9 });
  assert.deepEqual(edge.frames.sort((a, b) => a - b), [8, 9, 11]);
});

test("frames whose size is not known yet count as the largest seen", () => {
  const sizes = new Map([[100, 50_000], [101, 200_000]]);
  const plan = planPrefetch({ playhead: 100, lo: 0, hi: 1000, behind: 0, sizeOf: (f) => sizes.get(f),
    ready: (f) => f === 100, horizonBytes: 650_000 });
  assert.deepEqual(plan.frames, [101, 102, 103]); // 50k + 200k + 2 x 200k
});

/** A proxy of `frames` frames of `size` bytes each, served by a fetch that records every request. */
function fakeProxy(frames, size) {
  const requests = [];
  const fetchImpl = async (url, options = {}) => {
    if (url.startsWith("/index")) {
      const params = new URL(url, "http://x").searchParams;
      const start = Number(params.get("start"));
      const end = Number(params.get("end"));
      const offsets = [];
      for (let f = start; f < end; f++) offsets.push(1000 + f * size);
      return { ok: true, json: async () => ({ start, end, offsets, sizes: offsets.map(() => size) }) };
    }
    const [from, to] = options.headers.Range.slice(6).split("-").map(Number);
    const request = { from, to, aborted: false };
    requests.push(request);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (options.signal?.aborted) {
      request.aborted = true;
      throw Object.assign(new Error("aborted"), { name: "AbortError" });
    }
    const bytes = new Uint8Array(to - from + 1).map((_, i) => (from + i) % 251);
    return { status: 206, arrayBuffer: async () => bytes.buffer };
  };
  const video = { id: 1, proxy_url: "/proxy.mp4", index_url: "/index", total_frames: frames };
  return { requests, source: new ProxySource(video, { fetchImpl }) };
}

test("the source fetches one frame's exact bytes, measures the link, and keeps its own copy", async () => {
  const { requests, source } = fakeProxy(5000, 1000);
  const got = await source.fetchFrames([2100]);
  assert.deepEqual(requests, [{ from: 1000 + 2100 * 1000, to: 1000 + 2101 * 1000 - 1, aborted: false }]);
  assert.equal(got.get(2100).byteLength, 1000);
  assert.equal(got.get(2100)[0], (1000 + 2100 * 1000) % 251);
  assert.equal(source.sizeOf(2100), 1000);
  assert.equal(source.sizeOf(4000), undefined, "its index window is not loaded");
  assert.equal(source.link.samples, 1);
  // A batch of adjacent frames is one request; each frame is stored as a copy of its own bytes.
  await source.fetchFrames([2101, 2102, 2103]);
  assert.equal(requests.length, 2);
  assert.equal(source.cached(2102).buffer.byteLength, 1000);
  assert.equal(source.bytes.bytes, 4000);
});

test("a cancelled prefetch is no longer on the way: the frame is fetched afresh", async () => {
  const { requests, source } = fakeProxy(100, 1000);
  await source.fetchFrames([0]);
  const abort = new AbortController();
  const prefetch = source.fetchFrames([1, 2, 3], { signal: abort.signal });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(source.has(2));
  abort.abort();
  assert.equal(source.has(2), false);
  await assert.rejects(prefetch, { name: "AbortError" });
  const again = await source.fetchFrames([2]);
  assert.equal(again.get(2).byteLength, 1000);
  assert.equal(requests.filter((r) => r.aborted).length, 1);
  assert.equal(source.link.samples, 2, "an aborted fetch teaches nothing about the link");
});

test("other fetches wait until the frame a reviewer waits for has arrived", async () => {
  const { requests, source } = fakeProxy(100, 1000);
  await source.config();
  const order = [];
  const wanted = source.fetchWanted(50).then(() => order.push("wanted"));
  const thumbs = source.afterWanted().then(() => source.fetchFrames([10, 20])).then(() => order.push("thumbs"));
  await Promise.all([wanted, thumbs]);
  assert.deepEqual(order, ["wanted", "thumbs"]);
  assert.equal(requests[0].from, 1000 + 50 * 1000, "the wanted frame's request went out first");
  assert.equal(requests.length, 3);
  await source.afterWanted(); // nothing on its way: at once
});

test("the encoded cache stays within its byte budget", async () => {
  const { source } = fakeProxy(2000, 100_000);
  source.focus(0);
  for (let f = 0; f < 1000; f += 50) await source.fetchFrames(Array.from({ length: 50 }, (_, i) => f + i));
  assert.ok(source.bytes.bytes <= source.bytes.maxBytes, `${source.bytes.bytes}`);
  assert.ok(source.bytes.size < 1000);
  assert.ok(source.cached(0), "the frames nearest the playhead stay");
});
