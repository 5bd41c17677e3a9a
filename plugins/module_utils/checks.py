# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a live host must show once a phase is applied, read from the phase's own plan.

``checks(plan, ...)`` turns a ``PhasePlan`` (the NixOS config, the home-manager config, the owned keys and the derived
values the writer renders) into checks: plain data the host-side module ``nixperf.tuning.verify`` evaluates in one
run.  The expected values are the plan's values themselves; nothing here repeats a number.  The translation goes by
NixOS option, so a phase that sets ``boot.kernel.sysctl`` gets its sysctls checked without saying so:

=======================================================  ====================================================
option                                                   how the live host shows it
=======================================================  ====================================================
``boot.kernel.sysctl.<key>``                             ``/proc/sys/<key>``
``zramSwap`` (enable, algorithm, memoryPercent,          ``/proc/swaps``, ``/sys/block/zram0/comp_algorithm``,
priority)                                                ``disksize`` against ``MemTotal``
``boot.kernelParams``, ``hardware.nvidia.modesetting``   ``/proc/cmdline``
``systemd.services.<s>.serviceConfig.<P>``,              ``systemctl show -p <P>`` (``user-`` drop-ins: every
``systemd.slices.<s>.sliceConfig.<P>``                   running ``user-<uid>.slice``)
``systemd.oomd.enable``                                  ``systemd-oomd.service`` active
``programs.kde-pim.enable = false``                      no Akonadi process in a running Plasma session
``environment.sessionVariables``, ``home.sessionVariables``  the environment of the running Plasma session
``LIBVA_DRIVER_NAME`` + the GPU's decode list            ``vainfo``: driver and decode profiles
owned KDE keys (KConfig) / RustDesk keys (TOML)           ``kreadconfig6`` / ``kreadconfig5``, the TOML file
Electron app limits (``electron_apps``)                  the running ``app-<name>-*.scope`` cgroups
``derived["session_paths"]`` (paths below ``$HOME``)      the session's variables, with the session's ``HOME``
``startup`` (read-only, whatever its features)           known caches outside the cache home; every LD_PRELOAD
                                                         entry (preload lists, environment, wrapper scripts)
=======================================================  ====================================================

Every check names what it needs from the host (``requires``): ``nixos`` (the configuration can only be in effect on
NixOS), ``session`` (a running Plasma session), ``program:<name>``.  The host answers "not applicable" with the reason
when a need is not met, never a pass.  Values that are Nix code (a ``{_nix: ...}`` marker) are computed by the
evaluator: their checks are "not applicable" too, saying so.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import (
    NixDefault, NixForce, NixIf, NixMarker, NixOverride, NixRaw)
from ansible_collections.nixperf.tuning.plugins.module_utils.targets import get as get_target

# what a Plasma session runs; its environment is the session's (first found wins)
SESSION_PROCESSES = ("plasmashell", "kwin_wayland", "kwin_x11", "ksmserver")
AKONADI_PROCESSES = ("akonadi_control", "akonadiserver")
BALOO_PROCESSES = ("baloo_file",)
# LIBVA_DRIVER_NAME -> what `vainfo` prints as the driver ("vainfo: Driver version: ..."), from each driver's
# vaQueryVendorString: nvidia-vaapi-driver src/vabackend.c ("VA-API NVDEC driver [%s backend]"), intel/media-driver
# media_libva.cpp ("Intel iHD driver for Intel(R) Gen Graphics - ..."), intel/intel-vaapi-driver src/i965_drv_video.c
# ("Intel i965 driver for Intel(R) ..."), mesa src/gallium/frontends/va/context.c ("Mesa Gallium driver %s for ...")
VAAPI_DRIVERS = {
    "nvidia": "VA-API NVDEC driver",
    "iHD": "Intel iHD driver",
    "i965": "Intel i965 driver",
    "radeonsi": "Mesa Gallium driver",
    "virtio_gpu": "Mesa Gallium driver",
}
# the GPU's codec names (nixperf_hardware.gpu.decode) -> VA-API profile prefixes (va/va.h VAProfile*)
VAAPI_PROFILES = {
    "h264": "VAProfileH264", "hevc": "VAProfileHEVC", "vp8": "VAProfileVP8", "vp9": "VAProfileVP9",
    "av1": "VAProfileAV1", "mpeg2": "VAProfileMPEG2", "vc1": "VAProfileVC1", "jpeg": "VAProfileJPEGBaseline",
}
# unit-file properties whose `systemctl show` name differs
SHOW_NAMES = {"CPUQuota": "CPUQuotaPerSecUSec"}
NIXOS = ("nixos",)


