# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One schema for a host's facts: ``nixperf_hardware``, ``nixperf_users``, ``nixperf_desktop``.

Every phase derives its values from these facts, so they are checked as a whole, in one place, before any
builder runs: types, ranges, required keys, unknown keys (typos), and the rules that tie facts together (the
CPU family and the x86-64 level it declares come from one table of GCC ``-march`` names; threads are not fewer
than cores; a GPU is a mapping).  Facts are data: a Nix code marker (``{_nix: ...}``) is refused anywhere in them.

``check_facts`` returns normalised copies (user names as a list of strings) or raises ``FactError`` with a
message naming the host, the variable, what was given and what is allowed.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.hardware import MARCH
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import MARKER_KEYS

CPU_VENDORS = ("intel", "amd")
GPU_VENDORS = ("nvidia", "amd", "intel", "none")
CODECS = ("mpeg2", "vc1", "h264", "hevc", "vp8", "vp9", "av1", "jpeg")
STORAGE_TYPES = ("nvme", "ssd", "hdd", "virtio", "scsi", "emmc")
SESSIONS = ("x11", "wayland")
MAX_THREADS = 4096
MIN_RAM_MIB = 512
MAX_RAM_MIB = 64 * 1024 * 1024  # 64 TiB
# useradd(8) / NAME_REGEX of Debian and NixOS: lower case, digits, '_' and '-', at most 32 characters.
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


