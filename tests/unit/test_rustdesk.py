"""rustdesk: the builder's branches and checks, the owned keys as RustDesk reads them, and the NixOS module through
the real evaluator.

The stubs carry the upstream behaviour the generated values meet; every one names its source (rustdesk/rustdesk
master of 2026-08-22, 7423dced; rustdesk/hbb_common master of 2026-08-19, c2d8a6db):

* ``UPSTREAM_UNIT`` is ``res/rustdesk.service`` as upstream ships it (last changed 2025-08-25, 9e22f963);
* ``user_default_get`` is hbb_common ``src/config.rs`` ``UserDefaultConfig::get`` for the keys the phase owns
  (``get_string`` falls back to the default for a value outside its list, ``get_num_string`` parses a float and
  falls back outside its range), ``option2bool`` and ``direct_port`` are ``option2bool`` and rustdesk
  ``src/rendezvous_mediator.rs`` ``get_direct_port``;
* ``qos_kbps_1080p`` is ``libs/scrap/src/common/codec.rs`` ``base_bitrate`` x ``src/server/video_qos.rs``
  ``convert_quality`` (a custom quality goes over the wire shifted left by 8, ``src/client.rs``);
* ``client_sends`` is ``src/client.rs`` ``get_option_message``: above quality 100 or 30 fps, custom values fall
  back (quality 50, fps 30) unless the connection is direct or the rendezvous server is not the public one.
"""
from __future__ import annotations

from pathlib import Path

import json
import shlex
import tomllib
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import DEFAULT_PRIORITY, PhaseError, build, get
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import rustdesk as R
from ansible_collections.nixperf.tuning.plugins.module_utils.tomlkeys import TomlDoc

VM = {"cpu": {"threads": 8, "cores": 8}, "memory": {"total_mib": 16384},
      "gpu": {"vendor": "none", "model": "llvmpipe", "driver": "llvmpipe", "decode": [], "encode": []},
      "virtualization": {"guest": True, "platform": "kubevirt"}}
INTEL = {"cpu": {"threads": 8, "cores": 4}, "memory": {"total_mib": 16384},
         "gpu": {"vendor": "intel", "generation": 9, "driver": "i915", "decode": ["h264", "hevc", "vp9"],
                 "encode": ["h264", "hevc"]}}
NVIDIA = {"cpu": {"threads": 16, "cores": 8}, "memory": {"total_mib": 32768},
          "gpu": {"vendor": "nvidia", "driver": "nvidia", "architecture": "ada", "decode": ["h264", "hevc", "vp9", "av1"],
                  "encode": ["h264", "hevc", "av1"]}}
AMD = {"cpu": {"threads": 16, "cores": 8}, "memory": {"total_mib": 32768},
       "gpu": {"vendor": "amd", "driver": "amdgpu", "decode": ["h264", "hevc", "vp9", "av1"], "encode": ["h264", "hevc"]}}
NOUVEAU = {"cpu": {"threads": 4, "cores": 4}, "memory": {"total_mib": 8192},
           "gpu": {"vendor": "nvidia", "driver": "nouveau", "decode": ["h264"]}}
TINY = {"cpu": {"threads": 2, "cores": 2}, "memory": {"total_mib": 2048}, "gpu": {"vendor": "none"}}
REACHED = {"environment": "plasma6", "session": "x11", "remote": "rustdesk"}
WAYLAND = dict(REACHED, session="wayland")
USERS = ["mitsio"]


_UNSET = object()


def plan(settings_=None, hw=None, desktop=_UNSET, users=None, priority=None):
    return build("rustdesk", "plasma-vm-01", settings_ or {}, VM if hw is None else hw,
                 users=USERS if users is None else users, desktop=REACHED if desktop is _UNSET else desktop,
                 priority=priority)


def keyvals(p, user="mitsio") -> Dict[Tuple[str, str], str]:
    return {(k.file.rsplit("/", 1)[1], k.key): k.value for k in p.keys[user]}


# --------------------------------------------------------------------------- when the phase is planned


