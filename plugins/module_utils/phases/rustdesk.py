# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 5 of the KubeVirt KDE VM plan: the RustDesk client, its service and its codec settings.

RustDesk rewrites its TOML files while it runs and keeps its ID, key pair and password salt in them, so the phase
never writes them whole: it owns single keys (``module_utils/desktop.OwnedKey``, format ``toml``), which the
host-side step sets with the service stopped and gives back when the phase is switched off.  Sources and the
reasoning behind every value are in roles/rustdesk/README.md; in short (rustdesk/rustdesk and
rustdesk/hbb_common, 2026-08):

* ``~/.config/rustdesk/RustDesk2.toml [options]`` (hbb_common ``Config2``, read by the side that is *reached*):
  ``direct-server`` (``Y`` listens for direct IP access, TCP, default port 21116 + 2 = 21118,
  ``direct-access-port``) and ``enable-hwcodec`` (``N`` keeps RustDesk from probing and using VA-API / NVENC).
  With the system service, root's copy (``/root/.config/rustdesk``) is the one that counts: a user's ``--server``
  takes root's ``Config2`` when it starts (``src/server.rs`` ``sync_and_watch_config_dir``), so the keys are
  owned for ``root`` too.
* ``~/.config/rustdesk/RustDesk_default.toml [options]`` (hbb_common ``UserDefaultConfig``): the *viewer's*
  defaults, ``codec-preference``, ``image_quality``, ``custom_image_quality``, ``custom-fps``, copied into a peer's
  own file (``peers/<id>.toml``) at the first connection to it.  They shape the sessions this host opens; the
  sessions opened *to* this host follow the viewer's settings, so they belong on the machines users connect from.
* Hardware encoding on Linux (rustdesk-org/hwcodec ``src/ffmpeg_ram/encode.rs``): NVENC H.264 / H.265 with
  NVIDIA's driver, VA-API H.264 otherwise (``hevc_vaapi`` is disabled upstream); without a GPU only the software
  codecs VP8, VP9 and AV1 remain.  Hardware or software H.264 / H.265 *decoding* needs the hwcodec feature, which
  only the ``rustdesk-flutter`` package is built with.
* nixpkgs has no module for the client (``services.rustdesk-server`` is the relay), so the phase writes
  ``systemd.services.rustdesk`` after upstream's ``res/rustdesk.service``.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixOverride, NixRaw
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

PACKAGES = ("rustdesk-flutter", "rustdesk")
# the package built with the hwcodec feature (nixpkgs pkgs/by-name/ru/rustdesk-flutter: cargoBuildFeatures
# flutter, hwcodec, linux-pkg-config); pkgs/by-name/ru/rustdesk (Sciter UI) has linux-pkg-config only
FLUTTER = "rustdesk-flutter"
CODECS = ("auto", "vp8", "vp9", "av1", "h264", "h265")
QUALITIES = ("best", "balanced", "low", "custom")
REMOTE = "rustdesk"

CONFIG_FILE = ".config/rustdesk/RustDesk2.toml"
DEFAULT_FILE = ".config/rustdesk/RustDesk_default.toml"
TABLE = ("options",)
UNIT = "rustdesk.service"
# the system service runs as root; its Config2 (root's RustDesk2.toml) is synced to every user's --server
SERVICE_USER = "root"

# hbb_common RENDEZVOUS_PORT (21116) + 2: rustdesk src/rendezvous_mediator.rs get_direct_port, a TCP listener
DIRECT_PORT = 21118
# libs/scrap/src/common/codec.rs: base_bitrate(1920, 1080) in kbit/s, and the ratios of the three presets
BASE_KBPS_1080P = 2073
RATIOS = {"best": 1.5, "balanced": 0.67, "low": 0.5}
# src/server/video_qos.rs: a custom quality q gives the ratio q * 2 / 100, clamped to [BR_MIN, BR_MAX]
BR_MIN, BR_MAX = 0.2, 40.0
# hbb_common UserDefaultConfig::get: the defaults of custom_image_quality and custom-fps
DEFAULT_CUSTOM_QUALITY = 50
DEFAULT_CUSTOM_FPS = 30
# src/client.rs: above these, a custom quality / fps is used only on direct IP or own-server connections
PUBLIC_SERVER_QUALITY, PUBLIC_SERVER_FPS = 100, 30
# codec.rs Encoder::update: RustDesk's own automatic choice falls to VP8 on hosts with at most 4 GiB of RAM
VP8_RAM_MIB = 4096
SMALL_THREADS = 2

