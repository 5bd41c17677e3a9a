"""resource_slices and gpu_video builders: derivations, vendors, every check, and
what the real evaluator reads back from the generated modules."""
from __future__ import annotations

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import resource_slices as S
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw, nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

SHOSHIN = {"memory": {"total_mib": 16384}, "cpu": {"threads": 8},
           "gpu": {"vendor": "nvidia", "decode": ["h264", "hevc", "vp8", "vp9"]}}
KENSHO = {"memory": {"total_mib": 32768}, "cpu": {"threads": 16},
          "gpu": {"vendor": "amd", "decode": ["h264", "hevc", "vp9", "av1"]}}
VM = {"memory": {"total_mib": 16384}, "cpu": {"threads": 8}, "gpu": {"vendor": "none"}}
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkForce = v: v; }"


def evaluate(nix, tmp_path, plan):
    path = tmp_path / (plan.phase + ".nix")
    path.write_text(nix_module(plan.phase, plan.config, role=plan.phase)[0])
    pkgs = "{ nvidia-vaapi-driver = \"nv\"; libva-vdpau-driver = \"vdpau\"; libvdpau-va-gl = \"va-gl\";" \
           " intel-media-driver = \"ihd\"; intel-vaapi-driver = \"i965\"; }"
    return nix.eval_json("(import %s { config.nixperf.%s.enable = true; pkgs = %s; lib = %s; }).config"
                         % (path, plan.phase, pkgs, LIB))


# ---------------------------------------------------------------- slices


@pytest.mark.parametrize("gib,threads,high,hard,quota", [
    (16, 8, 12288, 14336, 600), (32, 16, 24576, 28672, 1200), (8, 4, 6144, 7168, 300),
    # small hosts: high stays below max, the quota never reaches 0
    (4, 2, 2816, 3072, 150), (2, 2, 1408, 1536, 150), (1, 1, 704, 768, 75), (1, 3, 704, 768, 225),
])
def test_user_limit_formula(gib, threads, high, hard, quota):
    assert S.user_limits(gib * 1024, threads) == {
        "memory_high_mib": high, "memory_max_mib": hard, "cpu_quota_percent": quota}


def test_shoshin_slices_match_the_plan(nix, tmp_path):
    plan = build("resource_slices", "shoshin", {}, SHOSHIN)
    got = evaluate(nix, tmp_path, plan)["systemd"]
    assert got["slices"]["user-"] == {"overrideStrategy": "asDropin", "sliceConfig": {
        "MemoryHigh": "12G", "MemoryMax": "14G", "CPUQuota": "600%"}}
    assert got["services"]["display-manager"]["serviceConfig"] == {
        "OOMScoreAdjust": -900, "MemoryHigh": "512M", "MemoryMax": "1G"}
    assert got["services"]["nix-daemon"]["serviceConfig"]["MemoryMax"] == "12G"
    assert got["oomd"]["enableUserSlices"] is True
    assert got["oomd"]["settings"]["OOM"]["DefaultMemoryPressureDurationSec"] == "20s"
    assert "user-.slice" not in nix_module(plan.phase, plan.config)[0]  # the wrong name of the plan's v2.0


def test_bigger_machine_gets_bigger_limits():
    plan = build("resource_slices", "kensho", {}, KENSHO)
    assert plan.derived["user_memory_high"] == "24G" and plan.derived["user_cpu_quota"] == "1200%"


def test_explicit_limits():
    plan = build("resource_slices", "h", {"user_memory_high": "10G", "user_memory_max": "13312M",
                                          "user_cpu_quota_percent": 400}, SHOSHIN)
    assert plan.config["systemd"]["slices"]["user-"]["sliceConfig"] == {
        "MemoryHigh": "10G", "MemoryMax": "13G", "CPUQuota": "400%"}


