"""portablekit.fleet on local sources: the synthetic fleet, the tables and their identity
across serial, process-pool and Dask runs, bad input, interruption, the command line."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from portablekit.cli.main import main
from portablekit.fleet import TABLES, Fleet, generate_fleet, scan
from portablekit.fleet.analyze import ScanConfig, _canonical_dropin, analyze_image
from portablekit.fleet.sources import discover, parse_index, parse_sha256sums
from portablekit.portabled.attach import plan_attach
from portablekit.portabled.image import vpick
from portablekit.portabled.profiles import load_profile
from portablekit.samples import sample_sandbox
from portablekit.security.attached import attached_unit
from portablekit.security.score import assess
from portablekit.unitfile import UnitFile
from portablekit.versions import Systemd

VERSIONS = (252, 257, 262)


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fleet") / "images"
    # enough images for every kind of breakage, a few raw images of each format
    generate_fleet(d, 80, seed=3, raw=10, broken=0.3, extensions=0.05, versioned=0.05)
    return d


@pytest.fixture(scope="module")
def serial(fleet_dir: Path) -> Fleet:
    return scan(fleet_dir, systemd=VERSIONS, profiles=("default", "strict"), workers=0,
                progress=False)  # fmt: skip


# -- the synthetic fleet --------------------------------------------------------------------------


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = generate_fleet(tmp_path / "a", 30, seed=7)
    b = generate_fleet(tmp_path / "b", 30, seed=7)
    assert a == b and len(a.images) == 30
    files_a = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(str(p.relative_to(tmp_path / "b")) for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    manifest = json.loads((tmp_path / "a" / ".fleet.json").read_text())
    assert manifest["n"] == 30 and len(manifest["images"]) == 30


def test_generator_refuses_a_directory_in_use(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep").write_text("mine")
    with pytest.raises(Exception, match="not empty"):
        generate_fleet(tmp_path / "x", 3)


def test_fleet_mixes_what_the_issue_asks_for(fleet_dir: Path, serial: Fleet) -> None:
    spec = json.loads((fleet_dir / ".fleet.json").read_text())
    formats = {i["format"] for i in spec["images"] if i["kind"] == "raw"}
    assert formats >= {"squashfs", "ext4", "erofs", "gpt"} - {None}
    images = serial.images
    assert set(images["kind"].dropna().astype(str)) >= {"directory", "raw"}
    assert (images["role"] == "extension").any()
    assert images["picked_from"].notna().any()  # NAME.v
    assert images["os_id"].nunique() >= 3
    causes = set(serial.verdicts["cause"].dropna().astype(str))
    assert {"os-release-missing", "no-matching-units", "os-release-no-id"} <= causes


# -- sources ------------------------------------------------------------------------------------


def test_walk_follows_portabled_naming(tmp_path: Path) -> None:
    generate_fleet(tmp_path / "f", 6, seed=1, broken=0, extensions=0, versioned=0)
    site = tmp_path / "f" / "site-00"
    (site / "notes.txt").write_text("not an image")
    (site / ".git").mkdir()
    (site / ".git" / "x.raw").write_text("hidden folder: not walked")
    (site / "backup~").mkdir()
    (site / "loop").symlink_to(site)  # a directory reached twice
    (site / "self.raw").symlink_to("self.raw")  # a link loop
    (site / "gone_1.raw").symlink_to("nowhere")  # dangling, named like an image
    refs = discover([tmp_path / "f"])
    good = [r for r in refs if r.error_type is None]
    bad = {r.path: r.error for r in refs if r.error_type is not None}
    assert len(good) == 6 and all(r.kind == "directory" for r in good)
    assert set(bad) == {"site-00/loop", "site-00/self.raw", "site-00/gone_1.raw"}
    assert "directory loop" in bad["site-00/loop"]
    assert "symbolic link loop" in bad["site-00/self.raw"]
    assert "dangling" in bad["site-00/gone_1.raw"]


def test_versioned_directory_is_picked_by_portabled(fleet_dir: Path, serial: Fleet) -> None:
    picked = serial.images[serial.images["picked_from"].notna()].iloc[0]
    from portablekit.portabled.host import Host

    parent = fleet_dir / Path(str(picked["picked_from"])).parent
    chosen = vpick(Host(parent), Path("/", Path(str(picked["picked_from"])).name))  # type: ignore[arg-type]
    assert chosen is not None and str(picked["path"]).endswith(chosen.name)


def test_bad_sources_are_rows(tmp_path: Path) -> None:
    (tmp_path / "text.raw").write_text("this is not a disk image\n" * 100)
    (tmp_path / "empty").mkdir()
    fleet = scan(
        [tmp_path / "missing", tmp_path / "text.raw", tmp_path / "empty"],
        workers=0,
        progress=False,
    )
    rows = fleet.images.set_index("image")
    assert rows.loc["missing", "error_type"] == "FileNotFoundError"
    assert str(tmp_path / "missing") in rows.loc["missing", "error"]
    assert "no images found" in rows.loc["empty", "error"]
    # a file that is no image is read and found to be none: portabled's refusal says so
    verdict = fleet.verdicts.set_index("image").loc["text.raw/text.raw"]
    assert not verdict["attachable"] and verdict["cause"] == "raw-dissection"
    assert verdict["message"] == (
        "Couldn't identify a suitable partition table or file system in "
        "'/var/lib/portables/text.raw'."
    )


def test_index_and_manifest_parsers() -> None:
    page = (
        '<a href="../">../</a><a href="?C=N;O=D">Name</a><a href="a_1.raw">a_1.raw</a>'
        '<a href="sub/">sub/</a><a href="http://elsewhere/x.raw">x</a><a href="a_1.raw">again</a>'
    )
    assert parse_index(page, "http://h/dir/") == ["a_1.raw", "sub/"]
    sums = "0" * 64 + " *a_1.raw\n" + "f" * 64 + "  b_2.raw\n"
    assert parse_sha256sums(sums) == ["a_1.raw", "b_2.raw"]
    assert parse_sha256sums("<html>") is None


# -- the tables ---------------------------------------------------------------------------------


def test_tables_have_their_schema(serial: Fleet) -> None:
    from portablekit.fleet.frames import schemas

    s = schemas(serial.config)
    for name, df in serial:
        assert list(df.columns) == list(s[name]), name
        for col, dtype in s[name].items():
            assert str(df[col].dtype) == str(pd.Series([], dtype=dtype).dtype), (name, col)
    assert not serial.images["image"].duplicated().any()
    assert serial.images["image"].is_monotonic_increasing
    assert not any(str(p).startswith("/") for p in serial.images["path"])  # root-relative


def test_verdicts_are_the_simulations(fleet_dir: Path, serial: Fleet, tmp_path: Path) -> None:
    """A verdict is what portablectl attach says with the image copied into a fresh host."""
    import shutil

    sample = serial.images[serial.images["kind"] == "directory"].head(12)
    for v in VERSIONS:
        with sample_sandbox(tmp_path / f"host{v}", systemd=Systemd(v), names=()) as sb:
            for row in sample.itertuples():
                dest = sb.root.path / "var/lib/portables" / str(row.name)
                shutil.copytree(fleet_dir / str(row.path), dest, symlinks=True)
                arg = f"/var/lib/portables/{row.name}"
                from portablekit.names import derive_prefix

                plan = plan_attach(sb.root.host, arg, matches=[derive_prefix(arg, Systemd(v))])
                got = serial.verdicts[
                    (serial.verdicts["image"] == row.image) & (serial.verdicts["systemd"] == v)
                ].iloc[0]
                assert bool(got["attachable"]) == plan.ok, row.image
                want = plan.error.message if plan.error else None
                assert (None if pd.isna(got["message"]) else got["message"]) == want


def test_memoized_scores_are_exact(serial: Fleet, fleet_dir: Path) -> None:
    """The score computed on the canonical drop-in equals the one on the plan's own text."""
    checked = 0
    for row in serial.images[serial.images["kind"] == "directory"].head(15).itertuples():
        ref = serial.refs[str(row.image)]
        host = serial.host(str(row.image), 262)
        arg = f"/var/lib/portables/{ref.file_name}"
        from portablekit.names import derive_prefix

        plan = plan_attach(host, arg, matches=[derive_prefix(arg, Systemd(262))], profile="strict")
        if not plan.ok or plan.dissection is None:
            continue
        for u in plan.dissection.units:
            if u.type != "service":
                continue
            op = next(o for o in plan.ops if str(o.path).endswith(f"{u.name}.d/20-portable.conf"))
            text = op.data.decode()  # type: ignore[union-attr]
            unit = UnitFile.parse(u.data, origin=u.name)
            prof = load_profile("strict", Systemd(262))[1]
            real = attached_unit(
                unit,
                u.name,
                systemd=Systemd(262),
                profile=prof,
                portable=UnitFile.parse(text, origin="20-portable.conf"),
            )
            canonical = _canonical_dropin(text, arg, ref.file_name)
            placeholder = UnitFile.parse(canonical, origin="20-portable.conf")
            canon = attached_unit(
                unit, u.name, systemd=Systemd(262), profile=prof, portable=placeholder
            )
            if real.fatal is not None:
                continue
            assert assess(real).score == assess(canon).score
            sc = serial.scores
            got = sc[(sc["image"] == row.image) & (sc["unit"] == u.name)
                     & (sc["systemd"] == 262) & (sc["profile"] == "strict")]  # fmt: skip
            assert got["exposure"].iloc[0] == round(assess(real).score, 1)
            checked += 1
    assert checked >= 5


