# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Chromium switches and features the collection writes, as data, each with its upstream source.

One table (``FLAGS``) says which switch or ``--enable-features`` name goes to which display session, GPU vendor and
app kind, in which Chromium file it is defined and since when; ``DROPPED`` lists the names the workstation plan used
that are no longer written, and why.  ``gpu_flags`` turns the table into the words for one app, and ``readme_rows``
renders it for ``roles/electron_apps/README.md`` (a unit test checks that the README lists every row).

Chromium reads a switch given twice from its last occurrence only (``base/command_line.h``: "If a switch is specified
multiple times, only the last value is used"), so every ``--enable-features`` / ``--disable-features`` an app gets is
merged into one switch by ``merge_features``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

SESSIONS = ("x11", "wayland")
GPU_VENDORS = ("nvidia", "amd", "intel")
# What an app reads Chromium switches from: electron and cef from the command line, qt from
# QTWEBENGINE_CHROMIUM_FLAGS, native not at all.
KINDS = ("electron", "cef", "qt", "native")
CHROMIUM_KINDS = ("electron", "cef", "qt")
FEATURE_SWITCHES = ("--enable-features", "--disable-features")
QT_ENV = "QTWEBENGINE_CHROMIUM_FLAGS"

_COMMAND_LINE = ("electron", "cef")  # kinds that take Chromium switches on their own command line

# Files cited below, all in chromium/src unless another project is named.
_MEDIA = "media/base/media_switches.cc"
_PRESENT = "present in chromium/src main"
_RENAME = ("renamed in M131 (chromium/src 5482210941a9; the M130 name still worked in Chrome 130.0.6723.91, the M132 "
           "tree has the new one)")


@dataclass(frozen=True)
class Flag:
    """One switch (``--name[=value]``) or one ``--enable-features`` name, and where it applies."""

    name: str
    feature: bool
    source: str
    milestone: str
    why: str
    sessions: Tuple[str, ...] = SESSIONS
    vendors: Tuple[str, ...] = GPU_VENDORS
    kinds: Tuple[str, ...] = CHROMIUM_KINDS
    replaced_by: Optional[str] = None  # set on an old name written next to its new one for older Chromium

    def applies(self, vendor: str, session: str, kind: str) -> bool:
        return vendor in self.vendors and session in self.sessions and kind in self.kinds


FLAGS: Tuple[Flag, ...] = (
    Flag("--ozone-platform=x11", False, "ui/ozone/public/ozone_switches.cc (kOzonePlatform)", _PRESENT,
         "X11 session: the X11 Ozone backend, whatever the app's own default (Electron 38+ prefers Wayland)",
         sessions=("x11",), kinds=_COMMAND_LINE),
    Flag("--ozone-platform=wayland", False, "ui/ozone/public/ozone_switches.cc (kOzonePlatform)",
         _PRESENT, "Wayland session: native Wayland instead of XWayland", sessions=("wayland",),
         kinds=_COMMAND_LINE),
    Flag("--enable-wayland-ime", False, "ui/ozone/public/ozone_switches.cc (kEnableWaylandIme)",
         _PRESENT, "input methods under native Wayland", sessions=("wayland",), kinds=_COMMAND_LINE),
    Flag("--use-gl=angle", False, "ui/gl/gl_switches.cc (kUseGL, kGLImplementationANGLEName)",
         "`desktop` is no longer a GL implementation name (gl_switches.cc: egl, angle, mock, stub, disabled)",
         "the plan's `--use-gl=desktop` makes the GPU process fall back to software; ANGLE is what Chromium runs",
         sessions=("x11",), kinds=_COMMAND_LINE),
    Flag("--use-angle=gl", False, "ui/gl/gl_switches.cc (kUseANGLE, kANGLEImplementationOpenGLName); "
         "docs/gpu/vaapi.md (VaAPI on Linux with OpenGL)", "M131 docs",
         "ANGLE on OpenGL: the GL path VA-API decoding is documented for", sessions=("x11",), kinds=_COMMAND_LINE),
    Flag("--enable-gpu-rasterization", False, "gpu/config/gpu_switches.cc (kEnableGpuRasterization)",
         _PRESENT + "; default-on on Linux (gpu_finch_features.cc kDefaultEnableGpuRasterization)",
         "keeps GPU rasterization where a blocklist entry would turn it off"),
    Flag("--enable-zero-copy", False, "third_party/blink/public/common/switches.cc (kEnableZeroCopy)",
         _PRESENT, "raster tiles written straight into GPU memory", sessions=("x11",),
         kinds=_COMMAND_LINE),
    Flag("--ignore-gpu-blocklist", False, "gpu/config/gpu_switches.cc (kIgnoreGpuBlocklist)", _PRESENT,
         "older GPUs (GTX 960) stay accelerated; listed as optional in docs/gpu/vaapi.md"),
    Flag("--enable-native-gpu-memory-buffers", False, "ui/gfx/switches.cc (kEnableNativeGpuMemoryBuffers)",
         _PRESENT, "native GPU memory buffers on Linux (the plan's NVIDIA set)", sessions=("x11",),
         vendors=("nvidia",), kinds=_COMMAND_LINE),
    Flag("AcceleratedVideoDecoder", True, _MEDIA + " (kAcceleratedVideoDecodeLinux)", _RENAME + "; default-on in "
         "USE_VAAPI builds", "VA-API video decoding on Linux; media/mojo/services/gpu_mojo_media_client_linux.cc "
         "uses no platform decoder without it"),
    Flag("AcceleratedVideoDecodeLinuxGL", True, _MEDIA + " (kAcceleratedVideoDecodeLinuxGL)",
         _RENAME + "; default-on in the newest tree (chromium/src 616cc2be, 2026)",
         "VA-API decoding when the GPU process runs GL (our --use-angle=gl path): gpu_mojo_media_client_linux.cc "
         "returns no decoder on GL without it"),
    Flag("AcceleratedVideoDecodeLinuxZeroCopyGL", True,
         "media/mojo/services/gpu_mojo_media_client_linux.cc; docs/gpu/vaapi.md", "M131 docs",
         "zero-copy NV12/P010 import on EGL/Wayland (docs/gpu/vaapi.md)", sessions=("wayland",), kinds=_COMMAND_LINE),
    Flag("AcceleratedVideoEncoder", True, _MEDIA + " (kAcceleratedVideoEncodeLinux)", _RENAME,
         "VA-API encoding for calls and screen sharing; both recipes of docs/gpu/vaapi.md enable it"),
    Flag("VaapiVideoDecoder", True, _MEDIA + " (kVaapiVideoDecodeLinux, up to M130)", "M130 and older",
         "old name of AcceleratedVideoDecoder, for apps on an older Chromium (bundled Electron or CEF, "
         "Qt WebEngine)", replaced_by="AcceleratedVideoDecoder"),
    Flag("VaapiVideoDecodeLinuxGL", True, _MEDIA + " (kVaapiVideoDecodeLinuxGL, up to M130)",
         "2023 to M130", "old name of AcceleratedVideoDecodeLinuxGL, for apps on an older Chromium",
         replaced_by="AcceleratedVideoDecodeLinuxGL"),
    Flag("VaapiVideoEncoder", True, _MEDIA + " (kVaapiVideoEncodeLinux, up to M130)", "M130 and older",
         "old name of AcceleratedVideoEncoder, for apps on an older Chromium", replaced_by="AcceleratedVideoEncoder"),
    Flag("VaapiOnNvidiaGPUs", True, _MEDIA + " (kVaapiOnNvidiaGPUs, default off, crbug.com/1492880); "
         "media/gpu/vaapi/vaapi_wrapper.cc", "since late 2023 (Chromium 12x)",
         "without it Chromium skips the `nvidia-drm` device (\"Skipping nVidia device named: nvidia-drm\") and never "
         "opens nvidia-vaapi-driver", vendors=("nvidia",)),
    Flag("WaylandWindowDecorations", True, "electron/electron shell/browser/native_window.cc "
         "(features::kWaylandWindowDecorations)", "Electron 17; default-on since Electron 27 (electron/electron#39582)",
         "client-side decorations for Electron apps pinned to Electron 26 or older under GNOME; KDE draws its own",
         sessions=("wayland",), kinds=("electron",)),
)

# Names the workstation plan (or earlier releases of this role) wrote that are no longer written.
DROPPED: Dict[str, str] = {
    "--use-gl=desktop": "not a GL implementation name any more (ui/gl/gl_switches.cc): the GPU process falls back to "
                        "software rendering",
    "--enable-hardware-overlays": "without a value it sets an empty overlay strategy list "
                                  "(components/viz/common/display/overlay_strategy.cc ParseOverlayStrategies, "
                                  "components/viz/host/renderer_settings_creation.cc), replacing the platform's "
                                  "defaults; X11 has no overlays to promote",
    "Vulkan": "Vulkan compositing without --use-angle=vulkan, DefaultANGLEVulkan and VulkanFromANGLE leaves VA-API "
              "with no decoder (gpu_mojo_media_client_linux.cc); Wayland Ozone does not support it",
    "VaapiIgnoreDriverChecks": "read only on the Vulkan decode path (gpu_mojo_media_client_linux.cc); "
                               "docs/gpu/vaapi.md lists it only in the Vulkan recipe",
    "CanvasOopRasterization": "enabled by default on Linux (gpu/config/gpu_finch_features.cc); the switch adds "
                              "nothing",
    "UseOzonePlatform": "Ozone is the only Linux platform; the feature name is gone",
}


def flags_for(vendor: str, session: str, kind: str) -> List[Flag]:
    """The table's entries for one GPU vendor, display session and app kind (none without a GPU)."""
    return [f for f in FLAGS if f.applies(vendor, session, kind)]


def gpu_flags(vendor: str, session: str, kind: str = "electron") -> List[str]:
    """The Chromium switches for this GPU vendor, session and app kind: switches, then one ``--enable-features``."""
    chosen = flags_for(vendor, session, kind)
    words = [f.name for f in chosen if not f.feature]
    features = [f.name for f in chosen if f.feature]
    if features:
        words.append("--enable-features=" + ",".join(features))
    return words


def merge_features(words: Sequence[str]) -> List[str]:
    """``words`` with every ``--enable-features`` (and ``--disable-features``) merged into its first occurrence.

    Chromium keeps only the last value of a repeated switch, so a second ``--enable-features`` (an app's extra flag)
    would silently drop the first list (the VA-API features).  Names keep their order and appear once.
    """
    merged: Dict[str, List[str]] = {}
    out: List[str] = []
    for word in words:
        switch, sep, value = word.partition("=")
        if switch in FEATURE_SWITCHES and sep:
            if switch not in merged:
                merged[switch] = []
                out.append(switch)
            merged[switch].extend(v for v in value.split(",") if v and v not in merged[switch])
        else:
            out.append(word)
    return [w + "=" + ",".join(merged[w]) if w in merged else w for w in out]


def readme_rows() -> List[str]:
    """The flag table of the role README, one Markdown row per entry (checked by a unit test)."""
    rows = []
    for f in FLAGS:
        name = ("`--enable-features=%s`" % f.name) if f.feature else "`%s`" % f.name
        if f.replaced_by:
            name += " (old name of `%s`)" % f.replaced_by
        rows.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            name, ", ".join(f.sessions), ", ".join(f.vendors), ", ".join(f.kinds), f.source, f.milestone, f.why))
    return rows
