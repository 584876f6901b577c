// The proxy source's index cache with a video still encoding in segments, run with `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ProxySource } from "../../heaters/web/static/js/source.js";

function fakeIndex(encoded) {
  const calls = [];
  const fetchImpl = async (url) => {
    calls.push(url);
    const params = new URL(url, "http://x").searchParams;
    const start = Number(params.get("start"));
    const end = Math.min(Number(params.get("end")), encoded.frames);
    const offsets = [];
    for (let f = start; f < end; f++) offsets.push(f * 10);
    const body = { start, end, offsets, sizes: offsets.map(() => 10), complete: encoded.frames >= 3000 };
    return { ok: true, json: async () => body };
  };
  return { calls, fetchImpl };
}

test("a block past the encoded part is fetched again; a whole block is kept", async () => {
  const encoded = { frames: 1500 };
  const { calls, fetchImpl } = fakeIndex(encoded);
  const source = new ProxySource({ id: 1, index_url: "/api/videos/1/index", total_frames: 3000 }, { fetchImpl });
  assert.equal((await source.indexBlock(0)).offsets.length, 1024);
  assert.equal((await source.indexBlock(1)).offsets.length, 1500 - 1024);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await source.indexBlock(0);
  assert.equal(calls.length, 2, "the whole first block is not asked for again");
  encoded.frames = 2048;
  assert.equal((await source.indexBlock(1)).offsets.length, 1024, "frames encoded meanwhile appear");
  assert.equal(calls.length, 3);
});
