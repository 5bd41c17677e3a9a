# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 5 of the workstation plan: VA-API / VDPAU video acceleration per GPU vendor.

* NVIDIA: ``nvidia-vaapi-driver`` (VA-API over NVDEC), ``libva-vdpau-driver``
  (renamed from ``vaapiVdpau``, whose old name fails evaluation) and
  ``libvdpau-va-gl``; ``LIBVA_DRIVER_NAME=nvidia``, ``NVD_BACKEND=direct`` (the
  EGL backend is broken on drivers 525+), ``nvidia-drm.modeset=1`` (required by
  nvidia-vaapi-driver).
* Intel: ``intel-media-driver`` (iHD) from Broadwell (gen 8) on, else
  ``intel-vaapi-driver`` (i965).
* AMD: Mesa's radeonsi VA-API / VDPAU drivers come with ``hardware.graphics``
  itself; only the driver names are set.
* No GPU (a VM on llvmpipe): graphics on, no video driver, no variables.

The codecs the GPU decodes come from the inventory (``gpu.decode``) and are
exported for validation (``vainfo`` must list them).
"""
from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting


def _packages(names: List[str]) -> List[NixRaw]:
    return [NixRaw("pkgs." + n) for n in names]


def build_gpu(inp: Inputs) -> PhasePlan:
    vendor = inp.fact("gpu.vendor")
    enable32 = inp["enable_32bit"]
    decode: List[str] = []
    if vendor != "none":
        decode = inp.fact("gpu.decode", None)
        if decode is None:
            raise inp.fail("nixperf_hardware.gpu.decode", "is missing; set it in the host's inventory file (codecs "
                           "the GPU decodes, e.g. [h264, hevc, vp9])")
    graphics: Dict[str, Any] = {"enable": True}
    env: Dict[str, str] = {}
    params: List[str] = []
    packages: List[str] = []
    if vendor == "nvidia":
        packages = ["nvidia-vaapi-driver", "libva-vdpau-driver", "libvdpau-va-gl"]
        env = {"LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": "direct", "VDPAU_DRIVER": "nvidia",
               "MOZ_DISABLE_RDD_SANDBOX": "1"}
        params = ["nvidia-drm.modeset=1"]
    elif vendor == "intel":
        generation = inp.fact("gpu.generation", None)
        if generation is None:
            raise inp.fail("nixperf_hardware.gpu.generation", "is missing; an Intel GPU needs it to pick its VA-API "
                           "driver (Intel graphics generation, e.g. 9 for Skylake)")
        if generation >= 8:
            packages, driver = ["intel-media-driver"], "iHD"
        else:
            packages, driver = ["intel-vaapi-driver"], "i965"
        env = {"LIBVA_DRIVER_NAME": driver, "VDPAU_DRIVER": "va_gl"}
        packages.append("libvdpau-va-gl")
    elif vendor == "amd":
        env = {"LIBVA_DRIVER_NAME": "radeonsi", "VDPAU_DRIVER": "radeonsi"}
    if vendor != "none":
        graphics["enable32Bit"] = enable32
    if packages:
        graphics["extraPackages"] = _packages(packages)
    config: Dict[str, Any] = {"hardware": {"graphics": graphics}}
    if env:
        config["environment"] = {"variables": env}
    if params:
        config["boot"] = {"kernelParams": params}
    return PhasePlan(
        phase="gpu_video", config=config, enable=inp["enable"],
        derived={"vendor": vendor, "decode": list(decode), "av1": "av1" in decode,
                 "libva_driver": env.get("LIBVA_DRIVER_NAME"), "packages": packages},
        description="VA-API / VDPAU video acceleration for the host's GPU",
        note="GPU %s: hardware decode of %s." % (vendor, ", ".join(decode) if decode else "nothing (software only)"),
    )


PHASE = Phase(
    name="gpu_video",
    order=70,
    title="VA-API / VDPAU video acceleration for the host's GPU (workstation plan, phase 5)",
    description=(
        "Generates C(nixperf/gpu_video.nix): C(hardware.graphics) with the VA-API / VDPAU drivers of the host's GPU "
        "vendor (C(nixperf_hardware.gpu.vendor)), their environment variables and, for NVIDIA, "
        "C(nvidia-drm.modeset=1).",
        "Returns the codecs the GPU decodes (C(nixperf_planned.plan.derived.gpu_video.decode)) for validation.",
    ),
    facts=("gpu.vendor",),
    tags=("nixos", "vaapi", "video", "gpu"),
    build=build_gpu,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.gpu_video.enable) in the generated module."),
        Setting("enable_32bit", "bool", True, "32-bit graphics libraries (Steam, Wine); ignored on a GPU-less "
                "host."),
    ),
)
