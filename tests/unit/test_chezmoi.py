"""The chezmoi backend (module_utils/chezmoi): chezmoi's source names, and the modify_ scripts run for real with dash
and bash and each installed awk (mawk, gawk), checked against KConfigDoc and read back with the real kreadconfig5."""
from __future__ import annotations

import difflib
import itertools
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ansible_collections.nixperf.tuning.plugins.module_utils.chezmoi import (
    MODIFY_TEMPLATE_MARKER, kde_tree, modify_script, modify_text, source_path)
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kde"
SHELLS = ("dash", "bash")
AWKS = ("mawk", "gawk")
ABSENT = "<absent: kreadconfig5 default>"


# ------------------------------------------------------------------------------------------------ chezmoi's names
# A port of twpayne/chezmoi internal/chezmoi/attr.go parseDirAttr / parseFileAttr (v2.72.0-19, 2026-08-19): the
# names source_path writes must read back to the target and attributes asked for.

def parse_dir_attr(name: str) -> Dict:
    attrs = {}
    for attr in ("remove", "external", "exact", "private", "readonly"):
        attrs[attr] = name.startswith(attr + "_")
        if attrs[attr]:
            name = name[len(attr) + 1:]
    prefix = ""
    if name.startswith("dot_"):
        prefix, name = ".", name[4:]
    elif name.startswith("literal_"):
        name = name[8:]
    assert name and prefix + name != "..", "InvalidPathError"
    attrs["target"] = prefix + name
    return attrs


def parse_file_attr(name: str) -> Dict:
    attrs = dict(kind="file", condition="", order="", private=False, readonly=False, empty=False, executable=False,
                 template=False)

    def cut(attr: str) -> None:
        nonlocal name
        if name.startswith(attr + "_"):
            attrs[attr] = True
            name = name[len(attr) + 1:]

    if name.startswith("create_"):
        attrs["kind"], name = "create", name[7:]
        for attr in ("encrypted", "private", "readonly", "empty", "executable"):
            cut(attr)
    elif name.startswith("remove_"):
        attrs["kind"], name = "remove", name[7:]
    elif name.startswith("run_"):
        attrs["kind"], name = "script", name[4:]
        for condition in ("once", "onchange"):
            if name.startswith(condition + "_"):
                attrs["condition"], name = condition, name[len(condition) + 1:]
                break
        else:
            attrs["condition"] = "always"
        for order in ("before", "after"):
            if name.startswith(order + "_"):
                attrs["order"], name = order, name[len(order) + 1:]
                break
    elif name.startswith("symlink_"):
        attrs["kind"], name = "symlink", name[8:]
    elif name.startswith("modify_"):
        attrs["kind"], name = "modify", name[7:]
        for attr in ("encrypted", "private", "readonly", "executable"):
            cut(attr)
    else:
        for attr in ("encrypted", "private", "readonly", "empty", "executable"):
            cut(attr)
    prefix = ""
    if name.startswith("dot_"):
        prefix, name = ".", name[4:]
    elif name.startswith("literal_"):
        name = name[8:]
    if name.endswith(".literal"):
        name = name[:-8]
    elif name.endswith(".tmpl"):
        name, attrs["template"] = name[:-5], True
        if name.endswith(".literal"):
            name = name[:-8]
    assert name not in ("", ".") and prefix + name != "..", "InvalidPathError"
    attrs["target"] = prefix + name
    return attrs


def parse_source_path(path: str) -> Tuple[List[Dict], Dict]:
    parts = path.split("/")
    return [parse_dir_attr(p) for p in parts[:-1]], parse_file_attr(parts[-1])


@pytest.mark.parametrize("target, kind, attrs, expected", [
    # the project's case
    (".config/kwinrc", "modify", {}, "dot_config/modify_kwinrc"),
    (".config/kwinrc", "modify", {"private": True}, "dot_config/modify_private_kwinrc"),
    # target-types / source-state-attributes: prefixes in the documented order, dot_ last, .tmpl suffix
    (".bashrc", "file", {}, "dot_bashrc"),
    (".ssh/id_rsa", "file", {"private": True}, "dot_ssh/private_id_rsa"),
    ("bin/tool", "file", dict(private=True, readonly=True, empty=True, executable=True, template=True),
     "bin/private_readonly_empty_executable_tool.tmpl"),
    (".x", "create", dict(private=True, readonly=True, empty=True, executable=True),
     "create_private_readonly_empty_executable_dot_x"),
    (".x", "modify", dict(private=True, readonly=True, executable=True, template=True),
     "modify_private_readonly_executable_dot_x.tmpl"),
    (".old", "remove", {}, "remove_dot_old"),
    (".vimrc", "symlink", {"template": True}, "symlink_dot_vimrc.tmpl"),
    (".config", "dir", dict(exact=True, private=True, readonly=True), "exact_private_readonly_dot_config"),
    (".local/share/.hidden/x", "file", {}, "dot_local/share/dot_hidden/x"),
    # scripts: run_, once_ or onchange_, before_ or after_
    ("install.sh", "run", {}, "run_install.sh"),
    ("install.sh", "run_once", {}, "run_once_install.sh"),
    ("reload.sh", "run_onchange_after", {"template": True}, "run_onchange_after_reload.sh.tmpl"),
    ("prepare.sh", "run_before", {}, "run_before_prepare.sh"),
    ("prepare.sh", "run_once_before", {}, "run_once_before_prepare.sh"),
    # attr_test.go TestFileAttrLiteral / TestDirAttrLiteral
    ("dot_file", "file", {}, "literal_dot_file"),
    ("literal_file", "file", {}, "literal_literal_file"),
    ("once_script", "run", {}, "run_literal_once_script"),
    ("file.literal", "file", {}, "file.literal.literal"),
    ("file.tmpl", "file", {}, "file.tmpl.literal"),
    ("file.tmpl", "file", {"template": True}, "file.tmpl.literal.tmpl"),
    ("exact_dir", "dir", {}, "literal_exact_dir"),
    ("literal_dir", "dir", {}, "literal_literal_dir"),
    ("private_dir/f", "file", {}, "literal_private_dir/f"),
    (".dot_x", "file", {}, "dot_dot_x"),
    (".tmpl", "file", {}, "dot_tmpl.literal"),
    # names chezmoi's own SourceName leaves unprotected although its parser strips the prefix
    ("onchange_x", "run", {}, "run_literal_onchange_x"),
    ("remove_dir/f", "file", {}, "literal_remove_dir/f"),
    ("external_dir", "dir", {}, "literal_external_dir"),
])
def test_source_path_names(target, kind, attrs, expected):
    assert source_path(target, kind, **attrs) == expected


