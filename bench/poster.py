"""What a video's poster costs: ``heaters.media.poster`` against decoding the proxy to the same frames.

    python bench/poster.py [--seconds 60] [--size 1280x720] [--runs 5]

The bench makes a synthetic source with a shot change every 2 s, transcodes it to the all-intra review proxy
(as the encode stage does), then times, in the same process: the poster as the detect stage makes it (five
frames, each one ranged read and one decode of that frame alone, then a JPEG), and for reference a decode of
the proxy from its start up to the last of those frames, which is what picking the same frames out of a
sequential decode would cost. Reported: median milliseconds, bytes read, and the poster's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av

from heaters.media.poster import candidate_frames, poster_jpeg
from heaters.media.synthetic import make_video
from heaters.media.transcode import transcode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fps = 25
        source = make_video(work / "source.mp4", shot_frames=[2 * fps] * (args.seconds // 2), size=(width, height))
        result = transcode(source.path, work / "master.mkv", work / "proxy.mp4", proxy_short_side=min(width, height),
                           extract_features=False, keep_master=False)
        index = result.index
        proxy = work / "proxy.mp4"
        wanted = candidate_frames(int(index["frames"]))
        read_bytes = sum(int(index["sizes"][f]) for f in wanted)

        def read(start: int, end: int) -> bytes:
            with proxy.open("rb") as f:
                f.seek(start)
                return f.read(end - start)

        poster_ms, reference_ms = [], []
        jpeg = b""
        for _ in range(args.runs):
            started = time.perf_counter()
            jpeg = poster_jpeg(index, read)
            poster_ms.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            with av.open(str(proxy)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for n, frame in enumerate(container.decode(stream)):
                    if n in wanted:
                        frame.to_ndarray(format="rgb24")
                    if n >= wanted[-1]:
                        break
            reference_ms.append(1000 * (time.perf_counter() - started))
        print(f"proxy: {args.seconds} s at {result.proxy_width}x{result.proxy_height}, {index['frames']} frames, "
              f"{proxy.stat().st_size / 1e6:.1f} MB; poster from frames {wanted}")
        print(f"poster (ranged reads + single-frame decodes): {statistics.median(poster_ms):8.1f} ms median, "
              f"{read_bytes / 1e3:.0f} kB read, JPEG {len(jpeg) / 1e3:.1f} kB")
        print(f"reference (decode from frame 0 to {wanted[-1]}): {statistics.median(reference_ms):8.1f} ms median, "
              f"{proxy.stat().st_size * wanted[-1] / max(1, int(index['frames'])) / 1e6:.1f} MB read")


if __name__ == "__main__":
    main()