def test_placed_hosts_answer_unit_lookups_as_the_fresh_host(serial: Fleet) -> None:
    from portablekit.portabled.host import Host
    from portablekit.portabled.install import unit_file_exists

    row = serial.images[serial.images["kind"] == "directory"].iloc[0]
    placed = serial.host(str(row["image"]), 257)
    fresh = Host(placed.root, Systemd(257))
    image_units = serial.units[serial.units["image"] == row["image"]]["unit"].astype(str)
    names = ["systemd-journald.service", "getty@tty1.service", "nothing-here.service"]
    for name in [*names, *image_units]:
        assert unit_file_exists(placed, name) == unit_file_exists(fresh, name), name
    assert placed.unit_file_memo is not None and set(names) <= set(placed.unit_file_memo)


def test_upgrade_impact_names_what_differs(serial: Fleet) -> None:
    up = serial.upgrades
    assert set(up["aspect"].astype(str)) >= {"dropin"}
    pairs = set(zip(up["from_systemd"].astype(int), up["to_systemd"].astype(int), strict=True))
    assert pairs == {(252, 257), (257, 262)}
    d = up[up["aspect"] == "dropin"].iloc[0]
    assert d["before"] != d["after"] and "[Service]" in d["after"]
    # 262 refuses PORTABLE_SCOPE=user, earlier versions ignore it
    scope = serial.verdicts[serial.verdicts["cause"] == "portable-scope"]
    if len(scope):
        assert set(scope["systemd"].astype(int)) == {262}
        img = scope["image"].iloc[0]
        flips = up[(up["image"] == img) & (up["aspect"] == "verdict")]
        assert flips[["before", "after"]].values.tolist() == [["attached", "refused"]]