class FactError(ValueError):
    """Facts a run must not use; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Field:
    """One fact: its kind (str, int, bool, list, map, choice), range, choices and whether it is required."""

    kind: str
    required: bool = False
    lo: Optional[int] = None
    hi: Optional[int] = None
    choices: Optional[Sequence[Any]] = None
    # for list: the kind of the elements (a Field); for map: its fields
    elements: Optional["Field"] = None
    fields: Optional[Dict[str, "Field"]] = None
    doc: str = ""


def _s(doc: str = "", required: bool = False) -> Field:
    return Field("str", required=required, doc=doc)


def _i(lo: int, hi: int, doc: str = "", required: bool = False) -> Field:
    return Field("int", required=required, lo=lo, hi=hi, doc=doc)


HARDWARE: Dict[str, Field] = {
    "cpu": Field("map", fields={
        "vendor": Field("choice", choices=CPU_VENDORS),
        "model": _s("marketing name, e.g. Intel Core i7-6700K"),
        "family": Field("choice", choices=tuple(sorted(MARCH)), doc="GCC -march name, e.g. skylake"),
        "x86_64_level": _i(1, 4, "x86-64 micro-architecture level of the family, e.g. 3 for skylake"),
        "sockets": _i(1, 64, "CPU sockets (a KubeVirt VM's vCPU topology; default 1)"),
        "cores": _i(1, MAX_THREADS, "physical cores, all sockets together"),
        "threads": _i(1, MAX_THREADS, "hardware threads"),
    }),
    "gpu": Field("map", fields={
        "vendor": Field("choice", required=True, choices=GPU_VENDORS),
        "model": _s(), "architecture": _s(), "driver": _s(),
        "vram_mib": _i(0, 1024 * 1024),
        "generation": _i(1, 100, "Intel graphics generation, e.g. 9 for Skylake"),
        "decode": Field("list", elements=Field("choice", choices=CODECS)),
        "encode": Field("list", elements=Field("choice", choices=CODECS)),
    }),
    "memory": Field("map", fields={
        "total_mib": _i(MIN_RAM_MIB, MAX_RAM_MIB, "total RAM in MiB, e.g. 16384"),
        "type": _s("e.g. DDR4"),
    }),
    "storage": Field("list", elements=Field("map", fields={
        "device": _s(required=True), "type": Field("choice", choices=STORAGE_TYPES), "size_gb": _i(1, 10 ** 6),
    })),
    "virtualization": Field("map", fields={
        "guest": Field("bool"), "platform": _s("e.g. kubevirt"),
    }),
}
DESKTOP: Dict[str, Field] = {
    "environment": _s("e.g. plasma6"),
    "session": Field("choice", choices=SESSIONS),
    "remote": _s("e.g. rustdesk"),
    # who puts the owned KDE keys in place (module_utils/desktop.py): chezmoi, plasma_manager or direct
    "backend": Field("choice", choices=("chezmoi", "plasma_manager", "direct")),
    # the users' chezmoi source directory, relative to their home
    "chezmoi_source": _s("e.g. .local/share/chezmoi"),
}


def _marker(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in MARKER_KEYS


def _kind_name(value: Any) -> str:
    if _marker(value):
        return "a Nix code marker %r (facts are data; code is allowed only in variables documented to take it)" \
            % (dict(value),)
    if isinstance(value, bool):
        return "a boolean %r" % value
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string %r" % value
    return "%r" % (value,)


class _Checker:
    def __init__(self, host: str) -> None:
        self.host = host

    def fail(self, var: str, problem: str) -> FactError:
        return FactError("host %s: %s %s" % (self.host, var, problem))

    def value(self, var: str, f: Field, v: Any) -> Any:
        if f.kind == "map":
            return self.mapping(var, f.fields or {}, v)
        if f.kind == "list":
            if not isinstance(v, (list, tuple)):
                raise self.fail(var, "must be a list, got %s" % _kind_name(v))
            return [self.value("%s[%d]" % (var, i), f.elements, e) for i, e in enumerate(v)] if f.elements else list(v)
        if f.kind == "bool":
            if not isinstance(v, bool):
                raise self.fail(var, "must be true or false, got %s" % _kind_name(v))
            return v
        if f.kind == "int":
            if isinstance(v, str) and re.fullmatch(r"-?[0-9]+", v.strip()):
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or not f.lo <= v <= f.hi:
                raise self.fail(var, "must be an integer from %d to %d, got %s" % (f.lo, f.hi, _kind_name(v)))
            return v
        if not isinstance(v, str):
            raise self.fail(var, "must be a string, got %s" % _kind_name(v))
        if f.kind == "choice" and v not in f.choices:
            raise self.fail(var, "must be one of %s, got %r" % (", ".join(map(str, f.choices)), v))
        if "\0" in v or any(ord(c) < 32 for c in v):
            raise self.fail(var, "must not contain control characters, got %r" % (v,))
        return v

    def mapping(self, var: str, fields: Dict[str, Field], v: Any) -> Dict[str, Any]:
        if not isinstance(v, Mapping) or _marker(v):
            raise self.fail(var, "must be a mapping with keys %s, got %s" % (", ".join(fields), _kind_name(v)))
        unknown = sorted(str(k) for k in v if k not in fields)
        if unknown:
            raise self.fail(var, "has unknown keys %s (known: %s)" % (", ".join(unknown), ", ".join(fields)))
        out: Dict[str, Any] = {}
        for key, f in fields.items():
            if v.get(key) is None:
                if f.required:
                    raise self.fail("%s.%s" % (var, key), "is missing; set it in the host's inventory file%s"
                                    % (" (%s)" % f.doc if f.doc else ""))
                continue
            out[key] = self.value("%s.%s" % (var, key), f, v[key])
        return out


def level_of(family: str) -> int:
    """The x86-64 level a GCC -march name implies (``skylake`` -> 3)."""
    return MARCH[family][0]


def check_hardware(host: str, hardware: Any, needs: Sequence[str] = ()) -> Dict[str, Any]:
    """``nixperf_hardware`` checked as a whole; ``needs`` adds dotted paths a phase requires (``gpu.decode``)."""
    c = _Checker(host)
    if hardware is None:
        raise c.fail("nixperf_hardware", "is missing; the host's inventory file must describe its hardware "
                     "(see docs/inventory.md)")
    hw = c.mapping("nixperf_hardware", HARDWARE, hardware)
    cpu = hw.get("cpu") or {}
    if "family" in cpu and "x86_64_level" in cpu and cpu["x86_64_level"] != level_of(cpu["family"]):
        raise c.fail("nixperf_hardware.cpu.x86_64_level", "is %d, but cpu.family %s is an x86-64-v%d CPU: the "
                     "level must match the family (allowed: %d), or code built for it crashes with illegal "
                     "instructions or leaves the CPU's features unused"
                     % (cpu["x86_64_level"], cpu["family"], level_of(cpu["family"]), level_of(cpu["family"])))
    if "threads" in cpu and "cores" in cpu and cpu["threads"] < cpu["cores"]:
        raise c.fail("nixperf_hardware.cpu.threads", "(%d) must not be fewer than cpu.cores (%d)"
                     % (cpu["threads"], cpu["cores"]))
    for path in needs:
        node: Any = hw
        fields: Optional[Dict[str, Field]] = HARDWARE
        f: Optional[Field] = None
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
            f = fields.get(part) if fields else None
            fields = f.fields if f else None
        if node is None:
            raise c.fail("nixperf_hardware." + path, "is missing; set it in the host's inventory file%s"
                         % (" (%s)" % f.doc if f and f.doc else ""))
    return hw


def check_users(host: str, users: Any) -> List[str]:
    """``nixperf_users`` as a list of unique, valid Linux user names (entries are names or ``{name: ...}``)."""
    c = _Checker(host)
    if users is None:
        return []
    if isinstance(users, str) or not isinstance(users, (list, tuple)):
        raise c.fail("nixperf_users", "must be a list of users (names, or mappings with name), got %s; write "
                     "[%s] or '- name: ...'" % (_kind_name(users), users if isinstance(users, str) else "..."))
    names: List[str] = []
    for i, u in enumerate(users):
        var = "nixperf_users[%d]" % i
        if isinstance(u, Mapping) and not _marker(u):
            unknown = sorted(str(k) for k in u if k != "name")
            if unknown:
                raise c.fail(var, "has unknown keys %s (known: name)" % ", ".join(unknown))
            u, var = u.get("name"), var + ".name"
        if not isinstance(u, str) or not USER_NAME.fullmatch(u):
            raise c.fail(var, "must be a Linux user name (lower-case letter or '_', then up to 31 of a-z, 0-9, "
                         "'_', '-'), got %s" % _kind_name(u))
        if u in names:
            raise c.fail(var, "names %s twice: user names must be unique" % u)
        names.append(u)
    return names


def check_desktop(host: str, desktop: Any) -> Dict[str, Any]:
    if desktop is None:
        return {}
    return _Checker(host).mapping("nixperf_desktop", DESKTOP, desktop)


def check_facts(host: str, hardware: Any, users: Any, desktop: Any,
                needs: Sequence[str] = ()) -> Tuple[Dict[str, Any], List[str], Dict[str, Any]]:
    """All of a host's facts, checked before any phase is built."""
    return check_hardware(host, hardware, needs), check_users(host, users), check_desktop(host, desktop)
