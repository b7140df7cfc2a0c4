"""The extension checks (portablekit.check.extensions): verdicts agree with the simulated
portabled, release-file naming, ID_LIKE, raw extensions carrying an os-release."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from check_support import (
    ARCH,
    EXT_BASE,
    check_sample,
    one,
    serious,
)

from portablekit.check.extensions import extension_verdict
from portablekit.check.findings import Rule
from portablekit.check.image import check_image
from portablekit.osrelease import EnvFile
from portablekit.portabled.dissect import validate_extension
from portablekit.samples import SAMPLES, sample_source
from portablekit.source import MemorySource
from portablekit.versions import SUPPORTED_VERSIONS, Systemd

# -- extensions ----------------------------------------------------------------------------------


def _env(text: str) -> EnvFile:
    return EnvFile.parse(text)


BASES = [
    "ID=debian\nVERSION_ID=12\n",
    "ID=debian\nSYSEXT_LEVEL=2\n",
    "ID=debian\nVERSION_ID=12\nSYSEXT_LEVEL=2\n",
    "ID=arch\n",
    "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=24.04\n",
]
EXTS = [
    "",
    "ID=_any\n",
    "ID=debian\nVERSION_ID=12\n",
    "ID=debian\nVERSION_ID=11\n",
    "ID=debian\nSYSEXT_LEVEL=2\n",
    "ID=debian\nSYSEXT_LEVEL=3\nVERSION_ID=12\n",
    "ID=debian\n",
    "ID=debian\nSYSEXT_SCOPE=\n",
    "ID=debian\nSYSEXT_SCOPE=system initrd\n",
    "ID=debian\nSYSEXT_SCOPE=portable\nARCHITECTURE=arm64\n",
    "ID=debian\nARCHITECTURE=_any\nVERSION_ID=24.04\n",
    "ID=\nVERSION_ID=12\n",
    "ID=arch\n",
    "SYSEXT_ID=x\n",
]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_extension_verdict_agrees_with_validate_extension(version: int) -> None:
    sd = Systemd(version)
    for base in BASES:
        for ext in EXTS:
            b, e = _env(base), _env(ext)
            verdict = extension_verdict(b, e, sd, host_arch=ARCH)
            assert (verdict is None) == validate_extension(b, e, sd, host_arch=ARCH), (base, ext)


def test_extension_id_like() -> None:
    base = _env("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=24.04\n")
    ext = _env("ID=debian\nVERSION_ID=24.04\n")
    assert extension_verdict(base, ext, Systemd(257), host_arch=ARCH) is None
    verdict = extension_verdict(base, ext, Systemd(252), host_arch=ARCH)
    assert verdict is not None and verdict[1] == "ID=debian, but the base image has ID=ubuntu"


def test_extension_release_found_by_the_version_less_name() -> None:
    f = one(check_sample("broken-ext-renamed_1.0"), Rule.EXTENSION_RELEASE_RENAMED)
    assert f.path == "/usr/lib/extension-release.d"
    assert "/usr/lib/extension-release.d/extension-release.broken-ext-renamed instead" in f.message
    g = one(check_sample("broken-ext-renamed_1.0", 252), Rule.EXTENSION_RELEASE_MISSING)
    assert g.portabled_message == (
        "Image '/var/lib/portables/broken-ext-renamed_1.0' lacks extension-release data, refusing."
    )


class _XattrSource(MemorySource):
    """An in-memory tree whose files all carry user.extension-release.strict=0."""

    def getxattr(self, path: PurePosixPath, name: str) -> bytes | None:
        return b"0" if name == "user.extension-release.strict" else None


def test_two_acceptable_release_files() -> None:
    ext = _XattrSource(
        {
            "usr/lib/extension-release.d/extension-release.one": "ID=_any\n",
            "usr/lib/extension-release.d/extension-release.two": "ID=_any\n",
        }
    )
    findings = check_image(
        sample_source(EXT_BASE), EXT_BASE, extensions=[(ext, "x")], host_arch=ARCH
    )
    f = one(findings, Rule.EXTENSION_RELEASE_AMBIGUOUS)
    assert f.portabled_message == "Name not unique on network"
    assert f.path == "/usr/lib/extension-release.d"


def test_raw_extension_with_os_release() -> None:
    tree = dict(SAMPLES["webapp-tls"].files)
    tree["usr/lib/os-release"] = "ID=debian\n"
    ext = MemorySource(tree)
    findings = check_image(
        sample_source(EXT_BASE),
        EXT_BASE,
        extensions=[(ext, "/var/lib/portables/webapp-tls.raw")],
        host_arch=ARCH,
    )
    f = one(findings, Rule.EXTENSION_RELEASE_MISSING)
    assert f.path == "/usr/lib/os-release"
    assert f.portabled_message == (
        "Image '/var/lib/portables/webapp-tls.raw' lacks extension-release data, refusing."
    )
    # a directory extension may have one
    ok = check_image(
        sample_source(EXT_BASE), EXT_BASE, extensions=[(ext, "webapp-tls")], host_arch=ARCH
    )
    assert serious(ok) == set()
