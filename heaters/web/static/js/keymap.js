/**
 * The review page's keyboard map as data: the help overlay is drawn from it and key events are matched
 * against it, so the two can never disagree. No DOM here; `match` takes anything shaped like a KeyboardEvent.
 */

/** [keys shown in the help, action, description, matcher] grouped for the overlay. */
export const GROUPS = [
  {
    title: "Move",
    bindings: [
      ["←  →", "step", "previous / next frame (hold to speed up)"],
      ["Shift+←  Shift+→", "step10", "10 frames back / forward"],
      ["Home  End", "edge", "first / last frame of the clip"],
      ["[  ]", "cut", "previous / next cut"],
      ["Space", "play", "play / pause (at the speed control's speed)"],
      ["J  K  L", "shuttle", "play backwards / pause / forwards; J or L again: 2×, 4×, 8×"],
      ["K+J  K+L", "shuttleStep", "hold K: one frame back / forward"],
      ["G", "goto", "go to a frame number or timecode"],
      ["Shift+L", "loop", "loop the clip on / off"],
      ["Shift+M", "mute", "sound on / off"],
      ["+  −", "zoom", "zoom the timeline in / out"],
    ],
  },
  {
    title: "Edit cuts",
    bindings: [
      ["C", "addCut", "cut here (a new clip starts at this frame)"],
      ["X", "removeStart", "remove the cut at the clip's start (merge with the previous clip)"],
      ["Shift+X", "removeEnd", "remove the cut at the clip's end (merge with the next clip)"],
      [",  .", "moveCut", "move the nearest cut 1 frame earlier / later (or drag it on the timeline)"],
      ["M", "moveHere", "move the nearest cut to this frame"],
      ["I", "trimIn", "trim: the clip starts here, the part before is rejected"],
      ["O", "trimOut", "trim: the clip ends here, the part after is rejected"],
    ],
  },
  {
    title: "Decide",
    bindings: [
      ["A", "approve", "approve the clip (queues its export) and open the next"],
      ["S", "skip", "skip the clip and open the next"],
      ["R", "reject", "reject the clip and open the next"],
      ["Shift+A", "reopen", "reopen an approved or exported clip (its export is withdrawn)"],
      ["N  P", "clip", "next / previous clip without deciding"],
      ["Z  Ctrl+Z", "undo", "undo your last operation on this video"],
      ["Shift+Z  Ctrl+Shift+Z", "redo", "redo"],
      ["?", "help", "show / hide this help"],
      ["Esc", "close", "close this help"],
    ],
  },
];

/** What `action` does, in the help's words (for "not possible" messages). */
export function describe(action) {
  for (const group of GROUPS) {
    for (const [, name, description] of group.bindings) if (name === action) return description;
  }
  return action;
}

/**
 * The action for a key event as {action, arg}, or null. `arg` is the direction (+1/-1) or step for
 * actions that have one. Keys with Alt or Meta are left to the browser.
 */
export function match(event) {
  if (event.altKey || event.metaKey) return null;
  const { key, shiftKey: shift, ctrlKey: ctrl } = event;
  if (ctrl) {
    if (key === "z" || key === "Z") return { action: shift ? "redo" : "undo" };
    if (key === "y") return { action: "redo" };
    return null;
  }
  switch (key) {
    case "ArrowLeft":
      return shift ? { action: "step10", arg: -10 } : { action: "step", arg: -1 };
    case "ArrowRight":
      return shift ? { action: "step10", arg: 10 } : { action: "step", arg: 1 };
    case "Home":
      return { action: "edge", arg: -1 };
    case "End":
      return { action: "edge", arg: 1 };
    case "[":
      return { action: "cut", arg: -1 };
    case "]":
      return { action: "cut", arg: 1 };
    case " ":
      return { action: "play" };
    case "+":
    case "=":
      return { action: "zoom", arg: 0.5 };
    case "-":
    case "_":
      return { action: "zoom", arg: 2 };
    case ",":
    case "<":
      return { action: "moveCut", arg: -1 };
    case ".":
    case ">":
      return { action: "moveCut", arg: 1 };
    case "?":
      return { action: "help" };
    case "Escape":
      return { action: "close" };
  }
  switch (key.toLowerCase()) {
    case "l":
      return shift ? { action: "loop" } : { action: "shuttle", arg: 1 };
    case "j":
      return { action: "shuttle", arg: -1 };
    case "k":
      return { action: "shuttle", arg: 0 };
    case "g":
      return { action: "goto" };
    case "c":
      return { action: "addCut" };
    case "x":
      return { action: shift ? "removeEnd" : "removeStart" };
    case "m":
      return { action: shift ? "mute" : "moveHere" };
    case "a":
      return { action: shift ? "reopen" : "approve" };
    case "i":
      return { action: "trimIn" };
    case "o":
      return { action: "trimOut" };
    case "s":
      return { action: "skip" };
    case "r":
      return { action: "reject" };
    case "n":
      return { action: "clip", arg: 1 };
    case "p":
      return { action: "clip", arg: -1 };
    case "z":
      return { action: shift ? "redo" : "undo" };
  }
  return null;
}
