"""The review-audio job of a segmented video: seconds for a long source, beside a plain decode of its audio.

    python bench/review_audio.py [--minutes 10] [--size 640x360] [--repeat 3]

The bench makes a synthetic source (x264 + AAC in MP4, a tone changing with each shot, as ``bench/long.py``),
then times, interleaved in this process, ``encode_review_track`` (demux and decode the audio only, align,
encode AAC-LC 48 kHz into an .m4a, peaks, packet index read back) against the reference: PyAV decoding the
same audio stream and nothing else. The job runs in a fresh process each time, so its peak RSS is its own.
It prints the best of ``--repeat`` runs of each, the job's peak RSS and the sizes of what it writes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any


def _job(source: Path, root: Path, results: Any) -> None:
    """The job alone in a fresh process, so its peak RSS is its own: (seconds, peak RSS in kB)."""
    from heaters.media.review_track import encode_review_track

    started = time.perf_counter()
    encode_review_track(source, root / "job.m4a", root / "job.peaks", audio_start=Fraction(0))
    results.put((time.perf_counter() - started, peak_rss_kb()))


def peak_rss_kb() -> int:
    """This process's peak resident set (``VmHWM``: unlike ``ru_maxrss`` not inherited from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def decode_audio_only(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream))


def main() -> None:
    from heaters.media.review_track import encode_review_track
    from heaters.media.synthetic import make_long_video

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="heaters-bench-audio-") as scratch:
        root = Path(scratch)
        source = root / "source.mp4"
        made = time.perf_counter()
        frames = make_long_video(source, args.minutes, (width, height)).frames
        print(f"source: {frames} frames, {args.minutes:g} min at {width}x{height}, {source.stat().st_size / 1e6:.1f} MB"
              f" (made in {time.perf_counter() - made:.0f} s)")
        job, reference, rss = [], [], []
        spawn = multiprocessing.get_context("spawn")
        for _ in range(args.repeat):
            started = time.perf_counter()
            decode_audio_only(source)
            reference.append(time.perf_counter() - started)
            results = spawn.Queue()
            child = spawn.Process(target=_job, args=(source, root, results))
            child.start()
            seconds, peak = results.get()
            child.join()
            job.append(seconds)
            rss.append(peak)
        track = encode_review_track(source, root / "audio.m4a", root / "audio.peaks", audio_start=Fraction(0))
        grown = max(rss) / 1024
        print(f"review audio job   best {min(job):6.2f} s  (runs {', '.join(f'{t:.2f}' for t in job)})")
        print(f"audio decode only  best {min(reference):6.2f} s  (runs {', '.join(f'{t:.2f}' for t in reference)})")
        print(f"job / decode: {min(job) / min(reference):.2f}x; {args.minutes * 60 / min(job):.0f}x real time")
        print(f"track {track.size / 1e6:.1f} MB, {len(track.index['pts'])} packets, {track.peaks['bins']} peak bins;"
              f" peak RSS of the job's process {grown:.0f} MB")


if __name__ == "__main__":
    main()
