#!/usr/bin/env python3
"""Record what the real ``systemd-analyze security`` says about the sample units.

Runs the ``systemd-analyze`` of each oracle root (Debian bookworm = systemd 252, trixie = 257,
forky = 262) inside a private mount namespace: the root is bind-mounted read-only, a tmpfs is
mounted on its ``/tmp`` and a fresh ``/proc``; the cases are copied into that tmpfs. Nothing is
written into the roots. Needs root, ``unshare`` and ``chroot``.

For every case of the matrix (sample unit × profile × image kind) it writes
``tests/golden/security/<version>/<case>/``:

``case.json``    the inputs: unit name, profile, image kind, argv, exit codes
``input/``       the files systemd-analyze read: the unit, ``<unit>.d/*.conf``, a custom profile
``table.txt``    stdout of ``systemd-analyze security --offline=true [--profile=P] UNIT``
                 (TERM=xterm, LANG=C.UTF-8, stdout a pipe: no colours, emoji smileys)
``short.json``   stdout of the same with ``--json=short``
``checks.tsv``   ``json_field<TAB>weight<TAB>badness<TAB>range`` per check, from the JSON output of
                 ``SYSTEMD_ANALYZE_DEBUG=1`` (which adds those columns); ``-`` for not applicable
``stderr.txt``   stderr of the table run (parser warnings), only when not empty

and per version ``VERSION.txt`` (``systemd-analyze --version``), ``configuration-items.txt``
(``systemd --dump-configuration-items``: every setting that version knows), ``syscall-filter.txt``
(``systemd-analyze syscall-filter``) and ``syscall-resolve.tsv`` (every name of that listing
with the number libseccomp of that root resolves it to on x86-64; negative = not a syscall of
this architecture).

Usage::

    sudo python3 tests/golden/security/record.py [--versions 252,257,262] [--oracle-home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
UNITS = REPO / "tests" / "data" / "units"
SUITES = {252: "bookworm", 257: "trixie", 262: "forky"}
BUILTIN = ("default", "nonetwork", "strict", "trusted")
IMAGES = ("none", "directory", "raw")
NA = 18446744073709551615  # UINT64_MAX: how systemd-analyze marks "not applicable"

sys.path.insert(0, str(REPO))
from portablekit.portabled.dropin import BareImage, render_portable_dropin  # noqa: E402
from portablekit.portabled.image import Image, ImageKind  # noqa: E402
from portablekit.versions import Systemd  # noqa: E402


def bare_dropin(version: int, path: str, kind: str, name_and_version: str | None) -> str:
    """The 20-portable.conf portabled ``version`` writes for the image at ``path`` of ``kind``
    (``directory`` or ``raw``), known without dissecting it."""
    image = Image.from_path(PurePosixPath(path), ImageKind(kind))
    return render_portable_dropin(Systemd(version), BareImage(image, name_and_version))


def fixture_units() -> list[Path]:
    """The sample units of tests/data/units (each recorded with every profile and image kind)."""
    return sorted(p for p in UNITS.glob("*.service") if p.is_file())


def probe_units() -> list[Path]:
    """Small units that each pin a few rules (implied settings, tristates, merges, bad values)."""
    return sorted((UNITS / "probes").glob("*.service"))


SAMPLE_IMAGES = ("minimal", "webapp_2.1")


def image_sample_cases(version: int, work: Path) -> list[dict[str, object]]:
    """Cases for the service units portabled attaches from the base sample images of
    portablekit.samples, with the exact 20-portable.conf of the directory image (a raw image of
    the same content gets RootImage=/var/lib/portables/NAME.raw), every built-in profile."""
    from portablekit.names import derive_prefix
    from portablekit.osrelease import name_and_version
    from portablekit.portabled.dissect import dissect
    from portablekit.portabled.dropin import render_portable_dropin
    from portablekit.portabled.host import Host
    from portablekit.samples import install_samples
    from portablekit.sandbox import SandboxRoot

    systemd = Systemd(version)
    root = SandboxRoot.init(work / f"sandbox-{version}", systemd)
    install_samples(root, SAMPLE_IMAGES)
    host = Host(root.path, systemd)
    cases: list[dict[str, object]] = []
    for image in SAMPLE_IMAGES:
        dissection = dissect(host, image, matches=[derive_prefix(image, systemd)], attach=True)
        assert dissection.base.release is not None
        nv = name_and_version(dissection.base.release, "portable")
        for u in dissection.units:
            if u.type != "service":
                continue
            dropins = {
                "directory": render_portable_dropin(systemd, dissection, u),
                "raw": bare_dropin(version, f"/var/lib/portables/{image}.raw", "raw", nv),
            }
            stem = f"sample-{image}-{u.name.removesuffix('.service')}"
            for profile, kind in [(None, "none")] + [(p, k) for p in BUILTIN for k in dropins]:
                cases.append(
                    {
                        "unit": Path(u.name),
                        "text": u.data,
                        "sample": image,
                        "profile": profile,
                        "image": kind,
                        "dropin": dropins.get(kind),
                        "name": f"{stem}--{profile or 'none'}--{kind}",
                    }
                )
    return cases


def matrix() -> list[dict[str, object]]:
    """Every case: (unit, profile, image, placement)."""
    cases: list[dict[str, object]] = []
    for unit in fixture_units():
        cases.append({"unit": unit, "profile": None, "image": "none"})
        for profile in BUILTIN:
            for image in IMAGES:
                cases.append({"unit": unit, "profile": profile, "image": image})
        cases.append({"unit": unit, "profile": "custom", "image": "directory"})
        if (UNITS / (unit.name + ".d")).is_dir():
            # portabled links the profile as 10-profile.conf; systemd-analyze --profile adds it
            # as "profile.conf", which sorts after local drop-ins like 50-local.conf. Record the
            # attached layout too, with the profile as an explicit drop-in and no --profile.
            for profile in BUILTIN:
                cases.append(
                    {"unit": unit, "profile": profile, "image": "directory", "as": "dropin"}
                )
    for unit in probe_units():
        for profile, image in ((None, "none"), ("default", "directory"), ("trusted", "raw")):
            cases.append({"unit": unit, "profile": profile, "image": image, "probe": True})
    for case in cases:
        unit = case["unit"]
        assert isinstance(unit, Path)
        stem = unit.name.removesuffix(".service").replace("@", "_at")
        name = f"{stem}--{case['profile'] or 'none'}--{case['image']}"
        if case.get("probe"):
            name = "probe-" + name
        if case.get("as") == "dropin":
            name += "--dropin"
        case["name"] = name
    return cases


def prepare(work: Path, version: int, cases: list[dict[str, object]]) -> str:
    """Lay out the inputs under ``work`` and return the driver script run inside the root."""
    script = ["set -u", "cd /"]
    env = "env -i TERM=xterm LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin"
    for case in cases:
        path = case["unit"]
        assert isinstance(path, Path)
        unit = path.name
        cdir = work / "cases" / str(case["name"])
        inp = cdir / "input"
        inp.mkdir(parents=True)
        dropins = inp / (unit + ".d")
        if "text" in case:
            (inp / unit).write_bytes(case["text"])  # type: ignore[arg-type]
        else:
            shutil.copy(path, inp / unit)
            local = path.parent / (unit + ".d")
            if local.is_dir():
                shutil.copytree(local, dropins)
        image = str(case["image"])
        if image != "none":
            dropins.mkdir(exist_ok=True)
            text = case.get("dropin")
            if text is None:
                stem = unit.removesuffix(".service").split("@")[0]
                path_ = f"/var/lib/portables/{stem}" + (".raw" if image == "raw" else "")
                text = bare_dropin(version, path_, image, "debian_12")
            (dropins / "20-portable.conf").write_text(str(text))
        profile = case["profile"]
        args = ["systemd-analyze", "security", "--offline=true"]
        if profile == "custom":
            shutil.copy(UNITS / "profiles" / "custom" / "service.conf", inp / "profile.conf")
            args.append(f"--profile=/tmp/w/cases/{case['name']}/input/profile.conf")
        elif profile is not None and case.get("as") == "dropin":
            src = REPO / "portablekit" / "data" / "profiles" / str(version) / str(profile)
            shutil.copy(src / "service.conf", dropins / "10-profile.conf")
        elif profile is not None:
            args.append(f"--profile={profile}")
        args.append(unit)
        case["argv"] = args
        out = f"/tmp/w/out/{case['name']}"
        cmd = " ".join(args)
        script += [
            f"mkdir -p {out}",
            f"cd /tmp/w/cases/{case['name']}/input",
            f"{env} {cmd} >{out}/table.txt 2>{out}/stderr.txt; echo $? >{out}/table.rc",
            f"{env} {cmd} --json=short >{out}/short.json 2>/dev/null; echo $? >{out}/short.rc",
            f"{env} SYSTEMD_ANALYZE_DEBUG=1 {cmd} --json=short >{out}/debug.json 2>/dev/null",
        ]
    script += [
        "cd /tmp/w",
        f"{env} systemd-analyze --version >/tmp/w/out/VERSION.txt",
        f"{env} systemd-analyze syscall-filter >/tmp/w/out/syscall-filter.txt 2>/dev/null",
        f"{env} /lib/systemd/systemd --dump-configuration-items"
        " >/tmp/w/out/configuration-items.txt",
        "python3 /tmp/w/resolve.py </tmp/w/out/syscall-filter.txt >/tmp/w/out/syscall-resolve.tsv",
    ]
    (work / "resolve.py").write_text(RESOLVE)
    return "\n".join(script) + "\n"


RESOLVE = """\
import ctypes, sys
lib = ctypes.CDLL("libseccomp.so.2")
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
names = []
for line in sys.stdin:
    word = line.strip().lstrip("#").strip()
    if word and not word.startswith("@") and " " not in word and word not in names:
        names.append(word)