@pytest.mark.parametrize("desktop", [None, {}, {"session": "x11"}, {"session": "x11", "remote": "xrdp"}])
def test_a_host_not_reached_with_rustdesk_gets_no_module_and_no_keys(desktop):
    p = plan(desktop=desktop)
    assert p.config is None and p.keys == {} and p.home_config is None and p.files == {}
    assert p.derived["active"] is False
    assert "not rustdesk" in p.note


def test_active_true_plans_a_viewer_without_service_or_open_port():
    p = plan({"active": True}, hw=INTEL, desktop={"session": "wayland"})
    assert p.derived["active"] and p.derived["service"] is False and p.derived["direct_access"] is False
    assert "systemd" not in p.config and "networking" not in p.config
    assert set(p.keys) == {"mitsio"}
    assert keyvals(p)[("RustDesk2.toml", "direct-server")] == "N"
    assert ("RustDesk2.toml", "direct-access-port") not in keyvals(p)
    assert all(k.live == "login" and k.unit is None for k in p.keys["mitsio"])
    assert "quit RustDesk before a run" in p.note


def test_active_false_switches_a_reached_host_off():
    assert plan({"active": False}).config is None


# --------------------------------------------------------------------------- three kinds of host


def test_the_gpu_less_vm():
    p = plan()
    assert keyvals(p) == {
        ("RustDesk2.toml", "direct-server"): "Y", ("RustDesk2.toml", "direct-access-port"): "21118",
        ("RustDesk2.toml", "enable-hwcodec"): "N",
        ("RustDesk_default.toml", "codec-preference"): "vp9", ("RustDesk_default.toml", "image_quality"): "balanced"}
    d = p.derived
    assert (d["hwcodec"], d["hw_encode"], d["hw_decode"]) == (False, [], [])
    assert d["served_codecs"] == ["vp8", "vp9", "av1"] and d["served_auto_codec"] == "av1-or-vp9"
    assert d["bitrate_kbps_1080p"] == 1388 and d["within_bandwidth_target"] and d["unattended_login_screen"]
    assert d["firewall_tcp_ports"] == [21118] and d["config_owners"] == ["mitsio", "root"]
    # root's RustDesk2.toml is the one the service's --server processes take: the same server keys, no viewer keys
    assert [(k.file, k.key, k.value) for k in p.keys["root"]] == [
        (R.CONFIG_FILE, "direct-server", "Y"), (R.CONFIG_FILE, "direct-access-port", "21118"),
        (R.CONFIG_FILE, "enable-hwcodec", "N")]
    for owned in p.keys.values():
        assert all(k.format == "toml" and k.group == ("options",) and k.live == "service"
                   and k.unit == "rustdesk.service" for k in owned)


def test_the_intel_laptop():
    p = plan(hw=INTEL)
    d = p.derived
    assert d["hwcodec"] and d["hw_encode"] == ["h264"] and d["hw_decode"] == ["h264", "h265"]
    assert d["served_auto_codec"] == "h264"  # VA-API: H.264 only (hevc_vaapi is disabled upstream)
    assert keyvals(p)[("RustDesk2.toml", "enable-hwcodec")] == "Y"
    assert keyvals(p)[("RustDesk_default.toml", "codec-preference")] == "h265"


def test_the_nvidia_workstation():
    p = plan(hw=NVIDIA)
    d = p.derived
    assert d["hw_encode"] == ["h264", "h265"] and d["served_auto_codec"] == "h265"
    assert d["served_codecs"] == ["vp8", "vp9", "av1", "h264", "h265"]
    assert "encodes h264, h265 in hardware" in p.note


def test_the_three_hosts_get_visibly_different_output():
    out = {name: (keyvals(plan(hw=hw)), plan(hw=hw).derived["served_auto_codec"])
           for name, hw in (("vm", VM), ("intel", INTEL), ("nvidia", NVIDIA))}
    assert len({json.dumps(sorted(v[0].items())) + v[1] for v in out.values()}) == 3


@pytest.mark.parametrize("hw, encode, decode, codec", [
    (AMD, ["h264"], ["h264", "h265"], "h265"),       # Mesa VA-API encodes H.264 only through hwcodec
    (NOUVEAU, [], ["h264"], "h264"),                 # nouveau: no encoder, VA-API decode
    (dict(INTEL, gpu=dict(INTEL["gpu"], decode=["h264"], encode=[])), [], ["h264"], "h264"),
    (dict(NVIDIA, gpu={"vendor": "nvidia", "decode": ["vp9"]}), [], [], "vp9"),  # nothing for hwcodec to do
])
def test_other_gpus(hw, encode, decode, codec):
    d = plan(hw=hw).derived
    assert (d["hw_encode"], d["hw_decode"], d["codec"]) == (encode, decode, codec)
    assert d["hwcodec"] is bool(encode or decode)


