"""A synthetic fleet: N portable images laid out like a real image store, deterministically.

:func:`generate_fleet` writes ``n`` images into an empty directory, in ``site-NN/`` folders of
a hundred, from a seeded random generator, so the same arguments give the same bytes on every
machine. The mix, per image (fractions of ``n``):

* products: twenty service names in forty releases each, an image ``PRODUCT_VERSION-N``
  (portablectl derives the prefix ``PRODUCT``) with the content of its release (a release is
  the same on every host it is deployed to): one to three units (a service, sometimes a
  socket, a timer, a template and a unit that does not match), each service one of six
  hardening styles (from nothing to ``DynamicUser=`` with a system-call filter), so exposures
  spread over the whole scale;
* bases: Debian 11/12/13, Ubuntu 24.04 and Fedora 41 os-release files; about a third declare
  ``PORTABLE_PREFIXES=``, some ``PORTABLE_SCOPE=system`` or ``any``, some ``IMAGE_ID=`` and
  ``IMAGE_VERSION=``;
* ``extensions``: system extensions of a product (an extension-release file and a unit; a scan
  reports them with role ``extension``);
* ``versioned``: ``PRODUCT.v/`` directories of two or three ``PRODUCT_VERSION`` trees
  (systemd.v(7): 256+ pick the newest);
* ``broken``: copies of the broken samples of :mod:`portablekit.samples` (one per rule of the
  image checks: no os-release, no ``ID=``, no matching unit, masked, dangling,
  ``PORTABLE_SCOPE=user``, foreign ELF, ...), named ``SAMPLE_N`` so their units match;
* ``raw``: that many raw images instead of directory trees, built with the real tools
  (:mod:`portablekit.samples.raw`) in the ``raw_formats`` given (squashfs, ext4, EROFS, and a
  GPT disk with a root partition), a few per cent truncated or not an image at all. Raw images
  are three releases per product, each built once per format and hard-linked (the same
  release deployed on many hosts).

The directory gets a ``.fleet.json`` manifest (a hidden name: scans ignore it). Directory trees
are written by :func:`portablekit.samples.raw.write_tree`; this module only makes folders,
links and copies raw images, and writes the manifest and the damaged images.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import PortableKitError
from ..samples import SAMPLES
from ..samples.raw import build_tree_image, write_tree
from ..source import MemorySource, Symlink

__all__ = ["PRODUCTS", "RAW_FORMATS", "FleetImage", "FleetSpec", "generate_fleet"]

#: The service names of the synthetic fleet.
PRODUCTS = (
    "billing", "checkout", "search", "metrics-agent", "log-shipper", "auth", "gateway",
    "inventory", "mailer", "thumbnailer", "scheduler", "ledger", "geoip", "ingest", "notifier",
    "exporter", "cache", "reports", "backup-agent", "webhooks",
)  # fmt: skip
#: Raw image formats: a bare file system, or a GPT disk with an ext4 root partition.
RAW_FORMATS = ("squashfs", "ext4", "erofs", "gpt")
_BASES = (
    ("debian", "11", 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"'),
    ("debian", "12", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'),
    ("debian", "12", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'),
    ("debian", "13", 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"'),
    ("ubuntu", "24.04", 'PRETTY_NAME="Ubuntu 24.04 LTS"\nID_LIKE=debian'),
    ("fedora", "41", 'PRETTY_NAME="Fedora Linux 41 (Container Image)"'),
)
_STYLES = {
    "plain": "",
    "user": "User={p}\nProtectSystem=full\n",
    "dynamic": "DynamicUser=yes\nProtectHome=yes\nPrivateTmp=yes\nPrivateDevices=yes\n",
    "network": (
        "DynamicUser=yes\nRestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\nProtectHome=yes\n"
        "ProtectKernelTunables=yes\nProtectControlGroups=yes\nNoNewPrivileges=yes\n"
    ),
    "hardened": (
        "DynamicUser=yes\nCapabilityBoundingSet=\nPrivateNetwork=yes\nPrivateUsers=yes\n"
        "ProtectSystem=strict\nProtectHome=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n"
        "ProtectClock=yes\nProtectHostname=yes\nRestrictNamespaces=yes\nLockPersonality=yes\n"
        "MemoryDenyWriteExecute=yes\nRestrictRealtime=yes\nSystemCallArchitectures=native\n"
        "SystemCallFilter=@system-service\nRestrictAddressFamilies=AF_UNIX\nUMask=0077\n"
    ),
    "privileged": "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_ADMIN\n"
    "AmbientCapabilities=CAP_NET_ADMIN\n",
}


@dataclass(frozen=True, slots=True)
class FleetImage:
    """One generated image: where (relative to the fleet directory), what, and how broken."""

    path: str
    product: str
    kind: str
    format: str | None = None
    broken: str | None = None
    role: str = "base"


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What :func:`generate_fleet` made: its arguments and every image."""

    n: int
    seed: int
    raw: int
    raw_formats: tuple[str, ...]
    images: tuple[FleetImage, ...] = field(default=())

    def to_json(self) -> str:
        """The manifest written to ``.fleet.json``."""
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