for name in sorted(names):
    print(f"{name}\\t{lib.seccomp_syscall_resolve_name(name.encode())}")
"""


def run_in_root(root: Path, work: Path, script: str) -> None:
    (work / "run.sh").write_text(script)
    (work / "out").mkdir()
    inner = (
        'set -e; m="$2/.mnt"; mkdir "$m"; mount --bind "$1" "$m"; '
        'mount -o remount,bind,ro "$m"; mount -t tmpfs tmpfs "$m/tmp"; '
        'mount -t proc proc "$m/proc"; mkdir "$m/tmp/w"; mount --bind "$2" "$m/tmp/w"; '
        'cd / && exec chroot "$m" /bin/bash /tmp/w/run.sh'
    )
    subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--fork",
            "bash",
            "-c",
            inner,
            "bash",
            str(root),
            str(work),
        ],
        check=True,
    )


def checks_tsv(debug_json: str) -> str:
    rows = json.loads(debug_json)
    out = []
    for row in rows:
        badness = "-" if row["badness"] == NA else str(row["badness"])
        out.append(f"{row['json_field']}\t{row['weight']}\t{badness}\t{row['range']}")
    return "\n".join(out) + "\n"


def collect(work: Path, dest: Path, cases: list[dict[str, object]]) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out = work / "out"
    for name in (
        "VERSION.txt",
        "syscall-filter.txt",
        "syscall-resolve.tsv",
        "configuration-items.txt",
    ):
        shutil.copy(out / name, dest / name)
    for case in cases:
        name = str(case["name"])
        src = out / name
        cdir = dest / name
        shutil.copytree(work / "cases" / name / "input", cdir / "input")
        shutil.copy(src / "table.txt", cdir / "table.txt")
        shutil.copy(src / "short.json", cdir / "short.json")
        err = (src / "stderr.txt").read_text()
        if err:
            (cdir / "stderr.txt").write_text(err)
        debug = (src / "debug.json").read_text()
        if debug.strip():
            (cdir / "checks.tsv").write_text(checks_tsv(debug))
        unit = case["unit"]
        assert isinstance(unit, Path)
        info = {
            "unit": unit.name,
            "profile": case["profile"],
            "image": case["image"],
            "profile_as": "dropin" if case.get("as") == "dropin" else "option",
            "argv": case["argv"],
            **({"sample": case["sample"]} if "sample" in case else {}),
            "rc": int((src / "table.rc").read_text()),
            "json_rc": int((src / "short.rc").read_text()),
        }
        (cdir / "case.json").write_text(json.dumps(info, indent=1) + "\n")


def syscall_groups(version: int) -> dict[str, list[str]]:
    """The groups of a recorded ``syscall-filter.txt`` (without ``@known``), members in order."""
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (HERE / str(version) / "syscall-filter.txt").read_text().splitlines():
        if line.startswith("@"):
            current = [] if line != "@known" else None
            if current is not None:
                groups[line] = current
        elif line.startswith("#"):
            current = None
        elif line.startswith("    ") and not line.startswith("    #") and current is not None:
            current.append(line.strip())
    return groups


def not_native(version: int) -> set[str]:
    """Group members libseccomp of that root does not resolve to an x86-64 syscall number."""
    members = {m for ms in syscall_groups(version).values() for m in ms if m[0] != "@"}
    tsv = (HERE / str(version) / "syscall-resolve.tsv").read_text().splitlines()
    ids = {name: int(num) for name, num in (line.split("\t") for line in tsv)}
    return {m for m in members if ids[m] < 0}


def emit_tables() -> str:
    """Python source of the syscall tables of portablekit.security.vocabulary, from the
    recordings."""

    def wrap(words: list[str], indent: str) -> list[str]:
        lines, cur = [], ""
        for w in words:
            if cur and len(indent) + len(cur) + len(w) + 4 > 96:
                lines.append(cur)
                cur = ""
            cur = f"{cur} {w}" if cur else w
        lines.append(cur)
        return [f'{indent}"{line} "' for line in lines[:-1]] + [f'{indent}"{lines[-1]}"']

    newest = syscall_groups(262)
    out = ["_GROUPS: dict[str, str] = {"]
    for name, members in newest.items():
        out.append(f'    "{name}": (')
        out += wrap(members, "        ")
        out.append("    ),")
    out.append("}")
    out.append("_GROUPS_BEFORE: dict[int, dict[str, str | None]] = {")
    for version in (257, 252):
        groups = syscall_groups(version)
        out.append(f"    {version}: {{")
        for name in newest:
            if name not in groups:
                out.append(f'        "{name}": None,')
            elif groups[name] != newest[name]:
                out.append(f'        "{name}": (')
                out += wrap(groups[name], "            ")
                out.append("        ),")
        out.append("    },")
    out.append("}")
    base = not_native(262)
    out.append("_NOT_NATIVE = (")
    out += wrap(sorted(base), "    ")
    out.append(")")
    out.append("_NOT_NATIVE_BEFORE: dict[int, str] = {")
    for version in (257, 252):
        extra = sorted(not_native(version) - base)
        out.append(f'    {version}: "{" ".join(extra)}",')
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default="252,257,262")
    parser.add_argument(
        "--emit-tables",
        action="store_true",
        help="print the syscall tables of portablekit/security/vocabulary.py from the recordings "
        "and exit",
    )
    parser.add_argument(
        "--oracle-home", default=os.environ.get("ORACLE_HOME", "/var/tmp/portable-oracle")
    )
    args = parser.parse_args(argv)
    if args.emit_tables:
        sys.stdout.write(emit_tables())
        return 0
    for version in (int(v) for v in args.versions.split(",")):
        root = Path(args.oracle_home) / f"root-{SUITES[version]}"
        with tempfile.TemporaryDirectory(prefix="pk-record-") as tmp:
            work = Path(tmp)
            cases = matrix() + image_sample_cases(version, work)
            run_in_root(root, work, prepare(work, version, cases))
            collect(work, HERE / str(version), cases)
        print(f"{version}: {len(cases)} cases recorded", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