def test_a_small_host_gets_vp8_and_low_quality():
    d = plan(hw=TINY).derived
    assert (d["codec"], d["image_quality"], d["bitrate_kbps_1080p"]) == ("vp8", "low", 1036)
    assert d["served_auto_codec"] == "vp8"  # RustDesk's own choice with 4 GiB of RAM or less
    d = plan(hw=dict(VM, memory={"total_mib": 4096})).derived
    assert (d["codec"], d["image_quality"]) == ("vp8", "balanced")


def test_wayland_is_noted():
    p = plan(desktop=WAYLAND)
    assert p.derived["unattended_login_screen"] is False
    assert p.derived["wayland_limits"] == list(R.WAYLAND_LIMITS)
    assert "Wayland: the login screen cannot be reached" in p.note


# --------------------------------------------------------------------------- settings and their checks


def test_explicit_settings_win():
    p = plan({"codec": "av1", "image_quality": "best", "hwcodec": False, "direct_access_port": 22000,
              "open_firewall": False, "service": False}, hw=NVIDIA)
    kv = keyvals(p)
    assert kv[("RustDesk_default.toml", "codec-preference")] == "av1"
    assert kv[("RustDesk_default.toml", "image_quality")] == "best"
    assert kv[("RustDesk2.toml", "enable-hwcodec")] == "N" and kv[("RustDesk2.toml", "direct-access-port")] == "22000"
    assert p.derived["bitrate_kbps_1080p"] == 3109 and p.derived["served_auto_codec"] == "av1-or-vp9"
    assert "networking" not in p.config and "systemd" not in p.config and set(p.keys) == {"mitsio"}


def test_custom_quality_writes_its_two_keys():
    p = plan({"image_quality": "custom", "custom_image_quality": 300, "custom_fps": 60})
    kv = keyvals(p)
    assert kv[("RustDesk_default.toml", "custom_image_quality")] == "300"
    assert kv[("RustDesk_default.toml", "custom-fps")] == "60"
    assert p.derived["bitrate_kbps_1080p"] == 12438 and p.derived["needs_direct_or_own_server"]
    assert "used only on direct IP or own-server connections" in p.note
    p = plan({"image_quality": "custom"})
    assert (p.derived["custom_image_quality"], p.derived["custom_fps"]) == (50, 30)
    assert not p.derived["needs_direct_or_own_server"]


def test_the_sciter_package():
    p = plan({"package": "rustdesk", "image_quality": "custom"}, hw=NVIDIA)
    kv = keyvals(p)
    assert ("RustDesk2.toml", "enable-hwcodec") not in kv  # not compiled in: the key means nothing there
    assert ("RustDesk_default.toml", "custom-fps") not in kv and p.derived["custom_fps"] is None
    assert p.derived["hwcodec"] is False and p.derived["codec"] == "vp9"
    assert p.config["environment"]["systemPackages"][0].code == "pkgs.rustdesk"


def test_direct_access_off():
    p = plan({"direct_access": False})
    assert keyvals(p)[("RustDesk2.toml", "direct-server")] == "N"
    assert ("RustDesk2.toml", "direct-access-port") not in keyvals(p)
    assert "networking" not in p.config and p.derived["direct_access_port"] is None


