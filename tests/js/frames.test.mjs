// Unit tests of the DOM-free player logic (frames.js, keymap.js), run with `node --test`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as F from "../../heaters/web/static/js/frames.js";
import { groups, match, setKeyTable } from "../../heaters/web/static/js/keymap.js";

// The key table the server sends (heaters.keymap.page_table()), written out by test_node.py.
setKeyTable(JSON.parse(readFileSync(process.env.HEATERS_KEY_TABLE, "utf8")));

const ntsc = F.parseFps("30000/1001");

test("frame rates parse exactly and reject nonsense", () => {
  assert.deepEqual(F.parseFps("25"), { num: 25, den: 1 });
  assert.deepEqual(F.parseFps({ num: 24000, den: 1001 }), { num: 24000, den: 1001 });
  assert.throws(() => F.parseFps("0/1"), RangeError);
  assert.throws(() => F.parseFps("abc"), RangeError);
});

test("frame -> seconds -> frame round-trips for an hour of 29.97", () => {
  for (let f = 0; f < 30 * 3600; f += 997) {
    assert.equal(F.secondsToFrame(F.frameToSeconds(f, ntsc), ntsc), f);
    assert.equal(F.secondsToFrame(F.frameCentreSeconds(f, ntsc), ntsc), f);
  }
  assert.equal(F.frameToSeconds(30000, ntsc), 1001);
});

test("timecodes, non-drop and drop-frame", () => {
  const pal = F.parseFps("25");
  assert.equal(F.timecode(0, pal), "00:00:00:00");
  assert.equal(F.timecode(25 * 3661 + 7, pal), "01:01:01:07");
  assert.equal(F.timecode(1800, ntsc), "00:01:00:00");
  // Drop-frame: labels ;00 and ;01 do not exist at minute 1, but do at minute 10.
  assert.equal(F.timecode(1799, ntsc, { dropFrame: true }), "00:00:59;29");
  assert.equal(F.timecode(1800, ntsc, { dropFrame: true }), "00:01:00;02");
  assert.equal(F.timecode(17982, ntsc, { dropFrame: true }), "00:10:00;00");
  // One hour of real time is 107892 frames at 29.97, and drop-frame reads exactly one hour.
  assert.equal(F.timecode(107892, ntsc, { dropFrame: true }), "01:00:00;00");
  assert.equal(F.isDropFrameRate(pal), false);
  assert.equal(F.timecode(1800, pal, { dropFrame: true }), "00:01:12:00");
});

const index = { start: 100, offsets: [1000, 1100, 1250, 9000, 9050], sizes: [100, 150, 50, 50, 60] };

test("planRanges batches adjacent frames and splits at gaps", () => {
  const batches = F.planRanges([104, 100, 101, 102, 103, 101], index, { maxGap: 0 });
  assert.deepEqual(batches, [
    { frames: [100, 101, 102], start: 1000, end: 1300 },
    { frames: [103, 104], start: 9000, end: 9110 },
  ]);
  assert.equal(F.planRanges([100, 102], index, { maxGap: 0 }).length, 2);
  assert.equal(F.planRanges([100, 102], index, { maxGap: 150 }).length, 1);
  assert.equal(F.planRanges([100, 101, 102], index, { maxBytes: 200 }).length, 2);
  assert.throws(() => F.planRanges([99], index), RangeError);
});

test("sliceBatch cuts a response into frames", () => {
  const [batch] = F.planRanges([100, 101, 102], index);
  const buffer = new Uint8Array(300).map((_, i) => i % 251).buffer;
  const parts = F.sliceBatch(batch, buffer, index);
  assert.deepEqual(parts.map(([f, d]) => [f, d.byteLength, d[0]]), [[100, 100, 0], [101, 150, 100], [102, 50, 250 % 251]]);
  assert.throws(() => F.sliceBatch(batch, new ArrayBuffer(10), index), RangeError);
});