def test_private_dirs():
    assert source_path(".config/kwinrc", "modify", private=True, private_dirs=[".config"]) == \
        "private_dot_config/modify_private_kwinrc"
    assert source_path(".local/share/x", "file", private_dirs=[".local/share"]) == "dot_local/private_share/x"
    assert source_path(".config", "dir", private_dirs=[".config"]) == "private_dot_config"


@pytest.mark.parametrize("target, kind, attrs, message", [
    ("/home/u/.config/kwinrc", "modify", {}, "relative"),
    ("../kwinrc", "file", {}, "'..'"),
    (".config/../../etc/x", "file", {}, "'..'"),
    ("a//b", "file", {}, "empty"),
    ("./x", "file", {}, "'.'"),
    ("", "file", {}, "non-empty"),
    ("x", "frobnicate", {}, "unknown"),
    ("x", "modify", {"empty": True}, "empty"),
    ("x", "dir", {"executable": True}, "executable"),
    ("x", "symlink", {"private": True}, "private"),
    ("x", "remove", {"template": True}, "template"),
    ("x", "run_once", {"private": True}, "private"),
    ("x", "file", {"exact": True}, "exact"),
    (".config/tool.py", "modify", {}, "interpreter"),
    (".config/tool.PS1", "modify", {}, "interpreter"),
])
def test_source_path_refuses(target, kind, attrs, message):
    with pytest.raises(ValueError, match=message):
        source_path(target, kind, **attrs)


NAMES = [".name", "create_name", "dot_name", "exact_name", "literal_name", "modify_name", "name.literal", "name",
         "remove_", "run_name", "symlink_name", "template.tmpl", "once_name", "onchange_name", "before_name",
         "after_name", "private_name", "empty_name", "executable_name", "encrypted_name", "readonly_name",
         "external_name", ".tmpl", ".literal", "x.tmpl.literal", "dot_", "literal_"]


def test_every_name_reads_back_with_chezmoi_rules():
    """attr_test.go TestFileAttr/TestDirAttr: every kind, every allowed attribute set, every awkward name."""
    file_attrs = {"file": ("private", "readonly", "empty", "executable", "template"),
                  "create": ("private", "readonly", "empty", "executable", "template"),
                  "modify": ("private", "readonly", "executable", "template"),
                  "remove": (), "symlink": ("template",)}
    checked = 0
    for name in NAMES:
        for kind, allowed in file_attrs.items():
            if kind == "modify" and name.endswith((".py", ".rb")):
                continue
            for flags in itertools.product((False, True), repeat=len(allowed)):
                attrs = dict(zip(allowed, flags))
                dirs, got = parse_source_path(source_path("d/" + name, kind, **attrs))
                assert dirs[0]["target"] == "d" and got["target"] == name and got["kind"] == kind, (name, kind)
                for attr in allowed:
                    assert got[attr] == attrs[attr], (name, kind, attr)
                checked += 1
        for cond, order in itertools.product(("", "_once", "_onchange"), ("", "_before", "_after")):
            for template in (False, True):
                _dirs, got = parse_source_path(source_path(name, "run" + cond + order, template=template))
                assert (got["target"], got["kind"], got["template"]) == (name, "script", template), (name, cond)
                assert got["condition"] == (cond[1:] or "always") and got["order"] == order[1:], (name, cond, order)
                checked += 1
        for flags in itertools.product((False, True), repeat=3):
            attrs = dict(zip(("exact", "private", "readonly"), flags))
            got = parse_dir_attr(source_path(name, "dir", **attrs))
            assert got["target"] == name and not got["remove"] and not got["external"], name
            assert all(got[a] == attrs[a] for a in attrs), (name, attrs)
            checked += 1
    assert checked > 1000


# ------------------------------------------------------------------------------------------------ running scripts

@dataclass
class Runner:
    shell: str
    awk: str
    path: str  # PATH with the chosen awk first

    def run(self, script: str, data: bytes, cwd: Path) -> subprocess.CompletedProcess:
        with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=str(cwd), delete=False, encoding="utf-8") as handle:
            handle.write(script)
        try:
            return subprocess.run([self.shell, handle.name], input=data, capture_output=True, cwd=str(cwd),
                                  env={"PATH": self.path, "HOME": str(cwd)}, timeout=60, check=False)
        finally:
            os.unlink(handle.name)

    def __str__(self) -> str:
        return "%s+%s" % (self.shell, self.awk)


