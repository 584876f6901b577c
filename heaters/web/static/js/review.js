/**
 * The review page: one video, one clip at a time, everything by keyboard or button.
 *
 * The page holds the video's live clips and their `cut_version`; every edit sends that version, so an edit
 * made against an outdated picture of the video is refused (409) instead of applied, and the page reloads the
 * clips and says so. Only one edit is in flight at a time, so a held key never applies an operation twice.
 * Changes made elsewhere arrive as server-sent events and re-render the page.
 */

import { api } from "./api.js";
import { ClipList } from "./clip_list.js";
import { Filmstrip } from "./filmstrip.js";
import * as F from "./frames.js";
import { describe, match, setKeyTable } from "./keymap.js";
import { createPlayer } from "./player.js";
import { Timeline } from "./timeline.js";
import { buildHelp, keepLease, renderCounter, say, toggleHelp } from "./ui.js";

const DECISIONS = { approve: "approved", skip: "skipped", reject: "rejected" };

const data = JSON.parse(document.getElementById("review-data").textContent);
const LOCKED = new Set(data.locked_states); // clip states no cut may touch, from the server's pipeline table
const APPROVED = new Set([...LOCKED, "approved", "export_failed"]); // what Reopen can take back
const video = data.video;
const fps = F.parseFps(video.fps);
const dropFrame = F.isDropFrameRate(fps);
const state = { clips: data.clips, version: video.cut_version, clip: null, busy: false };
const repeat = new F.KeyRepeat();
const help = document.getElementById("help");
let player = null;
let timeline = null;
let clipList = null;

const unlocked = (clip) => clip && !LOCKED.has(clip.state);
const index = (clip) => state.clips.findIndex((c) => c.id === clip.id);
const here = () => (player && player.frame >= 0 ? player.frame : state.clip ? state.clip.start_frame : 0);

/** Whether `action` may run now; keys and buttons both ask this. */
function allowed(action) {
  if (action === "help" || action === "close") return true;
  const clip = state.clip;
  if (!clip || !player) return false;
  const i = index(clip);
  const edit = !state.busy;
  switch (action) {
    case "addCut":
      return edit && unlocked(clip) && here() > clip.start_frame && here() < clip.end_frame;
    case "removeStart":
      return edit && i > 0 && unlocked(clip) && unlocked(state.clips[i - 1]);
    case "removeEnd":
      return edit && i < state.clips.length - 1 && unlocked(clip) && unlocked(state.clips[i + 1]);
    case "moveCut":
    case "moveHere":
      return edit && movableCut(F.nearestCut(state.clips, here())) !== null;
    case "approve":
    case "skip":
    case "reject":
      return edit && unlocked(clip) && clip.state !== DECISIONS[action];
    case "trimIn":
      return edit && unlocked(clip) && here() > clip.start_frame && here() < clip.end_frame;
    case "trimOut":
      return edit && unlocked(clip) && here() >= clip.start_frame && here() < clip.end_frame - 1;
    case "reopen":
      return edit && APPROVED.has(clip.state);
    case "undo":
    case "redo":
      return edit;
    default:
      return true;
  }
}

/** `cut` if both clips beside it may still change, else null. */
function movableCut(cut) {
  if (cut === null) return null;
  const right = state.clips.findIndex((c) => c.start_frame === cut);
  return right > 0 && unlocked(state.clips[right]) && unlocked(state.clips[right - 1]) ? cut : null;
}

/** Send one edit; apply its result, or explain why not. */
async function edit(method, url, body) {
  if (state.busy) return null;
  state.busy = true;
  render();
  try {
    const result = await api(method, url, body);
    applyClips(result.clips, result.cut_version);
    return result;
  } catch (error) {
    if (error.status === 409) {
      // Either the video changed since this page loaded it (the server names who), or the edit itself is
      // refused (a clip exporting, nothing to undo): say the server's reason either way, never a guess.
      await reload();
      const stale = error.body && error.body.code === "stale_version";
      say(stale ? `${error.detail} The clips were reloaded.` : error.detail || error.error, "warn");
    } else {
      say(error.detail || error.error || String(error), "error");
    }
    return null;
  } finally {
    state.busy = false;
    render();
    if (state.heard > state.version) reload().catch(() => {});
  }
}

const withVersion = (extra = {}) => ({ ...extra, expected_version: state.version });
const videoUrl = (path) => `/api/videos/${video.id}/${path}`;

async function reload() {
  const fresh = await api("GET", videoUrl("clips"));
  applyClips(fresh.clips, fresh.cut_version);
}

