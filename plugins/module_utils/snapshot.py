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
``compile.*``                   ``nix build --rebuild`` of one derivation per core count (only when asked)
==============================  ==========================================================================

The compile section (``compile_scaling``) builds the asked installable once (not timed: ``--rebuild`` needs its
outputs valid), then rebuilds that same derivation with ``--option cores N`` for every core count, ``runs`` times
each, and keeps the medians: ``compile.cores_<N>.wall_s``, ``.speedup`` (t(1) / t(N)), ``.efficiency_pct``
(speedup / N, 100 % being linear scaling) and, at the most cores measured, ``compile.scaling_efficiency_pct`` and
``compile.max_cores``.  ``--rebuild`` rebuilds only the derivation named, never its dependencies (Nix builds the
inputs of a checked derivation in normal mode: src/libstore/build/derivation-goal.cc), so the installable should be
one that compiles: a system's ``toplevel`` only links files together.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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


def _first_line(rc: int, out: str, err: str) -> str:
    """Why a command failed, in one line: the first line it wrote to stderr (systemd's tools put the reason there:
    "Bootup is not yet finished ...", "System has not been booted with systemd as init system (PID 1). Can't
    operate."), else to stdout, else its exit status."""
    for text in (err, out):
        lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
        if lines:
            return lines[0]
    return "exit status %d" % rc


def boot(host: Host, metrics: Dict[str, float], details: Dict[str, Any], unavailable: Dict[str, str]) -> None:
    analyze = host.which("systemd-analyze")
    if not analyze:
        unavailable["boot"] = "systemd-analyze not found"
        return
    rc, out, err = host.run([analyze, "time"], None)
    try:
        if rc != 0:
            raise ProbeError(_first_line(rc, out, err))
        parsed = parse_analyze_time(out)
    except ProbeError as exc:
        unavailable["boot"] = "systemd-analyze time: %s" % exc
        return
    for key in ("firmware_s", "loader_s", "kernel_s", "initrd_s", "userspace_s", "total_s"):
        if key in parsed:
            metrics["boot." + key] = round(parsed[key], 3)
    rc, out, err = host.run([analyze, "blame", "--no-pager"], None)
    try:
        if rc != 0:
            raise ProbeError(_first_line(rc, out, err))
        details["blame"] = [[unit, round(sec, 3)] for unit, sec in parse_analyze_blame(out)[:20]]
    except ProbeError as exc:
        unavailable["boot.blame"] = "systemd-analyze blame: %s" % exc
    rc, out, err = host.run([analyze, "critical-chain", "--no-pager"], None)
    try:
        if rc != 0:
            raise ProbeError(_first_line(rc, out, err))
        chain = parse_critical_chain(out)
        if not chain or chain[0].get("at_s") is None:
            raise ProbeError("no chain printed" if not chain else "%s has no activation time" % chain[0]["unit"])
        details["critical_chain"] = chain
        metrics["boot.critical_chain_s"] = round(chain[0]["at_s"], 3)
    except ProbeError as exc:
        unavailable["boot.critical_chain"] = "systemd-analyze critical-chain: %s" % exc


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


# The Nix command line (src/nix/build.cc: --rebuild is build mode "check", --no-link; every setting is also
# --option NAME VALUE, and --max-jobs is the max-jobs setting: src/libstore/include/nix/store/worker-settings.hh).
# "cores" is NIX_BUILD_CORES in the builder (nix.conf(5)); nixpkgs' stdenv passes it to make as -j only when the
# derivation enables parallel building (pkgs/stdenv/generic/setup.sh, buildPhase; the cmake hook enables it).  The
# daemon applies a client's cores for every user, trusted or not (ClientSettings in src/libstore/daemon.cc).
NIX_FEATURES = ["--extra-experimental-features", "nix-command flakes"]
# nix-store(1), special exit codes: 104, the build succeeded in check mode but its output is not binary reproducible
# (Nix's NotDeterministic error, "derivation '...' may not be deterministic: output '...' differs").
NOT_DETERMINISTIC = 104
NOT_DETERMINISTIC_TEXT = "may not be deterministic"
TAIL_LINES = 10
BuildRunner = Callable[[Sequence[str], float], Tuple[int, str, float]]


