"""The plasma and kde_services phases: profiles from the facts, the keys KWin 6 ignores never written, session
variables, Baloo / Akonadi / autostart switches, every check, and the three backends' share of the keys."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixOverride, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import kde_services as S
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import plasma as P

SHOSHIN = {"cpu": {"threads": 8}, "gpu": {"vendor": "nvidia", "model": "GeForce GTX 960", "driver": "nvidia"},
           "virtualization": {"guest": False}}
VM = {"cpu": {"threads": 8}, "gpu": {"vendor": "none", "model": "llvmpipe", "driver": "llvmpipe"},
      "virtualization": {"guest": True, "platform": "kubevirt"}}
LAPTOP = {"cpu": {"threads": 8}, "gpu": {"vendor": "intel", "model": "Iris Xe", "generation": 12, "driver": "i915"},
          "virtualization": {"guest": False}}
USERS = ["mitsio"]


def desk(session: str, backend: str = "direct", **more: Any) -> Dict[str, Any]:
    return dict({"environment": "plasma6", "session": session, "backend": backend}, **more)


def keys_of(plan) -> Dict[str, str]:
    """``file [group] key`` -> value (with ``[$i]`` / ``[$e]`` marks) of the first user's keys."""
    out = {}
    for k in plan.keys["mitsio"]:
        flags = ("[$i]" if k.immutable else "") + ("[$e]" if k.expand else "")
        out["%s [%s] %s%s" % (k.file.rsplit("/", 1)[1], "][".join(k.group), k.key, flags)] = k.value
    return out


def plasma(hw, desktop, settings=None, users=None):
    return build("plasma", "h", settings or {}, hw, users or USERS, desktop)


def services(hw, desktop, settings=None, users=None):
    return build("kde_services", "h", settings or {}, hw, users or USERS, desktop)


# ---------------------------------------------------------------- plasma: the three kinds of host


def test_shoshin_gpu_x11_profile():
    plan = plasma(SHOSHIN, desk("x11"))
    assert plan.derived["profile"] == "gpu"
    assert keys_of(plan) == {
        "kdeglobals [KDE] AnimationDurationFactor": "0.5",
        "kwinrc [Compositing] Backend": "OpenGL",
        "kwinrc [Compositing] Enabled": "true",
        "kwinrc [Compositing] GLTextureFilter": "1",
        "kwinrc [Compositing] WindowsBlockCompositing": "true",
        "kwinrc [Plugins] blurEnabled": "true",
        "kwinrc [Plugins] contrastEnabled": "false",
        "kwinrc [Plugins] magiclampEnabled": "false",
        "kwinrc [Plugins] slideEnabled": "false",
        "kwinrc [Plugins] slidingpopupsEnabled": "false",
        "kwinrc [Plugins] translucencyEnabled": "false",
        "kwinrc [Plugins] wobblywindowsEnabled": "false",
    }
    env = plan.home_config["home"]["sessionVariables"]
    assert env == {"KWIN_OPENGL_INTERFACE": NixOverride(75, "egl"), "__GL_YIELD": NixOverride(75, "USLEEP"),
                   "__GL_MaxFramesAllowed": NixOverride(75, "1")}
    assert plan.config is None


def test_vm_without_gpu_on_x11_switches_compositing_off():
    plan = plasma(VM, desk("x11"))
    got = keys_of(plan)
    assert plan.derived["profile"] == "software"
    assert got["kwinrc [Compositing] Enabled"] == "false"
    assert "kwinrc [Compositing] Backend" not in got
    assert got["kdeglobals [KDE] AnimationDurationFactor"] == "0"
    assert all(got["kwinrc [Plugins] %sEnabled" % e] == "false" for e in P.EXPENSIVE_EFFECTS)
    assert plan.home_config is None  # no GPU, no session variables; direct backend: no module


def test_vm_without_gpu_on_wayland_uses_qpainter():
    got = keys_of(plasma(VM, desk("wayland")))
    assert got["kwinrc [Compositing] Backend"] == "QPainter"
    assert "kwinrc [Compositing] Enabled" not in got  # a Wayland session always composites


def test_intel_laptop_on_wayland_gets_opengl_without_x11_or_nvidia_variables():
    plan = plasma(LAPTOP, desk("wayland"))
    got = keys_of(plan)
    assert got["kwinrc [Compositing] Backend"] == "OpenGL"
    assert "kwinrc [Compositing] WindowsBlockCompositing" not in got  # X11 only
    assert plan.home_config is None  # EGL is Wayland's only interface; no NVIDIA driver
    assert plan.derived["session_variables"] == {}


def test_the_three_hosts_differ():
    outs = [keys_of(plasma(hw, desk(s))) for hw, s in ((SHOSHIN, "x11"), (VM, "x11"), (LAPTOP, "wayland"))]
    assert outs[0] != outs[1] != outs[2] != outs[0]


