# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A labelled benchmark snapshot of a live host (schema 1), taken in one module run on the host.

``metrics`` is flat: dotted names to numbers, the unit in the name's suffix (``_mib`` MiB, ``.pct`` / ``_pct`` per
cent, ``_s`` seconds, ``_ms`` milliseconds, ``ratio`` a factor); lower is better except ``zram.ratio``.  The plans'
targets (``module_utils/targets.py``) name these metrics.  ``details`` keeps what a number cannot say (top
processes, blame, the critical chain, every start-up run), ``unavailable`` what could not be measured and why.

==============================  ==========================================================================
metrics                         source
==============================  ==========================================================================
``memory.*``, ``swap.used_mib``  ``/proc/meminfo`` (``used`` = MemTotal - MemAvailable, as ``free`` computes it)
``zram.*``                      ``/sys/block/zramN/mm_stat`` of the zram swap devices
``psi.<res>.<some|full>_avg10``  ``/proc/pressure/{cpu,memory,io}``
``cpu.total.pct``               ``/proc/stat`` over the sampling window (all CPUs = 100)
``cpu.process.<comm>.pct``      ``/proc/<pid>/stat`` utime + stime over the window (one CPU = 100, like top)
``cpu.compositor.pct``          the KWin processes' sum
``slice.<unit>.memory_mib``     ``memory.current`` of the top-level and user slices (cgroup v2)
``boot.*``                      ``systemd-analyze time`` / ``blame`` / ``critical-chain``
``startup.<prog>.{cold,warm}_ms``  the program run N times (median); cold after dropping the page cache
``gpu.*``                       ``nvidia-smi``, else amdgpu's ``gpu_busy_percent``
==============================  ==========================================================================
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from ansible_collections.nixperf.tuning.plugins.module_utils.probes import (
    ProbeError, parse_analyze_blame, parse_analyze_time, parse_cpu_stat, parse_critical_chain, parse_mm_stat,
    parse_nvidia_smi, parse_pressure, parse_proc_stat, parse_swaps)
from ansible_collections.nixperf.tuning.plugins.module_utils.verify import Host

SCHEMA = 1
MIB = 1024.0 * 1024.0
COMPOSITORS = ("kwin_x11", "kwin_wayland")
DEFAULT_PROCESSES = ("kwin_x11", "kwin_wayland", "plasmashell", "Xorg")
NVIDIA_QUERY = ["--query-gpu=utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"]


def _mib(kib: int) -> float:
    return round(kib / 1024.0, 1)


def memory(host: Host, metrics: Dict[str, float], unavailable: Dict[str, str]) -> None:
    info = host.meminfo()
    if "MemTotal" not in info or "MemAvailable" not in info:
        unavailable["memory"] = "/proc/meminfo has no MemTotal / MemAvailable"
        return
    metrics["memory.total_mib"] = _mib(info["MemTotal"])
    metrics["memory.used_mib"] = _mib(info["MemTotal"] - info["MemAvailable"])
    metrics["memory.available_mib"] = _mib(info["MemAvailable"])
    metrics["memory.cached_mib"] = _mib(info.get("Cached", 0) + info.get("Buffers", 0))
    if "SwapTotal" in info:
        metrics["swap.used_mib"] = _mib(info["SwapTotal"] - info.get("SwapFree", 0))


def top_processes(host: Host, count: int) -> List[Dict[str, Any]]:
    procs = sorted(host.processes(), key=lambda p: (-p["rss_kib"], p["pid"]))[:count]
    return [{"pid": p["pid"], "comm": p["comm"], "rss_mib": _mib(p["rss_kib"])} for p in procs if p["rss_kib"]]