WAYLAND_LIMITS = (
    "the login screen cannot be reached: unattended access needs an X11 session",
    "the first session needs consent in the desktop's screen-sharing portal, given at the host itself (later ones "
    "reuse RustDesk's restore token when the portal is version 4 or later)",
    "one display is captured (no multi-monitor capture)",
    "frames come through PipeWire and a GStreamer videoconvert on the CPU",
)


def ratio(quality: str, custom: Optional[int]) -> float:
    """The bitrate ratio RustDesk's video QoS targets for an image quality (``src/server/video_qos.rs``)."""
    if quality == "custom":
        return min(max((custom or DEFAULT_CUSTOM_QUALITY) * 2 / 100.0, BR_MIN), BR_MAX)
    return RATIOS[quality]


def bitrate_kbps_1080p(quality: str, custom: Optional[int]) -> int:
    """The encoder's target bitrate for a 1920x1080 screen (``base_bitrate`` x ratio), in kbit/s."""
    return int(BASE_KBPS_1080P * ratio(quality, custom))


def max_custom_quality(target_mbps: int) -> int:
    """The highest custom quality whose 1080p target stays within ``target_mbps``."""
    return max(10, min(2000, int(math.floor(target_mbps * 1000 * 50 / BASE_KBPS_1080P))))


def hw_encoders(vendor: str, driver: Optional[str], encode: List[str]) -> List[str]:
    """What RustDesk's hwcodec can encode on this GPU under Linux: NVENC H.264 / H.265 with NVIDIA's driver,
    VA-API H.264 on Intel and AMD (hevc_vaapi is commented out upstream); Mesa's nouveau has no encoder."""
    if vendor == "none" or (vendor == "nvidia" and driver == "nouveau"):
        return []
    out = ["h264"] if "h264" in encode else []
    if vendor == "nvidia" and "hevc" in encode:
        out.append("h265")
    return out


def hw_decoders(vendor: str, decode: List[str]) -> List[str]:
    """What hwcodec decodes in hardware (CUDA on NVIDIA, VA-API otherwise): H.264 and H.265 the GPU decodes."""
    if vendor == "none":
        return []
    return [name for name, fact in (("h264", "h264"), ("h265", "hevc")) if fact in decode]


def served_auto_codec(hw_encode: List[str], ram_mib: Optional[int]) -> str:
    """RustDesk's own choice when every viewer asks for "auto" (codec.rs ``Encoder::update``): H.265, then H.264
    when encoded in hardware; else AV1 when this host passed RustDesk's AV1 speed test (``av1-test``), VP9 when
    not, and VP8 instead of either with at most 4 GiB of RAM."""
    if "h265" in hw_encode:
        return "h265"
    if "h264" in hw_encode:
        return "h264"
    if ram_mib is not None and ram_mib <= VP8_RAM_MIB:
        return "vp8"
    return "av1-or-vp9"


def _yn(value: bool) -> str:
    return "Y" if value else "N"


def _inactive(inp: Inputs, remote: Optional[str]) -> PhasePlan:
    return PhasePlan(
        phase="rustdesk", config=None, enable=inp["enable"],
        derived={"active": False, "remote": remote},
        description="the RustDesk client",
        note="Not planned: nixperf_desktop.remote is %s, not rustdesk (rustdesk_active: true plans it anyway)."
        % (remote or "unset"),
    )


def _service(package: str, inp: Inputs) -> Dict[str, Any]:
    """``systemd.services.rustdesk`` after upstream's res/rustdesk.service (rustdesk/rustdesk, 2025-08-25)."""
    return {
        "description": inp.owned("RustDesk"),
        "requires": ["network.target"],
        "after": ["systemd-user-sessions.service"],
        "wantedBy": ["multi-user.target"],
        "environment": {"PULSE_LATENCY_MSEC": inp.owned("60"), "PIPEWIRE_LATENCY": inp.owned("1024/48000")},
        "serviceConfig": {
            "Type": inp.owned("simple"),
            "ExecStart": NixOverride(inp.priority, NixRaw('"${lib.getExe pkgs.%s} --service"' % package)),
            # kills --tray and --server too (upstream's comment); pkill is not on a NixOS unit's PATH
            "ExecStop": NixOverride(inp.priority, NixRaw('"${pkgs.procps}/bin/pkill -f \\"rustdesk --\\""')),
            "PIDFile": inp.owned("/run/rustdesk.pid"),
            "KillMode": inp.owned("mixed"),
            "TimeoutStopSec": inp.owned(30),
            # explicit, as upstream: systemd then sets HOME=/root, where the service keeps its configuration
            "User": inp.owned("root"),
            "LimitNOFILE": inp.owned(100000),
        },
    }