@pytest.mark.parametrize("hw,session", [(SHOSHIN, "x11"), (SHOSHIN, "wayland"), (VM, "x11"), (VM, "wayland"),
                                        (LAPTOP, "wayland"), (LAPTOP, "x11")])
def test_keys_kwin6_ignores_are_never_written(hw, session):
    for k in plasma(hw, desk(session)).keys["mitsio"]:
        assert k.key not in P.IGNORED_KEYS
        assert k.value != "XRender"
        assert not (k.file.endswith("kwinrc") and k.key == "AnimationDurationFactor")


def test_nouveau_gets_no_nvidia_variables():
    hw = dict(SHOSHIN, gpu=dict(SHOSHIN["gpu"], driver="nouveau"))
    env = plasma(hw, desk("x11")).derived["session_variables"]
    assert env == {"KWIN_OPENGL_INTERFACE": "egl"}


def test_settings_override_the_derived_profile():
    got = keys_of(plasma(SHOSHIN, desk("x11"), {"profile": "software", "blur": True, "effects_off": ["magiclamp"],
                                                "animation_factor": "0.25", "session_variables": False}))
    assert got["kwinrc [Compositing] Enabled"] == "false"
    assert got["kwinrc [Plugins] blurEnabled"] == "true"
    assert [k for k in got if "[Plugins]" in k] == ["kwinrc [Plugins] blurEnabled", "kwinrc [Plugins] magiclampEnabled"]
    assert got["kdeglobals [KDE] AnimationDurationFactor"] == "0.25"


def test_lock_writes_every_key_immutable():
    plan = plasma(SHOSHIN, desk("x11"), {"lock": True})
    assert all(k.immutable for k in plan.keys["mitsio"])


def test_live_or_login_is_said_per_key():
    plan = plasma(SHOSHIN, desk("x11"))
    live = {k.key: k.live for k in plan.keys["mitsio"]}
    assert live["Backend"] == "login" and live["blurEnabled"] == "kwin" and live["AnimationDurationFactor"] == "live"
    assert ".config/kwinrc Backend" in plan.derived["needs_login"]


def test_every_user_gets_the_keys():
    plan = plasma(SHOSHIN, desk("x11"), users=["mitsio", "guest"])
    assert sorted(plan.keys) == ["guest", "mitsio"] and plan.keys["guest"] == plan.keys["mitsio"]


@pytest.mark.parametrize("settings,var,words", [
    ({"animation_factor": "fast"}, "plasma_animation_factor", "number from 0"),
    ({"animation_factor": "11"}, "plasma_animation_factor", "number from 0"),
    ({"effects_off": ["blur"], "blur": True}, "plasma_effects_off", "drop one"),
    ({"effects_off": ["wobbly windows;rm"]}, "plasma_effects_off", "plugin ids"),
    ({"profile": "xrender"}, "plasma_profile", "one of gpu, software"),
])
def test_bad_settings_name_the_variable(settings, var, words):
    with pytest.raises(PhaseError) as err:
        plasma(SHOSHIN, desk("x11"), settings)
    assert var in str(err.value) and words in str(err.value)


def test_a_session_is_needed():
    with pytest.raises(PhaseError, match="plasma_session is not set and nixperf_desktop.session is missing"):
        plasma(SHOSHIN, {"environment": "plasma6"})


def test_a_bad_backend_is_refused_by_the_schema():
    with pytest.raises(PhaseError, match="nixperf_desktop.backend"):
        plasma(SHOSHIN, desk("x11", backend="kwriteconfig"))


def test_a_chezmoi_source_outside_home_is_refused():
    with pytest.raises(PhaseError, match="nixperf_desktop.chezmoi_source must be a directory below the home"):
        plasma(SHOSHIN, desk("x11", backend="chezmoi", chezmoi_source="../../etc"))


def test_session_variables_module_evaluates(nix, tmp_path):
    plan = plasma(SHOSHIN, desk("x11"))
    text, _raw = nix_module("plasma", plan.home_config, priority=75)
    path = tmp_path / "plasma.nix"
    path.write_text(text)
    expr = ("let lib = { mkOption = x: x; types.bool = null; mkIf = c: v: v; mkOverride = p: v: v; }; "
            "m = import %s { config.nixperf.plasma.enable = true; inherit lib; pkgs = { }; }; "
            "in m.config.home.sessionVariables" % path)
    assert nix.eval_json(expr) == {"KWIN_OPENGL_INTERFACE": "egl", "__GL_YIELD": "USLEEP", "__GL_MaxFramesAllowed": "1"}


# ---------------------------------------------------------------- kde_services


