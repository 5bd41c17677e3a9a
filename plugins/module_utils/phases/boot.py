# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot plan's ``boot.optimizations.enable`` idea as ``nixperf.boot.*``: five opt-in features, each its own switch.

Every feature is off unless the inventory switches it on (``boot_<feature>_enable``), and each is one option of the
generated module, ``nixperf.boot.<feature>.enable``, so a host flips one without the inventory.  Every change needs a
reboot to take effect (initrd, kernel command line, boot service graph): the phase is declared ``reboot=True``, the
apply engine reports ``reboot_required`` with the reason and reboots only when allowed to.

* ``initrd``: ``boot.initrd.compressor`` / ``compressorArgs`` (nixpkgs ``nixos/modules/system/boot/stage-1.nix``).
  NixOS already compresses the initrd with zstd on kernels >= 5.9 (the option's default), at level 10
  (``pkgs/build-support/kernel/initrd-compressor-meta.nix``: ``zstd.defaultArgs = [ "-10" ]``), so the plan's "add
  zstd" changes nothing.  What can change is the level or the algorithm, from the host's storage:

  - zstd decompresses at about the same speed at every level (facebook/zstd README), so on media where reading the
    file costs more than unpacking it (hdd, emmc, a virtual disk, scsi) a higher level is free at boot: ``-19``
    (the highest without ``--ultra``, whose levels 20-22 need more memory to decompress, zstd(1)), and ``-T0`` to
    compress on every core (zstd(1)) since the cost of a high level is paid at each initrd build;
  - on fast media (nvme, ssd) unpacking dominates: lz4 decompresses about three times faster than zstd (zstd README:
    3100 against 940 MB/s on one core) for a file about a third larger (ratio 2.1 against 2.9): per MB unpacked
    it reads 1/2.1 - 1/2.9 = 0.13 MB more and unpacks 1/940 - 1/3100 s = 0.74 ms faster, so it wins where the
    medium delivers more than about 170 MB/s; ``-l`` is the legacy frame format the kernel reads (lz4(1),
    nixpkgs' own ``defaultArgs``), ``-9`` the level lz4(1) recommends for high compression at unchanged
    decompression speed;
  - several disks: the slowest decides (the boot partition may be on any of them); no storage facts on a VM: a
    virtual disk; no facts at all: NixOS's own zstd -10, kept explicitly.

  ``compressorArgs`` is defined only while ``boot.initrd.compressor`` is the compressor chosen here, so a host that
  forces another compressor never gets arguments meant for this one.
* ``kernelParams``: parameters from ``KERNEL_PARAMS`` (each with its effect and source) and free strings, checked
  against nixpkgs' ``kernelParam`` type (``nixos/modules/system/boot/kernel.nix``), without duplicates, without a
  key given twice, without the keys NixOS or another feature writes.
* ``quiet``: ``boot.consoleLogLevel`` (kernel.nix writes ``loglevel=<n>`` from it), ``boot.initrd.verbose = false``
  (the scripted stage 1), and systemd's status output ``ShowStatus=auto`` in stage 2 and in the systemd stage 1
  (what the ``quiet`` parameter does to systemd, systemd(1)).  The kernel's own ``quiet`` only sets the console log
  level (init/main.c), which ``loglevel=`` already does, so no ``quiet`` parameter is written (see the README).
* ``criticalPath``: services taken off the boot's critical path, ``CRITICAL_PATH`` (each with the NixOS way).
* ``timeouts``: systemd's ``DefaultTimeoutStartSec`` / ``DefaultTimeoutStopSec`` (``systemd.settings.Manager``,
  nixpkgs 25.11 and later) and ``boot.loader.timeout``.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixIf, escape_string, feature_if
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# -- initrd -----------------------------------------------------------------------------------------------------
# Compressors of pkgs/build-support/kernel/initrd-compressor-meta.nix whose output every kernel built with the
# usual RD_* options (usr/Kconfig: default y) unpacks with the arguments used here: zstd and lz4 with the ones
# below, gzip and xz with the file's own defaultArgs (xz's --check=crc32 is the check the kernel's decoder needs).
# Left out: cat (no compression), bzip2 / lzma / lzop (slower and no better), pigz / pixz (the same formats as
# gzip / xz, parallel compressors only).
COMPRESSORS = ("zstd", "lz4", "gzip", "xz")
# compressor -> allowed levels (zstd(1): 1-19 without --ultra; lz4(1): 1-12)
LEVELS = {"zstd": (1, 19), "lz4": (1, 12)}
# nixpkgs' own defaults (initrd-compressor-meta.nix): zstd [ "-10" ], lz4 [ "-l" ]
NIXPKGS_ZSTD_LEVEL = 10
SLOW_ZSTD_LEVEL = 19
FAST_LZ4_LEVEL = 9
# facts.STORAGE_TYPES split by how fast the boot loader reads the initrd from them
FAST_MEDIA = ("nvme", "ssd")
SLOW_MEDIA = ("hdd", "emmc", "virtio", "scsi")

# -- kernel parameters ---------------------------------------------------------------------------------------------
# nixos/modules/system/boot/kernel.nix: boot.kernelParams = listOf (strMatching ''([^"[:space:]]|"[^"]*")+''),
# named "kernelParam", "string, with spaces inside double quotes". [:space:] is ASCII white space.
KERNEL_PARAM_NIX = '([^"[:space:]]|"[^"]*")+'
KERNEL_PARAM = re.compile(r'(?:[^" \t\n\v\f\r]|"[^"]*")+')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
KERNEL_DOC = "kernel Documentation/admin-guide/kernel-parameters.txt"
# name -> (parameter, effect, source). Only parameters that are safe on any desktop: nothing that turns a security
# mitigation off (mitigations=off), skips a check (fsck.mode=skip) or trusts the hardware blindly (tsc=reliable).
KERNEL_PARAMS: Dict[str, Tuple[str, str, str]] = {
    "nowatchdog": (
        "nowatchdog",
        "turns off the soft-lockup detector and the NMI (hard-lockup) watchdog: no periodic per-CPU timer and NMI, "
        "one performance counter freed; a lockup is then no longer detected or reported",
        KERNEL_DOC + ' ("nowatchdog [KNL] Disable both lockup detectors, i.e. soft-lockup and NMI watchdog")'),
    "threadirqs": (
        "threadirqs",
        "runs interrupt handlers in kernel threads, which can be given real-time priorities (low-latency audio); "
        "a little more overhead per interrupt",
        KERNEL_DOC + ' ("threadirqs [KNL,EARLY] Force threading of all interrupt handlers except those marked '
        'explicitly IRQF_NO_THREAD")'),
    "preempt=full": (
        "preempt=full",
        "full kernel preemption: lower scheduling latency under load for a little throughput; needs a kernel built "
        "with CONFIG_PREEMPT_DYNAMIC, any other kernel ignores it and says so in its log",
        KERNEL_DOC + ' ("preempt= [KNL] Select preemption mode if you have CONFIG_PREEMPT_DYNAMIC ... full - Any '
        'section that isn\'t explicitly preempt disabled can be preempted anytime")'),
}
# keys (hyphens and underscores are equivalent in parameter names, kernel-parameters.rst) that NixOS or a feature of
# this phase writes itself -> what to use instead
OWNED_KEYS: Dict[str, str] = {
    "quiet": "the quiet feature (boot_quiet_enable) quiets the kernel through loglevel= and systemd through "
             "ShowStatus; the kernel's quiet is loglevel=4 and, depending on its place on the line, would undo "
             "boot_quiet_level",
    "loglevel": "NixOS writes loglevel= from boot.consoleLogLevel (nixos/modules/system/boot/kernel.nix); set "
                "boot_quiet_level with boot_quiet_enable",
    "init": "the boot loader entry of each NixOS generation writes init=",
    "root": "NixOS's systemd stage 1 writes root= (nixos/modules/system/boot/systemd/initrd.nix)",
    "resume": "NixOS writes resume= from boot.resumeDevice",
}

# -- critical path -------------------------------------------------------------------------------------------------
# name -> (option path, value, what changes, source)
CRITICAL_PATH: Dict[str, Tuple[Tuple[str, ...], Any, str, str]] = {
    "NetworkManager-wait-online": (
        ("systemd", "services", "NetworkManager-wait-online", "enable"), False,
        "NetworkManager-wait-online.service is masked: network-online.target is reached without waiting for a "
        "connection (units that need the network at start, such as network mounts, may start before it is up)",
        "nixpkgs nixos/modules/services/networking/networkmanager.nix (wantedBy network-online.target); the unit's "
        "enable option (nixos/lib/systemd-unit-options.nix)"),
    "systemd-networkd-wait-online": (
        ("systemd", "network", "wait-online", "enable"), False,
        "systemd-networkd-wait-online.service is disabled: network-online.target no longer waits for networkd's "
        "links (the same caveat)",
        "nixpkgs nixos/modules/system/boot/networkd.nix (systemd.network.wait-online.enable)"),
}

# -- timeouts ------------------------------------------------------------------------------------------------------
TIMEOUT_RANGE = (1, 3600)
LOADER_TIMEOUT_RANGE = (0, 600)
LOG_LEVELS = (0, 7)

FEATURES = ("initrd", "kernelParams", "quiet", "criticalPath", "timeouts")


def medium(storage: Sequence[Dict[str, Any]], guest: Optional[bool]) -> Tuple[str, str]:
    """``("slow" | "fast" | "unknown", why)`` from ``nixperf_hardware.storage`` and ``virtualization.guest``."""
    types = sorted({s["type"] for s in storage if s.get("type")})
    if not types:
        if guest:
            return "slow", "no storage facts on a VM (virtualization.guest): a virtual disk"
        return "unknown", "no storage type in the facts"
    slow = [t for t in types if t in SLOW_MEDIA]
    if slow:
        return "slow", "storage %s (slow: %s)" % ("+".join(types), ", ".join(slow))
    return "fast", "storage %s" % "+".join(types)


def _initrd(inp: Inputs) -> Dict[str, Any]:
    """The compressor, its arguments (None: the compressor's defaults) and why."""
    var_c, var_l = inp.prefix + "initrd_compressor", inp.prefix + "initrd_level"
    kind, why = medium(inp.fact("storage", []), inp.fact("virtualization.guest", None))
    threads = inp.fact("cpu.threads", None)
    compressor = inp["initrd_compressor"]
    if compressor is None:
        compressor = "lz4" if kind == "fast" else "zstd"
        reason = "%s -> %s" % (why, {"fast": "lz4: the kernel unpacks it ~3x faster than zstd",
                                     "slow": "zstd at a high level: less to read, unpacked as fast",
                                     "unknown": "zstd at nixpkgs' own level"}[kind])
    else:
        reason = "%s chosen (%s)" % (compressor, var_c)
    level = inp["initrd_level"]
    if level is not None:
        if compressor not in LEVELS:
            raise inp.fail(var_l, "(%d) applies to %s only; %s keeps the arguments of nixpkgs' "
                                  "initrd-compressor-meta.nix (unset %s)"
                           % (level, " and ".join(LEVELS), compressor, var_l))
        lo, hi = LEVELS[compressor]
        if not lo <= level <= hi:
            raise inp.fail(var_l, "must be from %d to %d for %s, got %d" % (lo, hi, compressor, level))
        reason += ", level %d (%s)" % (level, var_l)
    if compressor == "zstd":
        level = level if level is not None else SLOW_ZSTD_LEVEL if kind == "slow" else NIXPKGS_ZSTD_LEVEL
        args: Optional[List[str]] = ["-%d" % level]
        if threads != 1:
            args.append("-T0")  # zstd(1): compress on every core; pointless on a single thread
        else:
            reason += "; one hardware thread, so no -T0"
    elif compressor == "lz4":
        args = ["-l", "-%d" % (level if level is not None else FAST_LZ4_LEVEL)]
    else:
        args = None
    return {"compressor": compressor, "args": args, "medium": kind, "reason": reason}


def param_key(param: str) -> Tuple[str, Optional[str]]:
    """A kernel parameter's name (hyphens as underscores, kernel-parameters.rst) and value (None without ``=``)."""
    text = param[1:] if param.startswith('"') else param
    name, sep, value = text.partition("=")
    return name.replace("-", "_"), (value if sep else None)


def _kernel_params(inp: Inputs) -> List[str]:
    var, var_x = inp.prefix + "kernel_params", inp.prefix + "kernel_params_extra"
    chosen: List[Tuple[str, str]] = []
    for i, name in enumerate(inp["kernel_params"]):
        if not isinstance(name, str) or name not in KERNEL_PARAMS:
            raise inp.fail("%s[%d]" % (var, i), "is %r, not a parameter of the catalogue (known: %s; others go in %s)"
                           % (name, ", ".join(KERNEL_PARAMS), var_x))
        chosen.append((var, KERNEL_PARAMS[name][0]))
    for i, param in enumerate(inp["kernel_params_extra"]):
        where = "%s[%d]" % (var_x, i)
        if not isinstance(param, str):
            raise inp.fail(where, "must be a string, got %r" % (param,))
        if _CONTROL.search(param):
            raise inp.fail(where, "(%r) holds a control character (a new line would end the boot loader's entry)"
                           % param)
        if not KERNEL_PARAM.fullmatch(param):
            raise inp.fail(where, "(%r) is not a kernel parameter: nixpkgs' boot.kernelParams takes strings matching "
                                  "%s (no white space outside double quotes, quotes paired)" % (param, KERNEL_PARAM_NIX))
        key = param_key(param)[0]
        if key in OWNED_KEYS:
            raise inp.fail(where, "(%s) is not allowed: %s" % (param, OWNED_KEYS[key]))
        chosen.append((var_x, param))
    seen: Dict[str, Tuple[str, str]] = {}
    out: List[str] = []
    for source, param in chosen:
        key = param_key(param)[0]
        if key in seen:
            other_source, other = seen[key]
            if param_key(other) == param_key(param):
                raise inp.fail(source, "names %s twice%s" % (param if other == param else "%s (as %s)" % (param, other),
                                                             "" if source == other_source else
                                                             " (also in %s)" % other_source))
            raise inp.fail(source, "sets %s twice with different values: %s and %s (which one the kernel or the "
                                   "program reading it keeps depends on the order)" % (key, other, param))
        seen[key] = (source, param)
        out.append(param)
    return out


def _critical_path(inp: Inputs) -> List[str]:
    var = inp.prefix + "off_critical_path"
    names: List[str] = []
    for i, name in enumerate(inp["off_critical_path"]):
        if not isinstance(name, str) or name not in CRITICAL_PATH:
            raise inp.fail("%s[%d]" % (var, i), "is %r, not a service this role knows how to take off the boot's "
                           "critical path (known: %s)" % (name, ", ".join(CRITICAL_PATH)))
        if name in names:
            raise inp.fail(var, "names %s twice" % name)
        names.append(name)
    return names


def _put(config: Dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def build(inp: Inputs) -> PhasePlan:
    on = {"initrd": inp["initrd_enable"], "kernelParams": inp["kernel_params_enable"], "quiet": inp["quiet_enable"],
          "criticalPath": inp["critical_path_enable"], "timeouts": inp["timeouts_enable"]}
    initrd = _initrd(inp)
    params = _kernel_params(inp)
    if on["kernelParams"] and not params:
        raise inp.fail(inp.prefix + "kernel_params_enable", "is true but %skernel_params and %skernel_params_extra "
                       "name no parameter (catalogue: %s)" % (inp.prefix, inp.prefix, ", ".join(KERNEL_PARAMS)))
    services = _critical_path(inp)
    if on["criticalPath"] and not services:
        raise inp.fail(inp.prefix + "critical_path_enable", "is true but %soff_critical_path names no service "
                       "(known: %s)" % (inp.prefix, ", ".join(CRITICAL_PATH)))
    level = inp["quiet_level"]
    start, stop, loader = inp["timeout_start_sec"], inp["timeout_stop_sec"], inp["loader_timeout"]

    config: Dict[str, Any] = {}
    # initrd: the arguments only with the compressor they were chosen for (a host's lib.mkForce on another one wins)
    _put(config, ("boot", "initrd", "compressor"), feature_if("initrd", inp.owned(initrd["compressor"])))
    _put(config, ("boot", "initrd", "compressorArgs"), feature_if("initrd", NixIf(
        "config.boot.initrd.compressor == %s" % escape_string(initrd["compressor"]), inp.owned(initrd["args"]))))
    # kernel parameters: a list, merged with the host's own by the module system (no priority)
    if params:
        _put(config, ("boot", "kernelParams"), feature_if("kernelParams", params))
    # quiet: kernel console level (kernel.nix writes loglevel=), scripted stage 1, systemd status in stage 1 and 2
    _put(config, ("boot", "consoleLogLevel"), feature_if("quiet", inp.owned(level)))
    _put(config, ("boot", "initrd", "verbose"), feature_if("quiet", inp.owned(False)))
    _put(config, ("boot", "initrd", "systemd", "settings", "Manager", "ShowStatus"), feature_if("quiet", inp.owned("auto")))
    _put(config, ("systemd", "settings", "Manager", "ShowStatus"), feature_if("quiet", inp.owned("auto")))
    for name in services:
        path, value = CRITICAL_PATH[name][:2]
        _put(config, path, feature_if("criticalPath", inp.owned(value)))
    _put(config, ("systemd", "settings", "Manager", "DefaultTimeoutStartSec"), feature_if("timeouts", inp.owned("%ds" % start)))
    _put(config, ("systemd", "settings", "Manager", "DefaultTimeoutStopSec"), feature_if("timeouts", inp.owned("%ds" % stop)))
    _put(config, ("boot", "loader", "timeout"), feature_if("timeouts", inp.owned(loader)))

    args_text = " ".join(initrd["args"]) if initrd["args"] else "nixpkgs' default arguments"
    features = {
        "initrd": (on["initrd"], "Compress the initrd with %s %s (%s); NixOS's default is already zstd -10."
                   % (initrd["compressor"], args_text, initrd["reason"])),
        "kernelParams": (on["kernelParams"], "Add the kernel parameters %s." % (" ".join(params) or "(none named)")),
        "quiet": (on["quiet"], "Quiet boot: console log level %d (loglevel=%d), no scripted stage 1 messages, systemd "
                  "status only on delays or failures (ShowStatus=auto)." % (level, level)),
        "criticalPath": (on["criticalPath"], "Take %s off the boot's critical path."
                         % (", ".join(services) or "(no service named)")),
        "timeouts": (on["timeouts"], "systemd DefaultTimeoutStartSec=%ds, DefaultTimeoutStopSec=%ds; boot menu "
                     "timeout %d s." % (start, stop, loader)),
    }
    cmdline = (params if on["kernelParams"] else []) + (["loglevel=%d" % level] if on["quiet"] else [])
    note = "\n".join([
        "Each feature is nixperf.boot.<feature>.enable; every change takes effect at the next boot.",
        "initrd: %s: %s %s (%s)." % ("on" if on["initrd"] else "off", initrd["compressor"], args_text, initrd["reason"]),
        "  NixOS already compresses the initrd with zstd -10: the plan's 'add zstd' alone changes nothing.",
        "kernelParams: %s: %s" % ("on" if on["kernelParams"] else "off", " ".join(params) or "none"),
        "quiet: %s: loglevel=%d, ShowStatus=auto" % ("on" if on["quiet"] else "off", level),
        "criticalPath: %s: %s" % ("on" if on["criticalPath"] else "off", ", ".join(services) or "none"),
        "timeouts: %s: start %ds, stop %ds, boot menu %ds" % ("on" if on["timeouts"] else "off", start, stop, loader),
    ])
    derived = {
        "features": dict(on),
        "initrd": initrd,
        "kernel_params": params,
        "cmdline": cmdline,
        "quiet": {"console_log_level": level, "show_status": "auto"},
        "off_critical_path": services,
        "timeouts": {"start_sec": start, "stop_sec": stop, "loader_sec": loader},
    }
    return PhasePlan(phase="boot", config=config, derived=derived, enable=inp["enable"], features=features,
                     description="the opt-in boot optimizations", note=note)


PHASE = Phase(
    name="boot",
    order=100,
    title="Opt-in boot optimizations: initrd compression, kernel parameters, quiet boot, critical path, timeouts",
    description=(
        "Generates C(nixperf/boot.nix), a NixOS module with one switch per feature, C(nixperf.boot.<feature>.enable), "
        "for V(initrd), V(kernelParams), V(quiet), V(criticalPath) and V(timeouts).",
        "Each switch defaults to its C(boot_<feature>_enable) variable, which is false; with no variable set the "
        "module changes nothing.",
        "Any change of the module needs a reboot: the apply engine reports C(nixos_apply_reboot_required) with the "
        "reason and reboots only when C(nixos_apply_reboot_ok) is true.",
        "The initrd compressor follows C(nixperf_hardware.storage) (and C(virtualization.guest), C(cpu.threads)) when "
        "those facts are there. Needs nixpkgs 25.11 or later (C(systemd.settings.Manager)).",
    ),
    tags=("nixos", "boot", "initrd", "kernel", "performance"),
    reboot=True,
    build=build,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.boot.enable) in the generated module (false keeps the "
                "file, inert)."),
        Setting("initrd_enable", "bool", False, "Default of C(nixperf.boot.initrd.enable): set "
                "C(boot.initrd.compressor) and C(compressorArgs) (NixOS already uses zstd -10)."),
        Setting("initrd_compressor", "str", None, "The initrd compressor; null = from the storage facts (nvme, ssd: "
                "lz4 -l -9; hdd, emmc, virtio, scsi or a VM: zstd -19 -T0; nothing known: zstd -10).",
                choices=COMPRESSORS),
        Setting("initrd_level", "int", None, "Compression level, zstd 1-19 or lz4 1-12 (not for gzip or xz); null = "
                "from the storage facts.", lo=1, hi=19),
        Setting("kernel_params_enable", "bool", False, "Default of C(nixperf.boot.kernelParams.enable): add the "
                "parameters below to C(boot.kernelParams)."),
        Setting("kernel_params", "list", [], "Parameters of the catalogue: %s." % ", ".join(
            "V(%s)" % n for n in KERNEL_PARAMS), elements="str"),
        Setting("kernel_params_extra", "list", [], "More kernel parameters, plain strings as nixpkgs' kernelParam "
                "type takes them (white space only inside double quotes); not C(quiet), C(loglevel), C(init), "
                "C(root), C(resume), nor a key given twice.", elements="str"),
        Setting("quiet_enable", "bool", False, "Default of C(nixperf.boot.quiet.enable): quiet console "
                "(C(boot.consoleLogLevel), C(boot.initrd.verbose), systemd C(ShowStatus=auto))."),
        Setting("quiet_level", "int", 3, "Console log level of the quiet boot, 0-7: kernel messages below it reach "
                "the console (3: emergency, alert, critical).", lo=LOG_LEVELS[0], hi=LOG_LEVELS[1]),
        Setting("critical_path_enable", "bool", False, "Default of C(nixperf.boot.criticalPath.enable): take the "
                "services below off the boot's critical path."),
        Setting("off_critical_path", "list", [], "Services to take off the boot's critical path: any of %s." % ", ".join(
            "V(%s)" % n for n in CRITICAL_PATH), elements="str"),
        Setting("timeouts_enable", "bool", False, "Default of C(nixperf.boot.timeouts.enable): systemd default "
                "timeouts and the boot menu timeout below."),
        Setting("timeout_start_sec", "int", 30, "systemd C(DefaultTimeoutStartSec) in seconds (systemd's default "
                "90).", lo=TIMEOUT_RANGE[0], hi=TIMEOUT_RANGE[1]),
        Setting("timeout_stop_sec", "int", 15, "systemd C(DefaultTimeoutStopSec) in seconds (systemd's default 90).",
                lo=TIMEOUT_RANGE[0], hi=TIMEOUT_RANGE[1]),
        Setting("loader_timeout", "int", 1, "C(boot.loader.timeout), seconds the boot menu waits (NixOS's default "
                "5; 0 hides the menu unless a key is held).", lo=LOADER_TIMEOUT_RANGE[0], hi=LOADER_TIMEOUT_RANGE[1]),
    ),
)
