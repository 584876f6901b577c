"""The README's Quickstart, run the way a newcomer runs it, then checked over HTTP like a newcomer uses it.

    python3 .ci/quickstart.py README.md WORKDIR
    python3 .ci/quickstart.py --command N README.md     # prints the Quickstart's N-th command (1 or 2)

The first command of the README's Quickstart is read from the README itself (only ``--port`` is added) and run
with bash in WORKDIR, a fresh copy of the sources with no virtual environment. Then: wait for the address and
the demo credentials it prints, sign in over HTTP, open the review page, fetch the first proxy frame with a
Range request (206), send SIGTERM to ``heaters up`` and check that none of the processes it started is left.
Standard library only: it runs before anything is installed. Exit 1 on any failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

INSTALL_TIMEOUT = 30 * 60  # the pip install, the sample video and the server, from a cold pip cache
READY_TIMEOUT = 180
STOP_TIMEOUT = 30
CREDENTIALS = re.compile(r"open (http://\S+?)/? and sign in as (\S+) / (\S+)")


class Failed(Exception):
    pass


def quickstart_command(readme: Path, n: int = 1) -> str:
    """The ``n``-th shell command of the Quickstart section: 1 starts the demo, 2 runs the tests."""
    section = readme.read_text().split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    if len(blocks) < n:
        raise Failed(f"the README's Quickstart has no command {n}")
    lines = [line.strip() for line in blocks[n - 1].splitlines() if line.strip()]
    ends = {1: "heaters up --demo", 2: "python -m pytest"}[n]
    if len(lines) != 1 or not lines[0].endswith(ends):
        raise Failed(f"the Quickstart's command {n} should be one line ending in `{ends}`: {lines}")
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # state, ppid, pgrp, session, ...


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def session_members(session: int) -> dict[int, str]:
    """Live (not zombie) processes of ``session``, with their command lines."""
    pids = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
    return {pid: _cmdline(pid) for pid in pids if (f := _stat(pid)) and f[0] != "Z" and int(f[3]) == session}


def descendants(root: int) -> dict[int, str]:
    """Live descendants of ``root`` (whatever session they moved to), with their command lines."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid: _cmdline(pid) for pid in found if _alive(pid)}


class Browser:
    """Just enough of a browser: cookies, form posts, the CSRF header for JSON calls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body, following redirects."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=data), timeout=60) as response:
            return response.status, response.url


def sign_in_and_review(base: str, user: str, password: str) -> None:
    browser = Browser(base)
    status, _, body = browser.get("/login")
    token = re.search(rb'name="_csrf_token" value="([^"]+)"', body)
    if status != 200 or not token:
        raise Failed(f"GET /login: {status}, no sign-in form")
    status, landed = browser.post_form("/login", {"_csrf_token": token.group(1).decode(), "username": user,
                                                  "password": password, "next": "/"})
    if status != 200 or "/login" in landed:
        raise Failed(f"signing in as {user} with the printed password failed ({status}, {landed})")
    status, _, body = browser.get("/api/videos")
    if status != 200:
        raise Failed(f"GET /api/videos after signing in: {status} {body[:200]!r}")
    videos = json.loads(body)["videos"]
    if not videos:
        raise Failed("the demo video is not listed")
    video = videos[0]["id"]
    print(f"quickstart: signed in as {user}; demo video {video}")
    deadline = time.monotonic() + READY_TIMEOUT
    while True:  # reviewable once encoded and cut into clips
        status, _, body = browser.get(f"/api/videos/{video}")
        state = json.loads(body).get("state") if status == 200 else status
        if state == "ready":
            break
        if time.monotonic() > deadline:
            raise Failed(f"video {video} not ready after {READY_TIMEOUT} s: {state} {body[:300]!r}")
        time.sleep(1)
    proxy = json.loads(body)["proxy_url"]
    status, _, page = browser.get("/review")  # hands out the next video: the demo's
    if status != 200 or f'class="review" data-video="{video}"'.encode() not in page:
        raise Failed(f"GET /review did not open the review page of video {video}: {status}")
    print(f"quickstart: the review page of video {video} opened")
    status, _, body = browser.get(f"/api/videos/{video}/index?start=0&end=1")
    if status != 200:
        raise Failed(f"GET the proxy's frame index: {status} {body[:200]!r}")
    index = json.loads(body)
    offset, size = index["offsets"][0], index["sizes"][0]
    status, headers, frame = browser.get(proxy, {"Range": f"bytes={offset}-{offset + size - 1}"})
    if status != 206 or len(frame) != size:
        raise Failed(f"Range request for frame 0 of {proxy}: {status}, {len(frame)} bytes (wanted 206, {size})")
    print(f"quickstart: frame 0 of the proxy came as 206 ({size} bytes, {headers.get('content-range')})")


def wait_for_credentials(shell: subprocess.Popen[bytes], log: Path) -> tuple[str, str, str]:
    deadline = time.monotonic() + INSTALL_TIMEOUT
    while True:
        text = log.read_text(errors="replace")
        found = CREDENTIALS.search(text)
        if found:
            return found.group(1), found.group(2), found.group(3)
        if shell.poll() is not None:
            raise Failed(f"the Quickstart command exited ({shell.returncode}) before printing the credentials")
        if time.monotonic() > deadline:
            raise Failed(f"no credentials printed after {INSTALL_TIMEOUT} s")
        time.sleep(0.5)


def main(readme: Path, workdir: Path) -> int:
    command = f"{quickstart_command(readme)} --port {free_port()}"
    log = workdir.parent / "quickstart.log"
    print(f"quickstart: in a fresh copy of the sources: {command}")
    started = time.monotonic()
    # A newcomer's shell: none of this project's settings, no virtual environment active.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEATERS_") and k not in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV", "PYTHONPATH")}
    shell = subprocess.Popen(["bash", "-c", command], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                             stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    tree: dict[int, str] = {}
    try:
        base, user, password = wait_for_credentials(shell, log)
        print(f"quickstart: {base} answered after {time.monotonic() - started:.0f} s (install included)")
        sign_in_and_review(base, user, password)
        tree = {**session_members(shell.pid), **descendants(shell.pid)}
        up = [pid for pid, cmd in tree.items() if re.search(r"heaters up\b", cmd) and "bash -c" not in cmd]
        if len(up) != 1:
            raise Failed(f"expected one `heaters up` process, found {up}: {tree}")
        os.kill(up[0], signal.SIGTERM)
        try:
            shell.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failed(f"`heaters up` was still running {STOP_TIMEOUT} s after SIGTERM") from None
        if shell.returncode != 0:
            raise Failed(f"`heaters up` exited {shell.returncode} after SIGTERM (wanted 0)")
        deadline = time.monotonic() + STOP_TIMEOUT
        while left := {p: c for p, c in tree.items() if _alive(p)} | session_members(shell.pid):
            if time.monotonic() > deadline:
                raise Failed(f"left running after SIGTERM: {sorted(left.values())}")
            time.sleep(0.2)
        print(f"quickstart: SIGTERM stopped all {len(tree)} processes; nothing left "
              f"({time.monotonic() - started:.0f} s in all)")
        return 0
    except Failed as exc:
        print(f"quickstart FAILED: {exc}\n--- last lines of its output ---", file=sys.stderr)
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        return 1
    finally:
        for pid in {**tree, **session_members(shell.pid), **descendants(shell.pid)}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if shell.poll() is None:
            shell.kill()
        shell.wait()


if __name__ == "__main__":
    if sys.argv[1] == "--command":
        print(quickstart_command(Path(sys.argv[3]), int(sys.argv[2])))
        sys.exit(0)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