def test_vm_switches_baloo_and_akonadi_off():
    plan = services(VM, desk("x11"))
    assert keys_of(plan) == {"baloofilerc [Basic Settings] Indexing-Enabled": "false"}
    assert plan.config == {"programs": {"kde-pim": {"enable": NixOverride(75, False)}}}
    assert plan.derived["baloo_off"] and plan.derived["akonadi_off"]


def test_workstation_keeps_baloo_tuned_and_akonadi():
    plan = services(SHOSHIN, desk("x11"), {"baloo_exclude": ["~/Games", "/srv/data/", "$HOME/.cache"]})
    got = keys_of(plan)
    assert got["baloofilerc [General] only basic indexing"] == "true"
    assert got["baloofilerc [General] index hidden folders"] == "false"
    folders = got["baloofilerc [General] exclude folders[$e]"].split(",")
    assert folders[:8] == list(S.BALOO_EXCLUDE)
    assert folders[8:] == ["$HOME/Games", "/srv/data"]  # ~ as Baloo writes it, no duplicate, no trailing slash
    assert plan.config is None


def test_each_switch_is_separate():
    plan = services(VM, desk("x11"), {"baloo_off": False, "akonadi_off": True})
    assert "baloofilerc [General] only basic indexing" in keys_of(plan) and plan.config is not None
    plan = services(SHOSHIN, desk("x11"), {"baloo_off": True, "akonadi_off": False})
    assert keys_of(plan) == {"baloofilerc [Basic Settings] Indexing-Enabled": "false"} and plan.config is None


def test_autostart_entries_are_hidden():
    names = ["org.kde.kdeconnect.daemon", "org.kde.discover.notifier.desktop"]
    plan = services(SHOSHIN, desk("x11"), {"autostart_off": names})
    files = sorted(k.file for k in plan.keys["mitsio"] if "autostart" in k.file)
    assert files == [".config/autostart/org.kde.discover.notifier.desktop",
                     ".config/autostart/org.kde.kdeconnect.daemon.desktop"]
    assert all(k.group == ("Desktop Entry",) and (k.key, k.value) == ("Hidden", "true")
               for k in plan.keys["mitsio"] if "autostart" in k.file)


@pytest.mark.parametrize("settings,var,words", [
    ({"baloo_exclude": ["relative/dir"]}, "kde_services_baloo_exclude", "~/x, $HOME/x or /absolute"),
    ({"baloo_exclude": ["/a,b"]}, "kde_services_baloo_exclude", "comma"),
    ({"baloo_exclude": [3]}, "kde_services_baloo_exclude", "entries are folders"),
    ({"baloo_off": True, "baloo_exclude": ["/x"]}, "kde_services_baloo_exclude", "drop one"),
    ({"autostart_off": ["../../etc/passwd"]}, "kde_services_autostart_off", "file name"),
])
def test_bad_service_settings(settings, var, words):
    with pytest.raises(PhaseError) as err:
        services(SHOSHIN, desk("x11"), settings)
    assert var in str(err.value) and words in str(err.value)


def test_owned_key_checks():
    with pytest.raises(ValueError, match="below the home"):
        OwnedKey("/etc/kwinrc", ("A",), "k", "v")
    with pytest.raises(ValueError, match="unit goes with live 'service'"):
        OwnedKey(".config/x", ("A",), "k", "v", live="service")
    with pytest.raises(ValueError, match="not TOML"):
        OwnedKey(".config/x.toml", ("options",), "k", "v", format="toml", immutable=True)
    key = OwnedKey(".config/x.toml", ("options",), "k", None, format="toml", live="service", unit="x.service")
    assert OwnedKey.from_dict(key.as_dict()) == key


def test_a_file_has_one_owning_phase_and_keys_go_to_the_hosts_users():
    from ansible_collections.nixperf.tuning.plugins.action.phase import plan_keys

    mine = plasma(SHOSHIN, desk("x11"))
    planned = plan_keys({}, mine, USERS, "h")
    assert planned["plasma"]["mitsio"][0]["phase"] == "plasma"
    clash = services(SHOSHIN, desk("x11"))
    clash.keys = {"mitsio": [OwnedKey(".config/kwinrc", ("Plugins",), "x", "y")]}
    clash.phase = "kde_services"
    with pytest.raises(PhaseError, match="phases plasma and kde_services both own keys of .config/kwinrc"):
        plan_keys(planned, clash, USERS, "h")
    with pytest.raises(PhaseError, match="owns keys of guest, who are not in nixperf_users"):
        plan_keys({}, plasma(SHOSHIN, desk("x11"), users=["mitsio", "guest"]), USERS, "h")
    assert plan_keys(planned, mine, USERS, "h") == planned  # planned again: replaces its own keys