class Unverifiable:
    """A value the evaluator computes (Nix code): nothing to compare on the host."""

    def __init__(self, code: str) -> None:
        self.code = code


def plain(value: Any) -> Any:
    """A config value without its priority wrapper; ``Unverifiable`` for Nix code."""
    while isinstance(value, (NixOverride, NixForce, NixDefault)):
        value = value.value
    if isinstance(value, NixMarker):
        return Unverifiable(type(value).__name__)
    return value


_DROPPED = object()


def with_features(value: Any, features: Mapping[str, Any]) -> Any:
    """``value`` (a plan's config) as the host has it with the phase's features at their inventory defaults: a value
    guarded by ``feature_if(name, v)`` (``lib.mkIf (cfg.<name>.enable) v``) is ``v`` when the feature is on, and
    absent when it is off (so nothing is expected of it)."""
    def walk(node: Any) -> Any:
        if isinstance(node, NixIf) and isinstance(node.condition, NixRaw):
            code = node.condition.code
            name = code[len("cfg."):-len(".enable")] if code.startswith("cfg.") and code.endswith(".enable") else None
            if name in features:
                return walk(node.value) if features[name][0] else _DROPPED
        if isinstance(node, Mapping):
            out = {}
            for k, v in node.items():
                kept = walk(v)
                if kept is not _DROPPED:
                    out[k] = kept
            # a set whose every value was switched off is gone too
            return _DROPPED if node and not out else out
        return node
    if not features:
        return value
    found = walk(value)
    return None if found is _DROPPED else found


