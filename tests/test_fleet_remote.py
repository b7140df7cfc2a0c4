"""portablekit.fleet on remote sources: a real HTTP server on 127.0.0.1 with and without Range
support, HTTP errors, an unreachable server, and S3 through moto's local server."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest
from fleet_http import serve

from portablekit.fleet import TABLES, Fleet, generate_fleet, scan
from portablekit.fleet.remote import BLOCK_SIZE

VERSIONS = (252, 257, 262)


@pytest.fixture(scope="module")
def raw_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("remote") / "images"
    generate_fleet(d, 12, seed=5, raw=12, broken=0.2, extensions=0, versioned=0)
    return d


@pytest.fixture(scope="module")
def local(raw_fleet: Path) -> Fleet:
    return scan(raw_fleet, systemd=VERSIONS, workers=0, progress=False)


def _same(a: Fleet, b: Fleet) -> None:
    for name in TABLES:
        x, y = a.tables[name], b.tables[name]
        if name == "images":  # where and how fast: the rest is the same
            cols = ["seconds", "source", "bytes_fetched", "requests", "error"]
            x, y = x.drop(columns=cols), y.drop(columns=cols)
        pd.testing.assert_frame_equal(x, y, obj=name)


def test_http_directory_reads_in_place(raw_fleet: Path, local: Fleet) -> None:
    with serve(raw_fleet) as server:
        remote = scan(server.url, systemd=VERSIONS, workers=0, progress=False)
        sent = server.bytes_sent
    _same(local, remote)
    images = remote.images
    # the damaged images of the fleet (truncated, no image at all) are rows, as locally
    assert set(images["error_type"].dropna()) <= {"CorruptImageError"}
    readable = images[images["error_type"].isna()]
    # only what the readers need, in blocks, never the whole image
    assert (readable["bytes_fetched"] <= 512 * 1024).all()
    # whole blocks (or the whole of a tiny image), and the one byte that tells whether the
    # server honours Range requests
    blocks = readable["bytes_fetched"] - 1
    assert ((blocks % BLOCK_SIZE == 0) | (blocks == readable["size"])).all()
    big = readable[readable["size"] > 1 << 20]
    assert len(big) and (big["bytes_fetched"] < big["size"] / 4).all()
    assert sent < int(images["size"].sum()) / 4


def test_http_single_image_and_manifest(raw_fleet: Path, local: Fleet) -> None:
    site = raw_fleet / "site-00"
    names = sorted(p.name for p in site.glob("*.raw"))
    (site / "SHA256SUMS").write_text("".join(f"{'0' * 64} *{n}\n" for n in names[:3]))
    try:
        with serve(raw_fleet) as server:
            listed = scan(server.url + "site-00/", workers=0, progress=False)
            one = scan(server.url + f"site-00/{names[0]}", workers=0, progress=False)
    finally:
        (site / "SHA256SUMS").unlink()
    assert listed.images["image"].tolist() == names[:3]  # the manifest, not the index
    assert one.images["image"].tolist() == [names[0]]
    assert one.images["requests"].iloc[0] >= 1


def test_server_without_range_support(raw_fleet: Path) -> None:
    big = max(raw_fleet.glob("site-00/*.raw"), key=lambda p: p.stat().st_size)
    url_path = f"site-00/{big.name}"
    with serve(raw_fleet, ranges=False) as server:
        refused = scan(server.url + url_path, workers=0, progress=False)
        allowed = scan(server.url + url_path, workers=0, progress=False, allow_download=True)
    row = refused.images.iloc[0]
    assert row["error_type"] == "RangeNotSupported"
    assert row["error"].startswith(server.url + url_path)
    assert "does not support HTTP Range requests" in row["error"]
    assert "allow_download" in row["error"]
    fetched = allowed.images.iloc[0]
    assert pd.isna(fetched["error_type"])
    assert fetched["bytes_fetched"] == big.stat().st_size and fetched["requests"] == 1


def test_http_errors_and_unreachable_servers_are_rows(raw_fleet: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    with serve(raw_fleet) as server:
        fleet = scan(
            [
                server.url + "site-00/missing_1.raw",
                server.url + "broken-server/",
                dead,
                dead + "x_1.raw",
            ],
            workers=0,
            progress=False,
        )
    rows = fleet.images.set_index("image")["error"].to_dict()
    errors = fleet.images.set_index("image")["error_type"].to_dict()
    assert len(rows) == 4 and all(isinstance(e, str) for e in errors.values())
    missing = next(v for k, v in rows.items() if "missing_1" in k)
    assert "missing_1.raw" in missing and "not found" in missing.lower()
    broken = next(v for k, v in rows.items() if "broken-server" in v)
    assert "500" in broken
    assert sum("unreachable" in v for v in rows.values()) == 2, rows
    assert not any("Traceback" in v for v in rows.values())


# -- S3 ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(raw_fleet: Path) -> str:
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="portable")
    for p in sorted(raw_fleet.glob("site-00/*.raw")):
        client.upload_file(str(p), "portable", f"images/{p.name}")
    yield endpoint
    server.stop()


def test_s3_bucket(s3: str, local: Fleet) -> None:
    options = {"s3": {"endpoint_url": s3, "key": "test", "secret": "test"}}
    fleet = scan("s3://portable/images/", storage_options=options, workers=0, progress=False,
                 systemd=VERSIONS)  # fmt: skip
    errors = local.images["error_type"].reset_index(drop=True)
    pd.testing.assert_series_equal(fleet.images["error_type"], errors)
    assert (fleet.images["bytes_fetched"] <= 512 * 1024).all()
    # the same verdicts as the local files (keys are relative to their source)
    a = local.verdicts.assign(image=local.verdicts["image"].str.replace("site-00/", ""))
    pd.testing.assert_frame_equal(a.reset_index(drop=True), fleet.verdicts)


def test_s3_without_credentials(s3: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask a metadata service
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    fleet = scan("s3://portable/images/", storage_options={"s3": {"endpoint_url": s3}},
                 workers=0, progress=False)  # fmt: skip
    (row,) = fleet.images.itertuples()
    assert row.error_type == "PermissionError"
    assert row.error.startswith("s3://portable/images/") and "credentials" in row.error
