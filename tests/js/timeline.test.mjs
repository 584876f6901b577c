// Unit test of the timeline's DOM-free helper: which cuts are marked for the reviewer to check first.
import assert from "node:assert/strict";
import { test } from "node:test";

import { lowConfidenceCuts } from "../../heaters/web/static/js/timeline.js";

test("cuts detection was unsure of are the ones marked", () => {
  const clips = [
    { start_frame: 0, end_frame: 30, cut: null },
    { start_frame: 30, end_frame: 60, cut: { kind: "dissolve", confidence: 0.3, low: true } },
    { start_frame: 60, end_frame: 90, cut: { kind: "hard", confidence: 0.9, low: false } },
    { start_frame: 90, end_frame: 99 },
  ];
  assert.deepEqual(lowConfidenceCuts(clips), [30]);
  assert.deepEqual(lowConfidenceCuts([]), []);
});