def text(value: Any) -> str:
    """A Nix value as the host prints it (sysctl, systemctl): booleans as 1 / 0, numbers as digits."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def check(phase: str, cid: str, title: str, probe: str, args: Mapping[str, Any], expected: Any,
          compare: str = "eq", requires: Sequence[str] = NIXOS, unit: str = "") -> Dict[str, Any]:
    """One check as the host module takes it.  ``expected`` an ``Unverifiable`` makes it not applicable."""
    out: Dict[str, Any] = {"id": "%s:%s" % (phase, cid), "phase": phase, "title": title, "probe": probe,
                           "args": dict(args), "expected": expected, "compare": compare, "requires": list(requires),
                           "unit": unit}
    if isinstance(expected, Unverifiable):
        out.update(expected=None, compare="na", reason="the value is Nix code (%s), computed by the evaluator"
                   % expected.code)
    return out


def _get(config: Optional[Mapping[str, Any]], *path: str) -> Any:
    node: Any = config
    for part in path:
        node = plain(node)
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def sysctl_checks(phase: str, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    sysctl = plain(_get(config, "boot", "kernel", "sysctl")) or {}
    out = []
    for key in sorted(sysctl):
        value = plain(sysctl[key])
        out.append(check(phase, "sysctl:" + key, "sysctl " + key, "sysctl", {"key": key},
                         value if isinstance(value, Unverifiable) else text(value)))
    return out


def zram_checks(phase: str, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    zram = plain(_get(config, "zramSwap"))
    if not isinstance(zram, Mapping) or "enable" not in zram:
        return []
    enabled = plain(zram["enable"])
    out = [check(phase, "zram:swap", "zram swap in use (/proc/swaps)", "zram", {"field": "swap"}, enabled)]
    if enabled is not True:
        return out
    if "algorithm" in zram:
        out.append(check(phase, "zram:algorithm", "zram algorithm (/sys/block/zram0/comp_algorithm)", "zram",
                         {"field": "algorithm"}, plain(zram["algorithm"])))
    if "memoryPercent" in zram:
        out.append(check(phase, "zram:size", "zram size in % of MemTotal (disksize)", "zram", {"field": "size_pct"},
                         plain(zram["memoryPercent"]), compare="near", unit="%"))
    if "priority" in zram:
        out.append(check(phase, "zram:priority", "zram swap priority (/proc/swaps)", "zram", {"field": "priority"},
                         plain(zram["priority"])))
    return out


def cmdline_checks(phase: str, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    params = [plain(p) for p in plain(_get(config, "boot", "kernelParams")) or []]
    if plain(_get(config, "hardware", "nvidia", "modesetting", "enable")) is True:
        # nixos/modules/hardware/video/nvidia.nix: modesetting.enable adds this kernel parameter
        params.append("nvidia-drm.modeset=1")
    out = []
    for param in params:
        name = param.code if isinstance(param, Unverifiable) else str(param)
        out.append(check(phase, "cmdline:" + name, "kernel parameter %s (/proc/cmdline)" % name, "cmdline",
                         {"param": name}, param if isinstance(param, Unverifiable) else True))
    return out


def unit_checks(phase: str, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for kind, section, suffix in (("services", "serviceConfig", ".service"), ("slices", "sliceConfig", ".slice")):
        units = plain(_get(config, "systemd", kind)) or {}
        for name in sorted(units):
            props = plain(_get(units, name, section)) or {}
            for prop in sorted(props):
                value = plain(props[prop])
                # systemd.exec(5) / systemd.service(5): *Sec settings are shown as *USec time spans
                shown = SHOW_NAMES.get(prop, prop[:-3] + "USec" if prop.endswith("Sec") else prop)
                unit = name + suffix
                title = "%s %s" % (unit, prop) + (" (%s)" % shown if shown != prop else "")
                out.append(check(phase, "unit:%s:%s" % (unit, prop), title, "unit",
                                 {"unit": unit, "property": prop, "show": shown},
                                 value if isinstance(value, Unverifiable) else text(value)))
    if plain(_get(config, "systemd", "oomd", "enable")) is True:
        out.append(check(phase, "unit:systemd-oomd.service:ActiveState", "systemd-oomd.service active", "unit",
                         {"unit": "systemd-oomd.service", "property": "ActiveState", "show": "ActiveState"}, "active"))
    return out


def session_env_checks(phase: str, variables: Any, user: Optional[str] = None) -> List[Dict[str, Any]]:
    out = []
    for name in sorted(plain(variables) or {}):
        value = plain(variables[name])
        who = " of %s" % user if user else ""
        out.append(check(phase, "env:%s%s" % (name, ":" + user if user else ""),
                         "session variable %s%s" % (name, who), "session_env", {"name": name, "user": user},
                         value if isinstance(value, Unverifiable) else text(value),
                         requires=("nixos", "session")))
    return out


def vaapi_checks(phase: str, config: Mapping[str, Any], derived: Mapping[str, Any]) -> List[Dict[str, Any]]:
    driver = plain(_get(config, "environment", "sessionVariables", "LIBVA_DRIVER_NAME"))
    if not isinstance(driver, str):
        driver = derived.get("libva_driver")
    if not driver:
        return []
    requires = ("nixos", "program:vainfo", "render_node")
    out = [check(phase, "vainfo:driver", "VA-API driver (vainfo)", "vainfo", {"driver_name": driver, "field": "driver"},
                 VAAPI_DRIVERS.get(driver, driver), compare="contains", requires=requires)]
    for codec in derived.get("decode") or []:
        prefix = VAAPI_PROFILES.get(codec)
        if prefix:
            out.append(check(phase, "vainfo:decode:" + codec, "VA-API decode of %s (vainfo)" % codec, "vainfo",
                             {"driver_name": driver, "field": "decode", "profile": prefix}, True, requires=requires))
    return out


def process_checks(phase: str, cid: str, title: str, names: Sequence[str], user: Optional[str] = None
                   ) -> Dict[str, Any]:
    return check(phase, cid, title, "processes", {"names": list(names), "user": user}, False,
                 requires=("nixos", "session"))


def key_checks(phase: str, keys: Mapping[str, Iterable[Any]]) -> List[Dict[str, Any]]:
    out = []
    for user in sorted(keys):
        for key in keys[user]:
            data = key.as_dict() if hasattr(key, "as_dict") else dict(key)
            group = "/".join(data["group"])
            probe = "kconfig" if data.get("format", "kconfig") == "kconfig" else "toml"
            requires = ["nixos", "home:" + user]
            if probe == "kconfig":
                requires.append("program:kreadconfig")
            out.append(check(phase, "key:%s:%s:%s:%s" % (user, data["file"], group, data["key"]),
                             "%s ~/%s [%s] %s" % (user, data["file"], group, data["key"]), probe,
                             {"user": user, "file": data["file"], "group": list(data["group"]), "key": data["key"],
                              "expand": bool(data.get("expand"))},
                             data.get("value"), requires=requires))
    return out


def scope_checks(phase: str, derived: Mapping[str, Any], users: Sequence[str]) -> List[Dict[str, Any]]:
    out = []
    for name, app in sorted((derived.get("apps") or {}).items()):
        for user in users:
            limits = {"MemoryHigh": app.get("memory_high"), "MemoryMax": app.get("memory_max"),
                      "CPUQuota": app.get("cpu_quota")}
            out.append(check(phase, "scope:%s:%s" % (name, user), "%s's app-%s-*.scope limits (cgroup)" % (user, name),
                             "scope", {"app": name, "user": user},
                             {k: v for k, v in limits.items() if v}, requires=("nixos",)))
    return out


def session_path_checks(phase: str, paths: Mapping[str, str], users: Sequence[str]) -> List[Dict[str, Any]]:
    """Session variables whose value is a path below the user's home, per user: ``paths`` maps the variable to the
    path relative to ``$HOME`` (a plan's ``derived["session_paths"]``, for values Nix computes, such as
    ``config.xdg.cacheHome + "/npm"``); the host completes them with the session's own ``HOME``."""
    out = []
    for user in users:
        for name in sorted(paths):
            out.append(check(phase, "env:%s:%s" % (name, user), "session variable %s of %s" % (name, user),
                             "session_path", {"name": name, "user": user, "path": paths[name]},
                             "$HOME/" + paths[name], requires=("nixos", "session")))
    return out


