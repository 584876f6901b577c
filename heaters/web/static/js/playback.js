/**
 * What every player shares, whatever paints the picture: the clip range being reviewed, looping, stepping,
 * and play/pause driven by a wall clock at the video's exact frame rate.
 *
 * A subclass implements `show(frame)` (a promise resolved once the frame is on screen, false when a later
 * request overtook it) and may override `startPlayback`/`stopPlayback`.
 */

import { clampFrame, parseFps } from "./frames.js";

export class BasePlayer {
  constructor(video) {
    this.video = video;
    this.fps = parseFps(video.fps);
    this.total = video.total_frames;
    this.frame = -1; // the absolute frame on screen; -1 until the first paint
    this.target = 0;
    this.lo = 0;
    this.hi = this.total;
    this.loop = true;
    this.playing = false;
    this.direction = 1;
    this.listeners = new Set();
    this.raf = 0;
    this.muted = false;
    this.rate = 1; // while playing: frames per frame period, negative backwards
    this.speed = 1; // what Space plays at
  }

  /** Call `fn(frame)` after every paint and every play/pause/loop change; returns an unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    for (const fn of this.listeners) fn(this.frame, this);
  }

  /** Review the clip [lo, hi): playback and looping stay inside it. */
  setRange(lo, hi) {
    this.lo = Math.max(0, lo);
    this.hi = Math.min(this.total, Math.max(hi, lo + 1));
  }

  /** Show `frame` (clamped to the video); resolves true once it is painted, false if overtaken. */
  seek(frame) {
    const f = clampFrame(Math.round(frame), 0, this.total);
    this.direction = f >= this.target ? 1 : -1;
    this.target = f;
    return this.show(f);
  }

  /** `seek` for internal callers: a failure is already reported to the listeners, so nothing to rethrow. */
  go(frame) {
    this.seek(frame).catch(() => {});
  }

  /** Step `n` frames from the frame being shown or requested, inside the clip. */
  step(n) {
    if (this.playing) this.pause();
    return this.seek(clampFrame(this.target + n, this.lo, this.hi));
  }

  setLoop(loop) {
    this.loop = loop;
    this.notify();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /**
   * Play at `rate` frames per frame period: 1 is normal speed, 2/4/8 faster, negative plays backwards
   * (frame by frame, exactly: every proxy frame decodes on its own). Playing again at another rate
   * changes speed in place.
   */
  play(rate = this.speed) {
    if (this.playing && rate === this.rate) return;
    const restart = this.playing;
    if (restart) this.stopPlayback();
    this.playing = true;
    this.rate = rate;
    this.direction = rate > 0 ? 1 : -1;
    let start = this.target;
    if (rate > 0 && (start < this.lo || start >= this.hi - 1) && !restart) start = this.lo; // from the end: again
    if (rate < 0 && (start <= this.lo || start >= this.hi) && !restart) start = this.hi - 1;
    this.startPlayback(start, rate);
    this.notify();
  }

  /** The speed Space plays at (the speed control); a change applies at once while playing forward. */
  setSpeed(speed) {
    this.speed = speed;
    if (this.playing && this.rate > 0) this.play(speed);
    else this.notify();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.stopPlayback();
    this.notify();
  }

  /**
   * A clock for playback from frame `start`: a function of a performance time giving the seconds played by
   * then. The wall clock here; a player with sound uses what is being heard. `loop` ({lo, hi}, or null) is
   * the clip when it plays in a loop: a clock whose `loops` is that clip runs on across its restarts (its
   * sound goes round the clip by itself); any other clock is started again at each restart.
   */
  startClock(_start, _rate, _loop) {
    const origin = performance.now();
    // A requestAnimationFrame time is when the frame began, which may be before `origin` was read: never
    // let that make the first tick ask for the frame before the start (the previous clip's last frame).
    return (now) => Math.max(0, now - origin) / 1000;
  }

  stopClock() {}

  /** Default playback: a requestAnimationFrame clock choosing the frame due now and asking for it. */
  startPlayback(start, rate = 1) {
    const fps = this.fps;
    let clock;
    let first;
    const startAt = (frame) => {
      first = frame;
      clock = this.startClock(frame, rate, this.loop ? { lo: this.lo, hi: this.hi } : null);
      this.clock = { seconds: clock, first }; // published for measuring how paints follow the clock
    };
    startAt(start);
    const tick = (now) => {
      if (!this.playing) return;
      const moved = Math.floor((clock(now) * Math.abs(rate) * fps.num) / fps.den);
      let due = rate > 0 ? first + moved : first - moved;
      const round = clock.loops;
      // A clock going round another clip than this one (the clip changed while playing) is started again.
      const stale = round && (round.lo !== this.lo || round.hi !== this.hi);
      if (round && !stale && this.loop && due >= this.hi) {
        due = this.lo + ((due - this.hi) % (this.hi - this.lo)); // its sound went round the clip too
      } else if (stale || due >= this.hi || due < this.lo) {
        const inside = due >= this.lo && due < this.hi;
        if (inside || this.loop) {
          due = inside ? due : rate > 0 ? this.lo : this.hi - 1;
          startAt(due);
        } else {
          this.go(rate > 0 ? this.hi - 1 : this.lo);
          this.pause();
          return;
        }
      }
      if (due !== this.target) this.go(due);
      this.raf = requestAnimationFrame(tick);
    };
    this.go(start);
    this.raf = requestAnimationFrame(tick);
  }

  stopPlayback() {
    cancelAnimationFrame(this.raf);
    this.stopClock();
  }

  /** Sound on or off (a player without sound ignores it). */
  setMuted(muted) {
    this.muted = muted;
    this.notify();
  }

  /** Warm up the start of another range (the next clip) so opening it shows a picture at once. */
  prefetch(_lo, _hi) {}

  destroy() {
    this.pause();
    this.listeners.clear();
  }
}
