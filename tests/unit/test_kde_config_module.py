"""kde_config module, in-process: only the owned keys change (read back with the real ``kreadconfig5`` and with the
KConfig model), idempotence, check and diff mode, unset, creation, immutable entries, backups, validation."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence

import pytest
from conftest import run_module
from support import snapshot

from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc
from ansible_collections.nixperf.tuning.plugins.modules import kde_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kde"


class KRead:
    """The real ``kreadconfig5`` (Debian libkf5config-bin), with a private HOME and XDG_CONFIG_HOME."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def __call__(self, file: Path, group: Sequence[str], key: str) -> str:
        env = dict(os.environ, HOME=str(file.parent), XDG_CONFIG_HOME=str(file.parent / ".config"), LANG="C.UTF-8",
                   LC_ALL="C.UTF-8", QT_QPA_PLATFORM="offscreen")
        env.pop("LANGUAGE", None)
        args: List[str] = []
        for name in group or ("<default>",):
            args += ["--group", name]
        proc = subprocess.run([self.binary, "--file", str(file.resolve()), *args, "--key", key], capture_output=True,
                              env=env, timeout=60, check=True)
        out = proc.stdout.decode("utf-8")
        assert out.endswith("\n"), out
        return out[:-1]


@pytest.fixture(scope="session", name="kread")
def kread_fixture() -> KRead:
    binary = shutil.which("kreadconfig5")
    if not binary:
        pytest.fail("kreadconfig5 is required (Debian: apt-get install libkf5config-bin); the Makefile set-up installs it")
    return KRead(binary)


def fixture_copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    target.write_bytes((FIXTURES / name).read_bytes())
    return target


def kde(capsys, path: Path, settings: List[Dict], check: bool = False, diff: bool = True, **kw) -> dict:
    return run_module(kde_config.main, dict(path=str(path), settings=settings, **kw), capsys, check=check, diff=diff)


def entries(path: Path) -> dict:
    return KConfigDoc.parse(path.read_text(encoding="utf-8")).entries()


BACKEND = {"group": ["Compositing"], "key": "Backend", "value": "QPainter"}


def test_set_changes_only_the_owned_key(tmp_path, capsys, kread):
    rc = fixture_copy("kwinrc", tmp_path)
    original = rc.read_text(encoding="utf-8")
    before = entries(rc)
    r = kde(capsys, rc, [BACKEND])
    assert r["changed"] is True and r["changed_keys"] == ["Compositing/Backend"] and r["created"] is False
    assert kread(rc, ["Compositing"], "Backend") == "QPainter"
    after = entries(rc)
    assert after.pop((("Compositing",), "Backend", None)) == "QPainter"
    assert before.pop((("Compositing",), "Backend", None)) == "OpenGL"
    assert after == before
    assert rc.read_text(encoding="utf-8") == original.replace("Backend=OpenGL\n", "Backend=QPainter\n")
    assert [n for n in os.listdir(tmp_path) if n != "kwinrc"] == []  # no temp file left


def test_new_key_new_group_and_nested_group_read_back_by_kconfig(tmp_path, capsys, kread):
    rc = fixture_copy("kdeglobals", tmp_path)
    r = kde(capsys, rc, [{"group": ["KDE"], "key": "AnimationDurationFactor", "value": "0.25"},
                         {"group": ["General"], "key": "Name", "locale": "de", "value": "Brise  dunkel "},
                         {"group": ["Containments", "1", "General"], "key": "Wallpaper", "value": " a=b\\c"}])
    assert r["changed_keys"] == ["KDE/AnimationDurationFactor", "General/Name[de]", "Containments/1/General/Wallpaper"]
    assert kread(rc, ["KDE"], "AnimationDurationFactor") == "0.25"
    assert kread(rc, ["Containments", "1", "General"], "Wallpaper") == " a=b\\c"
    doc = KConfigDoc.parse(rc.read_text(encoding="utf-8"))
    assert doc.get(["General"], "Name", "de") == "Brise  dunkel "
    assert doc.get(["General"], "Name") == "Breeze Dark"


