"""Raw-Nix markers are honoured only where a variable is documented to take Nix code."""
from __future__ import annotations

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import phase as P
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, nix_module, render
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

SKYLAKE = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
           "memory": {"total_mib": 16384}, "gpu": {"vendor": "nvidia", "model": "GTX 960", "decode": ["h264"]}}
CODE = {"_nix": "builtins.readFile /etc/hostname"}


def test_only_documented_settings_take_nix_code():
    takes = sorted(p.prefix + s.name for p in P.phases() for s in p.settings if s.nix_code)
    assert takes == ["memory_sysctl_extra"]


def test_marker_in_a_documented_setting_becomes_code():
    plan = build("memory", "h", {"sysctl_extra": {"kernel.hostname": CODE}}, SKYLAKE)
    text = nix_module(plan.phase, plan.config, markers=False)[0]
    assert '"kernel.hostname" = (builtins.readFile /etc/hostname);' in text


@pytest.mark.parametrize("phase,settings,where", [
    ("memory", {"zram_algorithm": CODE}, "memory_zram_algorithm holds a Nix code marker at (the value)"),
    ("electron_apps", {"session": "x11", "apps": [{"name": "x", "package": CODE, "binary": "x"}]},
     "electron_apps_apps holds a Nix code marker at [0].package"),
    ("system_libs", {"extra_cflags": {"curl": [CODE]}}, "system_libs_extra_cflags holds a Nix code marker at "
                                                        "curl[0]"),
    ("resource_slices", {"user_memory_high": {"_nix_force": "12G"}}, "resource_slices_user_memory_high holds a "
                                                                     "Nix code marker"),
])
def test_marker_elsewhere_is_refused(phase, settings, where):
    with pytest.raises(PhaseError) as err:
        build(phase, "h", settings, SKYLAKE, users=["mitsio"])
    assert where in str(err.value) and "does not take Nix code" in str(err.value)


def test_marker_in_the_facts_never_reaches_the_profile():
    """The reported hole: gpu.model = {_nix: ...} was written as live code into profile/hardware.nix."""
    hw = dict(SKYLAKE, gpu=dict(SKYLAKE["gpu"], model=CODE))
    with pytest.raises(PhaseError, match="nixperf_hardware.gpu.model must be a string, got a Nix code marker"):
        build("hardware_profile", "h", {}, hw)


def test_the_phase_renderer_keeps_marker_shaped_data_inert(nix):
    """Defence in depth: with markers=False a marker-shaped dict is an attribute set, not code."""
    text, raw = render({"model": CODE, "pkg": NixRaw("pkgs.zstd")}, markers=False)
    assert raw == ["pkgs.zstd"]
    assert nix.eval_json("let pkgs.zstd = 1; in %s" % text) == {"model": CODE, "pkg": 1}
