# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate checks (``module_utils/checks.py``) against the live host, in one module run.

Every read happens here, on the host: files under ``/proc``, ``/sys`` and the users' homes directly, and one process
per tool where a tool is the only source (``systemctl show`` once for every unit, ``vainfo`` once per driver,
``kreadconfig6`` / ``kreadconfig5`` per key).  Each check ends ``ok``, ``drift`` (expected and actual differ) or
``na`` (not applicable, with the reason: the host is not NixOS, no session runs, a tool is missing, ...).

``root`` prefixes every path the checks read (``/`` on a real host; a test root, or a mounted system image).
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.probes import (
    ProbeError, parse_bytes, parse_comp_algorithm, parse_meminfo, parse_size, parse_swaps, parse_systemctl_show,
    parse_timespan, parse_vainfo, parse_zramctl)

STATUSES = ("ok", "drift", "na")
UNSET = "\x01nixperf-unset"
MEMORY_PROPS = ("MemoryHigh", "MemoryMax", "MemoryLow", "MemoryMin", "MemorySwapMax", "MemoryZSwapMax")
SESSION_PROCESSES = ("plasmashell", "kwin_wayland", "kwin_x11", "ksmserver")
MANIFEST = "var/lib/nixperf/manifest.json"
KREADCONFIG = ("kreadconfig6", "kreadconfig5")
ZRAMCTL_COLUMNS = "NAME,ALGORITHM,DISKSIZE,DATA,COMPR,TOTAL,STREAMS,MOUNTPOINT"
# "near": one unit either way (the zram size in % of MemTotal: zram-generator rounds RAM to whole MiB)
NEAR_TOLERANCE = 1.0

Runner = Callable[[Sequence[str], Optional[Dict[str, str]]], Tuple[int, str, str]]
Which = Callable[[str], Optional[str]]


class NotApplicable(Exception):
    """The check cannot be evaluated on this host; the message says why."""


def result(chk: Dict[str, Any], status: str, actual: Any = None, reason: str = "", expected: Any = None
           ) -> Dict[str, Any]:
    shown = display(chk.get("expected") if expected is None else expected)
    unit = chk.get("unit") or ""
    how = chk.get("compare")
    if shown is not None and expected is None and how in ("max", "near"):
        shown = ("<= %s %s" if how == "max" else "%s %s (+/- 1)") % (shown, unit)
    seen = display(actual) if status != "na" else None
    if seen is not None and unit and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        seen = "%s %s" % (seen, unit)
    return {"id": chk["id"], "phase": chk["phase"], "title": chk["title"], "status": status,
            "expected": shown.strip() if shown else shown, "actual": seen,
            "reason": reason or chk.get("reason") or ""}


def display(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "%g" % value
    if isinstance(value, (list, tuple)):
        return ", ".join(display(v) or "" for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, display(v)) for k, v in sorted(value.items()))
    return str(value)