def _custom(inp: Inputs, quality: str, flutter: bool) -> Tuple[Optional[int], Optional[int]]:
    for name in ("custom_image_quality", "custom_fps"):
        if inp[name] is not None and quality != "custom":
            raise inp.fail(inp.prefix + name, "is only read with rustdesk_image_quality custom (got %s); set "
                           "rustdesk_image_quality: custom or drop it" % quality)
    if quality != "custom":
        return None, None
    if inp["custom_fps"] is not None and not flutter:
        raise inp.fail(inp.prefix + "custom_fps", "is sent only by the Flutter client (src/client.rs, feature "
                       "flutter); rustdesk_package rustdesk is the Sciter one: use rustdesk-flutter or drop it")
    fps = inp["custom_fps"] if inp["custom_fps"] is not None else DEFAULT_CUSTOM_FPS
    quality_value = inp["custom_image_quality"]
    return (DEFAULT_CUSTOM_QUALITY if quality_value is None else quality_value), (fps if flutter else None)


def build(inp: Inputs) -> PhasePlan:
    remote = inp.desktop.get("remote")
    reached = remote == REMOTE
    active = inp["active"] if inp["active"] is not None else reached
    if not active:
        return _inactive(inp, remote)
    package: str = inp["package"]
    flutter = package == FLUTTER
    vendor = inp.fact("gpu.vendor")
    driver = inp.fact("gpu.driver", None)
    encode = list(inp.fact("gpu.encode", []))
    decode = list(inp.fact("gpu.decode", []))
    threads = inp.fact("cpu.threads", None)
    ram = inp.fact("memory.total_mib", None)
    session = inp.desktop.get("session")
    small = (threads is not None and threads <= SMALL_THREADS) or (ram is not None and ram <= VP8_RAM_MIB)

    hw_enc, hw_dec = hw_encoders(vendor, driver, encode), hw_decoders(vendor, decode)
    hwcodec = inp["hwcodec"]
    if hwcodec and not flutter:
        raise inp.fail(inp.prefix + "hwcodec", "needs RustDesk's hwcodec feature, which the nixpkgs package rustdesk "
                       "(Sciter) is built without; set rustdesk_package: rustdesk-flutter or rustdesk_hwcodec: false")
    if hwcodec and vendor == "none":
        raise inp.fail(inp.prefix + "hwcodec", "is true, but nixperf_hardware.gpu.vendor is none: VA-API, NVENC and "
                       "AMF have no GPU to run on; leave rustdesk_hwcodec unset (false without a GPU)")
    if hwcodec is None:
        hwcodec = flutter and bool(hw_enc or hw_dec)

    codec = inp["codec"]
    if codec in ("h264", "h265") and not flutter:
        raise inp.fail(inp.prefix + "codec", "%s needs the hwcodec feature to decode (libs/scrap/src/common/"
                       "codec.rs supported_decodings); the nixpkgs package rustdesk lacks it: use rustdesk-flutter or one "
                       "of auto, vp8, vp9, av1" % codec)
    if codec is None:
        preferred = [c for c in ("h265", "h264") if c in hw_dec] if hwcodec else []
        codec = preferred[0] if preferred else ("vp8" if small else "vp9")

    quality = inp["image_quality"] or ("low" if threads is not None and threads <= SMALL_THREADS else "balanced")
    custom_quality, custom_fps = _custom(inp, quality, flutter)
    kbps = bitrate_kbps_1080p(quality, custom_quality)
    target = inp["bandwidth_target_mbps"]
    if kbps > target * 1000:
        var = "custom_image_quality" if quality == "custom" else "image_quality"
        raise inp.fail(inp.prefix + var, "targets %.1f Mbit/s for a 1080p screen (%s), above "
                       "rustdesk_bandwidth_target_mbps %d; with custom, at most %d fits"
                       % (kbps / 1000.0, custom_quality if quality == "custom" else quality, target,
                          max_custom_quality(target)))

    direct = inp["direct_access"] if inp["direct_access"] is not None else reached
    port = inp["direct_access_port"]
    if not direct and inp.given("direct_access_port"):
        raise inp.fail(inp.prefix + "direct_access_port", "is only used with rustdesk_direct_access: true")
    firewall = inp["open_firewall"]
    if firewall and not direct:
        raise inp.fail(inp.prefix + "open_firewall", "opens the direct-access port, but rustdesk_direct_access is "
                       "false; enable direct access or drop rustdesk_open_firewall")
    firewall = direct if firewall is None else firewall
    service = inp["service"] if inp["service"] is not None else reached

    live, unit = ("service", UNIT) if service else ("login", None)

    def key(file: str, name: str, value: str) -> OwnedKey:
        return OwnedKey(file, TABLE, name, value, format="toml", live=live, unit=unit)

    server = [key(CONFIG_FILE, "direct-server", _yn(direct))]
    if direct:
        server.append(key(CONFIG_FILE, "direct-access-port", str(port)))
    if flutter:
        server.append(key(CONFIG_FILE, "enable-hwcodec", _yn(hwcodec)))
    viewer = [key(DEFAULT_FILE, "codec-preference", codec), key(DEFAULT_FILE, "image_quality", quality)]
    if custom_quality is not None:
        viewer.append(key(DEFAULT_FILE, "custom_image_quality", str(custom_quality)))
    if custom_fps is not None:
        viewer.append(key(DEFAULT_FILE, "custom-fps", str(custom_fps)))
    keys: Dict[str, List[OwnedKey]] = {user: server + viewer for user in inp.users}
    if service:
        keys.setdefault(SERVICE_USER, list(server))

    config: Dict[str, Any] = {"environment": {"systemPackages": [NixRaw("pkgs." + package)]}}
    if service:
        config["systemd"] = {"services": {"rustdesk": _service(package, inp)}}
    if direct and firewall:
        config["networking"] = {"firewall": {"allowedTCPPorts": [port]}}

    wayland = session == "wayland"
    capped = bool((custom_quality or 0) > PUBLIC_SERVER_QUALITY or (custom_fps or 0) > PUBLIC_SERVER_FPS)
    derived = {
        "active": True, "remote": remote, "package": package, "service": service, "session": session,
        "gpu_vendor": vendor, "hwcodec": hwcodec, "hw_encode": hw_enc, "hw_decode": hw_dec,
        "served_codecs": ["vp8", "vp9", "av1"] + [c for c in hw_enc if hwcodec],
        "served_auto_codec": served_auto_codec(hw_enc if hwcodec else [], ram),
        "codec": codec, "image_quality": quality, "custom_image_quality": custom_quality, "custom_fps": custom_fps,
        "bitrate_kbps_1080p": kbps, "bandwidth_target_mbps": target, "within_bandwidth_target": True,
        "needs_direct_or_own_server": capped,
        "direct_access": direct, "direct_access_port": port if direct else None,
        "firewall_tcp_ports": [port] if direct and firewall else [],
        "unattended_login_screen": session == "x11", "wayland_limits": list(WAYLAND_LIMITS) if wayland else [],
        "config_owners": sorted(keys), "keys": {u: [k.as_dict() for k in owned] for u, owned in sorted(keys.items())},
    }
    notes = ["RustDesk (%s): hwcodec %s%s; direct IP access %s; viewer defaults %s / %s (%.1f Mbit/s at 1080p)."
             % (package, "on" if hwcodec else "off",
                " (encodes %s in hardware)" % ", ".join(hw_enc) if hwcodec and hw_enc else "",
                "on TCP %d%s" % (port, " (firewall opened)" if firewall else "") if direct else "off",
                codec, quality if quality != "custom" else "custom %d%s" % (
                    custom_quality, " @ %d fps" % custom_fps if custom_fps is not None else ""),
                kbps / 1000.0)]
    if wayland:
        notes.append("Wayland: " + "; ".join(WAYLAND_LIMITS) + ".")
    if capped:
        notes.append("Custom quality above %d or fps above %d is used only on direct IP or own-server connections."
                     % (PUBLIC_SERVER_QUALITY, PUBLIC_SERVER_FPS))
    if not service:
        notes.append("No system service: quit RustDesk before a run, or it writes its files back from memory.")
    return PhasePlan(
        phase="rustdesk", config=config, enable=inp["enable"], keys=keys, derived=derived,
        description="the RustDesk client, its service and codec settings", note="\n".join(notes),
    )