@pytest.mark.parametrize("settings_, hw, message", [
    ({"codec": "h266"}, VM, "rustdesk_codec must be one of auto, vp8, vp9, av1, h264, h265, got 'h266'"),
    ({"image_quality": "ultra"}, VM, "rustdesk_image_quality must be one of best, balanced, low, custom"),
    ({"package": "rustdesk-bin"}, VM, "rustdesk_package must be one of rustdesk-flutter, rustdesk"),
    ({"custom_image_quality": 5, "image_quality": "custom"}, VM,
     "rustdesk_custom_image_quality must be an integer from 10 to 2000, got 5"),
    ({"custom_fps": 121, "image_quality": "custom"}, VM, "rustdesk_custom_fps must be an integer from 5 to 120"),
    ({"direct_access_port": 80}, VM, "rustdesk_direct_access_port must be an integer from 1024 to 65535, got 80"),
    ({"hwcodec": "maybe"}, VM, "rustdesk_hwcodec must be true or false"),
    ({"custom_image_quality": 100}, VM, "rustdesk_custom_image_quality is only read with rustdesk_image_quality "
                                        "custom .got balanced."),
    ({"custom_fps": 60, "image_quality": "best"}, VM, "rustdesk_custom_fps is only read with rustdesk_image_quality "
                                                      "custom .got best."),
    ({"hwcodec": True}, VM, "rustdesk_hwcodec is true, but nixperf_hardware.gpu.vendor is none"),
    ({"hwcodec": True, "package": "rustdesk"}, NVIDIA, "rustdesk_hwcodec needs RustDesk's hwcodec feature"),
    ({"codec": "h265", "package": "rustdesk"}, NVIDIA, "rustdesk_codec h265 needs the hwcodec feature to decode"),
    ({"custom_fps": 60, "image_quality": "custom", "package": "rustdesk"}, VM,
     "rustdesk_custom_fps is sent only by the Flutter client"),
    ({"image_quality": "custom", "custom_image_quality": 1000}, VM,
     r"rustdesk_custom_image_quality targets 41.5 Mbit/s for a 1080p screen \(1000\), above "
     r"rustdesk_bandwidth_target_mbps 30; with custom, at most 723 fits"),
    ({"image_quality": "best", "bandwidth_target_mbps": 2}, VM,
     r"rustdesk_image_quality targets 3.1 Mbit/s .* \(best\), above rustdesk_bandwidth_target_mbps 2"),
    ({"direct_access": False, "direct_access_port": 22000}, VM,
     "rustdesk_direct_access_port is only used with rustdesk_direct_access: true"),
    ({"direct_access": False, "open_firewall": True}, VM,
     "rustdesk_open_firewall opens the direct-access port, but rustdesk_direct_access is false"),
    ({"sevice": True}, VM, "phase rustdesk has no settings sevice"),
])
def test_bad_settings_name_the_variable_and_what_is_allowed(settings_, hw, message):
    with pytest.raises(PhaseError, match="host plasma-vm-01: " + message):
        plan(settings_, hw=hw)


def test_the_gpu_vendor_is_required_when_planned():
    with pytest.raises(PhaseError, match="nixperf_hardware.gpu.vendor is missing"):
        plan(hw={"cpu": {"threads": 4}})
    assert plan(hw={"cpu": {"threads": 4}}, desktop={"session": "x11"}).config is None  # not planned: not needed


def test_values_from_the_command_line():
    p = plan({"hwcodec": "false", "direct_access_port": "22000", "custom_fps": "60", "image_quality": "custom",
              "active": "yes"}, hw=INTEL)
    assert p.derived["hwcodec"] is False and p.derived["direct_access_port"] == 22000 and p.derived["custom_fps"] == 60


def test_root_among_the_users_gets_one_list():
    p = plan(users=["root", "mitsio"])
    assert len(p.keys["root"]) == len(p.keys["mitsio"]) == 5


def test_formulas():
    assert R.bitrate_kbps_1080p("custom", 10) == int(2073 * 0.2)
    assert R.bitrate_kbps_1080p("custom", 2000) == 2073 * 40
    assert R.max_custom_quality(30) == 723 and R.max_custom_quality(1) == 24 and R.max_custom_quality(1000) == 2000
    assert R.ratio("custom", None) == 1.0


# --------------------------------------------------------------------------- what RustDesk reads back

# hbb_common src/config.rs UserDefaultConfig::get (the arms of the keys the phase owns)
_STRINGS = {"image_quality": ("balanced", ["best", "low", "custom"]),
            "codec-preference": ("auto", ["vp8", "vp9", "av1", "h264", "h265"])}
_NUMBERS = {"custom_image_quality": (50.0, 10.0, float(0xFFF)), "custom-fps": (30.0, 5.0, 120.0)}


def _rust_float(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)  # f64's Display: 50.0 -> "50"


