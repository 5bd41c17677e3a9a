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

import fnmatch
import hashlib
import json
import os
import posixpath
import pwd
import re
import stat
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

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
        """The Plasma session process (of ``user``) in the order of ``SESSION_PROCESSES``, or None: plasmashell
        first, which has the whole session environment (startplasma leaves the XDG_* variables out of what it
        imports from the systemd user manager, so kwin_wayland may lack one set only there)."""
        uid = self.user(user)[0] if user else None
        procs = [p for p in self.processes() if uid is None or p["uid"] == uid]
        for name in SESSION_PROCESSES:
            for proc in procs:
                if proc["comm"] == name:
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


# ---------------------------------------------------------------- startup: session paths, caches, LD_PRELOAD

# Every read of the startup checks is bounded: symbolic links followed per path, bytes of one script, entries of one
# bin directory, bytes read by one check, environment.d files of one user.
MAX_LINK_HOPS = 40
MAX_SCRIPT_BYTES = 64 * 1024
MAX_BIN_ENTRIES = 10000
MAX_SCAN_BYTES = 32 * 1024 * 1024
MAX_ENV_FILES = 64
# nixpkgs' glibc reads /etc/ld-nix.so.preload (pkgs/development/libraries/glibc/dont-use-system-ld-so-preload.patch,
# written by nixos/modules/config/malloc.nix); a glibc from elsewhere (an FHS environment, a foreign binary) reads
# /etc/ld.so.preload
PRELOAD_FILES = ("/etc/ld-nix.so.preload", "/etc/ld.so.preload")
# NixOS: the shells' environment (nixos/modules/config/shells-environment.nix) and pam_env's
# (nixos/modules/config/system-environment.nix)
SYSTEM_ENV_FILES = ("/etc/set-environment", "/etc/pam/environment")
SYSTEM_BIN = "/run/current-system/sw/bin"
# home-manager modules/home-environment.nix: home.sessionVariablesPackage, linked into the user's profile
HM_SESSION_VARS = "etc/profile.d/hm-session-vars.sh"
# a shell assignment (export LD_PRELOAD=..., LD_PRELOAD+=..., env LD_PRELOAD=... cmd) or a pam_env line
_PRELOAD_ASSIGN = re.compile(r"(?<![A-Za-z0-9_])LD_PRELOAD\+?=")
_PRELOAD_PAM = re.compile(r"^LD_PRELOAD\s+(?:DEFAULT|OVERRIDE)=")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-+=?])?(.*)", re.S)
# bash's $'...' escapes (the form ${value@Q} takes for values with control characters)
_ANSI_C_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)", re.S)
_ANSI_C = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
           "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def visible(host: Host, real: str) -> str:
    """A path of the machine running the checks as the host sees it (``root`` taken off)."""
    if host.root == "/":
        return real
    root = host.root.rstrip("/")
    if real == root or real.startswith(root + "/"):
        return real[len(root):] or "/"
    return real


def resolve(host: Host, path: str) -> Optional[str]:
    """``path`` (absolute, as the host sees it) with every symbolic link followed inside the host's root (an absolute
    target such as ``/nix/store/...`` starts again at the root); the resolved path, or None when it does not exist,
    cannot be read, or takes more than ``MAX_LINK_HOPS`` links."""
    parts = [p for p in path.split("/") if p]
    done, hops = "/", 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            done = posixpath.dirname(done)
            continue
        candidate = posixpath.join(done, part)
        try:
            mode = os.lstat(host.path(candidate)).st_mode
            target = os.readlink(host.path(candidate)) if stat.S_ISLNK(mode) else None
        except OSError:
            return None
        if target is None:
            done = candidate
            continue
        hops += 1
        if hops > MAX_LINK_HOPS or not target:
            return None
        if target.startswith("/"):
            done = "/"
        parts = [p for p in target.split("/") if p] + parts
    return done