def test_serial_pool_and_dask_tables_are_identical(fleet_dir: Path, serial: Fleet) -> None:
    pool = scan(fleet_dir, systemd=VERSIONS, profiles=("default", "strict"), workers=2,
                chunk_size=7, progress=False)  # fmt: skip
    from distributed import Client, LocalCluster

    # threads, not processes: process workers take several seconds to start on a busy machine
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        lazy = scan(fleet_dir, systemd=VERSIONS, profiles=("default", "strict"), client=client,
                    chunk_size=9)  # fmt: skip
        assert lazy.is_lazy
        dask = lazy.compute()
        eager = scan(fleet_dir, systemd=VERSIONS, profiles=("default", "strict"), client=client,
                     compute=True, progress=False)  # fmt: skip
    for name in TABLES:
        a = serial.tables[name]
        if name == "images":  # timings differ from run to run
            a = a.drop(columns=["seconds"])
        for other in (pool, dask, eager):
            b = other.tables[name]
            if name == "images":
                b = b.drop(columns=["seconds"])
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)


def test_interrupt_returns_what_was_scanned(fleet_dir: Path) -> None:
    seen = []

    def stop(n: int) -> None:
        seen.append(n)
        if sum(seen) >= 5:
            raise KeyboardInterrupt

    part = scan(fleet_dir, systemd=(257,), workers=0, progress=False, on_progress=stop)
    assert part.partial and len(part.images) == 5
    seen.clear()
    pooled = scan(fleet_dir, systemd=(257,), workers=2, chunk_size=4, progress=False,
                  on_progress=stop)  # fmt: skip
    assert pooled.partial and 5 <= len(pooled.images) < 80


def test_a_slow_image_is_stopped_and_the_scan_goes_on(fleet_dir: Path) -> None:
    refs = [r for r in discover([fleet_dir]) if r.error_type is None][:3]
    rows = analyze_image(refs[0], ScanConfig(versions=(Systemd(257),), time_limit=0.0))
    (image,) = rows.tables["images"]
    assert image[16] == "ImageTimeout" and "per-image bound" in image[17]
    fleet = scan(refs[0].location, time_limit=0.0, workers=0, progress=False)
    assert fleet.images["error_type"].tolist() == ["ImageTimeout"]