def user_default_get(options: Dict[str, str], key: str) -> str:
    value = options.get(key)
    if key in _STRINGS:
        default, others = _STRINGS[key]
        return value if value in others else default
    default, lo, hi = _NUMBERS[key]
    try:
        v = float(value) if value is not None else default
    except ValueError:
        v = default
    return _rust_float(v if lo <= v <= hi else default)


def option2bool(option: str, value: str) -> bool:
    if option.startswith("enable-"):
        return value != "N"
    if option.startswith("allow-") or option in ("stop-service", "direct-server", "force-always-relay"):
        return value == "Y"
    return value != "N"


def direct_port(options: Dict[str, str]) -> int:
    try:
        port = int(options.get("direct-access-port", ""))
    except ValueError:
        port = 0
    return port if port > 0 else 21116 + 2


def qos_kbps_1080p(image_quality: str, custom: Optional[int]) -> int:
    ratio = {"best": 1.5, "balanced": 0.67, "low": 0.5}.get(image_quality)
    if ratio is None:
        q = (custom or 50) << 8
        ratio = min(max(((q >> 8 & 0xFFF) * 2) / 100.0, 0.2), 40.0)
    return int(2073 * ratio)


def client_sends(quality: int, fps: int, direct: bool, public_server: bool) -> Tuple[int, int]:
    allow_more = not public_server or direct
    return (50 if not allow_more and quality > 100 else quality), (30 if not allow_more and fps > 30 else fps)


# RustDesk2.toml as confy writes it (shared with test_tomlkeys.py)
RUSTDESK2 = (Path(__file__).resolve().parents[1] / "fixtures" / "rustdesk" / "RustDesk2.toml").read_text()
DEFAULT = "[options]\nview_style = 'adaptive'\nimage_quality = 'best'\n"


def apply(owned: List[OwnedKey]) -> Dict[str, Dict[str, Any]]:
    """The owned keys put in place with the TOML editor, as the host-side step does; what a TOML reader sees."""
    texts = {R.CONFIG_FILE: RUSTDESK2, R.DEFAULT_FILE: DEFAULT}
    for k in owned:
        doc = TomlDoc.parse(texts[k.file])
        doc.set(k.group, k.key, k.value)
        texts[k.file] = doc.render()
    return {f: tomllib.loads(t) for f, t in texts.items()}


@pytest.mark.parametrize("settings_, hw", [
    ({}, VM), ({}, INTEL), ({}, NVIDIA), ({}, TINY), ({"direct_access": False}, VM),
    ({"image_quality": "custom", "custom_image_quality": 700, "custom_fps": 120}, NVIDIA),
    ({"image_quality": "custom", "custom_image_quality": 10, "custom_fps": 5}, VM),
    ({"package": "rustdesk", "codec": "auto", "image_quality": "low"}, VM),
])
def test_rustdesk_reads_the_values_the_phase_means(settings_, hw):
    p = plan(settings_, hw=hw)
    d = p.derived
    for user, owned in p.keys.items():
        files = apply(owned)
        server = files[R.CONFIG_FILE]["options"]
        assert option2bool("direct-server", server["direct-server"]) is d["direct_access"]
        if d["direct_access"]:
            assert direct_port(server) == d["direct_access_port"]
        if d["package"] == "rustdesk-flutter":
            assert option2bool("enable-hwcodec", server["enable-hwcodec"]) is d["hwcodec"]
        assert server["av1-test"] == "Y"  # RustDesk's own keys stay
        assert files[R.CONFIG_FILE]["socks"]["password"] == "it's a secret"
        if user == "root":
            assert files[R.DEFAULT_FILE] == tomllib.loads(DEFAULT)  # root views nothing
            continue
        viewer = files[R.DEFAULT_FILE]["options"]
        assert user_default_get(viewer, "codec-preference") == d["codec"]
        assert user_default_get(viewer, "image_quality") == d["image_quality"]
        if d["image_quality"] == "custom":
            assert user_default_get(viewer, "custom_image_quality") == str(d["custom_image_quality"])
            if d["custom_fps"] is not None:
                assert user_default_get(viewer, "custom-fps") == str(d["custom_fps"])
        assert viewer["view_style"] == "adaptive"
        assert qos_kbps_1080p(d["image_quality"], d["custom_image_quality"]) == d["bitrate_kbps_1080p"]
        if d["custom_image_quality"] is not None:
            sent = client_sends(d["custom_image_quality"], d["custom_fps"] or 30, direct=False, public_server=True)
            assert (sent != (d["custom_image_quality"], d["custom_fps"] or 30)) is d["needs_direct_or_own_server"]


