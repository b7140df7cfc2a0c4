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


#: marker layers and query words: names, versioned names, paths (of images the sample root
#: holds and of none), .raw and .v forms, bare names with no base name, trailing slashes
_WORDS = [
    "minimal",
    "webapp_2.1",
    "webapp_9",
    "webapp",
    "webapp-tls",
    "debug-tools",
    "foo_1.2",
    "foo.raw",
    "_",
    "/",
    "/var/lib/portables/minimal",
    "/var/lib/portables/minimal/",
    "/var/lib/portables/webapp_2.1",
    "/var/lib/portables/webapp-tls",
    "/var/lib/portables/foo_1.2",
    "/var/lib/portables/foo.raw",
    "/srv/minimal",
    "/srv/other.v",
    "/var/lib/portables",
]


@pytest.mark.parametrize(
    ("version", "fixed"), [(252, False), (257, False), (257, True), (262, False)]
)
def test_marker_index_answers_as_matching_every_marker(
    make_root,  # type: ignore[no-untyped-def]
    version: int,
    fixed: bool,
) -> None:
    # the index only skips markers that cannot match: its answer is marker_matches' own
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from portablekit.portabled.dropin import MarkerIndex

    host = _host(make_root(version), version, fixed)
    words = st.sampled_from(_WORDS)
    markers = st.lists(st.lists(words, min_size=1, max_size=3).map(tuple), max_size=12)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(markers, st.lists(st.lists(words, min_size=0, max_size=3), min_size=1, max_size=5))
    def check(ms: list[tuple[str, ...]], queries: list[list[str]]) -> None:
        index = MarkerIndex(host, ms)
        resolved: dict[str, str | None] = {}
        for q in queries:
            expected = [m for m in index.markers if marker_matches(host, m, q, match_all=False)]
            assert index.matching(q, resolved) == expected, (ms, q)

    check()