def test_second_run_is_unchanged_and_does_not_write(tmp_path, capsys):
    rc = fixture_copy("kwinrc", tmp_path)
    settings = [BACKEND, {"group": ["NightColor"], "key": "Active", "value": "true"}]
    assert kde(capsys, rc, settings)["changed_keys"] == ["Compositing/Backend"]  # "Active = true" already holds
    os.utime(rc, ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(tmp_path)
    r = kde(capsys, rc, settings)
    assert r["changed"] is False and r["changed_keys"] == []
    assert r["diff"]["before"] == r["diff"]["after"]
    assert snapshot(tmp_path) == before
    assert "Active = true\n" in rc.read_text(encoding="utf-8")


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    rc = fixture_copy("kwinrc", tmp_path)
    before = snapshot(tmp_path)
    r = kde(capsys, rc, [BACKEND], check=True, backup=True)
    assert r["changed"] is True and r["changed_keys"] == ["Compositing/Backend"]
    assert "backup_file" not in r
    assert snapshot(tmp_path) == before
    missing = tmp_path / "new" / "kwinrc"
    r = kde(capsys, missing, [BACKEND], check=True)
    assert r["changed"] is True and r["created"] is True
    assert not missing.parent.exists()


def test_diff_holds_the_whole_text_before_and_after(tmp_path, capsys):
    rc = fixture_copy("baloofilerc", tmp_path)
    original = rc.read_text(encoding="utf-8")
    r = kde(capsys, rc, [{"group": ["Basic Settings"], "key": "Indexing-Enabled", "value": "false"}], check=True)
    assert r["diff"] == {"before": original, "after": original.replace("Indexing-Enabled=true", "Indexing-Enabled=false"),
                         "before_header": str(rc), "after_header": str(rc)}
    assert "diff" not in kde(capsys, rc, [BACKEND], check=True, diff=False)


def test_unset_removes_only_that_key(tmp_path, capsys, kread):
    rc = fixture_copy("baloofilerc", tmp_path)
    before = entries(rc)
    gone = {"group": ["General"], "key": "only basic indexing", "state": "absent"}
    r = kde(capsys, rc, [gone, {"group": ["General"], "key": "never there", "state": "absent"}])
    assert r["changed"] is True and r["changed_keys"] == ["General/only basic indexing"]
    assert kread(rc, ["General"], "only basic indexing") == ""
    del before[(("General",), "only basic indexing", None)]
    assert entries(rc) == before
    assert kde(capsys, rc, [gone])["changed"] is False


def test_missing_file_is_created_with_its_directories(tmp_path, capsys, kread):
    rc = tmp_path / ".config" / "sub" / "kwinrc"
    r = kde(capsys, rc, [BACKEND, {"group": [], "key": "Top", "value": "1"}], mode="0600")
    assert r["changed"] is True and r["created"] is True
    assert rc.read_text(encoding="utf-8") == "Top=1\n\n[Compositing]\nBackend=QPainter\n"
    assert kread(rc, [], "Top") == "1" and kread(rc, ["Compositing"], "Backend") == "QPainter"
    assert stat.S_IMODE(os.stat(rc).st_mode) == 0o600
    assert kde(capsys, rc, [BACKEND, {"group": [], "key": "Top", "value": "1"}], mode="0600")["changed"] is False


def test_missing_file_only_unset_is_not_created(tmp_path, capsys):
    rc = tmp_path / "kwinrc"
    r = kde(capsys, rc, [{"group": ["Compositing"], "key": "Backend", "state": "absent"}])
    assert r["changed"] is False and r["created"] is False and not rc.exists()


def test_missing_file_with_create_false_fails(tmp_path, capsys):
    rc = tmp_path / "kwinrc"
    r = kde(capsys, rc, [BACKEND], create=False)
    assert r["failed"] is True and r["msg"] == "%s does not exist (create=false)" % rc
    assert not rc.exists()


def test_immutable_key_is_refused_and_the_file_untouched(tmp_path, capsys):
    rc = fixture_copy("kwinrc", tmp_path)
    r = kde(capsys, rc, [{"group": ["Plugins"], "key": "blurEnabled", "value": "false", "immutable": True}])
    assert r["changed_keys"] == ["Plugins/blurEnabled"]
    assert "blurEnabled[$i]=false\n" in rc.read_text(encoding="utf-8")
    # the same immutable value again holds already
    again = kde(capsys, rc, [{"group": ["Plugins"], "key": "blurEnabled", "value": "false", "immutable": True}])
    assert again["changed"] is False
    before = snapshot(tmp_path)
    r = kde(capsys, rc, [BACKEND, {"group": ["Plugins"], "key": "blurEnabled", "value": "true"}], backup=True)
    assert r["failed"] is True
    assert r["msg"].startswith(str(rc) + ": ") and "immutable" in r["msg"] and r["path"] == str(rc)
    assert snapshot(tmp_path) == before  # not even the other setting nor a backup


def test_file_kconfig_refuses_fails_naming_it(tmp_path, capsys):
    rc = tmp_path / "kwinrc"
    rc.write_text("[Compositing\nBackend=OpenGL\n", encoding="utf-8")
    before = snapshot(tmp_path)
    r = kde(capsys, rc, [BACKEND])
    assert r["failed"] is True and r["msg"].startswith("%s: line 1: invalid group header" % rc)
    assert snapshot(tmp_path) == before


def test_backup_keeps_the_previous_file(tmp_path, capsys):
    rc = fixture_copy("kwinrc", tmp_path)
    original = rc.read_bytes()
    os.chmod(rc, 0o640)
    r = kde(capsys, rc, [BACKEND], backup=True)
    backup = Path(r["backup_file"])
    assert backup.parent == tmp_path and backup.name.startswith("kwinrc.") and backup.name.endswith("~")
    assert backup.read_bytes() == original
    assert stat.S_IMODE(os.stat(rc).st_mode) == 0o640
    r = kde(capsys, rc, [BACKEND], backup=True)
    assert r["changed"] is False and "backup_file" not in r


def test_symlink_edits_its_target_and_stays(tmp_path, capsys, kread):
    real = fixture_copy("kwinrc", tmp_path)
    link = tmp_path / ".config" / "kwinrc"
    link.parent.mkdir()
    link.symlink_to(real)
    r = kde(capsys, link, [BACKEND])
    assert r["path"] == str(real) and link.is_symlink()
    assert kread(real, ["Compositing"], "Backend") == "QPainter"


def test_crlf_file_keeps_its_line_endings(tmp_path, capsys, kread):
    rc = tmp_path / "kwinrc"
    rc.write_bytes(b"[Compositing]\r\nBackend=OpenGL\r\n")
    kde(capsys, rc, [BACKEND, {"group": ["Compositing"], "key": "Enabled", "value": "true"}])
    assert rc.read_bytes() == b"[Compositing]\r\nBackend=QPainter\r\nEnabled=true\r\n"
    assert kread(rc, ["Compositing"], "Enabled") == "true"


@pytest.mark.parametrize("settings, message", [
    ([BACKEND, {"group": ["KDE"], "key": "AnimationDurationFactor"}],
     "settings[1] (KDE/AnimationDurationFactor): value is required when state is present"),
    ([{"group": [], "key": "Top"}], "settings[0] (Top): value is required when state is present"),
])
def test_setting_without_value_fails_naming_its_index(tmp_path, capsys, settings, message):
    rc = fixture_copy("kwinrc", tmp_path)
    before = snapshot(tmp_path)
    r = kde(capsys, rc, settings)
    assert r["failed"] is True and r["msg"] == message
    assert snapshot(tmp_path) == before


def test_invalid_locale_fails_before_writing(tmp_path, capsys):
    rc = fixture_copy("kdeglobals", tmp_path)
    before = snapshot(tmp_path)
    r = kde(capsys, rc, [{"group": ["General"], "key": "Name", "locale": "de]", "value": "x"}])
    assert r["failed"] is True and "invalid locale" in r["msg"]
    assert snapshot(tmp_path) == before