/** Take a new set of clips; stay on the clip under the playhead (the old clip may have been replaced). */
function applyClips(clips, version) {
  if (version < state.version) return; // an older answer that arrived late
  state.clips = clips;
  state.version = version;
  const same = state.clip && clips.find((c) => c.id === state.clip.id);
  openClip(same || F.clipAt(clips, here()) || clips[0], { seek: false });
}

function openClip(clip, { seek = true } = {}) {
  if (!clip) return;
  state.clip = clip;
  player.setRange(clip.start_frame, clip.end_frame);
  if (seek) player.go(clip.start_frame);
  else if (here() < clip.start_frame || here() >= clip.end_frame) player.go(clip.start_frame);
  const url = new URL(location.href);
  url.searchParams.set("clip", clip.id);
  history.replaceState(null, "", url);
  const next = state.clips[index(clip) + 1];
  if (next) player.prefetch(next.start_frame, next.end_frame);
  if (seek) timeline.frameClip(clip.start_frame, clip.end_frame);
  render();
}

/** The next clip still waiting for review after `clip` (wrapping around), or null when all are decided. */
function nextPending(clip) {
  const i = index(clip);
  const order = [...state.clips.slice(i + 1), ...state.clips.slice(0, Math.max(0, i))];
  return order.find((c) => c.state === "pending_review") || null;
}

async function decide(action) {
  const decided = state.clip;
  const result = await edit("POST", `/api/clips/${decided.id}/${action}`, withVersion());
  if (!result) return;
  const next = nextPending(decided);
  if (next) openClip(next);
  else say("Every clip of this video has a decision. Undo (Z) to change one.", "info");
}

/** Set the clip's in (first kept frame) or out point (last kept frame) at the playhead, in one operation. */
const trim = (side) => edit("POST", `/api/clips/${state.clip.id}/trim`, withVersion({ side, frame: here() }));

/** Take the current clip's approval back (its export is cancelled or withdrawn), saying why. */
async function reopen() {
  const clip = state.clip;
  const reason = window.prompt(`Reopen clip ${clip.number} (#${clip.id}, ${clip.state})? Why:`, "");
  if (reason === null) return null;
  const result = await edit("POST", `/api/clips/${clip.id}/reopen`, withVersion({ reason }));
  if (result) say(`Clip ${clip.number} is open for review again.`, "info");
  return result;
}

const held = { k: false }; // K is held: J and L step instead of playing
const MAX_SHUTTLE = 8;

/** J/K/L: -1 backwards, 0 pause, +1 forwards; the same direction again doubles the speed up to 8×. */
function shuttle(direction, event) {
  if (event && event.repeat) return;
  if (direction === 0) {
    held.k = true;
    player.pause();
    return;
  }
  if (held.k) {
    player.step(direction);
    return;
  }
  const rate = player.playing ? player.rate : 0;
  const same = rate !== 0 && Math.sign(rate) === direction;
  player.play(same ? direction * Math.min(MAX_SHUTTLE, Math.abs(rate) * 2) : direction);
}

/** The go-to box: a frame number or a timecode, opened with G. */
function openGoto() {
  const form = document.getElementById("goto");
  const input = form.querySelector("input");
  input.value = F.timecode(here(), fps, { dropFrame });
  form.hidden = false;
  input.focus();
  input.select();
}

