"""Peak memory of the encode stage for huge frames, and how it splits: FFV1 encoder, decoder, everything.

    python bench/huge_frames.py [--sizes 7680x4320,6144x3456,3840x2160] [--frames 3,12]

For each size the bench makes a short, nearly flat H.264 source (cheap at any size) and runs, each in a child
process so every peak is its own: the whole encode stage (``transcode``) for each frame count, an FFV1
encoder alone on one frame (what FFmpeg itself allocates for a picture of that size), and a decode of the
source alone. Reported: peak resident memory in MiB. The encode's peak should not grow with the number of
frames (queues are bounded by bytes), and most of it should be the FFV1 encoder's own allocation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

PEAK = """
import resource
def peak():
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork + exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

ENCODE = PEAK + """
import json, sys
from heaters.media.transcode import transcode
result = transcode(sys.argv[1], sys.argv[2] + "/m.mkv", sys.argv[2] + "/p.mp4", extract_features=False)
print(json.dumps({"frames": result.total_frames, "peak": peak()}))
"""

FFV1_ALONE = PEAK + """
import json, sys
from fractions import Fraction
import av
from heaters.media.transcode import master_options, master_slices
width, height = int(sys.argv[1]), int(sys.argv[2])
context = av.CodecContext.create("ffv1", "w")
context.width, context.height, context.pix_fmt, context.time_base = width, height, "yuv420p", Fraction(1, 25)
context.options = master_options(master_slices(width, height, "yuv420p"))
context.open()
before = peak()
frame = av.VideoFrame(width, height, "yuv420p")
for plane in frame.planes:
    plane.update(bytes(plane.buffer_size))
frame.pts = 0
context.encode(frame)
print(json.dumps({"peak": peak(), "before": before}))
"""

DECODE = PEAK + """
import json, sys
import av
with av.open(sys.argv[1]) as container:
    stream = container.streams.video[0]
    stream.thread_type = "SLICE"
    for _ in container.decode(stream):
        pass
print(json.dumps({"peak": peak()}))
"""


def flat_video(path: Path, width: int, height: int, frames: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        chroma = np.full((height // 2) * (width // 2) * 2, 128, np.uint8)
        for n in range(frames):
            luma = np.full((height, width), 16 + 7 * n, np.uint8)
            luma[: height // 4, : width // 4] = 200
            frame = av.VideoFrame.from_ndarray(
                np.concatenate([luma.ravel(), chroma]).reshape(height * 3 // 2, width), format="yuv420p"
            )
            frame.pts, frame.time_base = n, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def child(code: str, *args: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="7680x4320,6144x3456,3840x2160")
    parser.add_argument("--frames", default="3,12")
    args = parser.parse_args()
    counts = [int(n) for n in args.frames.split(",")]
    print(f"{'size':>10} {'frames':>6} {'encode MiB':>11} {'FFV1 alone':>11} {'decode alone':>13}")
    with tempfile.TemporaryDirectory(prefix="heaters-bench-") as tmp:
        root = Path(tmp)
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            ffv1 = child(FFV1_ALONE, str(width), str(height))["peak"] // 1024
            for count in counts:
                source = flat_video(root / f"{size}-{count}.mp4", width, height, count)
                out = root / f"{size}-{count}"
                out.mkdir()
                encode = child(ENCODE, str(source), str(out))
                decode = child(DECODE, str(source))["peak"] // 1024
                print(f"{size:>10} {encode['frames']:>6} {encode['peak'] // 1024:>11} {ffv1:>11} {decode:>13}")


if __name__ == "__main__":
    main()
