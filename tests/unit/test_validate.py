"""validate: checks derived from the phases' own plans (module_utils/checks.py) and their evaluation against a live
host in a temp root (module_utils/verify.py), every probe and every status."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from ansible_collections.nixperf.tuning.plugins.module_utils import checks as C
from ansible_collections.nixperf.tuning.plugins.module_utils import verify as V
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import build
from ansible_collections.nixperf.tuning.plugins.module_utils.targets import get as target
from support import FakeHost as Fake

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "inventories" / "fleet"
FIXTURES = ROOT / "tests" / "fixtures" / "probes"


def host_vars(name: str) -> Dict[str, Any]:
    for path in FLEET.glob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for group in data.values():
            if isinstance(group, dict) and name in (group.get("hosts") or {}):
                return group["hosts"][name]
    raise KeyError(name)


SHOSHIN = host_vars("shoshin")
VM = host_vars("plasma-vm-01")


def plan(phase: str, hv: Dict[str, Any], **settings: Any):
    prefix = phase + "_"
    own = {k[len(prefix):]: v for k, v in hv.items() if k.startswith(prefix)}
    own.update(settings)
    return build(phase, "h", own, hv["nixperf_hardware"], hv.get("nixperf_users"), hv.get("nixperf_desktop"))


def by_id(checks: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    out = {c["id"]: c for c in checks}
    assert len(out) == len(checks), "check ids must be unique"
    return out


# ---------------------------------------------------------------- checks from plans


def test_memory_sysctls_and_zram_come_from_the_plan():
    got = by_id(C.checks(plan("memory", SHOSHIN)))
    assert got["memory:sysctl:vm.swappiness"]["expected"] == "67"
    assert got["memory:sysctl:vm.vfs_cache_pressure"]["expected"] == "125"
    assert got["memory:sysctl:vm.dirty_ratio"]["expected"] == "10"
    assert got["memory:sysctl:vm.dirty_background_ratio"]["expected"] == "5"
    assert got["memory:sysctl:vm.swappiness"]["probe"] == "sysctl"
    assert got["memory:sysctl:vm.swappiness"]["requires"] == ["nixos"]
    assert got["memory:zram:swap"]["expected"] is True
    assert got["memory:zram:algorithm"]["expected"] == "zstd"
    assert got["memory:zram:size"]["expected"] == 75 and got["memory:zram:size"]["compare"] == "near"
    assert got["memory:zram:priority"]["expected"] == 100
    assert "memory:sysctl:vm.overcommit_ratio" not in got  # written only with overcommit_memory 2


def test_a_different_machine_gets_its_own_expectations():
    big = dict(SHOSHIN, nixperf_hardware=dict(SHOSHIN["nixperf_hardware"], memory={"total_mib": 65536}))
    got = by_id(C.checks(plan("memory", big, zram_algorithm="lz4", overcommit_memory=2)))
    assert got["memory:zram:size"]["expected"] == 25
    assert got["memory:zram:algorithm"]["expected"] == "lz4"
    assert got["memory:sysctl:vm.dirty_ratio"]["expected"] == "2"
    assert got["memory:sysctl:vm.overcommit_ratio"]["expected"] == "50"


def test_zram_off_expects_no_zram_swap():
    got = by_id(C.checks(plan("memory", SHOSHIN, zram_enable=False)))
    assert got["memory:zram:swap"]["expected"] is False
    assert not [i for i in got if i.startswith("memory:zram:") and i != "memory:zram:swap"]


def test_nix_code_values_are_not_applicable_and_say_why():
    extra = {"vm.max_map_count": {"_nix": "1024 * 1024"}, "kernel.nmi_watchdog": 0}
    got = by_id(C.checks(plan("memory", SHOSHIN, sysctl_extra=extra)))
    code = got["memory:sysctl:vm.max_map_count"]
    assert code["compare"] == "na" and code["expected"] is None and "Nix code" in code["reason"]
    assert got["memory:sysctl:kernel.nmi_watchdog"]["expected"] == "0"


def test_slices_units_and_oomd():
    got = by_id(C.checks(plan("resource_slices", SHOSHIN)))
    high = got["resource_slices:unit:user-.slice:MemoryHigh"]
    assert high["args"] == {"unit": "user-.slice", "property": "MemoryHigh", "show": "MemoryHigh"}
    assert high["expected"] == "12G"
    quota = got["resource_slices:unit:user-.slice:CPUQuota"]
    assert quota["args"]["show"] == "CPUQuotaPerSecUSec" and quota["expected"] == "600%"
    assert got["resource_slices:unit:display-manager.service:OOMScoreAdjust"]["expected"] == "-900"
    assert got["resource_slices:unit:nix-daemon.service:MemoryMax"]["expected"] == "12G"
    assert got["resource_slices:unit:systemd-oomd.service:ActiveState"]["expected"] == "active"


def test_gpu_video_nvidia_session_variables_vaapi_and_kernel_parameter():
    got = by_id(C.checks(plan("gpu_video", SHOSHIN)))
    assert got["gpu_video:env:LIBVA_DRIVER_NAME"]["expected"] == "nvidia"
    assert got["gpu_video:env:LIBVA_DRIVER_NAME"]["requires"] == ["nixos", "session"]
    driver = got["gpu_video:vainfo:driver"]
    assert driver["expected"] == "VA-API NVDEC driver" and driver["compare"] == "contains"
    assert driver["requires"] == ["nixos", "program:vainfo", "render_node"]
    assert sorted(i for i in got if i.startswith("gpu_video:vainfo:decode:")) == [
        "gpu_video:vainfo:decode:h264", "gpu_video:vainfo:decode:hevc", "gpu_video:vainfo:decode:vp8",
        "gpu_video:vainfo:decode:vp9"]
    assert got["gpu_video:vainfo:decode:hevc"]["args"]["profile"] == "VAProfileHEVC"
    assert got["gpu_video:cmdline:nvidia-drm.modeset=1"]["expected"] is True


KENSHO = host_vars("kensho")


@pytest.mark.parametrize("gpu,driver", [
    ({"vendor": "intel", "generation": 12, "decode": ["h264", "av1"]}, "Intel iHD driver"),
    ({"vendor": "intel", "generation": 7, "decode": ["h264"]}, "Intel i965 driver"),
])
def test_vaapi_driver_of_other_gpus(gpu, driver):
    tiny = {"cpu": {"vendor": "intel", "family": "x86-64", "x86_64_level": 1, "cores": 1, "threads": 1},
            "memory": {"total_mib": 1024}, "gpu": gpu}
    got = by_id(C.checks(build("gpu_video", "t", {}, tiny, None, {"session": "wayland"})))
    assert got["gpu_video:vainfo:driver"]["expected"] == driver
    assert sorted(i.rsplit(":", 1)[1] for i in got if ":decode:" in i) == sorted(gpu["decode"])
    assert not [i for i in got if ":cmdline:" in i]  # nvidia-drm.modeset only with the NVIDIA driver
    mem = by_id(C.checks(build("memory", "t", {}, tiny)))
    assert mem["memory:zram:size"]["expected"] == 75 and mem["memory:sysctl:vm.dirty_ratio"]["expected"] == "20"


def test_amd_on_wayland_expects_mesas_driver_for_every_codec():
    got = by_id(C.checks(plan("gpu_video", KENSHO)))
    assert got["gpu_video:vainfo:driver"]["expected"] == "Mesa Gallium driver"
    assert sorted(i for i in got if ":decode:" in i) == [
        "gpu_video:vainfo:decode:av1", "gpu_video:vainfo:decode:h264", "gpu_video:vainfo:decode:hevc",
        "gpu_video:vainfo:decode:vp9"]
    assert got["gpu_video:vainfo:decode:av1"]["args"]["profile"] == "VAProfileAV1"


def test_a_vm_without_gpu_has_no_vaapi_checks():
    got = by_id(C.checks(plan("gpu_video", VM)))
    assert not [i for i in got if "vainfo" in i or "cmdline" in i]


def test_kde_services_on_a_vm_expects_baloo_and_akonadi_gone():
    got = by_id(C.checks(plan("kde_services", VM), users=["mitsio"]))
    assert got["kde_services:akonadi"]["args"]["names"] == ["akonadi_control", "akonadiserver"]
    assert got["kde_services:akonadi"]["expected"] is False
    assert got["kde_services:baloo:mitsio"]["args"] == {"names": ["baloo_file"], "user": "mitsio"}
    key = got["kde_services:key:mitsio:.config/baloofilerc:Basic Settings:Indexing-Enabled"]
    assert key["probe"] == "kconfig" and key["expected"] == "false"
    assert key["requires"] == ["nixos", "home:mitsio", "program:kreadconfig"]


def test_plasma_keys_and_home_session_variables_per_user():
    got = by_id(C.checks(plan("plasma", SHOSHIN), users=["mitsio"]))
    assert got["plasma:env:KWIN_OPENGL_INTERFACE:mitsio"]["expected"] == "egl"
    assert got["plasma:env:KWIN_OPENGL_INTERFACE:mitsio"]["args"] == {"name": "KWIN_OPENGL_INTERFACE", "user": "mitsio"}
    keys = [c for c in got.values() if c["probe"] == "kconfig"]
    assert len(keys) == len(plan("plasma", SHOSHIN).keys["mitsio"])
    assert all(c["args"]["file"].startswith(".config/") for c in keys)


def test_rustdesk_toml_keys_and_service_time_spans():
    got = by_id(C.checks(plan("rustdesk", VM), users=["mitsio"]))
    stop = got["rustdesk:unit:rustdesk.service:TimeoutStopSec"]
    assert stop["args"]["show"] == "TimeoutStopUSec" and stop["expected"] == "30"
    assert got["rustdesk:unit:rustdesk.service:ExecStart"]["compare"] == "na"
    toml = [c for c in got.values() if c["probe"] == "toml"]
    assert toml and {c["args"]["user"] for c in toml} == {"mitsio", "root"}


def test_electron_apps_scopes_per_app_and_user():
    got = by_id(C.checks(plan("electron_apps", SHOSHIN), users=["mitsio"]))
    discord = got["electron_apps:scope:discord:mitsio"]
    assert discord["probe"] == "scope"
    assert set(discord["expected"]) == {"MemoryHigh", "MemoryMax", "CPUQuota"}
    assert discord["expected"]["CPUQuota"].endswith("%")


def test_host_checks_take_the_target_from_its_declaration():
    got = by_id(C.host_checks(False))
    idle = got["host:target:idle_ram"]
    assert idle["expected"] == target("idle_ram").value == 4096
    assert idle["compare"] == "max" and idle["requires"] == [] and idle["unit"] == "MiB"
    assert "host:target:idle_ram" not in by_id(C.host_checks(True))  # the VM plan sets a decrease, not a bound
    assert got["host:files"]["requires"] == ["manifest"]


def test_every_phase_of_both_hosts_gives_unique_ids():
    from ansible_collections.nixperf.tuning.plugins.module_utils.phase import phases

    for hv in (SHOSHIN, VM):
        every: List[Dict[str, Any]] = []
        for ph in phases():
            every += C.checks(plan(ph.name, hv), users=["mitsio"])
        by_id(every + C.host_checks(False))
        assert all(c["title"] and c["phase"] for c in every)


# ---------------------------------------------------------------- a live host in a temp root


@pytest.fixture
def fake(tmp_path):
    return Fake(tmp_path / "root")


def one(fake: Fake, chk: Dict[str, Any], files_root: Optional[str] = None) -> Dict[str, Any]:
    out = V.evaluate(fake.host(files_root), [chk])
    assert len(out) == 1
    return out[0]


def chk_of(checks: List[Dict[str, Any]], cid: str) -> Dict[str, Any]:
    return by_id(checks)[cid]


MEM = C.checks(plan("memory", SHOSHIN))


def test_not_nixos_is_not_applicable_never_a_pass(tmp_path):
    fake = Fake(tmp_path / "r", nixos=False)
    fake.put("proc/sys/vm/swappiness", "67\n")
    res = one(fake, chk_of(MEM, "memory:sysctl:vm.swappiness"))
    assert res["status"] == "na" and res["actual"] is None and "not NixOS" in res["reason"]
    assert res["expected"] == "67"


def test_sysctl_ok_drift_and_missing(fake):
    fake.put("proc/sys/vm/swappiness", "67\n")
    fake.put("proc/sys/vm/dirty_ratio", "20\n")
    assert one(fake, chk_of(MEM, "memory:sysctl:vm.swappiness"))["status"] == "ok"
    drift = one(fake, chk_of(MEM, "memory:sysctl:vm.dirty_ratio"))
    assert (drift["status"], drift["expected"], drift["actual"]) == ("drift", "10", "20")
    gone = one(fake, chk_of(MEM, "memory:sysctl:vm.vfs_cache_pressure"))
    assert gone["status"] == "drift" and gone["actual"] == "(no such sysctl)"


def zram_host(fake: Fake, algorithm: str = "lzo lzo-rle lz4 lz4hc 842 [zstd]", percent: float = 75.0,
              priority: int = 100) -> None:
    size = int(16314104 * 1024 * percent / 100)
    fake.put("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
             "/dev/zram0                              partition\t%d\t\t0\t\t%d\n" % (size // 1024, priority))
    fake.put("sys/block/zram0/comp_algorithm", algorithm + "\n")
    fake.put("sys/block/zram0/disksize", "%d\n" % size)


def test_zram_as_declared(fake):
    zram_host(fake)
    results = V.evaluate(fake.host(), [c for c in MEM if c["probe"] == "zram"])
    assert [(r["id"], r["status"]) for r in results] == [
        ("memory:zram:swap", "ok"), ("memory:zram:algorithm", "ok"), ("memory:zram:size", "ok"),
        ("memory:zram:priority", "ok")]
    assert results[2]["expected"] == "75 % (+/- 1)" and results[2]["actual"] == "75 %"


def test_zram_drifts(fake):
    zram_host(fake, algorithm="lzo [lz4] zstd", percent=50, priority=5)
    results = {r["id"]: r for r in V.evaluate(fake.host(), [c for c in MEM if c["probe"] == "zram"])}
    assert results["memory:zram:algorithm"]["actual"] == "lz4" and results["memory:zram:algorithm"]["status"] == "drift"
    assert results["memory:zram:size"]["status"] == "drift" and results["memory:zram:size"]["actual"] == "50 %"
    assert results["memory:zram:priority"]["status"] == "drift"


def test_zram_missing_and_zram_unwanted(fake):
    fake.put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
    results = {r["id"]: r for r in V.evaluate(fake.host(), [c for c in MEM if c["probe"] == "zram"])}
    assert results["memory:zram:swap"]["status"] == "drift" and results["memory:zram:swap"]["actual"] == "no"
    assert results["memory:zram:algorithm"]["actual"] == "(no zram swap)"
    off = C.checks(plan("memory", SHOSHIN, zram_enable=False))
    zram_host(fake)
    assert one(fake, chk_of(off, "memory:zram:swap"))["status"] == "drift"


def test_zram_size_from_zramctl_when_installed(fake):
    zram_host(fake, percent=75)
    (fake.root / "sys/block/zram0/disksize").unlink()
    fake.tools["zramctl"] = "/bin/zramctl"
    # a 16 GiB host's 8 GiB device (captured): 52.5 % of MemTotal, not the 75 % the plan declares
    fake.answers["zramctl"] = (0, (FIXTURES / "zramctl-bytes-one-zstd.txt").read_text(), "")
    res = one(fake, chk_of(MEM, "memory:zram:size"))
    assert (res["status"], res["actual"]) == ("drift", "%g %%" % round(100.0 * 8589934592 / (16314104 * 1024), 1))
    assert fake.calls == [["/bin/zramctl", "--bytes", "--output", V.ZRAMCTL_COLUMNS]]


SLICES = C.checks(plan("resource_slices", SHOSHIN))


def units_host(fake: Fake, show: str) -> None:
    fake.tools["systemctl"] = "/bin/systemctl"
    fake.answers["systemctl"] = (0, show, "")
    (fake.root / "sys/fs/cgroup/user.slice/user-1000.slice").mkdir(parents=True)


def test_units_read_with_one_systemctl_show(fake):
    shown = {"user-1000.slice": "LoadState=loaded\nMemoryHigh=12884901888\nMemoryMax=15032385536\n"
                                "CPUQuotaPerSecUSec=6s",
             "display-manager.service": "LoadState=loaded\nManagedOOMPreference=avoid\nMemoryHigh=4294967296\n"
                                        "MemoryMax=8589934592\nOOMScoreAdjust=-500",
             "nix-daemon.service": "LoadState=not-found", "systemd-oomd.service": "LoadState=loaded\nActiveState=active"}

    def answer(argv, env):
        props = argv[argv.index("--property") + 1].split(",")
        blocks = []
        for unit in argv[argv.index("--property") + 2:]:
            known = dict(line.split("=", 1) for line in shown[unit].splitlines())
            blocks.append("\n".join("%s=%s" % (p, known.get(p, "")) for p in props))
        return 0, "\n\n".join(blocks) + "\n", ""

    units_host(fake, "")
    fake.answers["systemctl"] = answer
    results = {r["id"]: r for r in V.evaluate(fake.host(), SLICES)}
    assert len(fake.calls) == 1 and fake.calls[0][:2] == ["/bin/systemctl", "show"]
    assert fake.calls[0][4:] == ["display-manager.service", "nix-daemon.service", "user-1000.slice",
                                 "systemd-oomd.service"]
    assert results["resource_slices:unit:user-1000.slice:MemoryHigh"]["status"] == "ok"
    assert results["resource_slices:unit:user-1000.slice:MemoryMax"]["status"] == "ok"
    assert results["resource_slices:unit:user-1000.slice:CPUQuota"]["status"] == "ok"
    oom = results["resource_slices:unit:display-manager.service:OOMScoreAdjust"]
    assert (oom["status"], oom["expected"], oom["actual"]) == ("drift", "-900", "-500")
    assert results["resource_slices:unit:nix-daemon.service:MemoryMax"]["status"] == "na"
    assert "not found" in results["resource_slices:unit:nix-daemon.service:MemoryMax"]["reason"]
    assert results["resource_slices:unit:systemd-oomd.service:ActiveState"]["status"] == "ok"


def test_no_user_slice_and_no_systemctl(fake):
    res = one(fake, chk_of(SLICES, "resource_slices:unit:user-.slice:MemoryHigh"))
    assert res["status"] == "na" and "systemctl not found" in res["reason"]
    fake.tools["systemctl"] = "/bin/systemctl"
    res = one(fake, chk_of(SLICES, "resource_slices:unit:user-.slice:MemoryHigh"))
    assert res["status"] == "na" and "nobody is logged in" in res["reason"]


@pytest.mark.parametrize("prop,expected,shown,same", [
    ("MemoryHigh", "12G", "12884901888", True),
    ("MemoryHigh", "12G", "12884901887", False),
    ("MemoryMax", "infinity", "infinity", True),
    ("MemoryMax", "50%", "8352821248", True),
    ("CPUQuota", "600%", "6s", True),
    ("CPUQuota", "150%", "1.500000s", True),
    ("CPUQuota", "150%", "1s", False),
    ("TimeoutStopSec", "30", "30s", True),
    ("TimeoutStopSec", "90", "1min 30s", True),
    ("OOMScoreAdjust", "-900", "-900", True),
])
def test_unit_values_compare_in_systemds_own_units(prop, expected, shown, same):
    total = 16314104 * 1024
    assert (V.unit_value(prop, shown, total) == V.unit_value(prop, expected, total)) is same


GPU = C.checks(plan("gpu_video", SHOSHIN))
VAINFO_NVIDIA = """vainfo: VA-API version: 1.22 (libva 2.22.0)
vainfo: Driver version: VA-API NVDEC driver [direct backend]
vainfo: Supported profile and entrypoints
      VAProfileMPEG2Simple            :	VAEntrypointVLD
      VAProfileH264Main               :	VAEntrypointVLD
      VAProfileH264High               :	VAEntrypointVLD
      VAProfileHEVCMain               :	VAEntrypointVLD
      VAProfileVP8Version0_3          :	VAEntrypointVLD