def startup_checks(phase: str, derived: Mapping[str, Any], users: Sequence[str]) -> List[Dict[str, Any]]:
    """The startup phase's read-only checks, whatever its features: per user, the known caches outside the cache
    home (``derived["cache_programs"]``, the table the redirects come from); for the system and per user, every
    LD_PRELOAD entry not in ``derived["ld_preload_allow"]`` and every preloaded file that does not exist."""
    directory = derived.get("cache_dir") or ".cache"
    programs = derived.get("cache_programs") or {}
    allow = list(derived.get("ld_preload_allow") or [])
    out = []
    for user in users:
        out.append(check(phase, "caches-outside:" + user, "%s's known caches outside $HOME/%s (XDG_CACHE_HOME)"
                         % (user, directory), "caches_outside",
                         {"user": user, "cache_dir": directory, "programs": dict(programs)}, "none",
                         requires=("nixos", "home:" + user)))
    out.append(check(phase, "ld-preload", "LD_PRELOAD of the system (preload lists, environment files, system "
                     "profile wrappers)", "ld_preload", {"user": None, "allow": allow}, "none"))
    for user in users:
        out.append(check(phase, "ld-preload:" + user, "LD_PRELOAD of %s (session, environment files, profile "
                         "wrappers)" % user, "ld_preload", {"user": user, "allow": allow}, "none"))
    return out


def checks(plan: Any, users: Sequence[str] = ()) -> List[Dict[str, Any]]:
    """Every live check of one phase's plan (``module_utils.phase.PhasePlan``), for the host's ``users``."""
    phase = plan.phase
    features = getattr(plan, "features", None) or {}
    config = with_features(plan.config or {}, features) or {}
    home_config = with_features(plan.home_config, features)
    derived = plan.derived or {}
    out: List[Dict[str, Any]] = []
    out += sysctl_checks(phase, config)
    out += zram_checks(phase, config)
    out += cmdline_checks(phase, config)
    out += unit_checks(phase, config)
    env = _get(config, "environment", "sessionVariables")
    if env:
        out += session_env_checks(phase, env)
    out += vaapi_checks(phase, config, derived)
    if plain(_get(config, "programs", "kde-pim", "enable")) is False:
        out.append(process_checks(phase, "akonadi", "Akonadi not running (programs.kde-pim.enable = false)",
                                  AKONADI_PROCESSES))
    home_env = _get(home_config, "home", "sessionVariables")
    # variables the phase predicts itself as paths below $HOME (their Nix value is code): session_path_checks
    own_paths = derived.get("session_paths") or {}
    if home_env and own_paths:
        home_env = {k: v for k, v in plain(home_env).items() if k not in own_paths}
    if home_env:
        for user in users:
            out += session_env_checks(phase, home_env, user)
    out += session_path_checks(phase, own_paths, users)
    out += key_checks(phase, plan.keys or {})
    if derived.get("baloo_off") is True:
        for user in sorted(plan.keys or {}):
            out.append(process_checks(phase, "baloo:" + user, "Baloo not running for %s" % user, BALOO_PROCESSES, user))
    if phase == "electron_apps":
        out += scope_checks(phase, derived, users)
    if phase == "startup":
        out += startup_checks(phase, derived, users)
    return out


def host_checks(guest: Optional[bool]) -> List[Dict[str, Any]]:
    """Checks of the host as a whole: the running generation, the generated files, the idle memory target."""
    out = [
        check("host", "generation", "running system is the system profile's generation", "generation", {}, True),
        check("host", "files", "generated files as the collection wrote them (manifest)", "files", {}, True,
              requires=("manifest",)),
    ]
    target = get_target("idle_ram")
    if target.applies(guest):
        out.append(check("host", "target:" + target.name, "%s, MemTotal - MemAvailable (plan: %s)" % (
            target.title, target.source.split(";")[0]), "memory_used", {"target": target.name, "source": target.source},
            target.value, compare="max", requires=(), unit=target.unit))
    return out
