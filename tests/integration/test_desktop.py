"""The desktop phases through site.yml: the three backends' output per host, the generated modify_ scripts applied to
realistic rc files and read back with the real kreadconfig5, and a phase switched off giving the user's own values
back."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
# the fake NixOS host fixture of the apply tests
from test_apply import host  # noqa: F401  pylint: disable=unused-import
from support import kconfig_tools

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kde"
CHEZMOI = "home/mitsio/.local/share/chezmoi"


def kread(path: Path, group, key: str) -> str:
    """The value the real kreadconfig5 reads ("" when the key is absent)."""
    return kconfig_tools().read(path, group, key)


def entries(path: Path):
    from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc

    return KConfigDoc.parse(path.read_text()).entries()


def test_each_host_gets_its_backend_and_the_alternatives(play):
    run = play()
    assert run.rc == 0, run.failures()
    shoshin, vm, kensho = (play.build / h for h in ("shoshin", "plasma-vm-01", "kensho"))
    # shoshin: chezmoi, the plasma-manager alternative beside it
    scripts = sorted(p.name for p in (shoshin / CHEZMOI / "dot_config").iterdir())
    assert scripts == ["modify_private_baloofilerc", "modify_private_kdeglobals", "modify_private_kwinrc"]
    assert (shoshin / "alternatives/plasma_manager/home/mitsio/plasma.nix").is_file()
    assert "KWIN_OPENGL_INTERFACE" in (shoshin / "home/mitsio/.config/home-manager/nixperf/plasma.nix").read_text()
    # plasma-vm-01: plasma-manager, the chezmoi alternative beside it; Akonadi off in its NixOS module
    text = (vm / "home/mitsio/.config/home-manager/nixperf/plasma.nix").read_text()
    assert "programs.plasma" in text and "QPainter" not in text and "Enabled = lib.mkOverride 75" in text
    assert (vm / "alternatives/chezmoi" / CHEZMOI / "dot_config/modify_private_kwinrc").is_file()
    assert "kde-pim.enable = lib.mkOverride 75 false" in (vm / "etc/nixos/nixperf/kde_services.nix").read_text()
    assert not (vm / CHEZMOI).exists()
    # kensho: direct, the rc files themselves (Wayland, AMD: OpenGL, no X11 key)
    assert kread(kensho / "home/mitsio/.config/kwinrc", ["Compositing"], "Backend") == "OpenGL"
    assert kread(kensho / "home/mitsio/.config/kwinrc", ["Compositing"], "WindowsBlockCompositing") == ""
    assert kread(kensho / "home/mitsio/.config/kdeglobals", ["KDE"], "AnimationDurationFactor") == "0.5"
    again = play()
    assert all(again.changed(h) == 0 for h in ("shoshin", "plasma-vm-01", "kensho")), again.stats


@pytest.mark.parametrize("name", ["kwinrc", "kdeglobals", "baloofilerc"])
def test_the_generated_modify_scripts_change_only_the_owned_keys(play, tmp_path, name):
    assert play(limit="shoshin").rc == 0
    script = play.build / "shoshin" / CHEZMOI / "dot_config" / ("modify_private_" + name)
    owned = {(tuple(k["group"]), k["key"]) for k in
             json.loads((play.build / "shoshin/home/mitsio/.local/state/nixperf/owned-keys.json").read_text())["keys"]
             if k["file"] == ".config/" + name}
    assert owned, "the record names the owned keys of %s" % name
    for shell in ("dash", "bash"):
        once = tmp_path / shell / name
        once.parent.mkdir()
        original = (FIXTURES / name).read_bytes()
        once.write_bytes(subprocess.run([shell, str(script)], input=original, capture_output=True, check=True).stdout)
        before, after = entries(FIXTURES / name), entries(once)
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        assert {(group, key) for group, key, _locale in changed} <= set(owned)
        from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc

        doc = KConfigDoc.parse(once.read_text())
        for group, key in owned:
            assert doc.get(list(group), key) is not None
            if not doc.flags(list(group), key).count("e"):
                assert kread(once, group, key) == doc.get(list(group), key)
        twice = subprocess.run([shell, str(script)], input=once.read_bytes(), capture_output=True, check=True).stdout
        assert twice == once.read_bytes()


def test_switching_the_phase_off_gives_the_users_values_back(play):
    home = play.build / "kensho/home/mitsio/.config"
    home.mkdir(parents=True)
    original = (FIXTURES / "kwinrc").read_text()
    (home / "kwinrc").write_text(original)
    first = play(limit="kensho")
    assert first.rc == 0, first.failures()
    assert kread(home / "kwinrc", ["Compositing"], "GLTextureFilter") == "1"
    assert kread(home / "kwinrc", ["Compositing"], "GLCore") == "true"  # not ours: untouched
    check = play(limit="kensho", check=True, nixperf_phase_plasma=False)
    assert check.rc == 0 and check.changed("kensho") > 0
    assert kread(home / "kwinrc", ["Compositing"], "GLTextureFilter") == "1"  # check mode wrote nothing
    off = play(limit="kensho", nixperf_phase_plasma=False)
    assert off.rc == 0, off.failures()
    assert (home / "kwinrc").read_text() == original
    assert not (home / "kdeglobals").exists()  # created for the collection's key only: gone with it
    assert play(limit="kensho", nixperf_phase_plasma=False).changed("kensho") == 0


def test_apply_mode_runs_chezmoi_as_the_user_once_and_checks_with_a_dry_run(play, host):
    """shoshin in apply mode (chezmoi backend): the scripts land in the source, chezmoi applies exactly the owned
    files as the user, a second run runs nothing, check mode dry-runs over a scratch copy."""
    home = host.root / "home/mitsio"
    (home / ".config").mkdir(parents=True)
    (home / ".config/kwinrc").write_text((FIXTURES / "kwinrc").read_text())
    settings = dict(host.vars, nixperf_phase_plasma=True, nixperf_phase_kde_services=True,
                    plasma_session_variables=False, desktop_keys_become=False)
    run = play(limit="shoshin", env=host.env, **settings)
    assert run.rc == 0, run.failures()
    chezmoi = host.calls("chezmoi")
    source, config = str(home / CHEZMOI.split("home/mitsio/")[1]), str(home / ".config")
    assert chezmoi == [["apply", "--no-tty", "--source", source, "--destination", str(home), "--force", "--",
                        config + "/baloofilerc", config + "/kdeglobals", config + "/kwinrc"]]
    assert host.calls("runuser")[0][:4] == ["-u", "mitsio", "--", "env"]
    assert kread(home / ".config/kwinrc", ["Compositing"], "GLTextureFilter") == "1"
    assert kread(home / ".config/kwinrc", ["Compositing"], "GLCore") == "true"
    again = play(limit="shoshin", env=host.env, **settings)
    assert again.rc == 0 and again.changed("shoshin") == 0 and len(host.calls("chezmoi")) == 1
    check = play(limit="shoshin", check=True, env=host.env, **dict(settings, plasma_blur=False))
    assert check.rc == 0, check.failures()
    dry = host.calls("chezmoi")[-1]
    assert dry[:3] == ["apply", "--no-tty", "--source"] and dry[3] != source and "--dry-run" in dry
    assert kread(home / ".config/kwinrc", ["Plugins"], "blurEnabled") == "true"  # check mode wrote nothing