test("fetchOrder starts at the playhead and leans the way playback goes, in proportion", () => {
  assert.deepEqual(F.fetchOrder(10, 0, 100, { ahead: 3, behind: 1 }), [10, 11, 12, 13, 9]);
  assert.deepEqual(F.fetchOrder(10, 0, 100, { ahead: 2, behind: 1, direction: -1 }), [10, 9, 8, 11]);
  assert.deepEqual(F.fetchOrder(1, 0, 3, { ahead: 5, behind: 5 }), [1, 2, 0]);
  // Two ahead for each one behind, whatever length the plan is cut to.
  assert.deepEqual(F.fetchOrder(50, 0, 100, { ahead: 4, behind: 2 }), [50, 51, 52, 49, 53, 54, 48]);
});

test("FrameCache is bounded by bytes, evicts far from the playhead, and releases what it evicts", () => {
  const released = [];
  const cache = new F.FrameCache(300, { sizeOf: (v) => v.bytes, onEvict: (v) => released.push(v.name) });
  const item = (name, bytes = 100) => ({ name, bytes });
  cache.focus(10);
  for (const f of [10, 11, 12]) cache.set(f, item(`v${f}`));
  assert.equal(cache.bytes, 300);
  cache.set(5, item("v5")); // 5 behind costs 10 > 2 ahead: it goes at once
  assert.deepEqual(released, ["v5"]);
  cache.focus(12);
  cache.set(13, item("v13")); // now 10 is farthest (behind, 2 -> cost 4)
  assert.deepEqual(released, ["v5", "v10"]);
  assert.equal(cache.size, 3);
  cache.set(13, item("v13b")); // replacing releases the old value
  assert.deepEqual(released, ["v5", "v10", "v13"]);
  assert.equal(cache.bytes, 300);
  // One large entry makes room for itself by bytes, not by count: two small ones go, farthest first.
  cache.focus(13);
  cache.set(14, item("big", 200));
  assert.deepEqual(released.slice(3), ["v11", "v12"]);
  assert.deepEqual([...cache.entries.keys()].sort(), [13, 14]);
  assert.equal(cache.bytes, 300);
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(cache.bytes, 0);
});

test("FrameCache keeps a single entry even when it alone is over budget", () => {
  const released = [];
  const cache = new F.FrameCache(100, { sizeOf: (v) => v.length, onEvict: (v) => released.push(v) });
  cache.focus(500);
  cache.set(0, "x".repeat(60));
  cache.set(500, "y".repeat(400)); // the playhead's frame: 0 goes, and it stays although over budget
  assert.ok(cache.has(500));
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, 400);
  assert.deepEqual(released, ["x".repeat(60)]);
});

test("FrameCache holds many small frames and few large ones in the same budget", () => {
  const budget = 192 << 20;
  const small = new F.FrameCache(budget, { sizeOf: F.videoFrameBytes });
  const large = new F.FrameCache(budget, { sizeOf: F.videoFrameBytes });
  const frame = (w, h) => ({ codedWidth: w, codedHeight: h, allocationSize: () => (w * h * 3) / 2 });
  for (let f = 0; f < 1000; f++) {
    small.set(f, frame(640, 360));
    large.set(f, frame(1920, 1080));
  }
  assert.ok(small.bytes <= budget && large.bytes <= budget);
  assert.equal(large.size, Math.floor(budget / (1920 * 1080 * 1.5)));
  assert.equal(small.size, Math.floor(budget / (640 * 360 * 1.5)));
});

test("videoFrameBytes asks the frame, else counts its coded size as I420", () => {
  assert.equal(F.videoFrameBytes({ codedWidth: 4, codedHeight: 2, allocationSize: () => 48 }), 48);
  const closed = { codedWidth: 1280, codedHeight: 720, allocationSize: () => { throw new Error("closed"); } };
  assert.equal(F.videoFrameBytes(closed), 1280 * 720 * 1.5);
});

test("KeyRepeat accelerates held keys and resets on a new press", () => {
  let now = 0;
  const keys = new F.KeyRepeat({ thresholds: [2, 4], now: () => now });
  const steps = [];
  steps.push(keys.step("ArrowRight", 1, false));
  for (let i = 0; i < 5; i++) {
    now += 30;
    steps.push(keys.step("ArrowRight", 1, true));
  }
  assert.deepEqual(steps, [1, 1, 2, 2, 4, 4]);
  assert.equal(keys.step("ArrowRight", -1, false), -1);
  now += 1000;
  assert.equal(keys.step("ArrowRight", 1, true), 1); // a long pause breaks the run
});