@pytest.mark.parametrize("settings,needle", [
    ({"user_memory_high": "14G", "user_memory_max": "12G"}, "resource_slices_user_memory_high (14G) must be below"),
    ({"user_memory_max": "20G"}, "resource_slices_user_memory_max (20G) is more than the host's RAM (16G)"),
    ({"user_memory_high": "12 G"}, "must be a size of at least 1M such as 512M, 2.5G or 12G"),
    ({"user_memory_high": 12}, "must be a size of at least 1M such as 512M, 2.5G or 12G"),
    ({"user_cpu_quota_percent": 900}, "resource_slices_user_cpu_quota_percent (900) is more than the host's 8 threads can give (at most 800)"),
    ({"display_manager_memory_high": "2G"}, "resource_slices_display_manager_memory_high (2G) must be below"),
    ({"display_manager_oom_score_adjust": -1001}, "from -1000 to 1000"),
    ({"oomd_pressure_duration": "soon"}, "must be a duration above 0 such as 20s"),
])
def test_slice_checks(settings, needle):
    with pytest.raises(PhaseError, match="^host h: ") as err:
        build("resource_slices", "h", settings, SHOSHIN)
    assert needle in str(err.value)


def test_slices_need_threads():
    with pytest.raises(PhaseError, match="nixperf_hardware.cpu.threads is missing"):
        build("resource_slices", "h", {}, {"memory": {"total_mib": 16384}})


# ---------------------------------------------------------------- gpu


def test_nvidia(nix, tmp_path):
    plan = build("gpu_video", "shoshin", {}, SHOSHIN)
    got = evaluate(nix, tmp_path, plan)
    assert got["hardware"]["graphics"] == {"enable": True, "enable32Bit": True,
                                           "extraPackages": ["nv", "vdpau", "va-gl"]}
    assert got["environment"]["variables"]["NVD_BACKEND"] == "direct"
    assert got["boot"]["kernelParams"] == ["nvidia-drm.modeset=1"]
    assert plan.derived == {"vendor": "nvidia", "decode": ["h264", "hevc", "vp8", "vp9"], "av1": False,
                            "libva_driver": "nvidia",
                            "packages": ["nvidia-vaapi-driver", "libva-vdpau-driver", "libvdpau-va-gl"]}
    assert "vaapiVdpau" not in nix_module(plan.phase, plan.config)[0]


def test_amd_uses_mesa_and_no_nvidia_params(nix, tmp_path):
    got = evaluate(nix, tmp_path, build("gpu_video", "kensho", {"enable_32bit": False}, KENSHO))
    assert got["hardware"]["graphics"] == {"enable": True, "enable32Bit": False}
    assert got["environment"]["variables"] == {"LIBVA_DRIVER_NAME": "radeonsi", "VDPAU_DRIVER": "radeonsi"}
    assert "boot" not in got


@pytest.mark.parametrize("generation,package,driver", [(9, "ihd", "iHD"), (7, "i965", "i965")])
def test_intel_driver_by_generation(nix, tmp_path, generation, package, driver):
    hw = dict(SHOSHIN, gpu={"vendor": "intel", "generation": generation, "decode": ["h264"]})
    got = evaluate(nix, tmp_path, build("gpu_video", "h", {}, hw))
    assert got["hardware"]["graphics"]["extraPackages"] == [package, "va-gl"]
    assert got["environment"]["variables"]["LIBVA_DRIVER_NAME"] == driver


def test_gpu_less_vm(nix, tmp_path):
    plan = build("gpu_video", "vm", {}, VM)
    assert evaluate(nix, tmp_path, plan) == {"hardware": {"graphics": {"enable": True}}}
    assert plan.derived["decode"] == []


@pytest.mark.parametrize("gpu,needle", [
    ({"vendor": "matrox"}, "nixperf_hardware.gpu.vendor must be one of nvidia, amd, intel, none"),
    ({"vendor": "nvidia"}, "nixperf_hardware.gpu.decode is missing"),
    ({"vendor": "nvidia", "decode": "h264"}, "nixperf_hardware.gpu.decode must be a list"),
    ({"vendor": "nvidia", "decode": ["h264", "h266"]}, "gpu.decode[1] must be one of mpeg2, vc1, h264, hevc, vp8, vp9, av1, jpeg, got 'h266'"),
    ({"vendor": "intel", "decode": []}, "nixperf_hardware.gpu.generation is missing"),
])
def test_gpu_checks(gpu, needle):
    with pytest.raises(PhaseError) as err:
        build("gpu_video", "h", {}, {"gpu": gpu})
    assert needle in str(err.value)


def test_packages_are_markers_not_strings():
    plan = build("gpu_video", "h", {}, SHOSHIN)
    assert plan.config["hardware"]["graphics"]["extraPackages"][0] == NixRaw("pkgs.nvidia-vaapi-driver")
