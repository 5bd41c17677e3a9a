# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 5 of the workstation plan: VA-API video decoding per GPU vendor and generation.

What each vendor gets, and why (sources in roles/gpu_video/README.md):

* NVIDIA, proprietary driver: NixOS's own ``hardware.nvidia`` module adds
  ``nvidia-vaapi-driver`` (``hardware.nvidia.videoAcceleration``, default on) and
  writes ``nvidia-drm.modeset=1`` (``hardware.nvidia.modesetting.enable``), so the
  module sets those two options and never lists the driver or the kernel parameter
  itself.  ``libva-vdpau-driver`` is never installed: it ships a
  ``nvidia_drv_video.so`` too.  Variables: ``LIBVA_DRIVER_NAME=nvidia`` (libva
  2.20+ needs it), ``NVD_BACKEND=direct`` (the EGL backend is broken on drivers
  525+) and ``MOZ_DISABLE_RDD_SANDBOX=1`` (Firefox).  The GPU generation comes from
  ``gpu.architecture`` or the model name: before Kepler (Tesla, Fermi: legacy 390
  driver) nvidia-vaapi-driver cannot run (it needs driver 470+), so VA-API is
  switched off there; VDPAU stays with the driver's own library.
* Intel: ``intel-media-driver`` (iHD) from Broadwell (gen 8) on,
  ``intel-vaapi-driver`` (i965) for gen 4 to 7, nothing older.  libva picks the
  installed one itself (``i915`` -> iHD, then i965; ``xe`` -> iHD).
* AMD: Mesa's radeonsi VA-API driver comes with ``hardware.graphics``; libva maps
  ``amdgpu`` to it.  Nothing else is needed.
* VDPAU on AMD and Intel: Mesa 25.3 removed its VDPAU drivers; the only VDPAU
  driver left is ``libvdpau-va-gl`` (H.264 only, X11/GLX only), opt-in.
* No GPU (a VM on llvmpipe): graphics on, no video driver, no variables.

The codecs the GPU decodes come from the inventory (``gpu.decode``) and are
exported for validation (``vainfo`` must list them).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# NVIDIA GPU architectures, oldest first.
NVIDIA_ARCHITECTURES = ("tesla", "fermi", "kepler", "maxwell", "pascal", "volta", "turing", "ampere", "ada",
                        "hopper", "blackwell")
_NVIDIA_ALIASES = {"lovelace": "ada", "ada-lovelace": "ada", "ada lovelace": "ada"}
# nvidia-vaapi-driver needs driver series 470 or later; the oldest GPUs that driver runs are Kepler.
NVDEC_VAAPI_FROM = "kepler"
# The only backend that works on drivers 525 and later (the EGL one is broken there); the driver's default since
# 0.0.12, and tested from Kepler to Lovelace.
NVD_BACKEND = "direct"
# Intel graphics generations: iHD from Broadwell (8), i965 from G45 (4.5, written 4) to Haswell (7).
INTEL_IHD_FROM = 8
INTEL_I965_FROM = 4


def nvidia_architecture(model: Optional[str]) -> Optional[str]:
    """The architecture of a GeForce / TITAN by its model name (``GeForce GTX 960`` -> maxwell); None when the
    name does not say (Quadro, data-center cards, series that mix architectures)."""
    if not model:
        return None
    name = model.upper()
    if re.search(r"\bTITAN\s+V\b", name):
        return "volta"
    if re.search(r"\bTITAN\s+RTX\b", name):
        return "turing"
    m = re.search(r"\b(RTX|GTX|GTS|GT)\s*(\d{3,4})", name)
    if not m:
        return None
    prefix, number = m.group(1), int(m.group(2))
    if number >= 1000:
        series = number // 100
        if prefix == "RTX":
            return {20: "turing", 30: "ampere", 40: "ada", 50: "blackwell"}.get(series)
        if series == 16:
            return "turing"
        if series == 10:
            return "pascal"
        return None
    series = number // 100
    if series == 9:
        return "maxwell"
    if number in (745, 750):  # GTX 745 / 750 / 750 Ti are Maxwell (GM107) in a Kepler series
        return "maxwell"
    if series in (6, 7):
        return "kepler"
    if series in (4, 5):
        return "fermi"
    if series in (2, 3):
        return "tesla"
    return None


def _nvidia_generation(inp: Inputs) -> Optional[str]:
    given = inp.fact("gpu.architecture", None)
    if given is None:
        return nvidia_architecture(inp.fact("gpu.model", None))
    arch = given.strip().lower()
    arch = _NVIDIA_ALIASES.get(arch, arch)
    if arch not in NVIDIA_ARCHITECTURES:
        raise inp.fail("nixperf_hardware.gpu.architecture", "(%r) is not an NVIDIA architecture; use one of %s"
                       % (given, ", ".join(NVIDIA_ARCHITECTURES)))
    return arch


def _packages(names: List[str]) -> List[NixRaw]:
    return [NixRaw("pkgs." + n) for n in names]