def cpu_threads() -> int:
    """The CPU threads this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def core_counts(asked: Sequence[int], threads: int) -> List[int]:
    """The core counts to time: ``asked``, else 1, half the CPU threads and all of them; 1 always (the reference of
    the speedup), each once, ascending."""
    counts = [int(n) for n in asked] if asked else [1, threads // 2, threads]
    return sorted({max(1, n) for n in counts} | {1})


def build_argv(nix: str, installable: str, build_file: Optional[str], cores: Optional[int]) -> List[str]:
    """``nix build`` of ``installable`` (an attribute path of ``build_file`` when one is given) without a result
    link; with ``cores``, a forced rebuild of the same derivation with that many cores and one build job."""
    argv = [nix] + NIX_FEATURES + ["build", "--no-link"]
    if cores is not None:
        argv += ["--rebuild", "--max-jobs", "1", "--option", "cores", str(cores)]
    if build_file:
        argv += ["--file", build_file]
    return argv + [installable]


def run_build(argv: Sequence[str], timeout: float) -> Tuple[int, str, float]:
    """One build: (exit status, its error output, wall seconds by the monotonic clock).  ProbeError when it cannot
    start or still runs after ``timeout`` seconds (it is stopped then)."""
    began = time.monotonic()
    try:
        proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError("%s: still running after %g s (the build timeout), stopped" % (" ".join(argv), timeout)) from None
    except OSError as exc:
        raise ProbeError("%s: %s" % (argv[0], exc)) from None
    return proc.returncode, proc.stderr.decode("utf-8", "replace"), time.monotonic() - began


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty lines of a command's error output, one line (`` / `` between)."""
    kept = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " / ".join(kept[-lines:]) or "no error output"


def compile_scaling(host: Host, installable: str, build_file: Optional[str], cores: Sequence[int], runs: int,
                    timeout: float, metrics: Dict[str, float], details: Dict[str, Any], unavailable: Dict[str, str],
                    threads: Optional[int] = None, builder: BuildRunner = run_build) -> None:
    """Time forced rebuilds of one derivation per core count; see the module's docstring.  Any failed build leaves
    the section unavailable (with the tail of Nix's error output): times of a build that did not finish say nothing."""
    nix = host.which("nix")
    if not nix:
        unavailable["compile"] = "nix not found"
        return
    threads = threads or cpu_threads()
    counts = core_counts(cores, threads)
    what = "%s of %s" % (installable, build_file) if build_file else installable
    samples: Dict[str, List[float]] = {}
    nondeterministic = False
    try:
        rc, err, _seconds = builder(build_argv(nix, installable, build_file, None), timeout)
        if rc != 0:
            unavailable["compile"] = "nix build %s (before the timed rebuilds) exited %d: %s" % (what, rc, _tail(err))
            return
        for n in counts:
            argv = build_argv(nix, installable, build_file, n)
            for _run in range(runs):
                rc, err, seconds = builder(argv, timeout)
                differs = rc == NOT_DETERMINISTIC or (rc != 0 and NOT_DETERMINISTIC_TEXT in err)
                if rc != 0 and not differs:
                    unavailable["compile"] = "nix build --rebuild %s with %d core%s exited %d: %s" % (
                        what, n, "" if n == 1 else "s", rc, _tail(err))
                    return
                nondeterministic = nondeterministic or differs
                samples.setdefault(str(n), []).append(round(seconds, 3))
    except ProbeError as exc:
        unavailable["compile"] = str(exc)
        return
    medians = {n: statistics.median(samples[str(n)]) for n in counts}
    for n in counts:
        metrics["compile.cores_%d.wall_s" % n] = round(medians[n], 3)
        if medians[n] > 0 and medians[1] > 0:
            speedup = medians[1] / medians[n]
            metrics["compile.cores_%d.speedup" % n] = round(speedup, 3)
            metrics["compile.cores_%d.efficiency_pct" % n] = round(100.0 * speedup / n, 1)
    top = counts[-1]
    if top == 1:
        unavailable["compile.scaling"] = "1 core is the only count (the host has %d CPU thread%s): no scaling" % (
            threads, "" if threads == 1 else "s")
    elif "compile.cores_%d.efficiency_pct" % top in metrics:
        metrics["compile.scaling_efficiency_pct"] = metrics["compile.cores_%d.efficiency_pct" % top]
        metrics["compile.max_cores"] = top
    else:
        unavailable["compile.scaling"] = "a build took no measurable time: no speedup"
    details["compile"] = {"installable": installable, "file": build_file, "threads": threads, "cores": counts,
                          "runs": runs, "runs_s": samples, "nondeterministic": nondeterministic}


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
         timer: Callable[[Sequence[str], float], float] = time_run,
         build: Optional[Dict[str, Any]] = None, builder: BuildRunner = run_build,
         threads: Optional[int] = None) -> Dict[str, Any]:
    """The whole snapshot: every section, what failed in one never stopping the others.

    ``build`` asks for the compile section: ``installable``, and optionally ``file``, ``cores`` (a list), ``runs``
    (default 3) and ``timeout`` (seconds per build, default 3600); None leaves it out (listed as not asked for)."""
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
    # the builds last: they load every CPU
    if build:
        section("compile", lambda: compile_scaling(
            host, build["installable"], build.get("file"), build.get("cores") or (), int(build.get("runs") or 3),
            float(build.get("timeout") or 3600), metrics, details, unavailable, threads, builder))
    else:
        unavailable["compile"] = "not asked for (benchmark_build names what to build)"
    details["unavailable"] = unavailable
    return {"schema": SCHEMA, "host": name, "label": label, "taken": taken, "system": system(host, guest),
            "metrics": dict(sorted(metrics.items())), "details": details}