@pytest.fixture(scope="session")
def runners(tmp_path_factory) -> List[Runner]:
    shells = [shutil.which(s) for s in SHELLS]
    if not all(shells):
        pytest.fail("dash and bash are both required to run the modify_ scripts (Debian: apt-get install dash bash)")
    awks = [(a, shutil.which(a)) for a in AWKS if shutil.which(a)]
    if not awks:
        pytest.fail("no awk to run the modify_ scripts with: install mawk and/or gawk (apt-get install mawk gawk)")
    out = []
    for name, binary in awks:
        directory = tmp_path_factory.mktemp("awk-" + name)
        os.symlink(binary, directory / "awk")
        for shell in shells:
            out.append(Runner(shell, name, "%s:/usr/bin:/bin" % directory))
    return out


def test_runners_use_the_awk_they_name(runners, tmp_path):
    seen = set()
    for runner in runners:
        proc = subprocess.run(["sh", "-c", "awk -W version 2>&1 || awk --version"], capture_output=True, text=True,
                              env={"PATH": runner.path}, check=False)
        assert ("GNU Awk" in proc.stdout) == (runner.awk == "gawk"), (runner, proc.stdout)
        assert ("mawk" in proc.stdout) == (runner.awk == "mawk"), (runner, proc.stdout)
        seen.add((Path(runner.shell).name, runner.awk))
    assert {s for s, _a in seen} == set(SHELLS)


def run_all(runners: Sequence[Runner], script: str, data: bytes, cwd: Path) -> List[subprocess.CompletedProcess]:
    return [r.run(script, data, cwd) for r in runners]


def check(runners, tmp_path, text: str, keys: Sequence[OwnedKey], expected: Optional[str] = None,
          stderr: Optional[str] = None) -> str:
    """Every runner writes modify_text's output (and ``expected`` when given), exits 0, and says ``stderr``."""
    want = modify_text(text, keys)
    if expected is not None:
        assert want == expected
    script = modify_script(keys)
    for runner, proc in zip(runners, run_all(runners, script, text.encode("utf-8"), tmp_path)):
        assert proc.returncode == 0, (str(runner), proc.stderr)
        assert proc.stdout.decode("utf-8") == want, (str(runner), proc.stderr)
        if stderr is None:
            assert proc.stderr == b"", (str(runner), proc.stderr)
        else:
            assert stderr in proc.stderr.decode("utf-8"), (str(runner), proc.stderr)
    return want


def K(group: Sequence[str], key: str, value: Optional[str], file: str = ".config/testrc", **kw) -> OwnedKey:
    return OwnedKey(file, tuple(group), key, value, **kw)


# ------------------------------------------------------------------------------------------------ the script text

def test_script_is_plain_sh_and_awk(tmp_path):
    hostile = "x' \"$(touch PWNED)\" `touch PWNED` %s %n \\ ; [a]=b\n" + MODIFY_TEMPLATE_MARKER
    script = modify_script([K(("Compositing",), "Backend", "QPainter"), K(("A",), "k", hostile),
                            K(("G'", MODIFY_TEMPLATE_MARKER), MODIFY_TEMPLATE_MARKER, None)])
    assert script.startswith("#!/bin/sh\n")
    assert MODIFY_TEMPLATE_MARKER not in script  # chezmoi would take the script for a template
    for word in ("python", "kwriteconfig", "kreadconfig", "perl", "sed "):
        assert word not in script
    for shell in SHELLS:
        target = tmp_path / "script"
        target.write_text(script, encoding="utf-8")
        subprocess.run([shell, "-n", str(target)], check=True)


@pytest.mark.parametrize("keys, message", [
    ([], "at least one key"),
    ([K(("A",), "k", "v"), K(("A",), "k", "v", file=".config/other")], "one file"),
    ([OwnedKey(".config/rustdesk/RustDesk2.toml", ("options",), "direct-server", "Y", format="toml")], "toml"),
    ([K(("A",), "#comment", "v")], "comment"),
    ([K(("A",), "", "v")], "invalid key"),
    ([K((" A",), "k", "v")], "cannot be stored"),
    ([K(("A\x1dB",), "k", None)], "cannot be stored"),
    ([K(("A",), "k", "\ud800")], "Unicode"),
])
def test_bad_keys_are_refused(keys, message):
    with pytest.raises(ValueError, match=message):
        modify_script(keys)
    if keys:
        with pytest.raises(ValueError, match=message):
            modify_text("", keys)


# ------------------------------------------------------------------------------------------------ semantics

