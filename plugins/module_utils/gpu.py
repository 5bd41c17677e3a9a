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
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, PhasePlan, register

VENDORS = ["nvidia", "amd", "intel", "none"]
CODECS = ["mpeg2", "vc1", "h264", "hevc", "vp8", "vp9", "av1", "jpeg"]


def _packages(names: List[str]) -> List[NixRaw]:
    return [NixRaw("pkgs." + n) for n in names]


@register("gpu_video", "gpu_video_")
def build_gpu(inp: Inputs) -> PhasePlan:
    vendor = inp.fact("gpu.vendor", kind=str, choices=VENDORS)
    enable = inp.bool_setting("enable", True)
    enable32 = inp.bool_setting("enable_32bit", True)
    decode = []
    if vendor != "none":
        decode = inp.fact("gpu.decode", kind=list, hint="codecs the GPU decodes, e.g. [h264, hevc, vp9]")
        unknown = [c for c in decode if c not in CODECS]
        if unknown:
            raise inp.fail("nixperf_hardware.gpu.decode", "has unknown codecs %s (known: %s)"
                           % (", ".join(map(str, unknown)), ", ".join(CODECS)))
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
        generation = inp.fact("gpu.generation", lo=1, hi=100, hint="Intel graphics generation, e.g. 9 for Skylake")
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
        phase="gpu_video", config=config, enable=enable,
        derived={"vendor": vendor, "decode": list(decode), "av1": "av1" in decode,
                 "libva_driver": env.get("LIBVA_DRIVER_NAME"), "packages": packages},
        description="VA-API / VDPAU video acceleration for the host's GPU",
        note="GPU %s: hardware decode of %s." % (vendor, ", ".join(decode) if decode else "nothing (software only)"),
    )
