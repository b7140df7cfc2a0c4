from __future__ import annotations

import pytest

from portablekit.portabled.dissect import dissect
from portablekit.portabled.dropin import (
    marker_line,
    marker_matches,
    parse_marker,
    render_portable_dropin,
)
from portablekit.portabled.host import Host
from portablekit.sandbox import SandboxRoot
from portablekit.versions import Systemd


def test_marker_round_trip() -> None:
    line = marker_line("/var/lib/portables/a:b", ["/x/ext"])
    assert line == "# Drop-in created for image '/var/lib/portables/a\\x3ab:/x/ext', do not edit.\n"
    assert parse_marker(line + "\n[Service]\n") == ("/var/lib/portables/a\\x3ab", "/x/ext")
    assert parse_marker("# something else\n") is None


def _host(root: SandboxRoot, version: int, fixed: bool = False) -> Host:
    return Host(root.path, Systemd(version, fixed=fixed))


TOK = ("/var/lib/portables/foo_1.2",)
EXT = ("/var/lib/portables/base", "/var/lib/portables/ext1")


@pytest.mark.parametrize(
    ("version", "fixed", "tokens", "query", "match_all", "expected"),
    [
        # 252: names match by prefix up to the query's '_'; paths by last component
        (252, False, TOK, ["foo_9.9"], True, True),
        (252, False, TOK, ["foo"], True, False),
        (252, False, TOK, ["/var/lib/portables/foo_1.2"], True, True),
        (252, False, EXT, ["base"], True, True),  # extra marker tokens are ignored
        # 257: every bare name matches (systemd#39058) ...
        (257, False, TOK, ["bar"], True, True),
        (257, False, TOK, ["/var/lib/portables/missing"], True, True),
        # ... unless fixed; 262 compares base names on both sides
        (257, True, TOK, ["bar"], True, False),
        (262, False, TOK, ["foo"], True, True),
        (262, False, TOK, ["bar"], True, False),
        (262, False, EXT, ["base"], True, False),  # detach needs the same extensions
        (262, False, EXT, ["base"], False, True),  # a state query does not
        (262, False, EXT, ["/var/lib/portables/ext1"], False, True),
    ],
)
def test_marker_matching(
    root: SandboxRoot,
    version: int,
    fixed: bool,
    tokens: tuple[str, ...],
    query: list[str],
    match_all: bool,
    expected: bool,
) -> None:
    assert (
        marker_matches(_host(root, version, fixed), tokens, query, match_all=match_all) is expected
    )


@pytest.mark.parametrize("version", [252, 257, 262])
def test_dropin_text_per_version(make_root, version: int) -> None:  # type: ignore[no-untyped-def]
    root = make_root(version)
    d = dissect(root.host, "minimal", matches=["minimal"])
    svc = render_portable_dropin(root.systemd, d, d.unit("minimal.service"))
    sock = render_portable_dropin(root.systemd, d, d.unit("minimal.socket"))
    assert sock == "# Drop-in created for image '/var/lib/portables/minimal', do not edit.\n"
    lines = svc.splitlines()
    assert lines[:4] == [
        sock.rstrip("\n"),
        "",
        "[Service]",
        "RootDirectory=/var/lib/portables/minimal",
    ]
    assert ("BindReadOnlyPaths=/etc/os-release:/run/host/os-release" in lines) is (version == 252)
    assert ("LogExtraFields=PORTABLE_NAME_AND_VERSION=debian_12" in lines) is (version != 252)