"""


def test_vaapi_driver_and_profiles(fake):
    fake.put("dev/dri/renderD128", "")
    fake.tools["vainfo"] = "/bin/vainfo"
    fake.answers["vainfo"] = (0, VAINFO_NVIDIA, "libva info: VA-API version 1.22.0\n")
    results = {r["id"]: r for r in V.evaluate(fake.host(), [c for c in GPU if c["probe"] == "vainfo"])}
    assert results["gpu_video:vainfo:driver"]["status"] == "ok"
    assert results["gpu_video:vainfo:decode:h264"]["status"] == "ok"
    assert results["gpu_video:vainfo:decode:vp9"]["status"] == "drift"
    assert "no VAProfileVP9" in results["gpu_video:vainfo:decode:vp9"]["actual"]
    assert fake.calls == [["/bin/vainfo", "--display", "drm", "--device", str(fake.root / "dev/dri/renderD128")]]
    assert fake.envs == [{"LIBVA_DRIVER_NAME": "nvidia"}]


def test_vaapi_failure_missing_node_and_missing_tool(fake):
    driver = chk_of(GPU, "gpu_video:vainfo:driver")
    assert "vainfo not installed" in one(fake, driver)["reason"] or "render node" in one(fake, driver)["reason"]
    fake.put("dev/dri/renderD128", "")
    assert one(fake, driver)["reason"] == "vainfo not installed"
    fake.tools["vainfo"] = "/bin/vainfo"
    fake.answers["vainfo"] = (1, "", "libva error: vaGetDriverNameByIndex() failed with unknown libva error, "
                                     "driver_name = (null)\nvaInitialize failed with error code -1 (unknown libva "
                                     "error),exit\n")
    res = one(fake, driver)
    assert res["status"] == "drift" and res["actual"].startswith("vainfo failed")
    fake.answers.pop("vainfo")
    assert one(fake, driver)["status"] == "na"  # exit 127: it could not run at all


def test_session_variables_and_processes(fake):
    env = chk_of(GPU, "gpu_video:env:LIBVA_DRIVER_NAME")
    assert "no Plasma session" in one(fake, env)["reason"]
    fake.process(4242, "plasmashell", environ={"LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": "egl"})
    assert one(fake, env)["status"] == "ok"
    backend = one(fake, chk_of(GPU, "gpu_video:env:NVD_BACKEND"))
    assert (backend["status"], backend["actual"]) == ("drift", "egl")
    unset = one(fake, chk_of(GPU, "gpu_video:env:MOZ_DISABLE_RDD_SANDBOX"))
    assert unset["actual"] == "(unset)"
    kde = C.checks(plan("kde_services", VM), users=["mitsio"])
    assert one(fake, chk_of(kde, "kde_services:akonadi"))["status"] == "ok"
    fake.process(4300, "akonadiserver")
    res = one(fake, chk_of(kde, "kde_services:akonadi"))
    assert (res["status"], res["actual"]) == ("drift", "akonadiserver")


def test_the_session_environment_is_plasmashells_even_when_kwin_started_first(fake):
    env = chk_of(GPU, "gpu_video:env:LIBVA_DRIVER_NAME")
    fake.process(1200, "kwin_wayland", environ={"HOME": "/home/mitsio"})
    res = one(fake, env)
    assert (res["status"], res["actual"]) == ("drift", "(unset)")  # kwin alone: its environment is the session's
    fake.process(4242, "plasmashell", environ={"LIBVA_DRIVER_NAME": "nvidia"})
    assert one(fake, env)["status"] == "ok"


def test_kde_keys_through_the_real_kreadconfig(fake):
    tool = shutil.which("kreadconfig5")
    assert tool, "kreadconfig5 is required (Debian libkf5config-bin); `make test` installs it"
    home = fake.root / "home/mitsio"
    fake.put("home/mitsio/.config/baloofilerc", "[Basic Settings]\nIndexing-Enabled=true\n")
    fake.tools["kreadconfig5"] = tool
    import subprocess

    def kreadconfig(argv, env):
        proc = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    fake.answers["kreadconfig5"] = kreadconfig
    kde = C.checks(plan("kde_services", VM), users=["mitsio"])
    key = chk_of(kde, "kde_services:key:mitsio:.config/baloofilerc:Basic Settings:Indexing-Enabled")
    res = one(fake, key)
    assert (res["status"], res["expected"], res["actual"]) == ("drift", "false", "true")
    assert fake.calls[-1][1:] == ["--file", "baloofilerc", "--group", "Basic Settings", "--key", "Indexing-Enabled",
                                  "--default", V.UNSET]
    assert fake.envs[-1] == {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    fake.put("home/mitsio/.config/baloofilerc", "[Basic Settings]\nIndexing-Enabled=false\n")
    assert one(fake, key)["status"] == "ok"
    ws = C.checks(plan("kde_services", SHOSHIN), users=["mitsio"])
    folders = chk_of(ws, "kde_services:key:mitsio:.config/baloofilerc:General:exclude folders")
    res = one(fake, folders)
    assert res["actual"] == "(unset)" and res["status"] == "drift"
    fake.put("home/mitsio/.config/baloofilerc", "[General]\nexclude folders[$e]=%s\n" % folders["expected"])
    res = one(fake, folders)
    assert res["status"] == "ok" and res["expected"].startswith(str(home) + "/.cache,")


def test_unset_key_expected_unset(fake):
    fake.put("home/mitsio/.config/kwinrc", "")
    fake.tools["kreadconfig6"] = "/bin/kreadconfig6"
    fake.answers["kreadconfig6"] = (0, V.UNSET + "\n", "")
    args = {"user": "mitsio", "file": ".config/kwinrc", "group": ["A"], "key": "B", "expand": False}
    chk = C.check("plasma", "k", "t", "kconfig", args, None, requires=("nixos", "home:mitsio", "program:kreadconfig"))
    res = one(fake, chk)
    assert (res["status"], res["expected"], res["actual"]) == ("ok", "(unset)", "(unset)")


def test_toml_keys(fake):
    rd = C.checks(plan("rustdesk", VM), users=["mitsio"])
    codec = [c for c in rd if c["probe"] == "toml" and c["args"]["key"] == "codec-preference"][0]
    fake.put("home/mitsio/.config/rustdesk/RustDesk_default.toml", "[options]\ncodec-preference = 'vp9'\n")
    assert one(fake, codec)["status"] == "ok"
    fake.put("home/mitsio/.config/rustdesk/RustDesk_default.toml", "[options]\ncodec-preference = 'h264'\n")
    assert one(fake, codec)["actual"] == "h264"
    (fake.root / "home/mitsio/.config/rustdesk/RustDesk_default.toml").unlink()
    assert one(fake, codec)["status"] == "drift"
    fake.put("home/mitsio/.config/rustdesk/RustDesk_default.toml", "[options\n")
    assert "cannot read" in one(fake, codec)["actual"]


def test_electron_scopes(fake):
    apps = C.checks(plan("electron_apps", SHOSHIN), users=["mitsio"])
    discord = chk_of(apps, "electron_apps:scope:discord:mitsio")
    (fake.root / "home/mitsio").mkdir(parents=True)
    os.chown(fake.root / "home/mitsio", 1000, 1000)
    assert "not running" in one(fake, discord)["reason"]
    scope = fake.root / "sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/app-discord-77-1700.scope"
    scope.mkdir(parents=True)
    total = 16314104 * 1024
    high = V.unit_value("MemoryHigh", discord["expected"]["MemoryHigh"], total)
    hard = V.unit_value("MemoryMax", discord["expected"]["MemoryMax"], total)
    quota = int(float(discord["expected"]["CPUQuota"][:-1]) * 1000)
    (scope / "memory.high").write_text("%d\n" % high)
    (scope / "memory.max").write_text("%d\n" % hard)
    (scope / "cpu.max").write_text("%d 100000\n" % quota)
    assert one(fake, discord)["status"] == "ok"
    (scope / "memory.max").write_text("max\n")
    assert one(fake, discord)["status"] == "drift"


def test_generation_and_files(fake, tmp_path):
    store = fake.root / "nix/store"
    (store / "aaa-nixos-system").mkdir(parents=True)
    (store / "bbb-nixos-system").mkdir()
    profiles = fake.root / "nix/var/nix/profiles"
    profiles.mkdir(parents=True)
    os.symlink(store / "aaa-nixos-system", profiles / "system-1-link")
    os.symlink(store / "bbb-nixos-system", profiles / "system-2-link")
    os.symlink("system-2-link", profiles / "system")
    (fake.root / "run").mkdir()
    os.symlink(store / "bbb-nixos-system", fake.root / "run/current-system")
    gen = by_id(C.host_checks(None))["host:generation"]
    assert one(fake, gen)["status"] == "ok"
    os.unlink(fake.root / "run/current-system")
    os.symlink(store / "aaa-nixos-system", fake.root / "run/current-system")
    res = one(fake, gen)
    assert res["status"] == "drift" and "system-2-link" in res["actual"]

    files = by_id(C.host_checks(None))["host:files"]
    build = tmp_path / "build"
    assert "written no files" in one(fake, files, str(build))["reason"]
    text = "{ }\n"
    (build / "etc/nixos/nixperf").mkdir(parents=True)
    (build / "etc/nixos/nixperf/memory.nix").write_text(text)
    (build / "var/lib/nixperf").mkdir(parents=True)
    (build / V.MANIFEST).write_text(json.dumps({"format": 1, "files": {
        "etc/nixos/nixperf/memory.nix": {"phase": "memory", "sha256": hashlib.sha256(text.encode()).hexdigest()},
        "etc/nixos/nixperf/gone.nix": {"phase": "memory", "sha256": "0" * 64}}}))
    res = one(fake, files, str(build))
    assert res["status"] == "drift" and res["actual"] == "missing: etc/nixos/nixperf/gone.nix"
    (build / "etc/nixos/nixperf/memory.nix").write_text("{ x = 1; }\n")
    assert "edited: etc/nixos/nixperf/memory.nix" in one(fake, files, str(build))["actual"]


def test_idle_memory_against_the_target(fake):
    idle = by_id(C.host_checks(False))["host:target:idle_ram"]
    res = one(fake, idle)
    used = round((16314104 - 12512340) / 1024.0, 1)
    assert (res["status"], res["expected"], res["actual"]) == ("ok", "<= 4096 MiB", "%g MiB" % used)
    fake.put("proc/meminfo", "MemTotal: 16314104 kB\nMemAvailable: 1000000 kB\n")
    assert one(fake, idle)["status"] == "drift"  # each evaluation reads the host afresh
    fake.put("proc/meminfo", "")
    assert "no MemTotal" in one(fake, idle)["reason"]


def test_lines_and_summary(fake):
    fake.put("proc/sys/vm/swappiness", "60\n")
    results = V.evaluate(fake.host(), [chk_of(MEM, "memory:sysctl:vm.swappiness"),
                                       chk_of(GPU, "gpu_video:env:LIBVA_DRIVER_NAME"),
                                       by_id(C.host_checks(False))["host:target:idle_ram"],
                                       chk_of(C.checks(plan("memory", SHOSHIN, sysctl_extra={"a.b": {"_nix": "1"}})),
                                              "memory:sysctl:a.b")])
    assert V.summary(results) == {"ok": 1, "drift": 1, "na": 2}
    text = V.lines("shoshin", results)
    assert text[0] == "DRIFT memory           sysctl vm.swappiness: expected 67, actual 60"
    assert text[1].startswith("n/a   gpu_video        session variable LIBVA_DRIVER_NAME: expected nvidia; not "
                              "applicable: no Plasma session running")
    assert "not applicable: the value is Nix code" in text[3]
    assert text[-1] == "shoshin: 1 ok, 1 drift, 2 not applicable"


def test_unknown_probe_is_not_applicable(fake):
    res = one(fake, C.check("x", "y", "t", "nonsense", {}, 1, requires=()))
    assert res["status"] == "na" and "unknown probe" in res["reason"]


# ---------------------------------------------------------------- session paths and the startup phase's read-only checks


def test_session_variables_a_plan_predicts_as_paths_are_checked_as_paths_only():
    from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
    from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhasePlan

    home = {"home": {"sessionVariables": {"A": "1", "B": NixRaw('config.xdg.cacheHome + "/b"')}}}
    got = by_id(C.checks(PhasePlan("x", None, home_config=home, derived={"session_paths": {"B": ".cache/b"}}),
                         users=["mitsio"]))
    assert sorted(got) == ["x:env:A:mitsio", "x:env:B:mitsio"]
    assert (got["x:env:A:mitsio"]["probe"], got["x:env:A:mitsio"]["expected"]) == ("session_env", "1")
    b = got["x:env:B:mitsio"]
    assert (b["probe"], b["expected"], b["compare"], b["args"]) == (
        "session_path", "$HOME/.cache/b", "eq", {"name": "B", "user": "mitsio", "path": ".cache/b"})
    # without the prediction the Nix code is not applicable, as before
    plain = by_id(C.checks(PhasePlan("x", None, home_config=home), users=["mitsio"]))
    assert plain["x:env:B:mitsio"]["compare"] == "na" and "Nix code" in plain["x:env:B:mitsio"]["reason"]


def test_startup_on_shoshin_in_one_run(fake):
    checks = C.checks(plan("startup", SHOSHIN, xdg_cache_enable=True, cache_redirects_enable=True, cache_redirects=["npm"]),
                      users=["mitsio"])
    (fake.root / "home/mitsio/.npm/_cacache").mkdir(parents=True)
    os.chown(fake.root / "home/mitsio", 1000, 1000)
    fake.process(4242, "plasmashell", environ={"HOME": "/home/mitsio", "XDG_CACHE_HOME": "/home/mitsio/.cache",
                                               "NPM_CONFIG_CACHE": "/home/mitsio/.cache/npm"})
    fake.put("etc/ld-nix.so.preload", "/nix/store/x-mimalloc/lib/libmimalloc.so\n")
    results = V.evaluate(fake.host(), checks)
    assert [(r["id"], r["status"]) for r in results] == [
        ("startup:env:NPM_CONFIG_CACHE:mitsio", "ok"), ("startup:env:XDG_CACHE_HOME:mitsio", "ok"),
        ("startup:caches-outside:mitsio", "drift"), ("startup:ld-preload", "drift"), ("startup:ld-preload:mitsio", "ok")]
    text = V.lines("shoshin", results)
    assert text[2] == ("DRIFT startup          mitsio's known caches outside $HOME/.cache (XDG_CACHE_HOME): expected no "
                       "known cache outside /home/mitsio/.cache, actual ~/.npm/_cacache (npm): left over from before "
                       "NPM_CONFIG_CACHE=$HOME/.cache/npm, remove it")
    assert text[3] == ("DRIFT startup          LD_PRELOAD of the system (preload lists, environment files, system profile "
                       "wrappers): expected no LD_PRELOAD entry outside startup_ld_preload_allow, no missing preloaded "
                       "file, actual /etc/ld-nix.so.preload: /nix/store/x-mimalloc/lib/libmimalloc.so, "
                       "/etc/ld-nix.so.preload: /nix/store/x-mimalloc/lib/libmimalloc.so does not exist "
                       "(read /etc/ld-nix.so.preload)")
    assert text[-1] == "shoshin: 3 ok, 2 drift, 0 not applicable"
