"""Run the unit tests of the browser's DOM-free modules (frames.js, keymap.js) with Node's test runner.

Node is optional (nothing is installed from npm, and CI need not have it): the test skips without it. The same
modules also run in Chromium in the browser tests, through the pages that use them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from heaters import keymap

HERE = Path(__file__).parent


def test_dom_free_modules(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the JavaScript unit tests need it")
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files, "no JavaScript test files found"
    table = tmp_path / "keys.json"
    table.write_text(json.dumps(keymap.page_table()))
    result = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HEATERS_KEY_TABLE": str(table)})
    if result.returncode != 0:
        pytest.fail(f"node --test failed:\n{result.stdout}\n{result.stderr}")
    assert "# fail 0" in result.stdout
