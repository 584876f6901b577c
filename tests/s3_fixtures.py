"""A real S3 endpoint for tests: one moto server per session, a fresh bucket per test (loaded by tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from heaters.storage import S3Storage

TEST_SECRET = "heaters-test-secret-never-logged"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on a free local port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> str:
    """Dummy credentials in the environment (returns the secret key); the developer's own AWS files are
    kept out of reach."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "heaters-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return TEST_SECRET


@pytest.fixture
def s3_client(s3_endpoint: str, s3_credentials: str) -> Any:
    """A plain boto3 client on the moto server, for checking what the storage wrote."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    name = f"heaters-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_s3(s3_endpoint: str, s3_bucket: str) -> Callable[..., S3Storage]:
    """Build an ``S3Storage`` on this test's bucket; keyword arguments override the defaults."""

    def make(**overrides: Any) -> S3Storage:
        kwargs: dict[str, Any] = {"endpoint_url": s3_endpoint, "region": "us-east-1"}
        kwargs.update(overrides)
        return S3Storage(s3_bucket, **kwargs)

    return make
