"""Sign-in storm: ``/healthz`` latency of a real ``heaters serve`` while clients post wrong passwords.

Three phases against the same server: idle (the reference), 8 clients posting wrong passwords as fast as they
can from one address (the throttle answers 429 after a few tries), and the same 8 clients claiming a new
address on every attempt through ``X-Forwarded-For`` (the server runs with ``--proxy-headers``), so that no
throttle applies and every attempt costs a full password hash. The target: p99 under 50 ms in every phase.

    python bench/signin.py [--postgres URL] [--samples 400]
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

HEATERS = [sys.executable, "-c", "from heaters.cli import main; main()"]
CLIENTS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(base: str, samples: int) -> list[float]:
    """Sequential ``GET /healthz`` round trips, in milliseconds."""
    timings = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(samples):
            start = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            timings.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)
    return timings


def storm(base: str, stop: threading.Event, statuses: Counter[int], spoof: bool) -> None:
    """One attacker: wrong passwords for new names, as fast as the server answers."""
    numbers = itertools.count()
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken") or ""
        while not stop.is_set():
            n = next(numbers)
            headers = {"x-forwarded-for": f"10.{threading.get_ident() % 250}.{n // 250 % 250}.{n % 250 + 1}"}
            response = client.post(
                "/login", data={"username": f"guess-{n}", "password": "wrong-password", "_csrf_token": token},
                headers=headers if spoof else {}, follow_redirects=False,
            )
            statuses[response.status_code] += 1


def phase(base: str, samples: int, spoof: bool | None) -> tuple[list[float], Counter[int], float]:
    statuses: Counter[int] = Counter()
    stop = threading.Event()
    attackers = [] if spoof is None else [
        threading.Thread(target=storm, args=(base, stop, statuses, spoof), daemon=True) for _ in range(CLIENTS)
    ]
    for thread in attackers:
        thread.start()
    time.sleep(1.0 if attackers else 0)  # let the storm reach its pace
    start = time.perf_counter()
    timings = measure(base, samples)
    elapsed = time.perf_counter() - start
    stop.set()
    for thread in attackers:
        thread.join()
    return timings, statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="", help="run on this PostgreSQL database instead of SQLite")
    parser.add_argument("--samples", type=int, default=400, help="/healthz requests per phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heaters-signin-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEATERS_", "DATABASE_URL", "REDIS_URL"))}
        env.update(HEATERS_DATA_DIR=str(Path(tmp) / "data"), HEATERS_SECRET_KEY="bench")
        if args.postgres:
            env["DATABASE_URL"] = args.postgres
        subprocess.run([*HEATERS, "migrate"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([*HEATERS, "serve", "--port", str(port), "--proxy-headers", "--log-level", "error"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"{'SQLite' if not args.postgres else 'PostgreSQL'}: /healthz while {CLIENTS} clients post wrong "
                  f"passwords ({args.samples} samples per phase; load average before: {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores)")
            print(f"{'phase':<34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   sign-in answers")
            for name, spoof in (("idle (reference)", None), ("storm from one address", False),
                                ("storm, a new address each try", True)):
                timings, statuses, elapsed = phase(base, args.samples, spoof)
                answers = ", ".join(f"{code}: {count / elapsed:.1f}/s" for code, count in sorted(statuses.items()))
                print(f"{name:<34}{statistics.median(timings):>9.2f}{percentile(timings, 0.99):>9.2f}"
                      f"{max(timings):>9.2f}   {answers or '-'}")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
