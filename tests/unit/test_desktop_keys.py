"""The owned-keys step (module desktop_keys): originals recorded once, given back when no phase owns a key, the
three backends, check mode, the services RustDesk needs stopped, KWin's reload, and the exact command lines run
(recorded by the doubles in tests/doubles)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import ownedkeys as O
from ansible_collections.nixperf.tuning.plugins.module_utils.controller import ControllerModule
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop_sync import (
    chezmoi_argv, kwin_reconfigure_argv, sync)
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc

DOUBLES = Path(__file__).resolve().parents[1] / "doubles"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kde"

BACKEND = OwnedKey(".config/kwinrc", ("Compositing",), "Backend", "QPainter", live="login")
BLUR = OwnedKey(".config/kwinrc", ("Plugins",), "blurEnabled", "true", live="kwin")
FACTOR = OwnedKey(".config/kdeglobals", ("KDE",), "AnimationDurationFactor", "0.5", live="live")
CODEC = OwnedKey(".config/rustdesk/RustDesk_default.toml", ("options",), "codec-preference", "vp9", format="toml",
                 live="service", unit="rustdesk.service")


def kwinrc() -> str:
    return (FIXTURES / "kwinrc").read_text()


def reader(files: Dict[str, str]):
    return files.get


# ---------------------------------------------------------------- the pure plan


def test_first_run_records_the_users_values_then_sets_ours():
    text = "[Compositing]\nBackend=XRender\nOpenGLIsUnsafe=false\n"
    plan = O.plan_user([BACKEND, BLUR], {}, reader({".config/kwinrc": text}), "direct")
    assert BACKEND.value == "QPainter"
    assert plan.store[O.key_id(".config/kwinrc", "kconfig", ("Compositing",), "Backend")].value == "XRender"
    assert plan.store[O.key_id(".config/kwinrc", "kconfig", ("Plugins",), "blurEnabled")].value is None
    before, after = plan.texts[".config/kwinrc"]
    assert before == text
    assert after == "[Compositing]\nBackend=QPainter\nOpenGLIsUnsafe=false\n\n[Plugins]\nblurEnabled=true\n"
    assert sorted(plan.live) == ["kwin", "login"]


def test_a_recorded_value_is_never_overwritten_by_a_later_run():
    store = {O.key_id(".config/kwinrc", "kconfig", ("Compositing",), "Backend"): O.Original("XRender")}
    plan = O.plan_user([BACKEND], store, reader({".config/kwinrc": "[Compositing]\nBackend=QPainter\n"}), "direct")
    assert plan.store == store and plan.recorded == [] and plan.set_keys == []


def test_keys_no_phase_owns_are_given_back_with_their_options():
    store = {O.key_id(".config/kwinrc", "kconfig", ("Compositing",), "Backend"): O.Original("XRender", True),
             O.key_id(".config/kwinrc", "kconfig", ("Plugins",), "blurEnabled"): O.Original(None)}
    text = "[Compositing]\nBackend=QPainter\nkept=1\n\n[Plugins]\nblurEnabled=true\nother=2\n"
    plan = O.plan_user([], store, reader({".config/kwinrc": text}), "chezmoi")
    assert plan.texts[".config/kwinrc"][1] == "[Compositing]\nBackend[$i]=XRender\nkept=1\n\n[Plugins]\nother=2\n"
    assert plan.store == {} and len(plan.restored) == 2
    assert O.dump_store(plan.store) is None


def test_a_run_for_other_phases_leaves_a_phases_record_alone():
    ident = O.key_id(".config/kwinrc", "kconfig", ("Plugins",), "blurEnabled")
    store = {ident: O.Original("false", phase="plasma")}
    files = {".config/kwinrc": "[Plugins]\nblurEnabled=true\n"}
    alone = O.plan_user([], store, reader(files), "direct", scope=["kde_services"])
    assert alone.store == store and alone.restored == [] and alone.texts[".config/kwinrc"][1] == files[".config/kwinrc"]
    full = O.plan_user([], store, reader(files), "direct", scope=["plasma", "kde_services"])
    assert full.store == {} and full.texts[".config/kwinrc"][1] == "[Plugins]\nblurEnabled=false\n"


def test_the_owning_phase_is_recorded():
    ident = O.key_id(BLUR.file, "kconfig", BLUR.group, BLUR.key)
    plan = O.plan_user([BLUR], {}, reader({}), "direct", phases={ident: "plasma"})
    assert plan.store[ident].phase == "plasma"
    assert O.load_store(O.dump_store(plan.store), "/x")[ident].phase == "plasma"


def test_a_file_left_with_nothing_but_headers_goes():
    store = {O.key_id(".config/kdeglobals", "kconfig", ("KDE",), "AnimationDurationFactor"): O.Original(None)}
    plan = O.plan_user([], store, reader({".config/kdeglobals": "[KDE]\nAnimationDurationFactor=0.5\n"}), "direct")
    assert plan.texts[".config/kdeglobals"] == ("[KDE]\nAnimationDurationFactor=0.5\n", "")
    kept = O.plan_user([], store, reader({".config/kdeglobals": "# mine\n[KDE]\nAnimationDurationFactor=0.5\n"}),
                       "direct")
    assert kept.texts[".config/kdeglobals"][1] == "# mine\n[KDE]\n"  # a comment of the user's: the file stays


def test_chezmoi_and_plasma_manager_leave_the_owned_keys_to_their_program():
    files = {".config/kwinrc": kwinrc()}
    chez = O.plan_user([BACKEND], {}, reader(files), "chezmoi")
    assert chez.texts[".config/kwinrc"] == (kwinrc(), kwinrc())  # nothing edited here
    expected = KConfigDoc.parse(kwinrc())
    expected.set(["Compositing"], "Backend", "QPainter")
    assert expected.render() != kwinrc() and chez.external[".config/kwinrc"] == expected.render()
    pm = O.plan_user([BACKEND], {}, reader(files), "plasma_manager")
    assert pm.texts[".config/kwinrc"] == (kwinrc(), kwinrc()) and pm.external == {}
    assert len(pm.store) == 1  # recorded before home-manager sets it


def test_toml_keys_are_always_set_here():
    text = "enc_id = ''\n\n[options]\ndirect-server = 'Y'\n"
    plan = O.plan_user([CODEC], {}, reader({CODEC.file: text}), "plasma_manager")
    assert "codec-preference" in plan.texts[CODEC.file][1] and plan.live == {"service:rustdesk.service": [
        O.label(O.key_id(CODEC.file, "toml", ("options",), "codec-preference"))]}


def test_a_key_owned_twice_differently_is_refused():
    other = OwnedKey(".config/kwinrc", ("Compositing",), "Backend", "OpenGL")
    with pytest.raises(O.OwnedKeysError, match="owned twice"):
        O.plan_user([BACKEND, other], {}, reader({}), "direct")


def test_a_damaged_record_is_an_error_not_forgotten():
    with pytest.raises(O.OwnedKeysError, match="damaged"):
        O.load_store('{"version": 1, "keys": [{"file": 3}]}', "/x")
    with pytest.raises(O.OwnedKeysError, match="damaged"):
        O.load_store('{"version": 9, "keys": []}', "/x")
    assert O.load_store(None, "/x") == {} and O.load_store("  ", "/x") == {}


def test_the_record_round_trips():
    store = {O.key_id("a", "kconfig", ("G", "H"), "k"): O.Original("v", True, True, "kwin"),
             O.key_id("b", "toml", ("options",), "k"): O.Original(None, live="service", unit="r.service")}
    assert O.load_store(O.dump_store(store), "/x") == store


def test_an_immutable_user_key_fails_with_the_file_named():
    with pytest.raises(O.OwnedKeysError, match=r"\.config/kwinrc: cannot set"):
        O.plan_user([BACKEND], {}, reader({".config/kwinrc": "[Compositing][$i]\nBackend=OpenGL\n"}), "direct")


# ---------------------------------------------------------------- the step, with the doubles


class Host:
    """A fake host root with one user and the doubles first on PATH."""

    def __init__(self, tmp: Path, monkeypatch) -> None:
        self.root = tmp / "root"
        self.home = self.root / "home" / "mitsio"
        (self.home / ".config").mkdir(parents=True)
        monkeypatch.setenv("NIXPERF_FAKE_ROOT", str(self.root))
        monkeypatch.setenv("PATH", "%s:%s" % (DOUBLES, os.environ["PATH"]))

    def calls(self) -> List[Dict[str, Any]]:
        path = self.root / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def run(self, keys: List[OwnedKey], backend: str = "direct", mode: str = "apply", check: bool = False,
            scripts: Dict[str, str] = None, diff: bool = True) -> Dict[str, Any]:
        module = ControllerModule(check_mode=check)
        module._diff = diff  # pylint: disable=protected-access
        params = {"root": str(self.root), "mode": mode, "backend": backend, "store": O.STORE,
                  "chezmoi_source": ".local/share/chezmoi", "reload": True, "host": "h", "scope": None,
                  "users": [{"name": "mitsio", "home": None, "keys": [k.as_dict() for k in keys],
                             "chezmoi_scripts": scripts or {}}]}
        try:
            return sync(module, params)
        finally:
            module.cleanup()


@pytest.fixture
def host(tmp_path, monkeypatch) -> Host:
    return Host(tmp_path, monkeypatch)


def test_direct_sets_records_then_is_a_no_op(host):
    (host.home / ".config/kwinrc").write_text(kwinrc())
    first = host.run([BACKEND, FACTOR])
    assert first["changed"], first
    assert KConfigDoc.parse((host.home / ".config/kwinrc").read_text()).get(["Compositing"], "Backend") == "QPainter"
    assert (host.home / ".config/kdeglobals").stat().st_mode & 0o777 == 0o600
    record = json.loads((host.home / O.STORE).read_text())
    assert {k["key"] for k in record["keys"]} == {"Backend", "AnimationDurationFactor"}
    assert first["needs_login"] == [".config/kwinrc [Compositing] Backend"]
    second = host.run([BACKEND, FACTOR])
    assert not second["changed"] and second["msg"] == "every owned key in place"


def test_check_mode_predicts_and_writes_nothing(host):
    (host.home / ".config/kwinrc").write_text(kwinrc())
    predicted = host.run([BACKEND, BLUR], check=True)
    assert predicted["changed"] and predicted["diff"]
    assert (host.home / ".config/kwinrc").read_text() == kwinrc() and not (host.home / O.STORE).exists()
    real = host.run([BACKEND, BLUR])
    assert real["changed"] == predicted["changed"]
    assert [d["after"] for d in real["diff"]] == [d["after"] for d in predicted["diff"]]


def test_switching_off_gives_back_the_users_own_values(host):
    (host.home / ".config/kwinrc").write_text(kwinrc())
    host.run([BACKEND, BLUR])
    host.run([BLUR])      # Backend no longer owned: back to the fixture's own value
    host.run([])          # nothing owned: blur back too, record gone
    assert (host.home / ".config/kwinrc").read_text() == kwinrc()
    host.run([FACTOR])    # a file that did not exist: created for the key ...
    assert (host.home / ".config/kdeglobals").exists()
    host.run([])          # ... and gone with it
    assert not (host.home / ".config/kdeglobals").exists()
    assert not (host.home / O.STORE).exists()
    assert not host.run([])["changed"]


def test_chezmoi_apply_runs_for_the_changed_files_only(host):
    from ansible_collections.nixperf.tuning.plugins.module_utils import chezmoi

    tree = chezmoi.kde_tree([BACKEND, BLUR, FACTOR])
    source = host.home / ".local/share/chezmoi"
    for rel, spec in tree.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(spec["content"])
    (host.home / ".config/kwinrc").write_text(kwinrc())
    (host.home / ".config/kdeglobals").write_text("[KDE]\nAnimationDurationFactor=0.5\n")
    result = host.run([BACKEND, BLUR, FACTOR], backend="chezmoi")
    assert result["users"][0]["chezmoi_targets"] == [".config/kwinrc"]
    calls = [c for c in host.calls() if c["prog"] == "chezmoi"]
    home = str(host.home)
    assert calls == [{"prog": "chezmoi", "cwd": calls[0]["cwd"], "argv": [
        "apply", "--no-tty", "--source", home + "/.local/share/chezmoi", "--destination", home, "--force", "--",
        home + "/.config/kwinrc"]}]
    runuser = [c for c in host.calls() if c["prog"] == "runuser"][0]["argv"]
    assert runuser[:6] == ["-u", "mitsio", "--", "env", "HOME=" + home, str(DOUBLES / "chezmoi")]
    doc = KConfigDoc.parse((host.home / ".config/kwinrc").read_text())
    assert doc.get(["Compositing"], "Backend") == "QPainter" and doc.get(["Plugins"], "blurEnabled") == "true"
    again = host.run([BACKEND, BLUR, FACTOR], backend="chezmoi")
    assert not again["changed"] and [c for c in host.calls() if c["prog"] == "chezmoi"] == calls


def test_a_clash_with_the_users_own_chezmoi_entry_is_explained(host):
    from ansible_collections.nixperf.tuning.plugins.module_utils import chezmoi

    source = host.home / ".local/share/chezmoi"
    for rel, spec in chezmoi.kde_tree([BACKEND]).items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(spec["content"])
    (source / "dot_config/kwinrc").write_text("[Compositing]\nBackend=OpenGL\n")  # the user's own, whole file
    (host.home / ".config/kwinrc").write_text(kwinrc())
    result = host.run([BACKEND], backend="chezmoi")
    assert result["failed"] and "inconsistent state" in result["msg"]
    assert "remove that entry, or set nixperf_desktop.backend to plasma_manager or direct" in result["msg"]


def test_chezmoi_check_mode_dry_runs_over_a_scratch_source(host):
    from ansible_collections.nixperf.tuning.plugins.module_utils import chezmoi

    (host.home / ".config/kwinrc").write_text(kwinrc())
    result = host.run([BACKEND], backend="chezmoi", check=True, scripts=chezmoi.kde_tree([BACKEND]) and {
        rel: spec["content"] for rel, spec in chezmoi.kde_tree([BACKEND]).items()})
    assert result["changed"]
    argv = [c for c in host.calls() if c["prog"] == "chezmoi"][0]["argv"]
    assert argv[:3] == ["apply", "--no-tty", "--source"] and argv[3] != str(host.home / ".local/share/chezmoi")
    assert argv[4:] == ["--destination", str(host.home), "--dry-run", "--verbose", "--",
                        str(host.home / ".config/kwinrc")]
    assert not os.path.exists(argv[3])  # the scratch copy is gone
    assert (host.home / ".config/kwinrc").read_text() == kwinrc()


def test_no_chezmoi_on_the_host_says_so(host, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    (host.home / ".config/kwinrc").write_text(kwinrc())
    result = host.run([BACKEND], backend="chezmoi")
    assert result["failed"] and "chezmoi is not installed on the host" in result["msg"]
    assert "nixperf_desktop.backend to direct or plasma_manager" in result["msg"]
    assert (host.home / ".config/kwinrc").read_text() == kwinrc()


def test_render_mode_runs_no_command(host):
    host.run([BACKEND, CODEC], backend="chezmoi", mode="render")
    assert host.calls() == []


def test_rustdesk_is_stopped_while_its_file_changes_and_started_after(host):
    (host.home / ".config/rustdesk").mkdir()
    (host.home / ".config/rustdesk/RustDesk_default.toml").write_text("[options]\nimage_quality = 'best'\n")
    result = host.run([CODEC])
    progs = [(c["prog"], c["argv"]) for c in host.calls()]
    assert progs == [("systemctl", ["is-active", "rustdesk.service"]), ("systemctl", ["stop", "rustdesk.service"]),
                     ("systemctl", ["start", "rustdesk.service"])]
    assert result["users"][0]["restarted"] == ["rustdesk.service"]
    text = (host.home / ".config/rustdesk/RustDesk_default.toml").read_text()
    assert "image_quality = 'best'" in text and "codec-preference" in text
    host.run([CODEC])
    assert len(host.calls()) == 3  # nothing changed: the service is left alone


def test_a_stopped_rustdesk_stays_stopped(host):
    (host.root / "state/units").mkdir(parents=True)
    (host.root / "state/units/rustdesk.service").write_text("inactive\n")
    host.run([CODEC])
    assert [c["argv"][0] for c in host.calls()] == ["is-active"]


def test_kwin_reloads_when_the_users_bus_exists(host, monkeypatch):
    bus = host.root / "bus"
    bus.write_text("")
    monkeypatch.setattr("ansible_collections.nixperf.tuning.plugins.module_utils.desktop_sync.session_bus",
                        lambda uid: str(bus))
    result = host.run([BLUR])
    assert result["users"][0]["reloaded"] == ["kwin"]
    call = [c for c in host.calls() if c["prog"] == "runuser"][0]["argv"]
    assert call[-len(kwin_reconfigure_argv()):] == kwin_reconfigure_argv()
    assert "DBUS_SESSION_BUS_ADDRESS=unix:path=%s" % bus in call


def test_kwin_reload_failure_is_a_warning_not_an_error(host, monkeypatch):
    bus = host.root / "bus"
    bus.write_text("")
    (host.root / "state").mkdir()
    (host.root / "state/no-session-bus").write_text("")
    monkeypatch.setattr("ansible_collections.nixperf.tuning.plugins.module_utils.desktop_sync.session_bus",
                        lambda uid: str(bus))
    result = host.run([BLUR])
    assert not result.get("failed") and result["users"][0]["reloaded"] == []


def test_no_session_no_reload(host):
    result = host.run([BLUR])
    assert result["users"][0]["reloaded"] == [] and not [c for c in host.calls() if c["prog"] == "dbus-send"]


def test_command_lines():
    assert chezmoi_argv("/bin/chezmoi", "/h/s", "/h", [".config/kwinrc"], True) == [
        "/bin/chezmoi", "apply", "--no-tty", "--source", "/h/s", "--destination", "/h", "--dry-run", "--verbose",
        "--", "/h/.config/kwinrc"]
    assert kwin_reconfigure_argv() == ["dbus-send", "--session", "--dest=org.kde.KWin", "--type=method_call", "/KWin",
                                       "org.kde.KWin.reconfigure"]