CASES = [
    # existing key rewritten in place; nothing else moves
    ("[A]\na=1\nb=2\n", [K(("A",), "a", "9")], "[A]\na=9\nb=2\n"),
    # new key after the last entry of its group (a comment after it stays after it)
    ("[A]\na=1\n# note\n\n[B]\nb=2\n", [K(("A",), "c", "3")], "[A]\na=1\nc=3\n# note\n\n[B]\nb=2\n"),
    ("[A]\n\n[B]\nb=2", [K(("A",), "c", "3"), K(("B",), "d", "4")], "[A]\nc=3\n\n[B]\nb=2\nd=4"),
    # new group at the end after one blank line, nested groups
    ("[A]\na=1\n", [K(("Plugins",), "blurEnabled", "false"), K(("A", "B"), "k", "v")],
     "[A]\na=1\n\n[Plugins]\nblurEnabled=false\n\n[A][B]\nk=v\n"),
    ("[A]\na=1", [K(("C",), "k", "v")], "[A]\na=1\n\n[C]\nk=v\n"),
    ("[A]\na=1\n\n\n", [K(("C",), "k", "v")], "[A]\na=1\n\n\n[C]\nk=v\n"),
    ("", [K(("C",), "k", "v"), K(("C",), "j", "w")], "[C]\nk=v\nj=w\n"),
    # default group: before the first header, with a blank line; into a [<default>] section when there is one
    ("[A]\na=1\n", [K((), "top", "v"), K(("<default>",), "second", "w")], "top=v\nsecond=w\n\n[A]\na=1\n"),
    ("# c\n[A]\na=1\n", [K((), "top", "v")], "top=v\n\n# c\n[A]\na=1\n"),
    ("x=1\n[A]\na=1\n[<default>]\ny=2\n", [K((), "z", "3")], "x=1\n[A]\na=1\n[<default>]\ny=2\nz=3\n"),
    ("", [K((), "top", "v")], "top=v\n"),
    # a key several times: the line KConfig reads (the last) is rewritten; unset removes them all
    ("[A]\nk=1\nk=2\n[A]\nk=3\n", [K(("A",), "k", "4")], "[A]\nk=1\nk=2\n[A]\nk=4\n"),
    ("[A]\nk=1\nj=2\n[A]\nk=3\n", [K(("A",), "k", None)], "[A]\nj=2\n[A]\n"),
    # a group in several sections: a new key goes to the last one
    ("[A]\na=1\n[B]\nb=1\n[A]\nc=1\n# end\n", [K(("A",), "n", "v")], "[A]\na=1\n[B]\nb=1\n[A]\nc=1\nn=v\n# end\n"),
    # locale variants are other entries
    ("[G]\nName=x\nName[de]=y\n", [K(("G",), "Name", "z")], "[G]\nName=z\nName[de]=y\n"),
    ("[G]\nName[de]=y\nName=x\n", [K(("G",), "Name", None)], "[G]\nName[de]=y\n"),
    ("[G]\nName[de]=y\n", [K(("G",), "Name", "z")], "[G]\nName[de]=y\nName=z\n"),
    # [$e] written when asked, dropped when not; [$i] written; [$d] replaced
    ("[A]\np[$e]=$HOME/x\n", [K(("A",), "p", "$HOME/x")], "[A]\np=$HOME/x\n"),
    ("[A]\np=$HOME/x\n", [K(("A",), "p", "$HOME/x", expand=True)], "[A]\np[$e]=$HOME/x\n"),
    ("[A]\n", [K(("A",), "lock", "1", immutable=True, expand=True)], "[A]\nlock[$ie]=1\n"),
    ("[A]\nk=1\nk[$d]\n", [K(("A",), "k", "2")], "[A]\nk=1\nk=2\n"),
    # a key that already has its value and options keeps its line byte for byte
    ("[N]\nActive = true\n  Mode=Times\r\n", [K(("N",), "Active", "true"), K(("N",), "Mode", "Times")],
     "[N]\nActive = true\n  Mode=Times\r\n"),
    ("[A]\nlock[$i]=1\n", [K(("A",), "lock", "1", immutable=True)], "[A]\nlock[$i]=1\n"),
    ("[A][$i]\nk=1\n", [K(("A",), "k", "1", immutable=True)], "[A][$i]\nk=1\n"),
    # escapes: the key as KConfig reads it, the value as KConfig writes it
    ("[A]\nexclude\\sfolders=x\n", [K(("A",), "exclude folders", "y")], "[A]\nexclude folders=y\n"),
    ("[A]\nk=\\x41\n", [K(("A",), "k", "A")], "[A]\nk=\\x41\n"),
    ("[\\x24i]\nk=1\n", [K(("$i",), "k", "2")], "[\\x24i]\nk=2\n"),
    ("[A]\n", [K(("A",), "k", " lead\tand\\trail ")], "[A]\nk=\\slead\\tand\\\\trail\\s\n"),
    # CRLF files keep CRLF, new lines included
    ("[A]\r\na = 1\r\n", [K(("A",), "a", "2"), K(("B",), "b", "3")], "[A]\r\na=2\r\n\r\n[B]\r\nb=3\r\n"),
    ("[A]\r\na=1\r\n", [K((), "t", "v")], "t=v\r\n\r\n[A]\r\na=1\r\n"),
    # unsets that find nothing change nothing; removing the last key leaves the header
    ("[A]\na=1\n", [K(("A",), "missing", None), K(("Nope",), "a", None)], "[A]\na=1\n"),
    ("[A]\na=1\n", [K(("A",), "a", None)], "[A]\n"),
    ("a=1", [K((), "a", None)], ""),
    ("", [K(("A",), "a", None)], ""),
    # a key given twice counts once, as its last occurrence says (else each pass would move it again)
    ("[A]\na=1\nb=2\n", [K(("A",), "a", None), K(("A",), "a", "3")], "[A]\na=3\nb=2\n"),
    ("[A]\na=1\nb=2\n", [K(("A",), "a", "3"), K(("A",), "b", "4"), K(("A",), "a", None)], "[A]\nb=4\n"),
    ("# c\n[A]\n", [K((), "k", None), K(("<default>",), "k", "")], "k=\n\n# c\n[A]\n"),
    ("", [K(("A",), "x", "1"), K(("B",), "y", "2"), K(("A",), "x", "3")], "[B]\ny=2\n\n[A]\nx=3\n"),
]


@pytest.mark.parametrize("text, keys, expected", CASES)
def test_edits_match_kdeconfig(runners, tmp_path, text, keys, expected):
    out = check(runners, tmp_path, text, keys, expected)
    check(runners, tmp_path, out, keys, out)  # a second pass changes nothing