def eval_session_path(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    """A session variable holding a path below the user's home: compared with ``$HOME/<path>``, ``HOME`` taken from
    the session's own environment."""
    args = chk["args"]
    proc = host.session(args.get("user"))
    if proc is None:
        raise NotApplicable("no Plasma session of %s running" % args.get("user"))
    env = environ(host, proc["pid"])
    home = env.get("HOME") or visible(host, host.user(args["user"])[1])
    want = posixpath.normpath(posixpath.join(home, args["path"]))
    actual = env.get(args["name"])
    if actual is None:
        return result(chk, "drift", "(unset)", expected=want)
    return result(chk, "ok" if posixpath.normpath(actual) == want else "drift", actual, expected=want)


def eval_caches_outside(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    """The caches of the table (``startup.CACHE_PROGRAMS``) found where their programs write them without being told
    (a directory that resolves into the cache home is fine), and the programs' variables in the running session that
    point outside the cache home."""
    args = chk["args"]
    user, directory = args["user"], args["cache_dir"]
    real_home = host.user(user)[1]
    if not os.path.isdir(real_home):
        return result(chk, "na", reason="no home directory %s" % real_home)
    if not os.access(real_home, os.R_OK | os.X_OK):
        return result(chk, "na", reason="cannot read the home directory %s" % real_home)
    home = visible(host, real_home)
    proc = host.session(user)
    env: Optional[Dict[str, str]] = None
    if proc is not None:
        try:
            env = environ(host, proc["pid"])
        except NotApplicable:
            env = None
    cache_home = posixpath.normpath(posixpath.join(home, directory))
    cache_real = resolve(host, cache_home) or cache_home
    found: List[str] = []
    for name, prog in sorted((args.get("programs") or {}).items()):
        var, target = prog["variable"], "$HOME/%s/%s" % (directory, prog["subdir"])
        for rel in prog["legacy"]:
            where = resolve(host, posixpath.join(home, rel))
            if where is None or not os.path.isdir(host.path(where)):
                continue
            if where == cache_real or where.startswith(cache_real.rstrip("/") + "/"):
                continue  # a link into the cache home
            if prog.get("redirected"):
                found.append("~/%s (%s): left over from before %s=%s, remove it" % (rel, name, var, target))
            else:
                found.append("~/%s (%s): set %s=%s (startup_cache_redirects_enable)" % (rel, name, var, target))
        value = (env or {}).get(var)
        session_cache = posixpath.normpath((env or {}).get("XDG_CACHE_HOME") or cache_home)
        if value is not None and not (posixpath.normpath(value) + "/").startswith(session_cache.rstrip("/") + "/"):
            found.append("%s=%s in the session (%s) is outside %s" % (var, value, name, session_cache))
    note = "" if env is not None else "no Plasma session of %s running: only the home was read" % user
    expected = "no known cache outside %s" % cache_home
    return result(chk, "drift" if found else "ok", found or "none", reason=note, expected=expected)


def shell_word(text: str, start: int) -> str:
    """The shell word of ``text`` from ``start``: up to the first blank, ``;``, ``&``, ``|``, ``<``, ``>`` or ``)``
    outside quotes and ``${...}``."""
    i, quote, depth = start, "", 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 2
            continue
        elif text.startswith("${", i):
            depth += 1
            i += 2
            continue
        elif c == "}" and depth:
            depth -= 1
        elif depth == 0 and (c.isspace() or c in ";&|<>)"):
            break
        i += 1
    return text[start:i]


def _closing_brace(word: str, start: int) -> int:
    """The index of the ``}`` closing the ``${`` whose inside starts at ``start`` (``len(word)`` when none)."""
    depth, quote, i = 1, "", start
    while i < len(word):
        c = word[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif word.startswith("${", i):
            depth += 1
            i += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(word)


def _parameter(inner: str) -> str:
    """``${inner}`` as the text it adds to LD_PRELOAD: the word of ``${LD_PRELOAD-word}`` / ``:+`` / ``:-`` (the
    value makeWrapper's --set-default, --prefix and --suffix give), nothing for LD_PRELOAD's own value, other
    variables kept as written."""
    m = _PARAM.fullmatch(inner)
    if m is None or m.group(1) != "LD_PRELOAD":
        return "${%s}" % inner
    return unquote(m.group(3)) if m.group(2) else ""


def _double_quoted(inner: str) -> str:
    """The inside of ``"..."``: a backslash escapes ``$``, a backquote, ``"`` and itself; parameters expand as in
    ``unquote``; everything else, single quotes included, is literal."""
    out: List[str] = []
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == "\\" and i + 1 < len(inner) and inner[i + 1] in "$`\"\\":
            out.append(inner[i + 1])
            i += 2
        elif (found := _expansion(inner, i)) is not None:
            out.append(found[0])
            i = found[1]
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _expansion(text: str, i: int) -> Optional[Tuple[str, int]]:
    """A parameter expansion at ``text[i]`` (``${...}`` or ``$NAME``) as ``unquote`` keeps it, and the index after
    it; None when there is none. ``$LD_PRELOAD`` (the value before the wrapper's) is dropped."""
    if text.startswith("${", i):
        end = _closing_brace(text, i + 2)
        return _parameter(text[i + 2:end]), end + 1
    name = _SHELL_NAME.match(text, i + 1) if text.startswith("$", i) else None
    if name is None:
        return None
    return ("" if name.group(0) == "LD_PRELOAD" else "$" + name.group(0)), i + 1 + len(name.group(0))


def unquote(word: str) -> str:
    """The text a shell word stands for, as far as it is literal: ``'...'``, ``$'...'``, ``"..."`` and backslashes
    decoded (bash's ``${value@Q}``, which makeWrapper writes, uses the first two); ``$LD_PRELOAD`` dropped."""
    out: List[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if word.startswith("$'", i):
            j, buf = i + 2, []
            while j < len(word) and word[j] != "'":
                escape = _ANSI_C_ESCAPE.match(word, j)
                if escape:
                    code = escape.group(1)
                    buf.append(chr(int(code[1:], 16)) if code[0] == "x" else chr(int(code, 8)) if code[0] in "01234567"
                               else _ANSI_C.get(code, "\\" + code))
                    j = escape.end()
                else:
                    buf.append(word[j])
                    j += 1
            out.append("".join(buf))
            i = j + 1
        elif c == "'":
            j = word.find("'", i + 1)
            j = len(word) if j < 0 else j
            out.append(word[i + 1:j])
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < len(word) and word[j] != '"':
                j += 2 if word[j] == "\\" else 1
            out.append(_double_quoted(word[i + 1:j]))
            i = j + 1
        elif c == "\\" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
        elif (found := _expansion(word, i)) is not None:
            out.append(found[0])
            i = found[1]
        else:
            out.append(c)
            i += 1
    return "".join(out)


def preload_libraries(value: str) -> List[str]:
    """The entries of an LD_PRELOAD value: glibc elf/rtld.c handle_preload_list splits it at spaces and colons."""
    return [p for p in re.split(r"[ :]+", value) if p]


def preload_assignments(text: str) -> List[Tuple[str, List[str]]]:
    """Every line of shell or pam_env text that gives LD_PRELOAD a value: (the line, its libraries). Comment lines,
    ``unset LD_PRELOAD`` and assignments of nothing (``LD_PRELOAD=``) are not preloading."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        starts = [m.end() for m in _PRELOAD_ASSIGN.finditer(line)]
        pam = _PRELOAD_PAM.match(line)
        if pam:
            starts.append(pam.end())
        libraries: List[str] = []
        for start in starts:
            libraries += preload_libraries(unquote(shell_word(line, start)))
        if libraries:
            out.append((line if len(line) <= 200 else line[:197] + "...", libraries))
    return out


def preload_list(text: str) -> List[str]:
    """The entries of /etc/ld.so.preload: separated by blanks and colons, ``#`` starts a comment (glibc
    elf/rtld.c)."""
    return [p for p in re.split(r"[ \t\n:]+", "\n".join(line.split("#", 1)[0] for line in text.splitlines())) if p]


class PreloadScan:
    """What one LD_PRELOAD check read and found, within its byte budget."""

    def __init__(self, host: Host, allow: Sequence[str]) -> None:
        self.host = host
        self.allow = list(allow)
        self.found: List[str] = []
        self.read: List[str] = []
        self.budget = MAX_SCAN_BYTES
        self.seen: Set[str] = set()
        self.entries = 0
        self.scripts = 0
        self.limits: List[str] = []
        self.exhausted = False

    def allowed(self, library: str) -> bool:
        for pattern in self.allow:
            subject = library if "/" in pattern else posixpath.basename(library)
            if fnmatch.fnmatchcase(subject, pattern):
                return True
        return False

    def missing(self, library: str) -> bool:
        """An absolute, literal path that does not resolve to a file under the host's root (ld.so prints an error
        for it in every process and goes on)."""
        if not library.startswith("/") or "$" in library or "@{" in library:
            return False
        where = resolve(self.host, library)
        return where is None or not os.path.isfile(self.host.path(where))

    def report(self, where: str, shown: str, libraries: Sequence[str]) -> None:
        if any(not self.allowed(lib) for lib in libraries):
            self.found.append("%s: %s" % (where, shown))
        for lib in libraries:
            if self.missing(lib):
                self.found.append("%s: %s does not exist" % (where, lib))

    def text(self, path: str, limit: int = MAX_SCRIPT_BYTES) -> Optional[str]:
        """A regular file's text (``path`` as the host sees it, links followed under the root), None when it is
        missing, not a regular file, larger than ``limit`` or past the budget."""
        where = resolve(self.host, path)
        if where is None:
            return None
        real = self.host.path(where)
        try:
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > limit or st.st_size > self.budget:
                if st.st_size <= limit and not self.exhausted:
                    self.exhausted = True
                    self.limits.append("read budget of %d bytes used up at %s" % (MAX_SCAN_BYTES, path))
                return None
            with open(real, "rb") as f:
                data = f.read(limit + 1)
        except OSError:
            return None
        self.budget -= len(data)
        return data.decode("utf-8", "replace") if len(data) <= limit else None

    def preload_file(self, path: str) -> None:
        content = self.text(path)
        if content is None:
            return
        self.read.append(path)
        for lib in preload_list(content):
            self.report(path, lib, [lib])

    def env_file(self, path: str) -> None:
        content = self.text(path)
        if content is None:
            return
        self.read.append(path)
        for line, libraries in preload_assignments(content):
            self.report(path, line, libraries)

    def session(self, user: str) -> Optional[str]:
        """LD_PRELOAD in the user's running Plasma session; a note when none runs."""
        proc = self.host.session(user)
        if proc is None:
            return "no Plasma session of %s running" % user
        try:
            env = environ(self.host, proc["pid"])
        except NotApplicable as exc:
            return str(exc)
        self.read.append("the session environment (pid %d)" % proc["pid"])
        value = env.get("LD_PRELOAD")
        if value:
            self.report("LD_PRELOAD of the session (pid %d)" % proc["pid"], value, preload_libraries(value))
        return None

    def bin_dir(self, path: str) -> None:
        """Wrapper scripts of a profile's bin directory: small regular files starting with ``#!``, each read once
        (the same store file behind two profiles is reported once, under the first name)."""
        where = resolve(self.host, path)
        if where is None:
            return
        try:
            names = sorted(os.listdir(self.host.path(where)))
        except OSError:
            return
        self.read.append(path)
        if len(names) > MAX_BIN_ENTRIES:
            self.limits.append("%s: only the first %d of %d entries read" % (path, MAX_BIN_ENTRIES, len(names)))
            names = names[:MAX_BIN_ENTRIES]
        for name in names:
            self.entries += 1
            link = posixpath.join(path, name)
            target = resolve(self.host, link)
            if target is None or target in self.seen:
                continue
            self.seen.add(target)
            content = self.script(target)
            if content is None:
                continue
            self.scripts += 1
            shown = link if target == posixpath.join(where, name) else "%s (%s)" % (link, target)
            for line, libraries in preload_assignments(content):
                self.report(shown, line, libraries)

    def script(self, target: str) -> Optional[str]:
        real = self.host.path(target)
        try:
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SCRIPT_BYTES:
                return None
            with open(real, "rb") as f:
                if f.read(2) != b"#!":
                    return None
        except OSError:
            return None
        return self.text(target)

    def summary(self) -> str:
        parts = ["read %s" % (", ".join(self.read) if self.read else "nothing")]
        if self.entries:
            parts.append("%d bin entries, %d scripts" % (self.entries, self.scripts))
        return "; ".join(parts + self.limits)


def eval_ld_preload(host: Host, chk: Dict[str, Any]) -> Dict[str, Any]:
    """Every LD_PRELOAD entry of the system (``user`` None: the preload lists, the system's environment files and
    profile) or of one user (the running session, environment.d, home-manager's session variables, the user's
    profiles), outside the allow list, and every preloaded file that does not exist."""
    args = chk["args"]
    scan = PreloadScan(host, args.get("allow") or [])
    user = args.get("user")
    notes: List[str] = []
    if user is None:
        for path in PRELOAD_FILES:
            scan.preload_file(path)
        for path in SYSTEM_ENV_FILES:
            scan.env_file(path)
        scan.bin_dir(SYSTEM_BIN)
    else:
        note = scan.session(user)
        if note:
            notes.append(note)
        real_home = host.user(user)[1]
        home = visible(host, real_home) if os.path.isdir(real_home) else None
        if home is None:
            notes.append("no home directory %s" % real_home)
        profile = "/etc/profiles/per-user/%s" % user
        if home is not None:
            env_d = resolve(host, posixpath.join(home, ".config/environment.d"))
            try:
                confs = sorted(n for n in os.listdir(host.path(env_d)) if n.endswith(".conf")) if env_d else []
            except OSError:
                confs = []
            for name in confs[:MAX_ENV_FILES]:
                scan.env_file(posixpath.join(home, ".config/environment.d", name))
        for base in [profile] + ([posixpath.join(home, ".nix-profile")] if home is not None else []):
            scan.env_file(posixpath.join(base, HM_SESSION_VARS))
        scan.bin_dir(posixpath.join(profile, "bin"))
        if home is not None:
            scan.bin_dir(posixpath.join(home, ".nix-profile/bin"))
    reason = "; ".join(notes + [scan.summary()])
    return result(chk, "drift" if scan.found else "ok", scan.found or "none", reason=reason,
                  expected="no LD_PRELOAD entry outside startup_ld_preload_allow, no missing preloaded file")


PROBES: Dict[str, Callable[[Host, Dict[str, Any]], Any]] = {
    "sysctl": probe_sysctl, "zram": probe_zram, "cmdline": probe_cmdline, "session_env": probe_session_env,
    "processes": probe_processes, "generation": probe_generation, "files": probe_files,
    "memory_used": probe_memory_used,
}
EVALUATORS: Dict[str, Callable[[Host, Dict[str, Any]], Dict[str, Any]]] = {
    "vainfo": eval_vainfo, "kconfig": eval_kconfig, "toml": eval_toml, "scope": eval_scope,
    "session_path": eval_session_path, "caches_outside": eval_caches_outside, "ld_preload": eval_ld_preload,
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