function setUpGoto() {
  const form = document.getElementById("goto");
  const input = form.querySelector("input");
  const close = () => {
    form.hidden = true;
    input.blur();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const frame = F.parseFramePosition(input.value, fps, { dropFrame });
    if (frame === null || frame < 0 || frame >= video.total_frames) {
      say(`"${input.value}" is not a frame of this video (0–${video.total_frames - 1}, or a timecode).`, "warn");
      return;
    }
    close();
    const clip = F.clipAt(state.clips, frame);
    if (clip && clip !== state.clip) openClip(clip, { seek: false });
    player.go(frame);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
}

function setUpSpeed() {
  const speed = document.getElementById("speed");
  if (!speed) return;
  speed.addEventListener("change", () => {
    player.setSpeed(Number(speed.value));
    speed.blur();
  });
}

const ACTIONS = {
  step: (n, event) => player.step(repeat.step(event ? event.key : "step", n, event ? event.repeat : false)),
  step10: (n) => player.step(n),
  edge: (d) => player.seek(d < 0 ? state.clip.start_frame : state.clip.end_frame - 1),
  cut: (d) => {
    const cut = d < 0 ? F.prevCut(state.clips, player.target) : F.nextCut(state.clips, player.target);
    if (cut === null) return;
    openClip(F.clipAt(state.clips, cut), { seek: false }); // a cut is where a clip starts: review that one
    player.go(cut);
  },
  clip: (d) => openClip(state.clips[index(state.clip) + d]),
  listClip: (d) => openClip(clipList.neighbour(state.clip, d)),
  play: () => player.toggle(),
  loop: () => player.setLoop(!player.loop),
  shuttle: (d, event) => shuttle(d, event),
  shuttleStep: (d) => player.step(d),
  goto: () => openGoto(),
  mute: () => player.setMuted(!player.muted),
  zoom: (factor) => timeline.zoom(factor, here()),
  addCut: () => edit("POST", videoUrl("cuts"), withVersion({ frame: here() })),
  removeStart: () => edit("DELETE", videoUrl(`cuts/${state.clip.start_frame}?expected_version=${state.version}`)),
  removeEnd: () => edit("DELETE", videoUrl(`cuts/${state.clip.end_frame}?expected_version=${state.version}`)),
  moveCut: (d) => moveCut(movableCut(F.nearestCut(state.clips, here())), d),
  moveHere: () => {
    const cut = movableCut(F.nearestCut(state.clips, here()));
    if (cut !== null && cut !== here()) moveCutTo(cut, here());
  },
  trimIn: () => trim("in"),
  trimOut: () => trim("out"),
  reopen: () => reopen(),
  approve: () => decide("approve"),
  skip: () => decide("skip"),
  reject: () => decide("reject"),
  undo: () => edit("POST", videoUrl("undo"), withVersion()),
  redo: () => edit("POST", videoUrl("redo"), withVersion()),
  help: () => toggleHelp(help),
  close: () => toggleHelp(help, false),
};

const moveCut = (cut, delta) => (cut === null ? null : moveCutTo(cut, cut + delta));
const moveCutTo = (cut, to) => edit("PUT", videoUrl(`cuts/${cut}`), withVersion({ to }));

function run(action, arg, event) {
  if (!allowed(action)) {
    say(state.busy ? "Still saving the last change…" : `Not possible here: ${describe(action)}.`, "warn");
    return;
  }
  const outcome = ACTIONS[action](arg, event);
  if (outcome && outcome.catch) outcome.catch((error) => say(String(error), "error"));
}

function onKey(event) {
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const hit = match(event);
  if (!hit) return;
  if (help.open && hit.action !== "help" && hit.action !== "close") return;
  event.preventDefault();
  run(hit.action, hit.arg, event);
}

function render() {
  const clip = state.clip;
  for (const button of document.querySelectorAll("[data-action]")) button.disabled = !allowed(button.dataset.action);
  const info = document.getElementById("clip-info");
  if (clip && info) {
    info.querySelector("[data-clip-id]").textContent = `#${clip.id}`;
    info.querySelector("[data-clip-state]").textContent = clip.state.replace("_", " ");
    info.querySelector("[data-clip-state]").dataset.state = clip.state;
    info.querySelector("[data-clip-range]").textContent =
      `${clip.start_frame}–${clip.end_frame - 1} (${clip.end_frame - clip.start_frame} frames)`;
    // The clip's own number (it keeps it when cuts elsewhere change), and where it stands among the video's
    // clips when that differs (after cuts and merges, numbers no longer count the clips: never "31 of 30").
    const place = index(clip) + 1;
    const of = place === clip.number ? "" : ` · ${place}`;
    info.querySelector("[data-clip-pos]").textContent = `clip ${clip.number}${of} of ${state.clips.length}`;
  }
  const play = document.querySelector("[data-action=play]");
  if (play && player) play.textContent = player.playing ? "Pause" : "Play";
  const rate = document.getElementById("rate");
  if (rate && player) rate.textContent = player.playing && player.rate !== 1 ? `${player.rate}×` : "";
  const mute = document.querySelector("[data-action=mute]");
  if (mute && player) mute.setAttribute("aria-pressed", String(player.muted));
  const loop = document.querySelector("[data-action=loop]");
  if (loop && player) loop.setAttribute("aria-pressed", String(player.loop));
  if (timeline) timeline.setClips(state.clips, clip);
  if (clipList) clipList.setClips(state.clips, clip);
  // Redrawn here, not only on paint: a merge or trim changes the clip without moving the playhead.
  renderCounter(document.getElementById("frame-counter"), {
    frame: player ? player.frame : -1,
    timecode: F.timecode(Math.max(0, player ? player.frame : 0), fps, { dropFrame }),
    clip,
  });
  document.body.dataset.cutVersion = state.version;
}

function onFrame(frame, _player, error) {
  if (error) say(`Could not show frame ${player.target}: ${error.message || error}`, "error");
  // A seek outside the clip (timeline, cut jump, automation) makes the clip under the playhead current.
  if (state.clip && frame >= 0 && (frame < state.clip.start_frame || frame >= state.clip.end_frame)) {
    const clip = F.clipAt(state.clips, frame);
    if (clip) openClip(clip, { seek: false });
  }
  if (timeline) timeline.setPlayhead(Math.max(0, frame));
  render();
}

/** Server-sent events: another reviewer, the console or the CLI changed the cuts of this video. */
function listen() {
  const events = new EventSource(videoUrl("events"));
  events.addEventListener("cuts", (event) => {
    const { cut_version: version } = JSON.parse(event.data);
    if (version <= state.version) return; // our own edit, already applied
    if (state.busy) state.heard = Math.max(state.heard || 0, version); // look again when our edit is done
    else reload().then(() => say("The clips were changed elsewhere; updated.", "info"));
  });
  return events;
}

/** The waveform under the filmstrip, from the peaks the encode measured (videos with sound only). */
async function loadPeaks() {
  const meta = player.source && player.source.meta;
  const url = (meta && meta.peaks && meta.peaks.url) || video.peaks_url; // a segmented video's own file
  if (!url || !meta || !meta.peaks) return;
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return;
  const data = new Int8Array(await response.arrayBuffer());
  timeline.setPeaks({ rate: meta.peaks.rate, channels: meta.peaks.channels, data });
  document.body.dataset.waveform = "true";
}

/** The mute button and the "sound when stepping" setting (remembered in this browser). */
function setUpSound() {
  const scrub = document.getElementById("scrub-sound");
  const show = () => {
    document.body.dataset.sound = player.audio || player.kind === "video" ? "yes" : "no";
    if (player.audio && scrub) player.audio.scrubbing = scrub.checked;
  };
  // A segmented video's sound can arrive after the page opened: then it is heard and drawn from then on.
  player.onSound = () => {
    show();
    loadPeaks().catch((error) => console.warn("waveform", error));
  };
  if (scrub) {
    scrub.checked = localStorage.getItem("heaters.scrub") !== "off";
    scrub.addEventListener("change", () => {
      localStorage.setItem("heaters.scrub", scrub.checked ? "on" : "off");
      if (player.audio) player.audio.scrubbing = scrub.checked;
    });
  }
  show();
}

async function main() {
  setKeyTable(data.keys);
  buildHelp(help);
  help.querySelector("[data-help-close]")?.addEventListener("click", () => toggleHelp(help, false));
  player = await createPlayer({
    video,
    canvas: document.getElementById("player-canvas"),
    element: document.getElementById("player-video"),
    webcodecs: data.webcodecs_enabled,
  });
  document.body.dataset.player = player.kind;
  setUpSound();
  // The filmstrip shares the player's frame index and byte cache, but decodes on its own decoder.
  const film = player.kind === "webcodecs" ? new Filmstrip(player.source) : null;
  if (film && !(await film.start())) film.decoder = null;
  timeline = new Timeline(document.getElementById("timeline"), {
    total: video.total_frames,
    fps,
    filmstrip: film && film.decoder ? film : null,
    onSeek: (frame) => {
      const clip = F.clipAt(state.clips, frame);
      if (clip && clip !== state.clip) openClip(clip, { seek: false });
      player.go(frame);
    },
    onMoveCut: (from, to) => (movableCut(from) !== null && !state.busy ? moveCutTo(from, to) : null),
    canMove: (cut) => movableCut(cut) !== null && !state.busy,
  });
  if (film) film.onReady = () => timeline.redraw();
  clipList = new ClipList(document.getElementById("clip-list"), {
    fps,
    dropFrame,
    filmstrip: film && film.decoder ? film : null,
    onOpen: (clip) => openClip(clip),
  });
  loadPeaks().catch((error) => console.warn("waveform", error));
  // The timeline paints with the theme's colours: repaint when the theme changes.
  window.addEventListener("heaters:theme", () => timeline.redraw());
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => timeline.redraw());
  player.subscribe(onFrame);
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => run(button.dataset.action, Number(button.dataset.arg) || undefined));
  }
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", (event) => {
    if (event.key === "k" || event.key === "K") held.k = false;
  });
  setUpGoto();
  setUpSpeed();
  window.addEventListener("heaters:logged-out", () =>
    say("Your session has ended: log in again in another tab, then retry (nothing was saved).", "error"),
  );
  const wanted = Number(new URL(location.href).searchParams.get("clip")) || data.start_clip_id;
  const first = state.clips.find((c) => c.id === wanted) || state.clips.find((c) => c.state === "pending_review");
  openClip(first || state.clips[0]);
  listen();
  // Renew well before the lease runs out (a minute, or a third of a short lease).
  keepLease(video.id, Math.max(5, Math.min(60, Math.floor((data.lease_seconds || 180) / 3))));
  if (data.held_by) say(`${data.held_by} is reviewing this video too; your edits may clash.`, "warn");
  window.heaters.review = { state, timeline, run };
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  console.error(error);
  say(`The player could not start: ${error.message || error}`, "error");
});