def test_pool_workers_bound_memory_and_time(
    fleet_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two pathological images in a pool: one allocates past the memory bound, one hangs where
    # no read checks the deadline (only the worker's alarm stops it); the others are scanned
    from portablekit.fleet import analyze

    refs = [r for r in discover([fleet_dir]) if r.error_type is None][:6]
    hog, hang = refs[0].location, refs[1].location
    real_open = analyze._open

    def pathological(ref, config, deadline):  # type: ignore[no-untyped-def]
        if ref.location == hog:
            bytearray(1 << 30)
        if ref.location == hang:
            time.sleep(120)
        return real_open(ref, config, deadline)

    # pool workers are forked from this process (Linux), so they run the patched function
    monkeypatch.setattr(analyze, "_open", pathological)
    fleet = scan([r.location for r in refs], workers=2, chunk_size=1, memory_limit=256 << 20,
                 time_limit=1.0, progress=False)  # fmt: skip
    by = fleet.images.set_index("source")["error_type"]
    assert by[hog] == "MemoryError" and by[hang] == "ImageTimeout"
    assert by.drop([hog, hang]).isna().all() and len(by) == 6


def test_export_formats(serial: Fleet, tmp_path: Path) -> None:
    for fmt in ("csv", "json", "parquet"):
        files = serial.export(tmp_path / fmt, fmt)
        assert [f.name for f in files] == [f"{t}.{fmt}" for t in TABLES]
    back = pd.read_parquet(tmp_path / "parquet" / "verdicts.parquet")
    # Parquet keeps the text categoricals; the versions come back as plain integers
    assert str(back["cause"].dtype) == "category"
    back["systemd"] = back["systemd"].astype(serial.verdicts["systemd"].dtype)
    pd.testing.assert_frame_equal(back, serial.verdicts)
    first = json.loads((tmp_path / "json" / "images.json").read_text().splitlines()[0])
    assert first["image"] == serial.images["image"].iloc[0]


def test_drill_down_host_shows_the_image(serial: Fleet) -> None:
    from portablekit.portabled.image import discover_images

    row = serial.images[serial.images["kind"] == "raw"].dropna(subset=["os_id"]).iloc[0]
    host = serial.host(str(row["image"]))
    names = [i.name for i in discover_images(host)]
    assert names == [row["name"]]


# -- the command line ---------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), stdout=out, stderr=err, cwd=cwd, environ={})
    return rc, out.getvalue(), err.getvalue()


def test_cli_scan_writes_parquet(fleet_dir: Path, tmp_path: Path) -> None:
    rc, out, err = _cli("fleet", "scan", str(fleet_dir), "--systemd", "252,257,262",
                        "--profiles", "default,strict", "--format", "parquet", "-o", "out",
                        "--workers", "0", "-q", cwd=tmp_path)  # fmt: skip
    assert out.splitlines()[1] == "SYSTEMD ATTACH REFUSED REFUSALS BY CAUSE"
    assert sorted(os.listdir(tmp_path / "out")) == sorted(f"{t}.parquet" for t in TABLES)
    images = pd.read_parquet(tmp_path / "out" / "images.parquet")
    unreadable = images.dropna(subset=["error_type"])
    # the damaged raw images of the fleet: named on stderr, and the answer is no
    assert rc == (1 if len(unreadable) else 0)
    assert err.count("portablekit fleet: ") == len(unreadable) and "Traceback" not in err
    verdicts = pd.read_parquet(tmp_path / "out" / "verdicts.parquet")
    assert sorted(verdicts["systemd"].astype(int).unique()) == [252, 257, 262]


def test_cli_unreadable_image_answers_no(tmp_path: Path) -> None:
    rc, out, err = _cli("fleet", "scan", "missing", "-q", "--workers", "0", cwd=tmp_path)
    assert rc == 1 and out.startswith("1 images, 1 unreadable")
    assert f"{tmp_path}/missing" in err and "Traceback" not in err


def test_cli_several_versions_only_for_fleet(tmp_path: Path) -> None:
    rc, _, err = _cli("--root", str(tmp_path), "--systemd", "252,257", "list", cwd=tmp_path)
    assert rc == 2
    rc, _, err = _cli("security", "x.service", "--systemd", "252,262", cwd=tmp_path)
    assert rc == 2 and "one version" in err