# --------------------------------------------------------------------------- the NixOS module, evaluated

UPSTREAM_UNIT = """[Unit]
Description=RustDesk
Requires=network.target
After=systemd-user-sessions.service

[Service]
Type=simple
ExecStart=/usr/bin/rustdesk --service
# kill --tray and --server both
ExecStop=pkill -f "rustdesk --"
# below two lines do not work, have to use above one line
#ExecStop=pkill -f "rustdesk --tray"
#ExecStop=pkill -f "rustdesk --server"
PIDFile=/run/rustdesk.pid
KillMode=mixed
TimeoutStopSec=30
User=root
LimitNOFILE=100000
Environment="PULSE_LATENCY_MSEC=60" "PIPEWIRE_LATENCY=1024/48000"

[Install]
WantedBy=multi-user.target
"""

STORE = {"rustdesk-flutter": "/nix/store/0000000000000000000000000000000a-rustdesk-1.4.4",
         "rustdesk": "/nix/store/0000000000000000000000000000000b-rustdesk-1.4.2",
         "procps": "/nix/store/0000000000000000000000000000000c-procps-4.0.4"}
# lib.getExe (nixpkgs lib/meta.nix) reads meta.mainProgram; both client packages set "rustdesk"
EVAL = """
let
  lib = {
    mkOption = x: x;
    types.bool = null;
    mkIf = c: v: if c then v else { };
    mkOverride = priority: content: { _priority = priority; _content = content; };
    getExe = p: "${p}/bin/${p.meta.mainProgram}";
  };
  pkg = path: { outPath = path; type = "derivation"; meta.mainProgram = "rustdesk"; };
  pkgs = { rustdesk-flutter = pkg "%(rustdesk-flutter)s"; rustdesk = pkg "%(rustdesk)s";
           procps = { outPath = "%(procps)s"; type = "derivation"; }; };
in (import %(module)s { config.nixperf.rustdesk.enable = %(enable)s; inherit lib pkgs; }).config
"""


def evaluate(nix, tmp_path, p, enable=True) -> Tuple[Any, Dict[str, int]]:
    text = nix_module("rustdesk", p.config, role="rustdesk", note=p.note, markers=False, priority=DEFAULT_PRIORITY)[0]
    module = tmp_path / "rustdesk.nix"
    module.write_text(text)
    assert nix.parses(module)
    got = nix.eval_json(EVAL % dict(STORE, module=module, enable="true" if enable else "false"))
    priorities: Dict[str, int] = {}

    def strip(v, path=""):
        if isinstance(v, dict) and "_priority" in v:
            priorities[path] = v["_priority"]
            return strip(v["_content"], path)
        if isinstance(v, dict):
            return {k: strip(x, path + "." + k if path else k) for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x, path) for x in v]
        return v

    return strip(got), priorities


def unit_directives(text: str) -> Dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


