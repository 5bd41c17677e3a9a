"""Every host size works: from 1 thread / 1 GiB to 256 threads / 1 TiB, with and without a GPU, Wayland and X11,
VM and bare metal, every phase builds with its defaults, its files parse with the real Nix parser, and the values
it derives satisfy its own checks (CPUQuota > 0, MemoryHigh < MemoryMax <= RAM, a V8 heap below its app's limit,
no -march or GOAMD64 above the CPU)."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import MARCH
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module, render
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build, known_phases
from ansible_collections.nixperf.tuning.plugins.module_utils.phases.electron_apps import KNOWN
from ansible_collections.nixperf.tuning.plugins.module_utils.sizes import parse_mib

GIB = 1024
CODECS = ["h264", "hevc", "vp8", "vp9", "av1"]
# every phase switched fully on: the runtimes and every known Electron app with the role's own limits
SETTINGS = {
    "runtimes": {"nodejs": True, "python": True, "rust": True, "go": True},
    "electron_apps": {"apps": sorted(KNOWN)},
    "system_libs": {"stage": "nixos"},
}


@st.composite
def hosts(draw):
    threads = draw(st.integers(1, 256))
    family = draw(st.sampled_from(sorted(MARCH)))
    vendor = draw(st.sampled_from(["none", "nvidia", "amd", "intel"]))
    gpu = {"vendor": vendor}
    if vendor != "none":
        gpu["decode"] = draw(st.lists(st.sampled_from(CODECS), unique=True))
    if vendor == "intel":
        gpu["generation"] = draw(st.integers(4, 13))
    return {
        "cpu": {"vendor": draw(st.sampled_from(["intel", "amd"])), "family": family,
                "x86_64_level": MARCH[family][0], "cores": draw(st.integers(1, threads)), "threads": threads},
        "memory": {"total_mib": draw(st.integers(GIB, 1024 * GIB))},
        "gpu": gpu,
        "virtualization": {"guest": draw(st.booleans())},
    }, {"session": draw(st.sampled_from(["x11", "wayland"]))}


def check_invariants(hw, plans):
    ram, threads, level = hw["memory"]["total_mib"], hw["cpu"]["threads"], hw["cpu"]["x86_64_level"]
    s = plans["resource_slices"].derived
    assert 0 < s["user_cpu_quota_percent"] <= threads * 100
    assert 0 < s["user_memory_high_mib"] < s["user_memory_max_mib"] <= ram
    assert parse_mib(s["user_memory_high"]) == s["user_memory_high_mib"]
    assert 0 < parse_mib(s["display_manager_memory_high"]) < parse_mib(s["display_manager_memory_max"]) <= ram
    assert 0 < parse_mib(s["nix_daemon_memory_high"]) < parse_mib(s["nix_daemon_memory_max"]) <= ram
    m = plans["memory"].derived
    assert 1 <= m["zram_memory_percent"] <= 100 and 0 < m["zram_size_mib"] <= ram
    assert 1 <= m["dirty_background_ratio"] < m["dirty_ratio"] <= 100
    for app in plans["electron_apps"].derived["apps"].values():
        high, hard = parse_mib(app["memory_high"]), parse_mib(app["memory_max"])
        assert 0 < high <= hard <= s["user_memory_max_mib"]
        if app["kind"] in ("electron", "cef"):
            assert 128 <= app["v8_heap_mib"] < hard
        else:  # Qt and native apps run no V8 heap of their own
            assert app["v8_heap_mib"] is None
        assert 0 < int(app["cpu_quota"].rstrip("%")) <= threads * 100
    for plan in plans.values():
        assert all(MARCH[march][0] <= level for march in plan.march)
        assert all(int(g[1:]) <= level for g in plan.goamd64)


def render_all(plans, tmp_path):
    paths = []
    for name, plan in plans.items():
        texts = []
        if plan.config is not None:
            texts.append(nix_module(name, plan.config, always=plan.always, markers=False)[0])
        if plan.home_config is not None:
            texts.append(nix_module(name, plan.home_config, markers=False)[0])
        texts += [render(data, markers=False)[0] for data in plan.data_files.values()]
        for i, text in enumerate(texts):
            path = tmp_path / ("%s-%d.nix" % (name, i))
            path.write_text(text)
            paths.append(str(path))
    return paths


@settings(max_examples=60, deadline=None)
@given(hosts())
@example(({"cpu": {"vendor": "intel", "family": "x86-64", "x86_64_level": 1, "cores": 1, "threads": 1},
           "memory": {"total_mib": GIB}, "gpu": {"vendor": "none"}, "virtualization": {"guest": True}},
          {"session": "x11"}))
@example(({"cpu": {"vendor": "amd", "family": "znver4", "x86_64_level": 4, "cores": 128, "threads": 256},
           "memory": {"total_mib": 1024 * GIB}, "gpu": {"vendor": "nvidia", "decode": CODECS},
           "virtualization": {"guest": False}}, {"session": "wayland"}))
def test_every_phase_renders_parses_and_holds_for_every_host_size(nix, tmp_path_factory, host):
    hw, desktop = host
    plans = {phase: build(phase, "h", SETTINGS.get(phase, {}), hw, users=["mitsio"], desktop=desktop)
             for phase in known_phases()}
    check_invariants(hw, plans)
    tmp = tmp_path_factory.mktemp("sizes")
    paths = render_all(plans, tmp)
    proc = nix.run(["--parse", *paths], expect_ok=False)
    assert proc.returncode == 0, proc.stderr


def test_the_smallest_host_gets_working_values():
    """What the role READMEs promise for a 1-thread, 1 GiB VM."""
    hw = {"cpu": {"vendor": "intel", "family": "x86-64-v2", "x86_64_level": 2, "cores": 1, "threads": 1},
          "memory": {"total_mib": GIB}, "gpu": {"vendor": "none"}}
    slices = build("resource_slices", "tiny", {}, hw).derived
    assert (slices["user_memory_high"], slices["user_memory_max"], slices["user_cpu_quota"]) == ("704M", "768M", "75%")
    assert (slices["display_manager_memory_high"], slices["display_manager_memory_max"]) == ("256M", "512M")
    apps = build("electron_apps", "tiny", {"session": "x11", "apps": ["codium", "discord"]}, hw,
                 users=["u"]).derived["apps"]
    assert apps["codium"] == {"binary": "codium", "package": "vscodium", "kind": "electron", "memory_high": "576M",
                              "memory_max": "768M", "cpu_quota": "100%", "v8_heap_mib": 384, "commands": ["codium"]}
    # what the user sets is still checked as given, naming the variable they set
    with pytest.raises(PhaseError, match=r"electron_apps_apps\[0\] \(codium\).memory_max \(5G\) is more than the "
                                         r"host's RAM \(1G\)"):
        build("electron_apps", "tiny", {"session": "x11", "apps": [{"name": "codium", "memory_max": "5G"}]}, hw,
              users=["u"])
    with pytest.raises(PhaseError, match="resource_slices_user_memory_high must be a size of at least 1M"):
        build("resource_slices", "tiny", {"user_memory_high": "512K"}, hw)