def _unit(product: str, name: str, style: str, rnd: random.Random) -> str:
    hardening = _STYLES[style].format(p=product)
    after = "After=network-online.target\n" if rnd.random() < 0.5 else ""
    return (
        f"[Unit]\nDescription={product} ({name})\n{after}\n[Service]\n"
        f"ExecStart=/usr/bin/{product} --{name}\n{hardening}\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )


def _tree(product: str, version: str, rnd: random.Random) -> dict[str, object]:
    os_id, os_version, pretty = rnd.choice(_BASES)
    release = f'{pretty}\nNAME="{os_id}"\nID={os_id}\nVERSION_ID="{os_version}"\n'
    if rnd.random() < 0.35:
        release += f"PORTABLE_PREFIXES={product}\n"
    if rnd.random() < 0.15:
        release += f"PORTABLE_SCOPE={rnd.choice(['system', 'any'])}\n"
    if rnd.random() < 0.3:
        release += f"IMAGE_ID={product}\nIMAGE_VERSION={version}\n"
    style = rnd.choice(list(_STYLES))
    files: dict[str, object] = {
        "usr/lib/os-release": release,
        "etc/os-release": Symlink("../usr/lib/os-release"),
        "etc/resolv.conf": "",
        "etc/machine-id": "",
        "proc": None, "sys": None, "dev": None, "run": None, "tmp": None, "var/tmp": None,
        f"usr/bin/{product}": f"#!/bin/sh\nexec sleep infinity # {product} {version}\n",
        f"usr/lib/systemd/system/{product}.service": _unit(product, "main", style, rnd),
    }  # fmt: skip
    if rnd.random() < 0.4:
        files[f"usr/lib/systemd/system/{product}.socket"] = (
            f"[Socket]\nListenStream=/run/{product}.sock\n\n[Install]\nWantedBy=sockets.target\n"
        )
    if rnd.random() < 0.25:
        files[f"usr/lib/systemd/system/{product}-cleanup.service"] = _unit(
            product, "cleanup", rnd.choice(list(_STYLES)), rnd
        )
        files[f"usr/lib/systemd/system/{product}-cleanup.timer"] = (
            "[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n"
        )
    if rnd.random() < 0.15:
        files[f"usr/lib/systemd/system/{product}-worker@.service"] = _unit(
            product, "worker", style, rnd
        )
    if rnd.random() < 0.2:
        files["usr/lib/systemd/system/debug-shell.service"] = _unit(product, "debug", "plain", rnd)
    return files


def _extension(product: str, version: str, name: str, rnd: random.Random) -> dict[str, object]:
    os_id, os_version, _ = rnd.choice(_BASES)
    return {
        f"usr/lib/extension-release.d/extension-release.{name}": (
            f"ID={os_id}\nVERSION_ID={os_version}\nSYSEXT_SCOPE=portable\n"
        ),
        f"usr/lib/systemd/system/{product}-plugin.service": _unit(product, "plugin", "user", rnd),
    }


def _source(
    files: dict[str, object], label: str, modes: dict[str, int] | None = None
) -> MemorySource:
    return MemorySource(files, label=label, modes=modes or {}, mtime=1704067200)  # type: ignore[arg-type]


def generate_fleet(
    directory: str | os.PathLike[str],
    n: int = 1000,
    *,
    seed: int = 0,
    raw: int = 0,
    raw_formats: Sequence[str] = RAW_FORMATS,
    broken: float = 0.05,
    extensions: float = 0.03,
    versioned: float = 0.02,
) -> FleetSpec:
    """Write a synthetic fleet of ``n`` images into ``directory`` (empty or missing); see the
    module docstring. ``raw`` of them are raw images (needs the mkfs tools). Returns what was
    made (also written to ``DIRECTORY/.fleet.json``)."""
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise PortableKitError(f"{root}: not empty; a synthetic fleet needs an empty directory")
    for wanted in raw_formats:
        if wanted not in RAW_FORMATS:
            raise ValueError(f"unknown raw format {wanted!r}: one of {', '.join(RAW_FORMATS)}")
    root.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    broken_samples = sorted(
        s for s in SAMPLES if s.startswith("broken-") and not SAMPLES[s].extension
    )
    raw_at = set(rnd.sample(range(n), min(raw, n)))
    cache = root / ".build-cache"
    images: list[FleetImage] = []
    n_broken = 0
    for i in range(n):
        site = f"site-{i // 100:02d}"
        product = PRODUCTS[rnd.randrange(len(PRODUCTS))]
        version = f"{rnd.randint(1, 4)}.{rnd.randint(0, 9)}"
        roll = rnd.random()
        is_raw = i in raw_at
        fmt: str | None = raw_formats[rnd.randrange(len(raw_formats))] if is_raw else None
        if roll < broken:
            if is_raw and rnd.random() < 0.3:
                images.append(_damaged(root, site, product, version, fmt or "squashfs", rnd, cache))
                continue
            sample = broken_samples[n_broken % len(broken_samples)]  # each kind in turn
            n_broken += 1
            name = f"{sample}_{i}"
            images.append(_write(root, site, name, dict(SAMPLES[sample].files), fmt, cache,
                                 product=sample, broken=sample,
                                 modes=dict(SAMPLES[sample].modes)))  # fmt: skip
            continue
        if roll < broken + extensions:
            name = f"{product}-ext_{version}"
            files = _extension(product, version, name, rnd)
            img = _write(root, site, f"{name}-{i}", files, fmt, cache, product=product)
            images.append(FleetImage(img.path, product, img.kind, fmt, None, "extension"))
            continue
        if is_raw:
            # raw images: three releases per product, so that the real tools run a few hundred
            # times, not n times
            version = f"{1 + rnd.randrange(3)}.0"
        # a release is the same on every host it is deployed to: its content depends on the
        # product and version only
        files = _tree(product, version, random.Random(f"{seed}/{product}/{version}"))
        vdir = f"{site}/{product}.v"
        if roll < broken + extensions + versioned and not is_raw and not (root / vdir).exists():
            older = f"0.{rnd.randint(0, 9)}"
            write_tree(
                _source(_tree(product, older, rnd), product), root / vdir / f"{product}_{older}"
            )
            write_tree(_source(files, product), root / vdir / f"{product}_{version}")
            images.append(FleetImage(f"{vdir}/{product}_{version}", product, "directory"))
            continue
        images.append(_write(root, site, f"{product}_{version}-{i}", files, fmt, cache,
                             product=product))  # fmt: skip
    spec = FleetSpec(n, seed, len(raw_at), tuple(raw_formats), tuple(images))
    (root / ".fleet.json").write_text(spec.to_json())
    return spec


def _write(
    root: Path,
    site: str,
    name: str,
    files: dict[str, object],
    fmt: str | None,
    cache: Path,
    *,
    product: str,
    broken: str | None = None,
    modes: dict[str, int] | None = None,
) -> FleetImage:
    source = _source(files, name, modes)
    if fmt is None:
        write_tree(source, root / site / name)
        return FleetImage(f"{site}/{name}", product, "directory", None, broken)
    out = root / site / f"{name}.raw"
    out.parent.mkdir(parents=True, exist_ok=True)
    _link(_built(source, fmt, cache), out)
    return FleetImage(f"{site}/{name}.raw", product, "raw", fmt, broken)


def _built(source: MemorySource, fmt: str, cache: Path) -> Path:
    """The raw image of ``source`` in ``fmt``, built once per content."""
    h = hashlib.sha256(fmt.encode())
    for p, st in source.walk():
        h.update(f"{p}\0{st.kind}\0{st.mode:o}\0".encode())
        if st.kind.value == "file":
            h.update(source.read_bytes(p))
        elif st.kind.value == "symlink":
            h.update(source.readlink(p).encode())
    out = cache / f"{h.hexdigest()[:24]}.{fmt}.raw"
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        if fmt == "gpt":
            build_tree_image(source, tmp, fstype="ext4", table="gpt")
        else:
            build_tree_image(source, tmp, fstype=fmt)
        os.replace(tmp, out)
    return out


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _damaged(
    root: Path, site: str, product: str, version: str, fmt: str, rnd: random.Random, cache: Path
) -> FleetImage:
    """A raw image cut in half, or a file that is no image at all."""
    name = f"{product}_{version}-damaged{rnd.randrange(1 << 30)}"
    out = root / site / f"{name}.raw"
    out.parent.mkdir(parents=True, exist_ok=True)
    if rnd.random() < 0.5:
        good = _built(_source(_tree(product, version, rnd), name), fmt, cache)
        data = good.read_bytes()
        out.write_bytes(data[: len(data) // 2])
        return FleetImage(f"{site}/{name}.raw", product, "raw", fmt, "truncated")
    out.write_bytes(b"this is not a disk image\n" * 64)
    return FleetImage(f"{site}/{name}.raw", product, "raw", None, "not-an-image")