@pytest.mark.parametrize("text, keys, message", [
    ("[KDE Action Restrictions][$i]\nshell_access=true\n", [K(("KDE Action Restrictions",), "shell_access", "false")],
     "[KDE Action Restrictions] shell_access is immutable"),
    ("[KDE Action Restrictions][$i]\nshell_access=true\n", [K(("KDE Action Restrictions",), "new", "1")],
     "immutable"),
    ("[WM]\nframe[$i]=61,174,233\n", [K(("WM",), "frame", "1,2,3")], "[WM] frame is immutable"),
    ("[WM]\nframe[$i]=61,174,233\n", [K(("WM",), "frame", None)], "cannot be removed"),
    ("[$i]\n[KDE]\nx=1\n", [K(("KDE",), "AnimationDurationFactor", "0")], "immutable"),
    ("[A][B][$i]\nk=1\n", [K(("A", "B"), "k", "0")], "[A][B] k is immutable"),
    ("[A]\nk[$i]=1\nk=2\n", [K(("A",), "k", "3")], "immutable"),
    # the first edit is allowed, the second refused: the whole file stays as it was
    ("[A]\na=1\n[L][$i]\nk=1\n", [K(("A",), "a", "2"), K(("L",), "k", "2")], "[L] k is immutable"),
    # what KConfig cannot read
    ("[A]\nk=1\n[B\nj=2\n", [K(("A",), "k", "2")], "line 3: invalid group header"),
    ("[A]\njustakey\n", [K(("A",), "k", "2")], "line 2: missing ="),
    ("[A]\nk[de=1\n", [K(("A",), "k", "2")], "line 2: missing ]"),
    ("[A]\nk[de][fr]=1\n", [K(("A",), "k", "2")], "second locale"),
    ("[A]\n=1\n", [K(("A",), "k", "2")], "empty key"),
    ("[A]\nk=a\\qb\n", [K(("A",), "k", "2")], "invalid escape \\q"),
    ("k=\\xzz1\n", [K(("A",), "k", "2")], "invalid escape \\xzz"),
    ("[A\\q]\nk=1\n", [K(("A",), "k", "2")], "invalid escape"),
])
def test_refused_edits_leave_the_file_and_say_why(runners, tmp_path, text, keys, message):
    check(runners, tmp_path, text, keys, text, stderr=message)
    for runner, proc in zip(runners, run_all(runners, modify_script(keys), text.encode(), tmp_path)):
        assert ".config/testrc" in proc.stderr.decode() and "unchanged" in proc.stderr.decode(), str(runner)


def test_unchanged_file_comes_back_byte_for_byte(runners, tmp_path):
    for name in ("kwinrc", "kdeglobals", "baloofilerc", "oddrc"):
        text = fixture(name)
        doc = KConfigDoc.parse(text)
        keys = [K(path, key, value, file=".config/" + name, expand="e" in doc.flags(path, key))
                for (path, key, locale), value in doc.entries().items()
                if locale is None and value is not None and "i" not in doc.flags(path, key)]
        assert len(keys) > 5
        check(runners, tmp_path, text, keys, text)
        crlf = text.replace("\n", "\r\n")
        check(runners, tmp_path, crlf, keys, crlf)


# ------------------------------------------------------------------------------------------------ fixtures + KConfig

