from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portablekit.errors import EnvFileError
from portablekit.osrelease import EnvFile, name_and_version, parse_env, utf8_warning
from portablekit.versions import Systemd


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=b\n", [("A", "b")]),
        ("A=b", [("A", "b")]),
        ('A="x y"\n', [("A", "x y")]),
        ("A='x y'\n", [("A", "x y")]),
        ('A="x" y\n', [("A", "xy")]),
        ("A='a'\"b\"\n", [("A", "ab")]),
        ('A=x"y"\n', [("A", 'x"y"')]),
        ("A=x   \n", [("A", "x")]),
        ("A=x\\ \n", [("A", "x ")]),
        ("A=one\\\ntwo\n", [("A", "onetwo")]),
        ('A="a\\"b\\$c\\n"\n', [("A", 'a"b$c\\n')]),
        ("  KEY  =  v\n", [("KEY", "v")]),
        ("# comment\n; also\nA=1\n", [("A", "1")]),
        ("A=1 # not a comment\n", [("A", "1 # not a comment")]),
        ("noequals\nA=1\n", [("A", "1")]),
        ("A=\nB=''\nC=\"\"\n", [("A", None), ("B", None), ("C", None)]),
        ('A="unterminated\n', [("A", "unterminated\n")]),
        ("A=1\0B=2\n", [("A", "1")]),
        ("A=1\rB=2\r", [("A", "1"), ("B", "2")]),
    ],
)
def test_parse_env(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert list(parse_env(text)) == expected


def test_comment_backslash_differs_between_versions() -> None:
    text = "# comment \\\nA=1\n"
    assert parse_env(text, systemd=Systemd(252)) == ()
    assert parse_env(text, systemd=Systemd(257)) == (("A", "1"),)


def test_invalid_utf8_fails_whole_parse_with_location() -> None:
    with pytest.raises(EnvFileError) as e:
        parse_env(b"A=1\nB=\xff\n", origin="img/etc/os-release")
    assert e.value.line == 2
    assert "img/etc/os-release:2" in str(e.value)


def test_keyed_and_pair_views() -> None:
    f = EnvFile.parse("ID=debian\nID=ubuntu\nVERSION_ID=\nX=1\nX=\n")
    assert f.get("ID") == "ubuntu"
    assert f.get("VERSION_ID") is None and f.pair("VERSION_ID") == ""
    assert f.get("X") is None and f.pair("X") == ""
    assert f.has("VERSION_ID") and not f.has("NAME")
    assert dict(f.pairs()) == {"ID": "ubuntu", "VERSION_ID": "", "X": ""}
    assert f.as_dict() == {"ID": "ubuntu"}


def test_words() -> None:
    f = EnvFile.parse('PORTABLE_PREFIXES="a  b\tc"\n')
    assert f.words("PORTABLE_PREFIXES") == ("a", "b", "c")


@pytest.mark.parametrize(
    ("text", "cls", "expected"),
    [
        ("ID=debian\nVERSION_ID=13\n", "portable", "debian_13"),
        ("IMAGE_ID=x\nID=debian\nIMAGE_VERSION=2\nVERSION_ID=13\n", "portable", "x_2"),
        ("SYSEXT_IMAGE_ID=app\n", "sysext", "app"),
        ("SYSEXT_IMAGE_ID=app\nSYSEXT_IMAGE_VERSION=1\n", "sysext", "app_1"),
        ("ID=debian\n", "sysext", None),
        ("ID=\nVERSION_ID=1\n", "portable", "_1"),
    ],
)
def test_name_and_version(text: str, cls: str, expected: str | None) -> None:
    assert name_and_version(EnvFile.parse(text), cls) == expected


_keys = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True)
_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=30,
)


@given(st.dictionaries(_keys, _values, max_size=8))
def test_canonical_text_parses_back(d: dict[str, str]) -> None:
    f = EnvFile.parse("".join(f"{k}=placeholder\n" for k in d))
    canon = EnvFile(tuple(d.items()))
    assert EnvFile.parse(str(canon)).as_dict() == d
    assert f.as_dict().keys() == d.keys()


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        result = parse_env(data)
    except EnvFileError as e:
        assert e.line >= 1
    else:
        assert all(isinstance(k, str) for k, _ in result)


@pytest.mark.parametrize(
    ("data", "warning"),
    [
        (
            b'PRETTY_NAME="Deb\xffian"\nID=debian\n',
            "2: invalid UTF-8 value for key PRETTY_NAME: 'Deb\ufffdian'",
        ),
        (b'\n\nPRETTY_NAME="la\xff"\n', "2: invalid UTF-8 value for key PRETTY_NAME: 'la\ufffd'"),
        (b"# one\n# two\nX=\xc3\x28\n", "4: invalid UTF-8 value for key X: '\ufffd('"),
        (b'ID=debian\nNAME="two\nlines"\nP="\xff"\n', "4: invalid UTF-8 value for key P: '\ufffd'"),
        (b'ID=debian\nP="\xff"', "2: invalid UTF-8 value for key P: '\ufffd'"),
        (b"ID=debian\nJUNK\nX\xffKEY=1\n", "4: invalid UTF-8 in key 'X\ufffdKEY'"),
    ],
)
def test_utf8_warning_counts_lines_as_systemd_does(data: bytes, warning: str) -> None:
    assert utf8_warning(data, "/etc/os-release") == f"/etc/os-release:{warning}, ignoring."
    with pytest.raises(EnvFileError):
        EnvFile.parse(data)
    assert EnvFile.parse(data, check_utf8=False).raw == data


def test_utf8_warning_ignores_comments_and_valid_text() -> None:
    assert utf8_warning(b'# comm\xffent\nPRETTY_NAME="D\xc3\xa9bian"\n', "x") is None


@given(st.binary(max_size=200), st.sampled_from([252, 257, 262]))
def test_a_remembered_parse_is_the_parse(data: bytes, version: int) -> None:
    """Small files' parses are remembered by content and version: the same assignments, and
    the same error for invalid UTF-8 every time."""
    from portablekit.osrelease import _run_machine

    systemd = Systemd(version)
    want = _run_machine(data, systemd)
    for _ in range(2):
        try:
            got = parse_env(data, origin="x", systemd=systemd)
        except EnvFileError:
            assert want[1] is not None
            continue
        assert want[1] is None and got == want[0]
        assert utf8_warning(data, systemd) is None
