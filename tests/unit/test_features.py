"""Opt-in features seen by validate: a value behind ``feature_if`` is expected on the host only when its feature is
on in the inventory (``checks.with_features``), and phases carry their reboot contract to the apply engine."""
from __future__ import annotations

from ansible_collections.nixperf.tuning.plugins.action.phase import reboot_modules
from ansible_collections.nixperf.tuning.plugins.module_utils.checks import checks, with_features
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import layout
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixIf, NixOverride, feature_if
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhasePlan, phases

CONFIG = {
    "boot": {"kernelParams": feature_if("quiet", ["quiet"]),
             "initrd": {"compressor": feature_if("initrd", NixOverride(75, "lz4"))},
             "kernel": {"sysctl": {"kernel.nmi_watchdog": NixOverride(75, 0)}}},
    # mkIf with another condition is not a feature: left as it is (Nix code)
    "services": {"x": NixIf("config.services.xserver.enable", 1)},
}


def test_features_on_keep_their_values_unwrapped():
    out = with_features(CONFIG, {"quiet": (True, ""), "initrd": (True, "")})
    assert out["boot"]["kernelParams"] == ["quiet"]
    assert isinstance(out["boot"]["initrd"]["compressor"], NixOverride)
    assert out["boot"]["initrd"]["compressor"].value == "lz4"
    assert isinstance(out["services"]["x"], NixIf)


def test_features_off_leave_nothing_behind():
    out = with_features(CONFIG, {"quiet": (False, ""), "initrd": (False, "")})
    assert "kernelParams" not in out["boot"] and "initrd" not in out["boot"]
    assert out["boot"]["kernel"]["sysctl"]["kernel.nmi_watchdog"].value == 0


def test_no_features_no_change():
    assert with_features(CONFIG, {}) is CONFIG
    assert with_features(feature_if("quiet", {"a": 1}), {"quiet": (False, "")}) is None


def test_cmdline_checks_follow_the_feature():
    plan = PhasePlan(phase="boot", config=CONFIG, features={"quiet": (True, ""), "initrd": (False, "")})
    ids = [c["id"] for c in checks(plan)]
    assert "boot:cmdline:quiet" in ids
    plan.features = {"quiet": (False, ""), "initrd": (False, "")}
    assert "boot:cmdline:quiet" not in [c["id"] for c in checks(plan)]


def test_reboot_modules_name_every_reboot_phase_and_only_those():
    where = layout("shoshin", "apply", "/", "/tmp/build")
    found = reboot_modules(where)
    assert found == {where.nixos_module(p.name): p.name for p in phases() if p.reboot}
    assert all(path.startswith("/etc/nixos/nixperf/") for path in found)