def slices(host: Host, metrics: Dict[str, float], unavailable: Dict[str, str]) -> Dict[str, float]:
    base = host.path("sys/fs/cgroup")
    found: Dict[str, float] = {}
    candidates = []
    try:
        candidates = [n for n in os.listdir(base) if n.endswith(".slice")]
        candidates += ["user.slice/" + n for n in os.listdir(os.path.join(base, "user.slice")) if n.endswith(".slice")]
    except OSError:
        pass
    for rel in sorted(candidates):
        text = host.read("sys/fs/cgroup", rel, "memory.current")
        if text and text.strip().isdigit():
            name = rel.rsplit("/", 1)[-1]
            found[name] = round(int(text) / MIB, 1)
            metrics["slice.%s.memory_mib" % name] = found[name]
    if not found:
        unavailable["slices"] = "no cgroup v2 slice with memory.current under /sys/fs/cgroup"
    return found


def zram(host: Host, metrics: Dict[str, float], unavailable: Dict[str, str]) -> None:
    devices = [s["filename"].rsplit("/", 1)[1] for s in parse_swaps(host.read("proc/swaps") or "")
               if s["filename"].startswith("/dev/zram")]
    orig = compr = 0
    for dev in devices:
        stat = parse_mm_stat(host.read("sys/block", dev, "mm_stat") or "")
        orig += stat.get("orig_data_size", 0)
        compr += stat.get("compr_data_size", 0)
    if not devices:
        unavailable["zram"] = "no zram swap device in /proc/swaps"
        return
    metrics["zram.orig_mib"] = round(orig / MIB, 1)
    metrics["zram.compr_mib"] = round(compr / MIB, 1)
    if compr:
        metrics["zram.ratio"] = round(orig / float(compr), 2)
    else:
        unavailable["zram.ratio"] = "zram holds no data yet: no compression ratio"


def pressure(host: Host, metrics: Dict[str, float], unavailable: Dict[str, str]) -> None:
    for res in ("cpu", "memory", "io"):
        text = host.read("proc/pressure", res)
        if text is None:
            unavailable["psi.%s" % res] = "no /proc/pressure/%s (kernel without PSI, or psi=0)" % res
            continue
        for kind, values in parse_pressure(text).items():
            metrics["psi.%s.%s_avg10" % (res, kind)] = values["avg10"]


def cpu_ticks(host: Host, names: Sequence[str]) -> Dict[str, Any]:
    """Busy / total ticks of the machine and utime + stime per process name, now."""
    procs: Dict[str, int] = {}
    for proc in host.processes():
        if proc["comm"] in names:
            text = host.read("proc", str(proc["pid"]), "stat")
            if text:
                stat = parse_proc_stat(text)
                procs[proc["comm"]] = procs.get(proc["comm"], 0) + stat["utime"] + stat["stime"]
    return {"machine": parse_cpu_stat(host.read("proc/stat") or ""), "procs": procs}


def cpu(host: Host, names: Sequence[str], window: float, metrics: Dict[str, float], unavailable: Dict[str, str],
        sleep: Callable[[float], None] = time.sleep) -> None:
    names = list(dict.fromkeys(list(names) + list(COMPOSITORS)))
    start = cpu_ticks(host, names)
    began = time.monotonic()
    sleep(window)
    end = cpu_ticks(host, names)
    elapsed = max(time.monotonic() - began, 1e-6)
    total = end["machine"]["total"] - start["machine"]["total"]
    if total > 0:
        metrics["cpu.total.pct"] = round(100.0 * (end["machine"]["busy"] - start["machine"]["busy"]) / total, 1)
    hz = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
    compositor = None
    for name in names:
        if name not in end["procs"] or name not in start["procs"]:
            unavailable["cpu.process.%s" % name] = "no %s process ran through the window" % name
            continue
        pct = round(100.0 * (end["procs"][name] - start["procs"][name]) / hz / elapsed, 1)
        metrics["cpu.process.%s.pct" % name] = pct
        if name in COMPOSITORS:
            compositor = (compositor or 0.0) + pct
    if compositor is None:
        unavailable["cpu.compositor"] = "no compositor (%s) running" % " / ".join(COMPOSITORS)
    else:
        metrics["cpu.compositor.pct"] = round(compositor, 1)