const clips = [
  { id: 1, start_frame: 0, end_frame: 10 },
  { id: 2, start_frame: 10, end_frame: 25 },
  { id: 3, start_frame: 25, end_frame: 40 },
];

test("cuts and clips around a frame", () => {
  assert.equal(F.clipAt(clips, 0).id, 1);
  assert.equal(F.clipAt(clips, 24).id, 2);
  assert.equal(F.clipAt(clips, 40), null);
  assert.deepEqual(F.cutsOf(clips), [10, 25]);
  assert.equal(F.prevCut(clips, 25), 10);
  assert.equal(F.prevCut(clips, 10), null);
  assert.equal(F.nextCut(clips, 10), 25);
  assert.equal(F.nextCut(clips, 30), null);
  assert.equal(F.nearestCut(clips, 17), 10);
  assert.equal(F.nearestCut(clips, 18), 25);
  assert.equal(F.clampFrame(50, 10, 25), 24);
});

test("the key map matches every documented action", () => {
  const ev = (key, extra = {}) => ({ key, shiftKey: false, ctrlKey: false, altKey: false, metaKey: false, ...extra });
  assert.deepEqual(match(ev("ArrowRight", { shiftKey: true })), { action: "step10", arg: 10 });
  assert.deepEqual(match(ev("X", { shiftKey: true })), { action: "removeEnd" });
  assert.deepEqual(match(ev("z", { ctrlKey: true })), { action: "undo" });
  assert.deepEqual(match(ev("Z", { ctrlKey: true, shiftKey: true })), { action: "redo" });
  assert.deepEqual(match(ev("Z", { shiftKey: true })), { action: "redo" });
  assert.deepEqual(match(ev("A", { shiftKey: true })), { action: "reopen" });
  assert.deepEqual(match(ev("L", { shiftKey: true })), { action: "loop" });
  assert.deepEqual(match(ev("j")), { action: "shuttle", arg: -1 });
  assert.deepEqual(match(ev("?", { shiftKey: true })), { action: "help" });
  assert.deepEqual(match(ev(" ")), { action: "play" });
  assert.equal(match(ev("a", { altKey: true })), null);
  const documented = new Set(groups().flatMap((g) => g.bindings.map((b) => b[1])));
  const keys = ["ArrowLeft", "Home", "[", " ", "l", "+", "c", "x", ",", "m", "a", "s", "r", "n", "z", "?", "Escape", "i", "o", "g"];
  for (const key of keys) assert.ok(documented.has(match(ev(key)).action), key);
});

test("a typed position is a frame number, a timecode or seconds", () => {
  const fps30 = F.parseFps("30");
  assert.equal(F.parseFramePosition("1234", fps30), 1234);
  assert.equal(F.parseFramePosition("00:00:02:05", fps30), 65);
  assert.equal(F.parseFramePosition("01:00:00:00", fps30), 108000);
  assert.equal(F.parseFramePosition("2.5", fps30), 75);
  assert.equal(F.parseFramePosition("1:02.5", fps30), 1875);
  assert.equal(F.parseFramePosition("00:00:01:30", fps30), null); // no frame 30 at 30 fps
  assert.equal(F.parseFramePosition("soon", fps30), null);
  // Drop-frame timecode round-trips through the label the counter shows.
  for (const f of [0, 1799, 1800, 17982, 17983, 107892]) {
    assert.equal(F.parseFramePosition(F.timecode(f, ntsc, { dropFrame: true }), ntsc), f);
  }
});

test("ruler ticks are round numbers at least 80 px apart", () => {
  const fps25 = F.parseFps("25");
  assert.equal(F.rulerStep(0.01, fps25), 1);
  assert.equal(F.rulerStep(0.1, fps25), 10);
  assert.equal(F.rulerStep(1, fps25), 125); // 5 s
  assert.ok(F.rulerStep(1, fps25) / 1 >= 80);
  assert.equal(F.rulerStep(100, fps25), 10 * 60 * 25);
});
