// The shared player's clock and looping (playback.js), run with `node --test` on a fake clock and frame loop.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BasePlayer } from "../../heaters/web/static/js/playback.js";

/** Animation frames run by hand: `frame(ms)` runs the callbacks waiting, at page time `ms`. */
function animationFrames() {
  let waiting = [];
  globalThis.requestAnimationFrame = (fn) => waiting.push(fn);
  globalThis.cancelAnimationFrame = () => {
    waiting = [];
  };
  return (ms) => {
    const now = waiting;
    waiting = [];
    for (const fn of now) fn(ms);
  };
}

/** A player at 10 fps whose clock counts page milliseconds from its start, going round the clip if `loops`. */
class FakePlayer extends BasePlayer {
  constructor({ loops }) {
    super({ fps: "10/1", total_frames: 100 });
    this.loops = loops;
    this.clocks = []; // [start, loop] of every clock started
    this.shown = [];
    this.startedAt = 0;
  }

  startClock(start, _rate, loop) {
    this.clocks.push([start, loop]);
    const origin = this.startedAt;
    const clock = (now) => Math.max(0, now - origin) / 1000;
    clock.loops = this.loops ? loop : null;
    return clock;
  }

  show(frame) {
    this.frame = frame;
    this.shown.push(frame);
    return Promise.resolve(true);
  }
}

/** A FakePlayer playing the clip [10, 20) from its start, and the frame loop driving it. */
function playingClip(options) {
  const frame = animationFrames();
  const player = new FakePlayer(options);
  player.setRange(10, 20);
  player.seek(10);
  player.play();
  return [frame, player];
}

test("a clock going round the clip plays on across the loop, started once", () => {
  const [frame, player] = playingClip({ loops: true });
  for (const ms of [0, 500, 999, 1000, 1500, 2300]) frame(ms);
  assert.deepEqual(player.shown.slice(-6), [10, 15, 19, 10, 15, 13]);
  assert.deepEqual(player.clocks, [[10, { lo: 10, hi: 20 }]]);
});

test("a clock that does not go round is started again at each loop", () => {
  const [frame, player] = playingClip({ loops: false });
  frame(0);
  frame(1000); // past the clip's end: again from its start, on a new clock
  assert.equal(player.target, 10);
  assert.equal(player.clocks.length, 2);
});

test("a new clip under a clock that went round the old one starts it again; without loop it stops", () => {
  const [frame, player] = playingClip({ loops: true });
  frame(200);
  player.setRange(10, 40); // a cut removed while playing: the clip grows
  frame(300);
  assert.deepEqual(player.clocks[1], [13, { lo: 10, hi: 40 }]);
  player.setLoop(false);
  frame(3000); // past the end with looping off: the last frame, paused
  assert.equal(player.playing, false);
  assert.equal(player.target, 39);
});
