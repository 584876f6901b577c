/**
 * The player for browsers without WebCodecs: a `<video>` element on the same proxy file. It seeks to the
 * middle of a frame's display interval (never its edge, where rounding picks the neighbour), waits for the
 * seek and for the new picture to be presented, and plays natively while watching the clip's end.
 * Less exact than the canvas player (the browser decides what "presented" means) but every control works.
 */

import { frameCentreSeconds, secondsToFrame } from "./frames.js";
import { BasePlayer } from "./playback.js";

const PRESENT_TIMEOUT_MS = 250;

export class VideoElementPlayer extends BasePlayer {
  constructor(video, element) {
    super(video);
    this.element = element;
    this.kind = "video";
    this.seeking = null; // the seek in flight: {frame, done}
    element.muted = false; // the element plays the proxy's sound itself
    element.preload = "auto";
    element.playsInline = true;
    // A segmented video's proxy is not one file: the server makes a real MP4 of its pieces and sound.
    element.src = video.video_url || video.proxy_url;
    // A segmented video's MP4 is remade as segments and sound arrive; the old one is then refused: take the new.
    element.addEventListener("error", () => this.renewSource());
    this.ready = new Promise((resolve) => {
      if (element.readyState >= 1) resolve();
      else element.addEventListener("loadedmetadata", () => resolve(), { once: true });
    });
  }

  async renewSource() {
    const response = await fetch(`/api/videos/${this.video.id}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = await response.json();
    const url = fresh.video_url || fresh.proxy_url;
    if (!url || this.element.src.endsWith(url)) return;
    this.video.video_url = url;
    const frame = this.frame;
    this.element.src = url;
    this.element.addEventListener("loadedmetadata", () => frame >= 0 && this.go(frame), { once: true });
  }

  async show(frame) {
    await this.ready;
    if (this.target !== frame) return false;
    // One seek at a time: a newer target waits for the running seek, then seeks again.
    while (this.seeking) {
      await this.seeking;
      if (this.target !== frame) return false;
    }
    this.seeking = this.seekElement(frame);
    try {
      await this.seeking;
    } finally {
      this.seeking = null;
    }
    if (this.target !== frame) return false;
    this.frame = frame;
    this.notify();
    return true;
  }

  /** Seek and wait for both `seeked` and the presentation of a new picture (they come in either order). */
  seekElement(frame) {
    const element = this.element;
    return new Promise((resolve) => {
      let seeked = false;
      let presented = typeof element.requestVideoFrameCallback !== "function";
      let timer = 0;
      const settle = () => {
        if (!seeked || !presented) return;
        clearTimeout(timer);
        resolve();
      };
      if (!presented) {
        element.requestVideoFrameCallback(() => {
          presented = true;
          settle();
        });
      }
      element.addEventListener(
        "seeked",
        () => {
          seeked = true;
          // Seeking to the picture already shown presents nothing new: do not wait for it forever.
          timer = setTimeout(() => {
            presented = true;
            settle();
          }, PRESENT_TIMEOUT_MS);
          settle();
        },
        { once: true },
      );
      element.currentTime = frameCentreSeconds(frame, this.fps);
    });
  }

  startPlayback(start, rate = 1) {
    // The element cannot play backwards: seek frame by frame on the shared clock instead.
    if (rate < 0) return super.startPlayback(start, rate);
    const element = this.element;
    element.playbackRate = rate;
    element.currentTime = frameCentreSeconds(start, this.fps);
    const watch = (_now, meta) => {
      if (!this.playing) return;
      const frame = secondsToFrame(meta ? meta.mediaTime : element.currentTime, this.fps);
      if (frame >= this.hi - 1 || frame < this.lo) {
        if (this.loop) {
          element.currentTime = frameCentreSeconds(this.lo, this.fps);
        } else {
          this.pause();
          this.go(this.hi - 1);
          return;
        }
      } else {
        this.target = frame;
        this.frame = frame;
        this.notify();
      }
      this.watchNext(watch);
    };
    element.play().then(() => this.watchNext(watch), () => this.pause());
  }

  watchNext(fn) {
    if (typeof this.element.requestVideoFrameCallback === "function") this.element.requestVideoFrameCallback(fn);
    else this.raf = requestAnimationFrame((now) => fn(now, null));
  }

  stopPlayback() {
    cancelAnimationFrame(this.raf);
    this.element.pause();
    this.go(this.target);
  }

  setMuted(muted) {
    this.element.muted = muted;
    super.setMuted(muted);
  }
}
