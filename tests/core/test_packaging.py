"""The wheel ships the migrations, and each process imports only its own stack."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_migrations(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("heaters-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "heaters/migrations/m0001_initial.py" in names
    for template in (ROOT / "heaters/web").rglob("*.html"):
        assert f"heaters/web/{template.relative_to(ROOT / 'heaters/web')}" in names
    assert not any(name.endswith((".mp4", ".mkv", ".sqlite3")) for name in names)


def imported_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {line.split(".")[0] for line in out.split()}


def test_help_is_light() -> None:
    loaded = imported_modules("from heaters.cli import cli")
    assert not loaded & {"av", "cv2", "litestar", "textual", "dramatiq", "boto3", "piccolo"}
