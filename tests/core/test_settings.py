"""Settings: every field documented, parsed from the environment, secrets masked."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from heaters.errors import ConfigError
from heaters.settings import Settings


def test_every_setting_is_documented() -> None:
    for field in dataclasses.fields(Settings):
        assert field.metadata.get("env"), f"{field.name} has no environment variable"
        assert len(field.metadata.get("doc", "")) > 15, f"{field.name} is not documented"


def test_environment_parsing() -> None:
    settings = Settings.from_env({
        "HEATERS_DATA_DIR": "/srv/heaters", "HEATERS_PORT": "9000", "WEBCODECS_ENABLED": "false",
        "HEATERS_SCENE_THRESHOLD": "2.5", "HEATERS_STORAGE": "s3",
    })
    assert settings.data_dir == Path("/srv/heaters")
    assert settings.port == 9000 and settings.webcodecs_enabled is False and settings.scene_threshold == 2.5
    assert settings.resolved_database_url == "sqlite:////srv/heaters/heaters.sqlite3"
    assert settings.resolved_storage_dir == Path("/srv/heaters/media")


@pytest.mark.parametrize(("env", "value"), [("HEATERS_PORT", "eighty"), ("WEBCODECS_ENABLED", "maybe"),
                                            ("HEATERS_STORAGE", "ftp"), ("HEATERS_MASTER", "raw"),
                                            ("HEATERS_DETECTOR", "magic"), ("HEATERS_SCENE_THRESHOLD", "0"),
                                            ("HEATERS_SCENE_THRESHOLD", "-1"), ("HEATERS_SCENE_THRESHOLD", "nan"),
                                            ("HEATERS_SCENE_MIN_FRAMES", "0")])
def test_bad_values_name_the_variable(env: str, value: str) -> None:
    with pytest.raises(ConfigError, match=env if env != "HEATERS_STORAGE" else "storage kind"):
        Settings.from_env({env: value})


def test_detector_choice() -> None:
    assert Settings.from_env({}).detector == "builtin"
    assert Settings.from_env({"HEATERS_DETECTOR": "ensemble"}).detector == "ensemble"


def test_secrets_are_masked() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgres://app:hunter2@db:5432/heaters",
                                  "HEATERS_SECRET_KEY": "s3cr3t-key"})
    shown = {env: value for env, value, _, _ in settings.described()}
    assert shown["DATABASE_URL"] == "postgres://app:****@db:5432/heaters"
    assert shown["HEATERS_SECRET_KEY"] == "****"
    assert "hunter2" not in str(list(settings.described()))


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    # It holds sessions and password hashes; other local users must not read them.
    from heaters.db.engine import make_engine

    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    make_engine(settings)
    database = tmp_path / "data" / "heaters.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    database.chmod(0o640)  # a mode the operator chose stays
    make_engine(settings)
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
