"""portablectl's command line per version: option errors, help, --version, sizes (the texts the
x-cli-* recordings pin), and the kit's own options only where it does not emulate portablectl."""

from __future__ import annotations

import pytest

from portablekit.cli.portablectl_options import (
    EMULATED,
    help_text,
    parse_args,
    parse_size,
    verb_arity,
    version_text,
)
from portablekit.errors import UsageError
from portablekit.versions import Systemd

V252, V257, V262 = (Systemd(v) for v in (252, 257, 262))


def _error(argv: list[str], systemd: Systemd, prog: str = EMULATED) -> str:
    with pytest.raises(UsageError) as e:
        parse_args(argv, systemd, prog)
    return e.value.message


@pytest.mark.parametrize(
    ("argv", "old", "new"),
    [
        (["-z"], "portablectl: invalid option -- 'z'", "portablectl: unrecognized option '-z'"),
        (
            ["-H"],
            "portablectl: option requires an argument -- 'H'",
            "portablectl: option '-H' requires an argument",
        ),
        (
            ["--json=short"],
            "portablectl: unrecognized option '--json=short'",
            "portablectl: unrecognized option '--json'",
        ),
        (
            ["--no"],
            "portablectl: option '--no' is ambiguous; possibilities: '--no-pager' '--no-legend' "
            "'--no-ask-password' '--no-reload' '--now' '--no-block'",
            "portablectl: option '--no' is ambiguous; possibilities: --no-pager, --no-legend, "
            "--no-ask-password, --no-reload, --now, --no-block",
        ),
    ],
)
def test_option_errors_per_version(argv: list[str], old: str, new: str) -> None:
    assert _error(argv, V252) == _error(argv, V257) == old
    assert _error(argv, V262) == new


def test_the_kit_adds_options_only_when_it_is_not_emulating() -> None:
    assert parse_args(["--json", "list"], V257, "portablekit").json == "short"
    assert parse_args(["--dry-run", "attach", "x"], V257, "portablekit").dry_run
    assert _error(["--dry-run"], V257) == "portablectl: unrecognized option '--dry-run'"
    # 262 knows --user and --system, 252/257 do not
    assert parse_args(["--user", "list"], V262).user
    assert _error(["--system"], V257) == "portablectl: unrecognized option '--system'"


def test_help_and_version_end_the_parsing() -> None:
    opts = parse_args(["--copy=help", "--frob"], V257)
    assert opts.copy == "help" and opts.stops
    assert _error(["--frob", "--copy=help"], V257) == "portablectl: unrecognized option '--frob'"
    assert parse_args(["--version", "--help"], V262).show_version


def test_help_texts_are_each_versions_own() -> None:
    texts = {v: help_text(Systemd(v)) for v in (252, 257, 262)}
    assert texts[252].startswith("portablectl [OPTIONS...] COMMAND ...\n")
    assert "--copy=copy|auto|symlink Prefer" in texts[252] and "--clean" not in texts[252]
    assert "--copy=copy|auto|symlink|mixed\n" in texts[257] and "--clean" in texts[257]
    assert texts[262].startswith("> portablectl [OPTION\u2026] COMMAND \u2026\n")
    for text in texts.values():
        assert text.endswith("See the portablectl(1) man page for details.\n")
    kit = help_text(V257, "portablekit")
    assert kit.startswith("portablekit [OPTIONS...]") and "--dry-run" in kit
    assert kit.replace("portablekit [", "portablectl [", 1).startswith(texts[257])


def test_version_text() -> None:
    assert version_text(V252).splitlines()[0] == "systemd 252 (252.39-1~deb12u2)"
    assert version_text(V262).splitlines()[1].startswith("+PAM +AUDIT")
    assert version_text(V262, "portablekit").endswith("portablekit simulation of portablectl\n")


def test_set_limit_arity() -> None:
    assert verb_arity("set-limit", V257) == (3, 3)
    assert verb_arity("set-limit", V262) == (2, 3)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512", 512),
        ("1K", 1024),
        ("1.5G", 3 << 29),
        ("1G 512M", (1024 + 512) << 20),
        (" 2 M", 2 << 20),
        ("10%", None),
        ("1Q", None),
        ("-1", None),
        ("", None),
        ("1G 1G", None),  # each unit at most once, largest first
    ],
)
def test_parse_size(text: str, size: int | None) -> None:
    assert parse_size(text) == size