class Host:
    """The live host under ``root``, read lazily and once."""

    def __init__(self, root: str, run: Runner, which: Which, files_root: Optional[str] = None) -> None:
        self.root = root or "/"
        self.files_root = files_root or self.root
        self.run = run
        self.which = which
        self._cache: Dict[str, Any] = {}

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *[p.lstrip("/") for p in parts])

    def read(self, *parts: str) -> Optional[str]:
        try:
            with open(self.path(*parts), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return None

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # -- what the host is ----------------------------------------------------
    def nixos(self) -> bool:
        return os.path.exists(self.path("etc/NIXOS")) or os.path.exists(self.path("run/current-system"))

    def meminfo(self) -> Dict[str, int]:
        def make() -> Dict[str, int]:
            text = self.read("proc/meminfo") or ""
            return parse_meminfo(text) if text.strip() else {}
        return self.once("meminfo", make)

    def memtotal_bytes(self) -> Optional[int]:
        kib = self.meminfo().get("MemTotal")
        return kib * 1024 if kib else None

    def processes(self) -> List[Dict[str, Any]]:
        """Every process: pid, comm, uid, rss_kib (from ``/proc``)."""
        def scan() -> List[Dict[str, Any]]:
            out = []
            try:
                names = os.listdir(self.path("proc"))
            except OSError:
                return out
            for name in names:
                if not name.isdigit():
                    continue
                comm = self.read("proc", name, "comm")
                status = self.read("proc", name, "status") or ""
                if comm is None:
                    continue
                uid, rss = None, 0
                for line in status.splitlines():
                    fields = line.split()
                    if line.startswith("Uid:"):
                        uid = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
                    elif line.startswith("VmRSS:") and len(fields) > 1 and fields[1].isdigit():
                        rss = int(fields[1])
                out.append({"pid": int(name), "comm": comm.strip(), "uid": uid, "rss_kib": rss})
            return sorted(out, key=lambda p: p["pid"])
        return self.once("processes", scan)

    def user(self, name: str) -> Tuple[Optional[int], str]:
        """(uid, home) of a user: the password database on a real host, else the home under the root."""
        if self.root == "/":
            try:
                entry = pwd.getpwnam(name)
                return entry.pw_uid, entry.pw_dir
            except KeyError:
                pass
        home = self.path("root") if name == "root" else self.path("home", name)
        try:
            return os.stat(home).st_uid, home
        except OSError:
            return None, home

    def session(self, user: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The first Plasma session process (of ``user``), or None."""
        uid = self.user(user)[0] if user else None
        for proc in self.processes():
            if proc["comm"] in SESSION_PROCESSES and (uid is None or proc["uid"] == uid):
                return proc
        return None

    def tool(self, name: str) -> Optional[str]:
        names = KREADCONFIG if name == "kreadconfig" else (name,)
        for n in names:
            found = self.which(n)
            if found:
                return found
        return None

    def unmet(self, requires: Sequence[str], args: Dict[str, Any]) -> Optional[str]:
        """Why a check cannot apply here (None: it can)."""
        for need in requires:
            if need == "nixos" and not self.nixos():
                return "not NixOS (no /etc/NIXOS)"
            if need == "session" and self.session(args.get("user")) is None:
                who = " of %s" % args["user"] if args.get("user") else ""
                return "no Plasma session%s running (no %s process)" % (who, " / ".join(SESSION_PROCESSES))
            if need == "manifest" and not os.path.exists(os.path.join(self.files_root, MANIFEST)):
                return "the collection has written no files here (no %s)" % MANIFEST
            if need == "render_node" and not self.render_nodes():
                return "no GPU render node (/dev/dri/renderD*)"
            if need.startswith("home:"):
                home = self.user(need[5:])[1]
                if not os.path.isdir(home):
                    return "no home directory %s" % home
            if need.startswith("program:") and not self.tool(need[8:]):
                names = " / ".join(KREADCONFIG) if need[8:] == "kreadconfig" else need[8:]
                return "%s not installed" % names
        return None

    def render_nodes(self) -> List[str]:
        try:
            return sorted(os.path.join(self.path("dev/dri"), n) for n in os.listdir(self.path("dev/dri"))
                          if n.startswith("renderD"))
        except OSError:
            return []


# ---------------------------------------------------------------- probes, one per kind


def probe_sysctl(host: Host, chk: Dict[str, Any]) -> Any:
    value = host.read("proc/sys", chk["args"]["key"].replace(".", "/"))
    return " ".join(value.split()) if value is not None else "(no such sysctl)"


def zram_state(host: Host) -> Dict[str, Any]:
    def make() -> Dict[str, Any]:
        swaps = [s for s in parse_swaps(host.read("proc/swaps") or "") if s["filename"].startswith("/dev/zram")]
        device = swaps[0]["filename"].rsplit("/", 1)[1] if swaps else "zram0"
        state: Dict[str, Any] = {"swaps": swaps, "device": device, "via": "sysfs"}
        zramctl = host.which("zramctl")
        disksize = None
        if zramctl:
            rc, out, _err = host.run([zramctl, "--bytes", "--output", ZRAMCTL_COLUMNS], None)
            if rc == 0:
                for dev in parse_zramctl(out):
                    if dev["name"] == "/dev/" + device:
                        disksize, state["via"] = dev["disksize"], "zramctl"
        if disksize is None:
            text = host.read("sys/block", device, "disksize")
            disksize = int(text.strip()) if text and text.strip().isdigit() else None
        state["disksize"] = disksize
        algorithms = host.read("sys/block", device, "comp_algorithm")
        state["algorithm"] = parse_comp_algorithm(algorithms)[0] if algorithms and swaps else None
        return state
    return host.once("zram", make)


def probe_zram(host: Host, chk: Dict[str, Any]) -> Any:
    field = chk["args"]["field"]
    state = zram_state(host)
    if field == "swap":
        return bool(state["swaps"])
    if not state["swaps"]:
        return "(no zram swap)"
    if field == "algorithm":
        return state["algorithm"]
    if field == "priority":
        return state["swaps"][0]["priority"]
    total = host.memtotal_bytes()
    if not state["disksize"] or not total:
        return "(size unknown)"
    return round(100.0 * state["disksize"] / total, 1)


def probe_cmdline(host: Host, chk: Dict[str, Any]) -> Any:
    return chk["args"]["param"] in (host.read("proc/cmdline") or "").split()


def unit_table(host: Host, checks: List[Dict[str, Any]]) -> Dict[str, Dict[str, str]]:
    """``systemctl show`` of every unit the checks name, in one call; ``user-.slice`` is every running user slice."""
    def make() -> Dict[str, Dict[str, str]]:
        units: List[str] = []
        props = ["LoadState"]
        for chk in checks:
            if chk["probe"] != "unit":
                continue
            for unit in expand_unit(host, chk["args"]["unit"]):
                if unit not in units:
                    units.append(unit)
            if chk["args"]["show"] not in props:
                props.append(chk["args"]["show"])
        systemctl = host.which("systemctl")
        if not units or not systemctl:
            return {}
        rc, out, err = host.run([systemctl, "show", "--property", ",".join(props)] + units, None)
        if rc != 0:
            raise NotApplicable("systemctl show failed: %s" % (err.strip().splitlines() or ["rc %d" % rc])[-1])
        return dict(zip(units, parse_systemctl_show(out)))
    return host.once("units", make)


def expand_unit(host: Host, unit: str) -> List[str]:
    if unit != "user-.slice":
        return [unit]
    try:
        names = os.listdir(host.path("sys/fs/cgroup/user.slice"))
    except OSError:
        return []
    return sorted(n for n in names if n.startswith("user-") and n.endswith(".slice") and n != "user-.slice")


def unit_value(prop: str, value: str, total: Optional[int]) -> Any:
    """A unit property, expected (unit-file text) or shown (``systemctl show``), in comparable form."""
    if prop in MEMORY_PROPS:
        if value.isdigit() or value == "infinity":
            return parse_bytes(value)
        return parse_size(value, total)
    if prop.endswith("Sec"):
        seconds = float(value) if value.replace(".", "", 1).isdigit() else parse_timespan(value)
        return None if seconds is None else round(seconds, 6)
    if prop == "CPUQuota":
        if value.endswith("%"):
            return round(float(value[:-1]) / 100.0, 6)
        seconds = parse_timespan(value)
        return None if seconds is None else round(seconds, 6)
    return value


def eval_units(host: Host, chk: Dict[str, Any], checks: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    if not host.which("systemctl"):
        return [result(chk, "na", reason="systemctl not found")]
    units = expand_unit(host, chk["args"]["unit"])
    if not units:
        return [result(chk, "na", reason="no user slice is running (nobody is logged in)")]
    table = unit_table(host, checks)
    out = []
    prop, shown = chk["args"]["property"], chk["args"]["show"]
    total = host.memtotal_bytes()
    for unit in units:
        one = dict(chk, id=chk["id"].replace(chk["args"]["unit"], unit), title=chk["title"].replace(
            chk["args"]["unit"], unit))
        props = table.get(unit, {})
        if props.get("LoadState") in (None, "not-found"):
            out.append(result(one, "na", reason="unit %s not found on the host" % unit))
            continue
        actual = props.get(shown, "")
        try:
            same = unit_value(prop, actual, total) == unit_value(prop, str(chk["expected"]), total)
        except ProbeError as exc:
            out.append(result(one, "drift", actual, reason=str(exc)))
            continue
        out.append(result(one, "ok" if same else "drift", actual))
    return out


def environ(host: Host, pid: int) -> Dict[str, str]:
    data = host.read("proc", str(pid), "environ")
    if data is None:
        raise NotApplicable("cannot read the environment of process %d" % pid)
    return dict(item.split("=", 1) for item in data.split("\0") if "=" in item)


def probe_session_env(host: Host, chk: Dict[str, Any]) -> Any:
    proc = host.session(chk["args"].get("user"))
    env = environ(host, proc["pid"]) if proc else {}
    return env.get(chk["args"]["name"], "(unset)")


def vainfo(host: Host, driver: str) -> Dict[str, Any]:
    def make() -> Dict[str, Any]:
        node = host.render_nodes()[0]
        rc, out, err = host.run([host.tool("vainfo") or "vainfo", "--display", "drm", "--device", node],
                                {"LIBVA_DRIVER_NAME": driver})
        if rc == 127:
            raise NotApplicable("vainfo could not run (exit status 127)")
        parsed = parse_vainfo(out, err)
        if rc != 0 and not parsed.get("error"):
            parsed["error"] = (err.strip().splitlines() or ["vainfo exited %d" % rc])[-1]
        return parsed
    return host.once("vainfo:" + driver, make)


def eval_vainfo(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    info = vainfo(host, chk["args"]["driver_name"])
    if info.get("error"):
        return result(chk, "drift", "vainfo failed: %s" % info["error"])
    if chk["args"]["field"] == "driver":
        actual = info.get("driver") or "(no driver)"
        return result(chk, "ok" if chk["expected"] in actual else "drift", actual)
    prefix = chk["args"]["profile"]
    found = sorted(p for p, entry in (info.get("profiles") or {}).items()
                   if p.startswith(prefix) and "VAEntrypointVLD" in entry)
    return result(chk, "ok" if found else "drift", found or "no %s* profile with VAEntrypointVLD" % prefix,
                  expected="%s* VAEntrypointVLD" % prefix)


def probe_processes(host: Host, chk: Dict[str, Any]) -> Any:
    uid = host.user(chk["args"]["user"])[0] if chk["args"].get("user") else None
    running = sorted({p["comm"] for p in host.processes()
                      if p["comm"] in chk["args"]["names"] and (uid is None or p["uid"] == uid)})
    return running or False


def key_path(host: Host, chk: Dict[str, Any]) -> Tuple[str, str]:
    home = host.user(chk["args"]["user"])[1]
    return home, os.path.join(home, chk["args"]["file"])


def eval_kconfig(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    home, path = key_path(host, chk)
    rel = chk["args"]["file"]
    # through the configuration cascade (the user's file over /etc/xdg) when the file is a config file
    name = rel[len(".config/"):] if rel.startswith(".config/") and "/" not in rel[len(".config/"):] else path
    argv = [host.tool("kreadconfig") or "kreadconfig6", "--file", name]
    for group in chk["args"]["group"]:
        argv += ["--group", group]
    argv += ["--key", chk["args"]["key"], "--default", UNSET]
    rc, out, err = host.run(argv, {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config")})
    if rc != 0:
        return result(chk, "drift", "kreadconfig failed: %s" % (err.strip() or "rc %d" % rc))
    actual = out[:-1] if out.endswith("\n") else out
    expected = chk["expected"]
    if expected is not None and chk["args"].get("expand"):
        expected = expected.replace("$HOME", home)
    shown_actual = "(unset)" if actual == UNSET else actual
    want = UNSET if expected is None else expected
    return result(chk, "ok" if actual == want else "drift", shown_actual,
                  expected="(unset)" if expected is None else expected)


def eval_toml(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        return result(chk, "na", reason="this Python has no tomllib (3.11+ needed to read TOML)")
    _home, path = key_path(host, chk)
    expected = "(unset)" if chk["expected"] is None else chk["expected"]
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return result(chk, "ok" if chk["expected"] is None else "drift", "(no file %s)" % path, expected=expected)
    except (OSError, ValueError) as exc:
        return result(chk, "drift", "cannot read %s: %s" % (path, exc), expected=expected)
    node: Any = data
    for part in list(chk["args"]["group"]) + [chk["args"]["key"]]:
        node = node.get(part) if isinstance(node, dict) else None
    actual = "(unset)" if node is None else (("true" if node else "false") if isinstance(node, bool) else str(node))
    return result(chk, "ok" if actual == expected else "drift", actual, expected=expected)


def cgroup_limits(path: str) -> Dict[str, Any]:
    def read(name: str) -> Optional[str]:
        try:
            with open(os.path.join(path, name)) as f:
                return f.read().strip()
        except OSError:
            return None
    out: Dict[str, Any] = {}
    for key, name in (("MemoryHigh", "memory.high"), ("MemoryMax", "memory.max")):
        value = read(name)
        if value is not None:
            out[key] = None if value == "max" else int(value)
    cpu = read("cpu.max")
    if cpu:
        quota, _sep, period = cpu.partition(" ")
        out["CPUQuota"] = None if quota == "max" else round(int(quota) / float(period or 100000), 6)
    return out


def eval_scope(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    uid = host.user(chk["args"]["user"])[0]
    base = host.path("sys/fs/cgroup/user.slice/user-%s.slice/user@%s.service" % (uid, uid))
    prefix = "app-%s-" % chk["args"]["app"]
    scopes = []
    for dirpath, dirs, _files in os.walk(base):
        if dirpath[len(base):].count(os.sep) >= 3:
            dirs[:] = []
        scopes += [os.path.join(dirpath, d) for d in dirs if d.startswith(prefix) and d.endswith(".scope")]
    if uid is None or not scopes:
        return result(chk, "na", reason="%s is not running for %s (no %s*.scope)" % (
            chk["args"]["app"], chk["args"]["user"], prefix))
    total = host.memtotal_bytes()
    want = {k: unit_value(k, v, total) for k, v in chk["expected"].items()}
    actual = cgroup_limits(sorted(scopes)[-1])
    same = all(actual.get(k) == v for k, v in want.items())
    return result(chk, "ok" if same else "drift", actual, expected=want)


def probe_generation(host: Host, chk: Dict[str, Any]) -> Any:
    current = host.path("run/current-system")
    profile = host.path("nix/var/nix/profiles/system")
    if not os.path.exists(profile):
        raise NotApplicable("no system profile (/nix/var/nix/profiles/system)")
    running, last = os.path.realpath(current), os.path.realpath(profile)
    if running == last:
        return True
    link = os.readlink(profile) if os.path.islink(profile) else profile
    return "running %s, profile (last applied) %s -> %s: a switch with 'boot' waits for a reboot, or the running " \
           "system was switched by hand" % (running, os.path.basename(link), last)


def probe_files(host: Host, chk: Dict[str, Any]) -> Any:
    with open(os.path.join(host.files_root, MANIFEST)) as f:
        try:
            records = json.load(f).get("files") or {}
        except ValueError as exc:
            raise NotApplicable("the manifest is not JSON: %s" % exc)
    changed, missing = [], []
    for rel, rec in sorted(records.items()):
        path = os.path.join(host.files_root, rel)
        try:
            with open(path, "rb") as g:
                digest = hashlib.sha256(g.read()).hexdigest()
        except OSError:
            missing.append(rel)
            continue
        if digest != rec.get("sha256"):
            changed.append(rel)
    if not changed and not missing:
        return True
    parts = (["edited: " + ", ".join(changed)] if changed else []) + (["missing: " + ", ".join(missing)] if missing else [])
    return "; ".join(parts)


def probe_memory_used(host: Host, chk: Dict[str, Any]) -> Any:
    info = host.meminfo()
    if "MemTotal" not in info or "MemAvailable" not in info:
        raise NotApplicable("/proc/meminfo has no MemTotal / MemAvailable")
    return round((info["MemTotal"] - info["MemAvailable"]) / 1024.0, 1)


PROBES: Dict[str, Callable[[Host, Dict[str, Any]], Any]] = {
    "sysctl": probe_sysctl, "zram": probe_zram, "cmdline": probe_cmdline, "session_env": probe_session_env,
    "processes": probe_processes, "generation": probe_generation, "files": probe_files,
    "memory_used": probe_memory_used,
}
EVALUATORS: Dict[str, Callable[[Host, Dict[str, Any]], Dict[str, Any]]] = {
    "vainfo": eval_vainfo, "kconfig": eval_kconfig, "toml": eval_toml, "scope": eval_scope,
}


def compare(chk: Dict[str, Any], actual: Any) -> str:
    expected, how = chk["expected"], chk.get("compare", "eq")
    if how == "max":
        return "ok" if isinstance(actual, (int, float)) and actual <= expected else "drift"
    if how == "near":
        return "ok" if isinstance(actual, (int, float)) and abs(actual - expected) <= NEAR_TOLERANCE else "drift"
    if how == "contains":
        return "ok" if isinstance(actual, str) and str(expected) in actual else "drift"
    if isinstance(expected, bool) or isinstance(actual, bool):
        return "ok" if actual is expected else "drift"
    return "ok" if str(actual) == str(expected) else "drift"


def evaluate(host: Host, checks: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every check's result, in the checks' order (a ``user-`` slice check gives one result per running slice)."""
    out: List[Dict[str, Any]] = []
    for chk in checks:
        if chk.get("compare") == "na":
            out.append(result(chk, "na"))
            continue
        reason = host.unmet(chk.get("requires") or [], chk.get("args") or {})
        if reason:
            out.append(result(chk, "na", reason=reason))
            continue
        try:
            if chk["probe"] == "unit":
                out += eval_units(host, chk, checks)
            elif chk["probe"] in EVALUATORS:
                out.append(EVALUATORS[chk["probe"]](host, chk))
            elif chk["probe"] in PROBES:
                actual = PROBES[chk["probe"]](host, chk)
                out.append(result(chk, compare(chk, actual), actual))
            else:
                out.append(result(chk, "na", reason="unknown probe %r" % chk["probe"]))
        except NotApplicable as exc:
            out.append(result(chk, "na", reason=str(exc)))
        except ProbeError as exc:
            out.append(result(chk, "drift", reason="unreadable: %s" % exc))
    return out


def summary(results: List[Dict[str, Any]]) -> Dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for r in results:
        counts[r["status"]] += 1
    return counts


def lines(host_name: str, results: List[Dict[str, Any]]) -> List[str]:
    """One line per check, as ``tuned-adm verify`` prints them, then the summary line."""
    label = {"ok": "ok", "drift": "DRIFT", "na": "n/a"}
    out = []
    for r in results:
        if r["status"] == "na":
            detail = "expected %s; not applicable: %s" % (r["expected"], r["reason"]) if r["expected"] is not None \
                else "not applicable: %s" % r["reason"]
        else:
            detail = "expected %s, actual %s" % (r["expected"], r["actual"])
            if r["reason"]:
                detail += " (%s)" % r["reason"]
        out.append("%-5s %-16s %s: %s" % (label[r["status"]], r["phase"], r["title"], detail))
    counts = summary(results)
    out.append("%s: %d ok, %d drift, %d not applicable" % (host_name, counts["ok"], counts["drift"], counts["na"]))
    return out
