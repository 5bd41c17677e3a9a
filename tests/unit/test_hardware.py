"""The -march guard, the live-hardware reader and the hardware profile phase."""
from __future__ import annotations

import pytest
from conftest import run_module

from ansible_collections.nixperf.tuning.plugins.module_utils import hardware as H
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build
from ansible_collections.nixperf.tuning.plugins.modules import hardware_facts

SKYLAKE_FLAGS = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 "
                 "ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 xtpr pdcm "
                 "pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch "
                 "fsgsbase bmi1 hle avx2 smep bmi2 erms invpcid rtm mpx rdseed adx smap clflushopt xsaveopt")
IVYBRIDGE_FLAGS = ("fpu cx8 cmov mmx fxsr sse sse2 ht syscall nx lm pni pclmulqdq ssse3 cx16 sse4_1 sse4_2 popcnt "
                   "aes xsave avx f16c rdrand lahf_lm")


def cpuinfo(model, flags, threads=8, hypervisor=False):
    f = flags + (" hypervisor" if hypervisor else "")
    return "".join("processor\t: %d\nmodel name\t: %s\ncore id\t\t: %d\nflags\t\t: %s\n\n" % (i, model, i // 2, f)
                   for i in range(threads))


@pytest.fixture
def host_root(tmp_path):
    def make(model="Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", flags=SKYLAKE_FLAGS, mem_kb=16318416, gpu="0x10de",
             hypervisor=False):
        (tmp_path / "proc").mkdir(exist_ok=True)
        (tmp_path / "proc/cpuinfo").write_text(cpuinfo(model, flags, hypervisor=hypervisor))
        (tmp_path / "proc/meminfo").write_text("MemTotal:       %d kB\nMemFree: 1 kB\n" % mem_kb)
        card = tmp_path / "sys/class/drm/card0/device"
        card.mkdir(parents=True, exist_ok=True)
        (card / "vendor").write_text(gpu + "\n")
        (tmp_path / "sys/class/drm/card0-HDMI-A-1").mkdir(exist_ok=True)
        (tmp_path / "sys/class/nvme/nvme0").mkdir(parents=True, exist_ok=True)
        return str(tmp_path)
    return make


def test_levels_and_flags():
    flags = SKYLAKE_FLAGS.split()
    assert H.x86_64_level(flags) == 3
    assert H.missing_flags("skylake", flags) == []
    assert H.missing_flags("skylake-avx512", flags) == ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
    assert H.x86_64_level(IVYBRIDGE_FLAGS.split()) == 2
    assert "avx2" in H.missing_flags("skylake", IVYBRIDGE_FLAGS.split())
    with pytest.raises(ValueError, match="not one this collection knows"):
        H.required_flags("pentium5")


def test_gather(host_root):
    facts = H.gather(host_root())
    assert facts["cpu"]["threads"] == 8 and facts["cpu"]["cores"] == 4 and facts["cpu"]["x86_64_level"] == 3
    assert facts["memory"]["total_mib"] == 15935
    assert facts["gpu"]["vendors"] == ["nvidia"]
    assert facts["storage"]["nvme"] == ["nvme0"]
    assert facts["virtualization"]["guest"] is False


def test_module_accepts_skylake_on_skylake_and_compares_inventory(host_root, capsys):
    expected = {"memory": {"total_mib": 16384}, "cpu": {"threads": 8}, "gpu": {"vendor": "nvidia"}}
    r = run_module(hardware_facts.main, dict(root=host_root(), march="skylake", expected=expected), capsys, check=True)
    assert r["march_ok"] is True and r["mismatches"] == [] and r["changed"] is False
    assert r["ansible_facts"]["nixperf_live_hardware"]["cpu"]["x86_64_level"] == 3


def test_module_refuses_skylake_on_a_pre_avx2_cpu(host_root, capsys):
    root = host_root(model="Intel(R) Core(TM) i7-3770 CPU @ 3.40GHz", flags=IVYBRIDGE_FLAGS)
    r = run_module(hardware_facts.main, dict(root=root, march="skylake"), capsys)
    assert r["failed"] is True
    assert "cannot run code built with -march=skylake" in r["msg"]
    assert "avx2" in r["msg"] and "i7-3770" in r["msg"] and "x86-64 level is 2" in r["msg"]


def test_module_reports_inventory_mismatches(host_root, capsys):
    root = host_root(gpu="0x1002", mem_kb=8000000, hypervisor=True)
    expected = {"memory": {"total_mib": 16384}, "cpu": {"threads": 16}, "gpu": {"vendor": "nvidia"}}
    r = run_module(hardware_facts.main, dict(root=root, expected=expected), capsys)
    assert [m["name"] for m in r["mismatches"]] == ["memory.total_mib", "cpu.threads", "gpu.vendor"]
    assert r["ansible_facts"]["nixperf_live_hardware"]["virtualization"]["guest"] is True


def test_module_unknown_march(host_root, capsys):
    r = run_module(hardware_facts.main, dict(root=host_root(), march="pentium5"), capsys)
    assert r["failed"] is True and "not one this collection knows" in r["msg"]


HW = {"cpu": {"vendor": "intel", "family": "skylake", "x86_64_level": 3, "cores": 4, "threads": 8},
      "memory": {"total_mib": 16384}, "gpu": {"vendor": "nvidia", "model": "GeForce GTX 960", "decode": ["h264"]}}


def test_profile_evaluates(nix, tmp_path):
    plan = build("hardware_profile", "shoshin", {}, HW)
    (tmp_path / "profile").mkdir()
    from ansible_collections.nixperf.tuning.plugins.module_utils.nix import to_nix

    (tmp_path / "profile/hardware.nix").write_text(to_nix(plan.data_files["profile/hardware.nix"]))
    (tmp_path / "m.nix").write_text(nix_module(plan.phase, plan.config, always=plan.always)[0])
    lib = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkMerge = builtins.foldl' (a: b: a // b) { }; }"
    got = nix.eval_json("(import %s/m.nix { config.nixperf.hardware_profile.enable = true; pkgs = {}; lib = %s; })"
                        ".config._module.args.currentHardwareProfile" % (tmp_path, lib))
    assert got["build"]["compiler"] == {"march": "skylake", "mtune": "skylake", "optimizationLevel": 3,
                                        "goamd64": "v3"}
    assert got["cpu"]["family"] == "skylake" and got["memory"]["total_mib"] == 16384


@pytest.mark.parametrize("settings,hw_cpu,needle", [
    ({"march": "skylake-avx512"}, {}, "needs x86-64-v4, but nixperf_hardware.cpu.x86_64_level is 3"),
    ({"march": "pentium5"}, {}, "hardware_profile_march must be one of"),
    ({"optimization_level": 4}, {}, "hardware_profile_optimization_level must be one of 1, 2, 3"),
    ({}, {"family": "k6"}, "nixperf_hardware.cpu.family must be one of"),
    ({}, {"x86_64_level": 2}, "cpu.family skylake is an x86-64-v3 CPU"),
])
def test_profile_checks(settings, hw_cpu, needle):
    hw = dict(HW, cpu=dict(HW["cpu"], **hw_cpu))
    with pytest.raises(PhaseError) as err:
        build("hardware_profile", "shoshin", settings, hw)
    assert needle in str(err.value)


def test_module_without_cpuinfo_says_so(tmp_path, capsys):
    r = run_module(hardware_facts.main, dict(root=str(tmp_path), march="skylake"), capsys)
    assert r["failed"] is True and "no CPU flags in %s/proc/cpuinfo" % tmp_path in r["msg"]