def _nvidia(inp: Inputs) -> Dict[str, Any]:
    """The NVIDIA driver's part: NixOS's own options (nixpkgs nixos/modules/hardware/video/nvidia.nix adds
    pkgs.nvidia-vaapi-driver to hardware.graphics.extraPackages when videoAcceleration is on, and
    nvidia-drm.modeset=1 when modesetting is on) and the variables nvidia-vaapi-driver needs."""
    architecture = _nvidia_generation(inp)
    vaapi = (architecture is None
             or NVIDIA_ARCHITECTURES.index(architecture) >= NVIDIA_ARCHITECTURES.index(NVDEC_VAAPI_FROM))
    options: Dict[str, Any] = {"videoAcceleration": inp.owned(vaapi)}
    env: Dict[str, str] = {}
    if vaapi:
        options["modesetting"] = {"enable": inp.owned(True)}
        env = {"LIBVA_DRIVER_NAME": "nvidia", "NVD_BACKEND": NVD_BACKEND, "MOZ_DISABLE_RDD_SANDBOX": "1"}
    # VDPAU: the driver's own libvdpau_nvidia; "nvidia" is libvdpau's default driver name
    return {"architecture": architecture, "options": options, "env": env, "packages": [],
            "libva": "nvidia" if vaapi else None, "vdpau": "nvidia"}


def _intel(inp: Inputs) -> Dict[str, Any]:
    generation = inp.fact("gpu.generation", None)
    if generation is None:
        raise inp.fail("nixperf_hardware.gpu.generation", "is missing; an Intel GPU needs it to pick its VA-API "
                       "driver (Intel graphics generation, e.g. 9 for Skylake)")
    if generation >= INTEL_IHD_FROM:
        return {"packages": ["intel-media-driver"], "libva": "iHD"}
    if generation >= INTEL_I965_FROM:
        return {"packages": ["intel-vaapi-driver"], "libva": "i965"}
    return {"packages": [], "libva": None}


def build_gpu(inp: Inputs) -> PhasePlan:
    vendor = inp.fact("gpu.vendor")
    decode: List[str] = []
    if vendor != "none":
        decode = inp.fact("gpu.decode", None)
        if decode is None:
            raise inp.fail("nixperf_hardware.gpu.decode", "is missing; set it in the host's inventory file (codecs "
                           "the GPU decodes, e.g. [h264, hevc, vp9])")
    proprietary = vendor == "nvidia" and inp.fact("gpu.driver", None) != "nouveau"
    if proprietary:
        part = _nvidia(inp)
    elif vendor == "intel":
        part = _intel(inp)
    elif vendor in ("amd", "nvidia"):  # Mesa: radeonsi, or nouveau on an NVIDIA GPU without the NVIDIA driver
        part = {"packages": [], "libva": "radeonsi" if vendor == "amd" else "nouveau"}
    else:
        part = {"packages": [], "libva": None}
    packages: List[str] = list(part["packages"])
    env: Dict[str, str] = dict(part.get("env", {}))
    vdpau: Optional[str] = part.get("vdpau")
    if inp["vdpau_va_gl"] and not proprietary and part["libva"] is not None:
        packages.append("libvdpau-va-gl")
        env["VDPAU_DRIVER"] = "va_gl"
        vdpau = "va_gl"
    graphics: Dict[str, Any] = {"enable": inp.owned(True)}
    if vendor != "none":
        graphics["enable32Bit"] = inp.owned(inp["enable_32bit"])
    if packages:
        graphics["extraPackages"] = _packages(packages)
    config: Dict[str, Any] = {"hardware": {"graphics": graphics}}
    if part.get("options"):
        config["hardware"]["nvidia"] = part["options"]
    if env:
        config["environment"] = {"sessionVariables": {k: inp.owned(v) for k, v in env.items()}}
    architecture = part.get("architecture")
    return PhasePlan(
        phase="gpu_video", config=config, enable=inp["enable"],
        derived={"vendor": vendor, "decode": list(decode), "av1": "av1" in decode, "architecture": architecture,
                 "libva_driver": part["libva"], "vdpau_driver": vdpau, "nvd_backend": env.get("NVD_BACKEND"),
                 "packages": packages, "variables": dict(env)},
        description="VA-API video decoding for the host's GPU",
        note="GPU %s%s: VA-API driver %s; hardware decode of %s." % (
            vendor, " (%s)" % architecture if architecture else "", part["libva"] or "none",
            ", ".join(decode) if decode else "nothing (software only)"),
    )


PHASE = Phase(
    name="gpu_video",
    order=70,
    title="VA-API video decoding for the host's GPU vendor and generation (workstation plan, phase 5)",
    description=(
        "Generates C(nixperf/gpu_video.nix) with C(hardware.graphics) and the VA-API driver of the host's GPU, "
        "chosen by vendor and generation: C(nixperf_hardware.gpu.vendor), then C(gpu.generation) on Intel and "
        "C(gpu.architecture) or C(gpu.model) on NVIDIA.",
        "On NVIDIA it sets C(hardware.nvidia.videoAcceleration) and C(hardware.nvidia.modesetting.enable), NixOS's "
        "own options, instead of adding the driver or the kernel parameter itself, and the "
        "variables nvidia-vaapi-driver needs; before Kepler it switches VA-API off.",
        "Returns the codecs the GPU decodes (C(nixperf_planned.plan.derived.gpu_video.decode)) and the expected "
        "VA-API driver (C(libva_driver)) for validation.",
    ),
    facts=("gpu.vendor",),
    tags=("nixos", "vaapi", "video", "gpu"),
    build=build_gpu,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.gpu_video.enable) in the generated module."),
        Setting("enable_32bit", "bool", True, "32-bit graphics libraries (Steam, Wine); ignored on a GPU-less "
                "host."),
        Setting("vdpau_va_gl", "bool", False, "VDPAU for AMD and Intel GPUs through C(libvdpau-va-gl) (VDPAU over "
                "VA-API: H.264 only, X11 only) and C(VDPAU_DRIVER=va_gl). Mesa 25.3 removed its own VDPAU drivers; "
                "players and browsers use VA-API. Ignored on NVIDIA's driver (it has its own VDPAU) and without a "
                "GPU."),
    ),
)