def boot(host: Host, metrics: Dict[str, float], details: Dict[str, Any], unavailable: Dict[str, str]) -> None:
    analyze = host.which("systemd-analyze")
    if not analyze:
        unavailable["boot"] = "systemd-analyze not found"
        return
    rc, out, err = host.run([analyze, "time"], None)
    try:
        if rc != 0:
            raise ProbeError((err.strip() or out.strip() or "exit status %d" % rc).splitlines()[0])
        parsed = parse_analyze_time(out)
    except ProbeError as exc:
        unavailable["boot"] = "systemd-analyze time: %s" % exc
        return
    for key in ("firmware_s", "loader_s", "kernel_s", "initrd_s", "userspace_s", "total_s"):
        if key in parsed:
            metrics["boot." + key] = round(parsed[key], 3)
    rc, out, err = host.run([analyze, "blame", "--no-pager"], None)
    if rc == 0:
        details["blame"] = [[unit, round(sec, 3)] for unit, sec in parse_analyze_blame(out)[:20]]
    else:
        unavailable["boot.blame"] = "systemd-analyze blame: %s" % (err.strip() or "exit status %d" % rc)
    rc, out, err = host.run([analyze, "critical-chain", "--no-pager"], None)
    chain = parse_critical_chain(out) if rc == 0 else []
    if chain and chain[0].get("at_s") is not None:
        details["critical_chain"] = chain
        metrics["boot.critical_chain_s"] = round(chain[0]["at_s"], 3)
    else:
        unavailable["boot.critical_chain"] = "systemd-analyze critical-chain: %s" % (
            err.strip() or "no chain printed")


def drop_caches(host: Host) -> Optional[str]:
    """Empty the page cache (``sync``, then ``3`` into ``/proc/sys/vm/drop_caches``); the error, or None."""
    try:
        os.sync()
        with open(host.path("proc/sys/vm/drop_caches"), "w") as f:
            f.write("3\n")
    except OSError as exc:
        return "cannot drop the page cache (%s): needs root and a writable /proc/sys" % exc.strerror
    return None


def time_run(argv: Sequence[str], timeout: float) -> float:
    """Wall time of one run in milliseconds; raises ProbeError when it fails."""
    began = time.monotonic()
    try:
        proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError("%s: %s" % (argv[0], exc))
    took = (time.monotonic() - began) * 1000.0
    if proc.returncode != 0:
        raise ProbeError("%s exited %d: %s" % (" ".join(argv), proc.returncode,
                                               proc.stderr.decode("utf-8", "replace").strip()[-200:]))
    return took


def startup(host: Host, programs: Sequence[Dict[str, Any]], runs: int, cold: bool, timeout: float,
            metrics: Dict[str, float], details: Dict[str, Any], unavailable: Dict[str, str],
            timer: Callable[[Sequence[str], float], float] = time_run) -> None:
    out: Dict[str, Dict[str, List[float]]] = {}
    if programs and not cold:
        unavailable["startup.cold"] = "cold starts not asked for (benchmark_cold_start, root on the host)"
    for prog in programs:
        name, argv = prog["name"], list(prog["argv"])
        found = host.which(argv[0]) if not os.path.isabs(argv[0]) else argv[0]
        if not found:
            unavailable["startup.%s" % name] = "%s not found" % argv[0]
            continue
        argv[0] = found
        runs_of: Dict[str, List[float]] = {}
        try:
            if cold:
                problem = drop_caches(host)
                if problem:
                    unavailable["startup.%s.cold" % name] = problem
                else:
                    runs_of["cold_ms"] = []
                    for i in range(runs):
                        if i:
                            drop_caches(host)
                        runs_of["cold_ms"].append(round(timer(argv, timeout), 1))
            timer(argv, timeout)  # warms the cache
            runs_of["warm_ms"] = [round(timer(argv, timeout), 1) for _i in range(runs)]
        except ProbeError as exc:
            unavailable["startup.%s" % name] = str(exc)
            continue
        out[name] = runs_of
        for kind, values in runs_of.items():
            metrics["startup.%s.%s" % (name, kind)] = round(statistics.median(values), 1)
    if out:
        details["startup"] = out