@pytest.mark.parametrize("package", ["rustdesk-flutter", "rustdesk"])
def test_the_service_is_upstreams_unit(nix, tmp_path, package):
    p = plan({"package": package})
    config, priorities = evaluate(nix, tmp_path, p)
    svc = config["systemd"]["services"]["rustdesk"]
    sc = svc["serviceConfig"]
    up = unit_directives(UPSTREAM_UNIT)
    mapped = {
        "Description": svc["description"], "Requires": " ".join(svc["requires"]), "After": " ".join(svc["after"]),
        "WantedBy": " ".join(svc["wantedBy"]),
        "Environment": " ".join('"%s=%s"' % kv for kv in sorted(svc["environment"].items(), reverse=True)),
        "ExecStart": sc["ExecStart"].replace(STORE[package] + "/bin/rustdesk", "/usr/bin/rustdesk"),
        "ExecStop": sc["ExecStop"].replace(STORE["procps"] + "/bin/pkill", "pkill"),
        **{k: str(sc[k]) for k in ("Type", "PIDFile", "KillMode", "TimeoutStopSec", "User", "LimitNOFILE")},
    }
    assert mapped == up
    assert dict(shlex.split(x)[0].split("=", 1) for x in shlex.split(up["Environment"], posix=False)) == \
        svc["environment"]
    assert config["environment"]["systemPackages"] == [STORE[package]]
    assert config["networking"]["firewall"]["allowedTCPPorts"] == [21118]
    # every single value at the nixperf priority; lists (which merge) plain
    single = ["description", "environment.PIPEWIRE_LATENCY", "environment.PULSE_LATENCY_MSEC"] + [
        "serviceConfig." + d for d in ("ExecStart", "ExecStop", "KillMode", "LimitNOFILE", "PIDFile", "TimeoutStopSec",
                                       "Type", "User")]
    assert {k: v for k, v in priorities.items() if k.startswith("systemd")} == {
        "systemd.services.rustdesk." + k: DEFAULT_PRIORITY for k in single}


def test_the_module_switched_off_is_empty(nix, tmp_path):
    config = evaluate(nix, tmp_path, plan(), enable=False)[0]
    assert config == {}


def test_a_viewer_module_has_the_package_only(nix, tmp_path):
    config = evaluate(nix, tmp_path, plan({"active": True}, hw=NVIDIA, desktop={"session": "x11"}))[0]
    assert config == {"environment": {"systemPackages": [STORE["rustdesk-flutter"]]}}


def test_another_priority_is_used(nix, tmp_path):
    _config, priorities = evaluate(nix, tmp_path, plan(priority=60))
    assert set(priorities.values()) == {60}


def _host(threads, ram, vendor, driver, decode, encode):
    gpu = {"vendor": vendor}
    if vendor != "none":
        gpu.update(driver=driver, decode=decode, encode=encode)
    return {"cpu": {"threads": threads, "cores": threads}, "memory": {"total_mib": ram}, "gpu": gpu}


HOSTS = st.builds(
    _host,
    st.integers(1, 256), st.integers(512, 1024 * 1024), st.sampled_from(["none", "nvidia", "amd", "intel"]),
    st.sampled_from(["nvidia", "nouveau", "amdgpu", "i915", "xe"]),
    st.lists(st.sampled_from(["h264", "hevc", "vp8", "vp9", "av1"]), unique=True),
    st.lists(st.sampled_from(["h264", "hevc", "av1"]), unique=True))


@settings(max_examples=40, deadline=None)
@given(HOSTS, st.sampled_from(["x11", "wayland"]), st.sampled_from(["rustdesk-flutter", "rustdesk"]))
def test_every_host_size_builds_and_parses(nix, tmp_path_factory, hw, session, package):
    p = plan({"package": package}, hw=hw, desktop=dict(REACHED, session=session))
    d = p.derived
    assert d["codec"] in R.CODECS and d["image_quality"] in R.QUALITIES
    assert d["bitrate_kbps_1080p"] <= d["bandwidth_target_mbps"] * 1000
    assert not (d["hwcodec"] and (hw["gpu"]["vendor"] == "none" or package == "rustdesk"))
    assert set(d["hw_encode"]) <= {"h264", "h265"} and set(d["served_codecs"]) >= {"vp8", "vp9", "av1"}
    if package == "rustdesk":
        assert d["codec"] not in ("h264", "h265")
    for owned in p.keys.values():
        apply(owned)  # every key goes in with the editor
    path = tmp_path_factory.mktemp("rustdesk") / "rustdesk.nix"
    path.write_text(nix_module("rustdesk", p.config, markers=False, note=p.note)[0])
    assert nix.parses(path)


def test_the_declaration():
    declared = get("rustdesk")
    assert declared.order == 95 and declared.users and declared.tags == ("rustdesk", "desktop")
    assert [s.name for s in declared.settings] == [
        "enable", "active", "package", "service", "codec", "image_quality", "custom_image_quality", "custom_fps",
        "hwcodec", "direct_access", "direct_access_port", "open_firewall", "bandwidth_target_mbps"]
    assert declared.setting("codec").choices == R.CODECS and declared.setting("package").default == "rustdesk-flutter"
