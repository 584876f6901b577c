/**
 * The review page's keyboard map. The table itself comes from the server (`heaters.keymap`, the one the
 * operator console uses too), so a key means the same action in the page and in the console; the help
 * overlay is drawn from it and key events are matched against it, so the two can never disagree.
 * No DOM here; `match` takes anything shaped like a KeyboardEvent.
 */

let table = { groups: [], keys: {} };

/** Use `keyTable` ({groups: [{title, bindings: [[shown, action, help]]}], keys: {spec: [action, arg]}}). */
export function setKeyTable(keyTable) {
  table = keyTable;
}

/** The help overlay's groups. */
export function groups() {
  return table.groups;
}

/** What `action` does, in the help's words (for "not possible" messages). */
export function describe(action) {
  for (const group of table.groups) {
    for (const [, name, description] of group.bindings) if (name === action) return description;
  }
  return action;
}

/**
 * The key spec of an event: "Ctrl+" and "Shift+" before the key; letters lower case; a printable symbol
 * as typed (its Shift is part of the symbol); "Space" for the space bar. Null with Alt or Meta (the
 * browser's own shortcuts).
 */
export function keySpec(event) {
  if (event.altKey || event.metaKey) return null;
  const { key } = event;
  const ctrl = event.ctrlKey ? "Ctrl+" : "";
  const shift = event.shiftKey ? "Shift+" : "";
  if (key === " ") return `${ctrl}${shift}Space`;
  if (key.length === 1 && /[a-z]/i.test(key)) return `${ctrl}${shift}${key.toLowerCase()}`;
  if (key.length === 1) return `${ctrl}${key}`;
  return `${ctrl}${shift}${key}`;
}

/** The action for a key event as {action, arg}, or null. */
export function match(event) {
  const spec = keySpec(event);
  const hit = spec === null ? undefined : table.keys[spec];
  if (!hit) return null;
  const [action, arg] = hit;
  return arg === null || arg === undefined ? { action } : { action, arg };
}