def gpu(host: Host, metrics: Dict[str, float], unavailable: Dict[str, str]) -> None:
    smi = host.which("nvidia-smi")
    if smi:
        rc, out, err = host.run([smi] + NVIDIA_QUERY, None)
        gpus = parse_nvidia_smi(out) if rc == 0 else []
        if gpus:
            if gpus[0].get("util_pct") is not None:
                metrics["gpu.util_pct"] = gpus[0]["util_pct"]
            if gpus[0].get("memory_used_mib") is not None:
                metrics["gpu.memory_used_mib"] = gpus[0]["memory_used_mib"]
            return
        unavailable["gpu"] = "nvidia-smi: %s" % (err.strip() or "no GPU listed")
        return
    try:
        cards = sorted(n for n in os.listdir(host.path("sys/class/drm")) if n.startswith("card") and "-" not in n)
    except OSError:
        cards = []
    for card in cards:
        busy = host.read("sys/class/drm", card, "device/gpu_busy_percent")
        if busy and busy.strip().isdigit():
            metrics["gpu.util_pct"] = float(busy.strip())
            return
    unavailable["gpu"] = "no nvidia-smi and no amdgpu gpu_busy_percent"


def system(host: Host, guest: Optional[bool]) -> Dict[str, Any]:
    uptime = (host.read("proc/uptime") or "").split()
    profile = host.path("nix/var/nix/profiles/system")
    generation = None
    if os.path.islink(profile):
        link = os.path.basename(os.readlink(profile))
        number = link[len("system-"):-len("-link")] if link.startswith("system-") and link.endswith("-link") else ""
        generation = int(number) if number.isdigit() else None
    return {"kernel": (host.read("proc/sys/kernel/osrelease") or "").strip() or None,
            "nixos": (host.read("run/current-system/nixos-version") or "").strip() or None,
            "generation": generation, "guest": guest,
            "uptime_s": float(uptime[0]) if uptime else None}


def take(host: Host, name: str, label: str, taken: str, guest: Optional[bool] = None,
         processes: Sequence[str] = DEFAULT_PROCESSES, window: float = 30.0, programs: Sequence[Dict[str, Any]] = (),
         runs: int = 5, cold: bool = False, timeout: float = 60.0, top: int = 15,
         sleep: Callable[[float], None] = time.sleep,
         timer: Callable[[Sequence[str], float], float] = time_run) -> Dict[str, Any]:
    """The whole snapshot: every section, what failed in one never stopping the others."""
    metrics: Dict[str, float] = {}
    details: Dict[str, Any] = {}
    unavailable: Dict[str, str] = {}

    def section(name: str, measure: Callable[[], Any]) -> None:
        try:
            measure()
        except (ProbeError, OSError) as exc:
            unavailable[name] = "unreadable: %s" % exc

    section("memory", lambda: memory(host, metrics, unavailable))
    section("zram", lambda: zram(host, metrics, unavailable))
    section("psi", lambda: pressure(host, metrics, unavailable))
    section("slices", lambda: details.__setitem__("slices", slices(host, metrics, unavailable)))
    section("boot", lambda: boot(host, metrics, details, unavailable))
    section("gpu", lambda: gpu(host, metrics, unavailable))
    # the processes listed before the window; the window samples, then the start-up runs (they would load the CPU)
    section("top_processes", lambda: details.__setitem__("top_processes", top_processes(host, top)))
    section("cpu", lambda: cpu(host, processes, window, metrics, unavailable, sleep))
    section("startup", lambda: startup(host, programs, runs, cold, timeout, metrics, details, unavailable, timer))
    details["unavailable"] = unavailable
    return {"schema": SCHEMA, "host": name, "label": label, "taken": taken, "system": system(host, guest),
            "metrics": dict(sorted(metrics.items())), "details": details}