class KRead:
    """The real kreadconfig5 (Debian libkf5config-bin), with a private HOME."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def read(self, file: Path, path: Sequence[str], key: str) -> str:
        args = [self.binary, "--file", str(file.resolve())]
        for group in path or ("<default>",):
            args += ["--group", group]
        env = dict(os.environ, HOME=str(file.parent), XDG_CONFIG_HOME=str(file.parent), LANG="C.UTF-8",
                   LC_ALL="C.UTF-8", QT_QPA_PLATFORM="offscreen")
        env.pop("LANGUAGE", None)
        proc = subprocess.run(args + ["--key", key, "--default", ABSENT], capture_output=True, env=env, timeout=60,
                              check=True)
        out = proc.stdout.decode("utf-8")
        assert out.endswith("\n"), out
        return out[:-1]


@pytest.fixture(scope="session")
def kread() -> KRead:
    binary = shutil.which("kreadconfig5")
    if not binary:
        pytest.fail("kreadconfig5 is required (Debian: apt-get install libkf5config-bin); the Makefile set-up installs it")
    return KRead(binary)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


HOSTILE = "it's \"$(touch PWNED)\" `touch PWNED` ${HOME} %s%n \\ back\\slash; a,b [x]=[y] \\x41 \u00e9\U0001f600"
FIXTURE_KEYS = {
    "kwinrc": [
        K(("Compositing",), "Backend", "QPainter", file=".config/kwinrc", live="kwin"),
        K(("Compositing",), "GLCore", None, file=".config/kwinrc"),
        K(("Compositing",), "LatencyPolicy", None, file=".config/kwinrc"),
        K(("Plugins",), "blurEnabled", "false", file=".config/kwinrc"),
        K(("Plugins",), "slideEnabled", "false", file=".config/kwinrc"),
        K(("NightColor",), "Active", "true", file=".config/kwinrc"),  # already so: "Active = true" stays
        K(("Wayland",), "InputMethod", None, file=".config/kwinrc"),
        K(("Tiling", "345e7e0b-2b5f-4b73-9e5f-8a8e7c1b0f2d", "Sub"), "tiles", HOSTILE, file=".config/kwinrc"),
        K(("Effect-overview",), "BorderActivate", "7", file=".config/kwinrc"),
        K(("Nixperf",), "Lock", "$HOME/locked", file=".config/kwinrc", immutable=True, expand=True),
        K((), "TopLevel", "first", file=".config/kwinrc"),
    ],
    "kdeglobals": [
        K(("KDE",), "AnimationDurationFactor", "0", file=".config/kdeglobals", live="live"),
        K(("General",), "Name", "Mine", file=".config/kdeglobals"),  # Name[de], Name[fr] stay
        K(("KFileDialog Settings",), "Recent URLs", None, file=".config/kdeglobals"),
        K(("KFileDialog Settings",), "Recent Files", "$HOME/x", file=".config/kdeglobals", expand=True),
        K(("WM",), "activeFont", "Hack,10", file=".config/kdeglobals"),
        K(("PreviewSettings",), "MaximumRemoteSize", "0", file=".config/kdeglobals"),
    ],
    "baloofilerc": [
        K(("Basic Settings",), "Indexing-Enabled", "false", file=".config/baloofilerc"),
        K(("General",), "only basic indexing", "true", file=".config/baloofilerc"),
        K(("General",), "exclude folders", "$HOME/.cache/;$HOME/VMs/", file=".config/baloofilerc", expand=True),
        K(("General",), "index hidden folders", None, file=".config/baloofilerc"),
    ],
    "oddrc": [
        K(("General",), "dup", "fourth", file=".config/oddrc"),
        K(("General",), "Name", None, file=".config/oddrc"),
        K(("General",), "Removed", "back", file=".config/oddrc"),
        K(("General",), "exclude folders", "unescaped", file=".config/oddrc"),
        K(("General",), "New", "in the last section", file=".config/oddrc"),
        K((), "Indented", "top", file=".config/oddrc"),
        K((), "AlsoNew", "into the [<default>] section", file=".config/oddrc"),
        K(("Parent", "Child"), "deep", None, file=".config/oddrc"),
        K(("Parent", "Child", "Grandchild"), "deeper", "2", file=".config/oddrc"),
    ],
}


def final_values(keys: Sequence[OwnedKey]) -> Dict[Tuple[Tuple[str, ...], str], OwnedKey]:
    out: Dict[Tuple[Tuple[str, ...], str], OwnedKey] = {}
    for k in keys:
        out[(() if k.group == ("<default>",) else k.group, k.key)] = k
    return out


def assert_only_owned_lines_changed(old: str, new: str, keys: Sequence[OwnedKey]) -> None:
    owned = set(final_values(keys))
    old_groups = set(KConfigDoc.parse(old).groups())

    def owned_line(text: str, lines: List[str], index: int, may_be_new_group: bool) -> bool:
        doc = KConfigDoc.parse(text)
        line = doc._lines[index]  # pylint: disable=protected-access
        if line.kind == "entry":
            return (line.path, line.key) in owned and line.locale is None
        if line.kind == "group":
            return may_be_new_group and line.path not in old_groups
        return may_be_new_group and lines[index].strip() == ""

    a, b = old.split("\n"), new.split("\n")
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            assert owned_line(old, a, i, False), "line %r changed or went away" % a[i]
        for j in range(j1, j2):
            assert owned_line(new, b, j, True), "line %r appeared" % b[j]


def check_with_kconfig(kread: KRead, tmp_path: Path, before: str, after: str, keys: Sequence[OwnedKey]) -> None:
    target = tmp_path / "rc"
    target.write_text(after, encoding="utf-8")
    home = str(tmp_path)
    wanted = final_values(keys)
    for (path, key), k in wanted.items():
        expected = ABSENT if k.value is None else (k.value.replace("$HOME", home) if k.expand else k.value)
        assert kread.read(target, path, key) == expected, (path, key)
    # every other entry reads as it did, through KConfigDoc and through KConfig
    old, new = KConfigDoc.parse(before), KConfigDoc.parse(after)
    rest_old = {i: v for i, v in old.entries().items() if (i[0], i[1]) not in wanted}
    rest_new = {i: v for i, v in new.entries().items() if (i[0], i[1]) not in wanted}
    assert rest_new == rest_old
    for (path, key, locale), value in rest_old.items():
        if locale is not None:
            continue
        expected = ABSENT if value is None else (value.replace("$HOME", home) if "e" in old.flags(path, key) else value)
        assert kread.read(target, path, key) == expected, (path, key)


@pytest.mark.parametrize("name", sorted(FIXTURE_KEYS))
def test_fixture_edits_read_back_with_kconfig(runners, kread, tmp_path, name):
    text, keys = fixture(name), FIXTURE_KEYS[name]
    out = check(runners, tmp_path, text, keys)
    assert out != text
    check(runners, tmp_path, out, keys, out)  # second pass: byte for byte the same
    assert_only_owned_lines_changed(text, out, keys)
    check_with_kconfig(kread, tmp_path, text, out, keys)


@pytest.mark.parametrize("name", sorted(FIXTURE_KEYS))
def test_missing_file_gets_only_the_owned_keys(runners, kread, tmp_path, name):
    keys = FIXTURE_KEYS[name]
    out = check(runners, tmp_path, "", keys)
    doc = KConfigDoc.parse(out)
    assert {(p, k) for p, k, _l in doc.entries()} == {i for i, k in final_values(keys).items() if k.value is not None}
    check(runners, tmp_path, out, keys, out)
    check_with_kconfig(kread, tmp_path, "", out, keys)


def test_crlf_fixture(runners, kread, tmp_path):
    text = fixture("kwinrc").replace("\n", "\r\n")
    keys = FIXTURE_KEYS["kwinrc"]
    out = check(runners, tmp_path, text, keys)
    assert all(line.endswith("\r") for line in out.split("\n")[:-1]) and out.endswith("\r\n")
    check(runners, tmp_path, out, keys, out)
    check_with_kconfig(kread, tmp_path, text, out, keys)


def test_locked_file_is_left_alone(runners, tmp_path):
    text = fixture("lockedrc")
    check(runners, tmp_path, text, [K(("KDE",), "AnimationDurationFactor", "0", file=".config/lockedrc")], text,
          stderr="[KDE] AnimationDurationFactor is immutable")
    check(runners, tmp_path, fixture("kdeglobals"), FIXTURE_KEYS["kdeglobals"] +
          [K(("KDE Action Restrictions",), "shell_access", "false", file=".config/kdeglobals")], fixture("kdeglobals"),
          stderr="immutable")


# ------------------------------------------------------------------------------------------------ hostile input

HOSTILE_VALUES = [
    "'", "'\\''", "\"", "\\", "\\\\", "$(touch PWNED)", "`touch PWNED`", "${PATH}", "; touch PWNED #",
    "'; touch PWNED; '", "a\nb\r\nc", "\n[Injected]\nkey=1", "=", "[$i]", "[A][B]", "]", "[", "%s%d%n",
    "\\x41\\n\\s", " leading and trailing ", "\t", "", MODIFY_TEMPLATE_MARKER, "line\n" + MODIFY_TEMPLATE_MARKER,
    "{{ .chezmoi.stdin }}", "\x01\x1d\x7f", "\u00e9\u2028\U0001f600", "EOF\nEOF", "\" ENVIRON[\"HOME\"] \"",
]


def test_hostile_values_keys_and_groups(runners, kread, tmp_path):
    keys = [K(("Hostile",), "v%02d" % i, v) for i, v in enumerate(HOSTILE_VALUES)]
    keys += [K(("G'$(touch PWNED)", "x]y[z"), "k'ey=[1]", "v"), K(("A=B",), "`touch PWNED`", "w"),
             K((MODIFY_TEMPLATE_MARKER,), "k", "x"), K(("Hostile",), "v00", "replaced"), K(("Hostile",), "v01", None)]
    base = fixture("kwinrc")
    out = check(runners, tmp_path, base, keys)
    assert not list(tmp_path.glob("PWNED*")), "a value ran as a command"
    check(runners, tmp_path, out, keys, out)
    target = tmp_path / "rc"
    target.write_text(out, encoding="utf-8")
    for (path, key), k in final_values(keys).items():
        assert kread.read(target, path, key) == (ABSENT if k.value is None else k.value), (path, key)
    assert not list(tmp_path.glob("PWNED*"))


# ------------------------------------------------------------------------------------------------ properties

WS_EDGE = " \t\n\v\f\r"
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
NAMES_ST = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1d"), min_size=1, max_size=6)
KEYS = NAMES_ST.filter(lambda s: not s.startswith("#"))
GROUP_NAMES = NAMES_ST.filter(lambda s: s == s.strip(WS_EDGE) and s != "<default>")
SIMPLE = st.sampled_from(["A", "B", "General", "KDE", "a b", "x=y", "[z]", "é"])
PATHS = st.lists(st.one_of(SIMPLE, GROUP_NAMES), max_size=2).map(tuple)
KEY_NAMES = st.one_of(st.sampled_from(["k", "j", "Name", "a b", "Key[x]"]), KEYS)
LOCALES = st.one_of(st.none(), st.none(), st.sampled_from(["de", "fr"]))
DOC_ENTRIES = st.lists(st.tuples(PATHS, KEY_NAMES, LOCALES, VALUES, st.booleans(), st.booleans()), max_size=10)


def decorate(text: str, seed: int) -> str:
    """What KConfig reads but does not write: white space, comments, [$d] lines, second sections, CRLF."""
    out: List[str] = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line and not line.startswith("[") and "=" in line and (seed + index) % 2:
            key, value = line.split("=", 1)
            line = "%s \t= %s" % (key, value)
        if line and (seed + index) % 3 == 0:
            out.append("# comment %d [x]=y" % index)
        out.append(line if (seed + index) % 5 else "  " + line)
        if line.startswith("[") and (seed + index) % 4 == 1:
            out.append("gone[$d]")
    if seed % 3 == 1:
        out[-1:-1] = ["[A]", "k=second section"]
    if seed % 11 == 5:
        out.insert(seed % len(out), "a line KConfig refuses")
    if seed % 13 == 7:
        out.insert(0, "[$i]")
    result = "\n".join(out)
    if seed % 7 == 3:
        result = result.replace("\n", "\r\n")
    if seed % 5 == 4:
        result = result.rstrip("\n")
    return result


@st.composite
def documents_and_edits(draw):
    doc = KConfigDoc.parse("")
    for path, key, locale, value, immutable, expand in draw(DOC_ENTRIES):
        if not doc.is_immutable(path, key, locale):
            doc.set(path, key, value, immutable=immutable and draw(st.booleans()), locale=locale, expand=expand)
    text = decorate(doc.render(), draw(st.integers(0, 1000)))
    existing = [(p, k) for p, k, _l in doc.entries()] or [(("A",), "k")]
    target = st.one_of(st.sampled_from(existing), st.tuples(PATHS, KEY_NAMES),
                       st.sampled_from([(("<default>",), "k"), ((), "k"), (("A",), "k")]))
    edits = draw(st.lists(st.tuples(target, st.one_of(st.none(), VALUES, st.sampled_from(["1", "true"])),
                                    st.booleans(), st.booleans()), min_size=1, max_size=5))
    keys = [K(path, key, value, immutable=value is not None and imm and draw(st.booleans()),
              expand=value is not None and exp) for (path, key), value, imm, exp in edits]
    return text, keys


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(documents_and_edits(), st.data())
def test_script_equals_kdeconfig_on_generated_documents(runners, tmp_path, case, data):
    text, keys = case
    runner = data.draw(st.sampled_from(runners))
    proc = runner.run(modify_script(keys), text.encode("utf-8"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert out == modify_text(text, keys), (str(runner), proc.stderr)
    assert modify_text(out, keys) == out  # a second pass is a no-op


# ------------------------------------------------------------------------------------------------ the tree

def test_kde_tree(runners, tmp_path):
    keys = FIXTURE_KEYS["kwinrc"] + FIXTURE_KEYS["kdeglobals"] + [
        OwnedKey(".config/rustdesk/RustDesk2.toml", ("options",), "direct-server", "Y", format="toml")]
    tree = kde_tree(keys)
    assert sorted(tree) == ["dot_config/modify_private_kdeglobals", "dot_config/modify_private_kwinrc"]
    assert tree["dot_config/modify_private_kwinrc"] == {"content": modify_script(FIXTURE_KEYS["kwinrc"]), "mode": "0644"}
    assert sorted(kde_tree(keys, private_dirs=[".config"])) == ["private_dot_config/modify_private_kdeglobals",
                                                                "private_dot_config/modify_private_kwinrc"]
    assert kde_tree([]) == {}


def test_kconfig_creates_rc_files_private(tmp_path):
    """Why the scripts are modify_private_: kwriteconfig5 creates a new rc file 0600 whatever the umask."""
    binary = shutil.which("kwriteconfig5")
    if not binary:
        pytest.fail("kwriteconfig5 is required (Debian: apt-get install libkf5config-bin)")
    target = tmp_path / "newrc"
    old = os.umask(0o022)
    try:
        subprocess.run([binary, "--file", str(target), "--group", "A", "--key", "k", "v"], check=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "modify_private_" in next(iter(kde_tree([K(("A",), "k", "v")]))).split("/")[-1]


def chezmoi_apply(source: Path, home: Path, umask: int = 0o022) -> None:
    """What ``chezmoi apply`` does with a tree of modify_ scripts (twpayne/chezmoi v2.72.0-19: parseDirAttr,
    parseFileAttr, newModifyTargetStateEntryFunc, prepareScriptCmd, TargetStateFile.Apply, TargetStateDir.Apply,
    FileAttr.perm): the script runs from a 0700 temporary file through its #! line with the target on standard
    input, a white-space-only result removes the target, anything else is written with the attributes' mode."""
    for entry in sorted(source.rglob("*")):
        if entry.is_dir():
            continue
        dirs, attrs = parse_source_path(str(entry.relative_to(source)))
        assert attrs["kind"] == "modify" and not attrs["template"]
        parent = home
        for directory in dirs:
            parent = parent / directory["target"]
            mode = (0o700 if directory["private"] else 0o777) & ~umask
            parent.mkdir(exist_ok=True)
            os.chmod(parent, mode)
        target = parent / attrs["target"]
        current = target.read_bytes() if target.exists() else b""
        contents = entry.read_bytes()
        if not contents.strip():
            continue
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch) / ("x." + attrs["target"])
            script.write_bytes(contents)
            os.chmod(script, 0o700)
            proc = subprocess.run([str(script)], input=current, capture_output=True, timeout=60, check=False,
                                  env=dict(os.environ, CHEZMOI_SOURCE_FILE=str(entry.relative_to(source))))
        assert proc.returncode == 0, proc.stderr
        if not proc.stdout.strip():
            if target.exists():
                target.unlink()
            continue
        target.write_bytes(proc.stdout)
        perm = 0o666 & ~(0o077 if attrs["private"] else 0) & ~(0o222 if attrs["readonly"] else 0)
        os.chmod(target, perm & ~umask)