PHASE = Phase(
    name="rustdesk",
    order=95,
    title="RustDesk client service, direct IP access and codec settings (KubeVirt plan, phase 5)",
    description=(
        "Planned when C(nixperf_desktop.remote) is C(rustdesk) (or C(rustdesk_active) is true); otherwise the host "
        "gets no module and no keys.",
        "Generates C(nixperf/rustdesk.nix): the client package, C(systemd.services.rustdesk) after upstream's "
        "C(res/rustdesk.service) (nixpkgs has only the relay server's module) and the direct-access port in "
        "C(networking.firewall.allowedTCPPorts).",
        "Owns single keys of C(~/.config/rustdesk/RustDesk2.toml) (C(direct-server), C(direct-access-port), "
        "C(enable-hwcodec); also root's copy when the service runs) and C(~/.config/rustdesk/RustDesk_default.toml) "
        "(C(codec-preference), C(image_quality), C(custom_image_quality), C(custom-fps)), set with the service "
        "stopped and given back when the phase is switched off.",
        "Derives hardware coding from C(nixperf_hardware.gpu) (vendor, driver, C(encode), C(decode)), the codec and "
        "quality from the GPU, threads and RAM, and returns the 1080p target bitrate against the plan's 30 Mbit/s "
        "(C(nixperf_planned.plan.derived.rustdesk)).",
    ),
    facts=(),
    users=True,
    tags=("rustdesk", "desktop"),
    build=build,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.rustdesk.enable) in the generated module."),
        Setting("active", "bool", None, "Plan the phase; null = when C(nixperf_desktop.remote) is C(rustdesk). True "
                "on a machine users connect from gives it the viewer defaults (set C(rustdesk_service) and "
                "C(rustdesk_direct_access) as needed)."),
        Setting("package", "str", FLUTTER, "The nixpkgs client package: C(rustdesk-flutter) (built with the "
                "hwcodec feature) or C(rustdesk) (the Sciter UI, no hardware codecs, no custom fps).",
                choices=PACKAGES),
        Setting("service", "bool", None, "Run C(rustdesk --service) as the system unit C(rustdesk.service) (after "
                "upstream's C(res/rustdesk.service)); null = when C(nixperf_desktop.remote) is C(rustdesk)."),
        Setting("codec", "str", None, "Viewer default C(codec-preference); null = C(h265) or C(h264) when the GPU "
                "decodes it and hwcodec is on, else C(vp9) (C(vp8) with 2 threads or 4 GiB of RAM or less).",
                choices=CODECS),
        Setting("image_quality", "str", None, "Viewer default C(image_quality); null = C(balanced) (C(low) with 2 "
                "threads or fewer).", choices=QUALITIES),
        Setting("custom_image_quality", "int", None, "C(custom_image_quality), 10 to 2000 (percent of the base "
                "bitrate; 50 when null). Read only with image quality custom.", lo=10, hi=2000),
        Setting("custom_fps", "int", None, "C(custom-fps), 5 to 120 (30 when null); only with "
                "C(rustdesk_image_quality) custom and the Flutter client.", lo=5, hi=120),
        Setting("hwcodec", "bool", None, "C(enable-hwcodec): hardware encoding and decoding through VA-API / NVENC; "
                "null = on when the GPU encodes or decodes H.264 / H.265 (C(nixperf_hardware.gpu.encode), "
                "C(decode)), off without a GPU."),
        Setting("direct_access", "bool", None, "C(direct-server): accept direct IP connections (TCP) besides the "
                "rendezvous / relay path; null = when C(nixperf_desktop.remote) is C(rustdesk)."),
        Setting("direct_access_port", "int", DIRECT_PORT, "C(direct-access-port), the TCP port of direct IP "
                "access.", lo=1024, hi=65535),
        Setting("open_firewall", "bool", None, "Open the direct-access port in the NixOS firewall "
                "(C(allowedTCPPorts)); null = with direct access. False: open it on trusted interfaces only, e.g. "
                "C(tailscale0) in C(trustedInterfaces)."),
        Setting("bandwidth_target_mbps", "int", 30, "The plan's bandwidth ceiling for a 1080p session; an image "
                "quality whose target bitrate exceeds it is refused.", lo=1, hi=1000),
    ),
)