def test_tree_applied_like_chezmoi(kread, tmp_path):
    source, home = tmp_path / "source", tmp_path / "home"
    source.mkdir()
    home.mkdir()
    (home / ".config").mkdir()
    (home / ".config" / "kwinrc").write_text(fixture("kwinrc"), encoding="utf-8")
    os.chmod(home / ".config" / "kwinrc", 0o644)
    keys = FIXTURE_KEYS["kwinrc"] + FIXTURE_KEYS["baloofilerc"] + [K(("A",), "gone", None, file=".config/emptyrc")]
    for path, spec in kde_tree(keys).items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(spec["content"], encoding="utf-8")
        os.chmod(source / path, int(spec["mode"], 8))
    chezmoi_apply(source, home)
    kwinrc, baloo = home / ".config" / "kwinrc", home / ".config" / "baloofilerc"
    assert kwinrc.read_text(encoding="utf-8") == modify_text(fixture("kwinrc"), FIXTURE_KEYS["kwinrc"])
    assert baloo.read_text(encoding="utf-8") == modify_text("", FIXTURE_KEYS["baloofilerc"])
    assert not (home / ".config" / "emptyrc").exists()  # nothing to write: no file
    assert stat.S_IMODE(kwinrc.stat().st_mode) == 0o600 and stat.S_IMODE(baloo.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".config").stat().st_mode) == 0o755
    assert kread.read(kwinrc, ("Compositing",), "Backend") == "QPainter"
    before = kwinrc.read_bytes()
    chezmoi_apply(source, home)
    assert kwinrc.read_bytes() == before
