# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers of what Linux tools print on a running host (validation and benchmark snapshots).

Each parser takes the text a command printed (or a file under ``/proc`` or ``/sys`` holds) and returns plain
data.  Nothing here runs a command or reads a file: the host-side modules do that, in the C locale, and hand the
text over.  The module stands alone (standard library only, Python 3.8 syntax) because it is shipped to the hosts
together with the modules.

Rules shared by every parser: trailing whitespace and blank lines are ignored; parsers that return a list return
``[]`` for empty output; a line that cannot be read raises ``ProbeError`` naming the tool, the line number and the
line itself.  Only known noise is skipped (vainfo's ``libva info:`` lines, the two header lines of
``systemd-analyze critical-chain``).  Sizes are in bytes unless a key says otherwise (``size_kib``, ``rss_kib``,
``memory_used_mib``); times are seconds as floats.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "ProbeError",
    "parse_analyze_blame",
    "parse_analyze_time",
    "parse_bytes",
    "parse_comp_algorithm",
    "parse_cpu_stat",
    "parse_critical_chain",
    "parse_free",
    "parse_meminfo",
    "parse_mm_stat",
    "parse_nvidia_smi",
    "parse_pressure",
    "parse_proc_stat",
    "parse_ps",
    "parse_size",
    "parse_swaps",
    "parse_systemctl_show",
    "parse_timespan",
    "parse_vainfo",
    "parse_zramctl",
]

# UINT64_MAX: what systemctl show prints for an unset limit or an unavailable counter on some versions.
UINT64_MAX = 2 ** 64 - 1

# SGR colour sequences: systemd-analyze highlights slow units in red when it believes it writes to a terminal.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WORD = re.compile(r"\S+")


class ProbeError(ValueError):
    """Output that cannot be read; the message is meant for the user and names what could not be parsed."""


def _text(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise ProbeError("%s: expected the output as text, got %s" % (what, type(text).__name__))
    return text


def _lines(text: Any, what: str) -> List[Tuple[int, str]]:
    """The non-blank lines of ``text``, right-stripped, with their 1-based line numbers."""
    return [(number, line.rstrip()) for number, line in enumerate(_text(text, what).splitlines(), 1) if line.strip()]


def _bad_line(what: str, number: int, line: str, why: str = "") -> ProbeError:
    message = "cannot parse %s, line %d: %r" % (what, number, line)
    if why:
        message += " (%s)" % why
    return ProbeError(message)


def _int(value: str, what: str, number: int, line: str) -> int:
    if not re.fullmatch(r"[0-9]+", value):
        raise _bad_line(what, number, line, "%r is not a whole number" % value)
    return int(value)


# ---------------------------------------------------------------------------------------------------------------
# values as systemd prints and parses them


def parse_bytes(value: str) -> Optional[int]:
    """A byte count as ``systemctl show`` prints it (``MemoryMax=12884901888``, systemd 219 and later).

    ``infinity`` (no limit) and UINT64_MAX (what older versions print for an unset value) give None;
    ``[not set]`` (accounting switched off) and anything that is not a whole number raise ProbeError.
    """
    text = _text(value, "byte value").strip()
    if text == "infinity":
        return None
    if not re.fullmatch(r"[0-9]+", text):
        raise ProbeError("not a byte count: %r" % (value,))
    number = int(text)
    return None if number == UINT64_MAX else number


# parse_size() in systemd's src/basic/parse-util.c, base 1024: an optional fraction and one of the suffixes
# B K M G T P E (upper case only); a bare number is bytes.
_SIZE_FACTOR = {"": 1, "B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4, "P": 1024 ** 5, "E": 1024 ** 6}
_SIZE = re.compile(r"([0-9]+)(?:\.([0-9]+))?\s*([BKMGTPE]?)")
# parse_permyriad() in the same file: a percentage with at most two decimals (MemoryMax=50%, MemoryHigh=87.5%).
_PERCENT = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?%")


def parse_size(value: str, total_bytes: Optional[int] = None) -> Optional[int]:
    """A memory size as written in a unit file (``MemoryMax=12G``, systemd.resource-control(5)) in bytes.

    Accepts ``12G``, ``512M``, ``1.5G``, ``2048K``, ``1T``, plain bytes ``1073741824``; ``infinity`` gives None.
    ``50%`` is that share of ``total_bytes`` (rounded down), which must then be given.  1024 base, as systemd
    parses them; fractions of a byte are dropped.
    """
    text = _text(value, "size").strip()
    if text == "infinity":
        return None
    match = _PERCENT.fullmatch(text)
    if match:
        if total_bytes is None:
            raise ProbeError("the size %r is a percentage of the host's memory, which is not known here" % (value,))
        permyriad = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
        return total_bytes * permyriad // 10000
    match = _SIZE.fullmatch(text)
    if not match:
        raise ProbeError("not a size: %r (expected e.g. 512M, 1.5G, 12G, 50%% or infinity)" % (value,))
    whole, fraction, suffix = match.group(1), match.group(2) or "", match.group(3)
    factor = _SIZE_FACTOR[suffix]
    result = int(whole) * factor
    if fraction:
        result += int(fraction) * factor // 10 ** len(fraction)
    return result


# Units parse_time() in systemd's src/basic/time-util.c understands, in nanoseconds.  format_timespan() in the
# same file prints y, month, w, d, h, min, s, ms and us, joined by spaces ("1min 2.503s", "2h 3min 4s"), with a
# decimal fraction only on the last part and only below one minute ("1.500000s" when printed to the microsecond).
_NS = {"ns": 1, "us": 10 ** 3, "ms": 10 ** 6, "s": 10 ** 9}
_NS["min"] = 60 * _NS["s"]
_NS["h"] = 60 * _NS["min"]
_NS["d"] = 24 * _NS["h"]
_NS["w"] = 7 * _NS["d"]
_NS["month"] = 2629800 * _NS["s"]
_NS["y"] = 31557600 * _NS["s"]
_SPAN_UNITS = {
    "": _NS["s"],
    "ns": _NS["ns"], "nsec": _NS["ns"],
    "us": _NS["us"], "usec": _NS["us"], "\u00b5s": _NS["us"], "\u03bcs": _NS["us"],
    "ms": _NS["ms"], "msec": _NS["ms"],
    "s": _NS["s"], "sec": _NS["s"], "second": _NS["s"], "seconds": _NS["s"],
    "m": _NS["min"], "min": _NS["min"], "minute": _NS["min"], "minutes": _NS["min"],
    "h": _NS["h"], "hr": _NS["h"], "hour": _NS["h"], "hours": _NS["h"],
    "d": _NS["d"], "day": _NS["d"], "days": _NS["d"],
    "w": _NS["w"], "week": _NS["w"], "weeks": _NS["w"],
    "M": _NS["month"], "month": _NS["month"], "months": _NS["month"],
    "y": _NS["y"], "year": _NS["y"], "years": _NS["y"],
}
_SPAN_PART = re.compile(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([^\s0-9.]*)")


def parse_timespan(value: str) -> Optional[float]:
    """Seconds from a systemd time span as ``systemctl show`` and ``systemd-analyze`` print it (any version).

    ``6s``, ``1.500000s``, ``1min 2.503s``, ``500ms``, ``250us``, ``2h 3min 4s``, ``1d 2h``, ``0``; ``infinity``
    gives None; an empty or unreadable span raises ProbeError.
    """
    text = _text(value, "time span").strip()
    if text == "infinity":
        return None
    if not text:
        raise ProbeError("empty time span")
    total_ns = 0
    position = 0
    while position < len(text):
        match = _SPAN_PART.match(text, position)
        if not match or match.group(3) not in _SPAN_UNITS:
            raise ProbeError("not a time span: %r (expected e.g. 500ms, 1min 2.503s or infinity)" % (value,))
        unit = _SPAN_UNITS[match.group(3)]
        fraction = match.group(2) or ""
        total_ns += int(match.group(1)) * unit
        if fraction:
            total_ns += int(fraction) * unit // 10 ** len(fraction)
        position = match.end()
    return total_ns / 1e9


# ---------------------------------------------------------------------------------------------------------------
# zram


# Columns of zramctl (util-linux sys-utils/zramctl.c, "infos[]"): NAME, ALGORITHM and MOUNTPOINT are left-aligned,
# the numbers right-aligned (SCOLS_FL_RIGHT); libsmartcols aligns a header like its cells, so every cell overlaps
# its column's header.  An unreadable sysfs attribute prints an empty cell: STREAMS is empty on kernels without
# max_comp_streams (Linux 6.18 has none), MOUNTPOINT when the device is neither mounted nor swap.
_ZRAM_COLUMNS = ("NAME", "ALGORITHM", "DISKSIZE", "DATA", "COMPR", "TOTAL", "STREAMS", "MOUNTPOINT")
_ZRAM_TEXT_COLUMNS = ("NAME", "ALGORITHM", "ALGORITHM-PARAMS", "MOUNTPOINT")
_ZRAM_SIZES = (("disksize", "DISKSIZE"), ("data", "DATA"), ("compr", "COMPR"), ("total", "TOTAL"))
# size_to_human_string(SIZE_SUFFIX_1LETTER) in util-linux lib/strutils.c: "0B", "4K", "253.7M", "12G"; one
# decimal at most, written with the locale's decimal point.
_HUMAN_SIZE = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?([BKMGTPE])")


def _zram_size(cell: str, column: str, number: int, line: str) -> int:
    if re.fullmatch(r"[0-9]+", cell):
        return int(cell)
    match = _HUMAN_SIZE.fullmatch(cell)
    if not match:
        raise _bad_line("zramctl output", number, line, "%s %r is not a size" % (column, cell))
    factor = _SIZE_FACTOR[match.group(3)]
    fraction = match.group(2) or ""
    result = int(match.group(1)) * factor
    if fraction:
        result += int(fraction) * factor // 10 ** len(fraction)
    return result


def _zram_cells(columns: List[Tuple[str, int, int]], number: int, line: str) -> Dict[str, str]:
    """The cells of one zramctl row, each assigned to the column whose header it overlaps."""
    spans: Dict[str, Tuple[int, int]] = {}
    previous: Optional[str] = None
    for word in _WORD.finditer(line):
        owner = None
        for name, start, end in columns:
            if word.start() < end and start < word.end():
                owner = name
                break
        if owner is None and previous in _ZRAM_TEXT_COLUMNS:
            owner = previous  # a text cell with a space in it, e.g. a mount point
        if owner is None:
            raise _bad_line("zramctl output", number, line, "%r is under no column of the header" % word.group(0))
        if owner in spans:
            if owner != previous or owner not in _ZRAM_TEXT_COLUMNS:
                raise _bad_line("zramctl output", number, line, "two values in column %s" % owner)
            spans[owner] = (spans[owner][0], word.end())
        else:
            spans[owner] = (word.start(), word.end())
        previous = owner
    return {name: line[start:end] for name, (start, end) in spans.items()}


def parse_zramctl(text: str) -> List[Dict[str, Any]]:
    """The devices ``zramctl --bytes --output NAME,ALGORITHM,DISKSIZE,DATA,COMPR,TOTAL,STREAMS,MOUNTPOINT`` lists.

    Format of util-linux 2.25 to 2.40 (libsmartcols table with its header line; these are also zramctl's default
    columns).  Each device: ``name`` ("/dev/zram0"), ``algorithm``, ``disksize``, ``data``, ``compr``, ``total``
    (bytes), ``streams`` (None when the cell is empty), ``mountpoint`` ("[SWAP]", "" when empty).  Without
    ``--bytes`` sizes such as ``3.2G`` are converted at base 1024 (to the one decimal zramctl prints).  zramctl
    prints nothing when no device is set up; that and a header alone give [].
    """
    lines = _lines(text, "zramctl output")
    if not lines:
        return []
    header_number, header = lines[0]
    columns = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(header)]
    names = [name for name, _start, _end in columns]
    if (any(name not in names for name in _ZRAM_COLUMNS) or len(set(names)) != len(names)
            or not all(re.fullmatch(r"[A-Z][A-Z0-9-]*", name) for name in names)):
        raise _bad_line("zramctl output", header_number, header,
                        "expected the header of --output %s" % ",".join(_ZRAM_COLUMNS))
    devices = []
    for number, line in lines[1:]:
        cells = _zram_cells(columns, number, line)
        if not cells.get("NAME"):
            raise _bad_line("zramctl output", number, line, "no device name")
        device: Dict[str, Any] = {"name": cells["NAME"], "algorithm": cells.get("ALGORITHM", "")}
        for key, column in _ZRAM_SIZES:
            if column not in cells:
                raise _bad_line("zramctl output", number, line, "no %s" % column)
            device[key] = _zram_size(cells[column], column, number, line)
        streams = cells.get("STREAMS")
        device["streams"] = None if streams is None else _int(streams, "zramctl output", number, line)
        device["mountpoint"] = cells.get("MOUNTPOINT", "")
        devices.append(device)
    return devices


def parse_comp_algorithm(text: str) -> Tuple[Optional[str], List[str]]:
    """``/sys/block/zramN/comp_algorithm`` (Linux 3.15 and later): the selected algorithm and all offered ones.

    ``lzo lzo-rle lz4 lz4hc 842 [zstd]`` gives ``("zstd", ["lzo", "lzo-rle", "lz4", "lz4hc", "842", "zstd"])``;
    without brackets (no device initialised yet on some kernels) the selection is None.
    """
    words = _text(text, "comp_algorithm").split()
    if not words:
        raise ProbeError("comp_algorithm is empty")
    selected = None
    offered = []
    for word in words:
        match = re.fullmatch(r"\[([^\[\]]+)\]", word)
        if match:
            if selected is not None:
                raise ProbeError("comp_algorithm selects two algorithms: %r" % text.strip())
            selected = match.group(1)
            offered.append(selected)
        elif re.fullmatch(r"[^\[\]]+", word):
            offered.append(word)
        else:
            raise ProbeError("cannot parse comp_algorithm %r: %r is not an algorithm name" % (text.strip(), word))
    return selected, offered


# Documentation/admin-guide/blockdev/zram.rst, "File /sys/block/zram<id>/mm_stat", in the order mm_stat_show()
# prints them ("%8llu %8llu ..."): the first seven are the original set, huge_pages and huge_pages_since were
# appended by later kernels (Linux 6.18 prints all nine).
MM_STAT_FIELDS = ("orig_data_size", "compr_data_size", "mem_used_total", "mem_limit", "mem_used_max", "same_pages",
                  "pages_compacted", "huge_pages", "huge_pages_since")
_MM_STAT_MIN_FIELDS = 7


def parse_mm_stat(text: str) -> Dict[str, int]:
    """``/sys/block/zramN/mm_stat``: one line of numbers printed by mm_stat_show() in drivers/block/zram/zram_drv.c.

    Keys are the names of Documentation/admin-guide/blockdev/zram.rst (sizes in bytes, the rest in pages):
    orig_data_size compr_data_size mem_used_total mem_limit mem_used_max same_pages pages_compacted huge_pages
    huge_pages_since.  Older kernels print the first seven only (no huge_pages / huge_pages_since); only the
    fields present are returned.  Fields a newer kernel may append are checked to be numbers and left out.
    """
    raw = _text(text, "mm_stat")
    lines = _lines(raw, "mm_stat")
    if not lines:
        raise ProbeError("mm_stat is empty")
    if len(lines) > 1:
        raise _bad_line("mm_stat", lines[1][0], lines[1][1], "mm_stat is a single line")
    number, line = lines[0]
    values = line.split()
    if len(values) < _MM_STAT_MIN_FIELDS:
        raise _bad_line("mm_stat", number, line, "expected at least %d numbers" % _MM_STAT_MIN_FIELDS)
    numbers = [_int(value, "mm_stat", number, line) for value in values]
    return dict(zip(MM_STAT_FIELDS, numbers))


def parse_swaps(text: str) -> List[Dict[str, Any]]:
    """``/proc/swaps`` (swap_show() in mm/swapfile.c, every Linux 2.6+): one entry per active swap area.

    Keys: ``filename`` (octal escapes such as ``\\040`` decoded), ``type`` ("partition" or "file"), ``size_kib``,
    ``used_kib``, ``priority`` (ints; priority may be negative).  The header line is skipped; header only gives [].
    """
    swaps = []
    for number, line in _lines(text, "/proc/swaps"):
        fields = line.split()
        if fields[0] == "Filename" and fields[1:] == ["Type", "Size", "Used", "Priority"]:
            continue
        if len(fields) != 5:
            raise _bad_line("/proc/swaps", number, line, "expected 5 fields")
        if not re.fullmatch(r"-?[0-9]+", fields[4]):
            raise _bad_line("/proc/swaps", number, line, "priority %r is not a number" % fields[4])
        swaps.append({
            "filename": re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[0]),
            "type": fields[1],
            "size_kib": _int(fields[2], "/proc/swaps", number, line),
            "used_kib": _int(fields[3], "/proc/swaps", number, line),
            "priority": int(fields[4]),
        })
    return swaps


# ---------------------------------------------------------------------------------------------------------------
# systemd


_PROPERTY = re.compile(r"([A-Za-z][A-Za-z0-9]*)=(.*)")


def parse_systemctl_show(text: str) -> List[Dict[str, str]]:
    """``systemctl show -p A,B,C unit1 unit2`` (systemd 219 and later): one mapping per unit, in output order.

    systemctl prints ``Name=value`` lines (values may contain ``=``) and one blank line between units; properties
    come in systemd's order, not the order asked for.  Values are returned as printed; see parse_bytes,
    parse_size and parse_timespan to read them.
    """
    units: List[Dict[str, str]] = []
    current: Dict[str, str] = {}
    for number, line in enumerate(_text(text, "systemctl show output").splitlines(), 1):
        stripped = line.rstrip()
        if not stripped:
            if current:
                units.append(current)
                current = {}
            continue
        match = _PROPERTY.fullmatch(stripped)
        if not match:
            raise _bad_line("systemctl show output", number, line, "expected Name=value")
        current[match.group(1)] = match.group(2)
    if current:
        units.append(current)
    return units


_NOT_FINISHED = "Bootup is not yet finished"


def _analyze_lines(text: Any, what: str) -> List[Tuple[int, str]]:
    lines = [(number, _ANSI.sub("", line)) for number, line in _lines(text, what)]
    for _number, line in lines:
        if line.startswith(_NOT_FINISHED):
            raise ProbeError("%s: %s" % (what, line.strip()))
    return lines


def _span(value: str, what: str, number: int, line: str) -> float:
    try:
        seconds = parse_timespan(value)
    except ProbeError as exc:
        raise _bad_line(what, number, line, str(exc)) from None
    if seconds is None:
        raise _bad_line(what, number, line, "a boot time cannot be infinite")
    return seconds


# pretty_boot_time() in systemd's src/analyze/analyze-time-data.c: the labels of "Startup finished in".
_BOOT_PHASES = {"firmware": "firmware_s", "loader": "loader_s", "kernel": "kernel_s", "initrd": "initrd_s",
                "soft reboot": "soft_reboot_s", "userspace": "userspace_s"}
_BOOT_PART = re.compile(r"(.+?) \(([a-z ]+)\)")
_REACHED = re.compile(r"(\S+) reached after (.+?) in userspace\.?")
_NEVER_REACHED = re.compile(r"(\S+) was never reached\.?")
_NO_TIME = re.compile(r"Could not get time to reach (\S+?)\.?")
_NO_DEFAULT = re.compile(r"[Cc]ould not find default\.target\.?")


def parse_analyze_time(text: str) -> Dict[str, Any]:
    """``systemd-analyze time`` (systemd 209 and later, pretty_boot_time() in src/analyze/analyze-time-data.c).

    ``Startup finished in 4.102s (firmware) + 2.005s (loader) + 1.234s (kernel) + 2.345s (initrd) + 10.456s
    (userspace) = 20.142s`` gives firmware_s, loader_s, kernel_s, initrd_s, userspace_s and total_s (and
    soft_reboot_s after a soft reboot); parts the host does not have are absent (a VM has no firmware or loader
    time, a container prints userspace only and no total).  ``graphical.target reached after 10.203s in
    userspace.`` adds ``target`` and ``target_s``; target_s is None when the target "was never reached" or its
    time could not be read.  Output of a boot still running ("Bootup is not yet finished ...") or no output at
    all raises ProbeError.
    """
    lines = _analyze_lines(text, "systemd-analyze time")
    if not lines:
        raise ProbeError("systemd-analyze time printed nothing")
    result: Dict[str, Any] = {}
    for number, line in lines:
        line = line.strip()
        if line.startswith("Startup finished in "):
            if "total_s" in result or "userspace_s" in result:
                raise _bad_line("systemd-analyze time", number, line, "a second startup line")
            body = line[len("Startup finished in "):]
            if " = " in body:
                body, total = body.rsplit(" = ", 1)
                result["total_s"] = _span(total, "systemd-analyze time", number, line)
            for part in body.split(" + "):
                match = _BOOT_PART.fullmatch(part.strip())
                if not match or match.group(2) not in _BOOT_PHASES:
                    raise _bad_line("systemd-analyze time", number, line, "cannot read %r" % part)
                key = _BOOT_PHASES[match.group(2)]
                if key in result:
                    raise _bad_line("systemd-analyze time", number, line, "%s twice" % match.group(2))
                result[key] = _span(match.group(1), "systemd-analyze time", number, line)
            continue
        match = _REACHED.fullmatch(line)
        if match:
            result["target"] = match.group(1)
            result["target_s"] = _span(match.group(2), "systemd-analyze time", number, line)
            continue
        match = _NEVER_REACHED.fullmatch(line) or _NO_TIME.fullmatch(line)
        if match:
            result["target"] = match.group(1)
            result["target_s"] = None
            continue
        if _NO_DEFAULT.fullmatch(line):
            continue
        raise _bad_line("systemd-analyze time", number, line)
    if not any(key in result for key in _BOOT_PHASES.values()):
        raise ProbeError("systemd-analyze time printed no 'Startup finished in' line: %r" % lines[0][1])
    return result


_UNIT_NAME = re.compile(r"\S+\.[a-z]+")


def parse_analyze_blame(text: str) -> List[Tuple[str, float]]:
    """``systemd-analyze blame`` (systemd 209 and later, src/analyze/analyze-blame.c): ``(unit, seconds)`` pairs.

    Lines such as ``  5.123s NetworkManager-wait-online.service``, ``1min 2.003s foo.service`` or
    ``345ms bar.service`` (the time column is right-aligned); the output order (slowest first) is kept.
    """
    entries = []
    for number, line in _analyze_lines(text, "systemd-analyze blame"):
        words = line.split()
        if len(words) < 2 or not _UNIT_NAME.fullmatch(words[-1]):
            raise _bad_line("systemd-analyze blame", number, line, "expected a time and a unit name")
        entries.append((words[-1], _span(" ".join(words[:-1]), "systemd-analyze blame", number, line)))
    return entries


# list_dependencies_print() in systemd's src/analyze/analyze-critical-chain.c draws the tree with the glyphs of
# src/basic/glyph-util.c, two characters per level: U+2502 and a space, or two spaces, above; U+251C or U+2514 and U+2500 before a
# unit; "| ", "|-" and "`-" when the locale is not UTF-8.
_TREE_CELLS = ("\u2502 ", "  ", "| ", "\u251c\u2500", "\u2514\u2500", "|-", "`-")
_TREE_BRANCHES = ("\u251c\u2500", "\u2514\u2500", "|-", "`-")
_CHAIN_HEADER = re.compile(r'The time (?:when|after) (?:the )?unit .* is printed after the "@" character\.'
                           r'|The time the unit (?:took|takes) to start is printed after the "\+" character\.')
_CHAIN_ENTRY = re.compile(r"(\S+)(?: @(.+?))?(?: \+(.+))?")


def parse_critical_chain(text: str) -> List[Dict[str, Any]]:
    """``systemd-analyze critical-chain`` (systemd 209 and later, src/analyze/analyze-critical-chain.c).

    Each entry: ``unit``, ``at_s`` (when it became active, after the "@"), ``took_s`` (how long it took to start,
    after the "+"), None where not printed, and ``depth`` (0 for the target on the first line, 1 for the unit it
    waited for, and so on).  Both header lines, UTF-8 and ASCII tree glyphs, and colour are understood; "..."
    marks a dependency loop.  Empty or header-only output gives [].
    """
    entries: List[Dict[str, Any]] = []
    for number, line in _analyze_lines(text, "systemd-analyze critical-chain"):
        if _CHAIN_HEADER.fullmatch(line.strip()):
            continue
        position = 0
        while line[position:position + 2] in _TREE_CELLS:
            position += 2
        depth = position // 2
        if depth and line[position - 2:position] not in _TREE_BRANCHES:
            raise _bad_line("systemd-analyze critical-chain", number, line, "no tree branch before the unit")
        match = _CHAIN_ENTRY.fullmatch(line[position:])
        if not match:
            raise _bad_line("systemd-analyze critical-chain", number, line)
        if not entries and depth:
            raise _bad_line("systemd-analyze critical-chain", number, line, "the chain does not start with its target")
        at, took = match.group(2), match.group(3)
        entries.append({
            "unit": match.group(1),
            "at_s": None if at is None else _span(at, "systemd-analyze critical-chain", number, line),
            "took_s": None if took is None else _span(took, "systemd-analyze critical-chain", number, line),
            "depth": depth,
        })
    return entries


# ---------------------------------------------------------------------------------------------------------------
# memory, pressure, processes


_MEMINFO = re.compile(r"([^\s:]+):\s*([0-9]+)(?:\s+kB)?")


def parse_meminfo(text: str) -> Dict[str, int]:
    """``/proc/meminfo`` (fs/proc/meminfo.c, every Linux): values in KiB as printed, counts (HugePages_*) as is."""
    result = {}
    for number, line in _lines(text, "/proc/meminfo"):
        match = _MEMINFO.fullmatch(line.strip())
        if not match:
            raise _bad_line("/proc/meminfo", number, line, "expected 'Name: value kB'")
        result[match.group(1)] = int(match.group(2))
    if not result:
        raise ProbeError("/proc/meminfo is empty")
    return result


# procps free.c: "free -b" has printed "total used free shared buff/cache available" since procps-ng 3.3.10
# (also 4.0.x); before, "total used free shared buffers cached" followed by a "-/+ buffers/cache:" row, which
# holds used and free only.  "free -w" splits buff/cache into "buffers" and "cache".
_FREE_ROW = re.compile(r"([^:]+):\s*(.*)")


def parse_free(text: str) -> Dict[str, Dict[str, int]]:
    """``free -b`` of procps 3.2 to 4.0 (run in the C locale): ``{"mem": {...}, "swap": {...}}`` in bytes.

    Columns are named as the header names them: total, used, free, shared, buff/cache, available for procps-ng
    3.3.10 and later; total, used, free, shared, buffers, cached for older versions (and buffers / cache with
    ``-w``), where ``buff/cache`` is added as their sum.  Rows are keyed by their label in lower case ("mem",
    "swap", "-/+ buffers/cache", "total" with ``-t``, "low" / "high" with ``-l``).
    """
    lines = _lines(text, "free output")
    if not lines:
        raise ProbeError("free printed nothing")
    header_number, header = lines[0]
    columns = header.split()
    if not columns or "total" not in columns or ":" in header:
        raise _bad_line("free output", header_number, header, "expected the header line (total used free ...)")
    rows: Dict[str, Dict[str, int]] = {}
    for number, line in lines[1:]:
        match = _FREE_ROW.fullmatch(line.strip())
        if not match:
            raise _bad_line("free output", number, line, "expected 'Label: numbers'")
        label = match.group(1).strip().lower()
        names = ["used", "free"] if label == "-/+ buffers/cache" else columns
        values = match.group(2).split()
        if not values or len(values) > len(names):
            raise _bad_line("free output", number, line, "expected 1 to %d numbers" % len(names))
        rows[label] = {name: _int(value, "free output", number, line) for name, value in zip(names, values)}
    if "mem" not in rows:
        raise ProbeError("free printed no 'Mem:' row (is the output translated? run free in the C locale)")
    mem = rows["mem"]
    cache = mem.get("cached", mem.get("cache"))
    if "buff/cache" not in mem and "buffers" in mem and cache is not None:
        mem["buff/cache"] = mem["buffers"] + cache
    return rows


_PRESSURE_KEYS = ("avg10", "avg60", "avg300", "total")


def parse_pressure(text: str) -> Dict[str, Dict[str, float]]:
    """``/proc/pressure/{cpu,memory,io}`` (PSI, Linux 4.20 and later, kernel/sched/psi.c).

    ``some avg10=0.12 avg60=0.30 avg300=0.08 total=123456`` gives ``{"some": {"avg10": 0.12, ..., "total":
    123456.0}}`` (averages in percent, total in microseconds); ``full`` likewise when printed (the cpu file has it
    since Linux 5.13).
    """
    result: Dict[str, Dict[str, float]] = {}
    for number, line in _lines(text, "pressure file"):
        words = line.split()
        if words[0] not in ("some", "full") or words[0] in result:
            raise _bad_line("pressure file", number, line, "expected one 'some' and one 'full' line")
        values = {}
        for word in words[1:]:
            key, _sep, value = word.partition("=")
            if key not in _PRESSURE_KEYS or not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value):
                raise _bad_line("pressure file", number, line, "cannot read %r" % word)
            values[key] = float(value)
        if sorted(values) != sorted(_PRESSURE_KEYS):
            raise _bad_line("pressure file", number, line, "expected %s" % ", ".join(_PRESSURE_KEYS))
        result[words[0]] = values
    if not result:
        raise ProbeError("the pressure file is empty")
    return result


_PS_LINE = re.compile(r"\s*([0-9]+)\s+([0-9]+)\s(.+)")


def parse_ps(text: str) -> List[Dict[str, Any]]:
    """``ps -eo pid=,rss=,comm=`` (procps 3.3 / 4.x): ``{"pid", "rss_kib", "comm"}`` per process.

    No header (the ``=`` suppresses it); pid and rss are right-aligned, comm is the rest of the line and may
    contain spaces ("Web Content", "Isolated Web Co").
    """
    processes = []
    for number, line in _lines(text, "ps output"):
        match = _PS_LINE.fullmatch(line)
        if not match or not match.group(3).strip():
            raise _bad_line("ps output", number, line, "expected pid, rss and command name")
        processes.append({"pid": int(match.group(1)), "rss_kib": int(match.group(2)), "comm": match.group(3).strip()})
    return processes


def parse_proc_stat(text: str) -> Dict[str, Any]:
    """``/proc/<pid>/stat`` (proc(5), every Linux 2.6+): pid, comm, state, utime and stime (clock ticks).

    comm is inside parentheses and may hold spaces and ")" itself ("(sd-pam)"), so the line is split at the last
    ")"; utime and stime are fields 14 and 15.
    """
    line = _text(text, "/proc/<pid>/stat").strip()
    if not line:
        raise ProbeError("/proc/<pid>/stat is empty")
    opening, closing = line.find(" ("), line.rfind(")")
    if opening < 0 or closing < opening:
        raise _bad_line("/proc/<pid>/stat", 1, line, "no '(comm)'")
    rest = line[closing + 1:].split()
    if len(rest) < 13 or not re.fullmatch(r"[A-Za-z]", rest[0]):
        raise _bad_line("/proc/<pid>/stat", 1, line, "expected state and at least 15 fields")
    return {
        "pid": _int(line[:opening], "/proc/<pid>/stat", 1, line),
        "comm": line[opening + 2:closing],
        "state": rest[0],
        "utime": _int(rest[11], "/proc/<pid>/stat", 1, line),
        "stime": _int(rest[12], "/proc/<pid>/stat", 1, line),
    }


def parse_cpu_stat(text: str) -> Dict[str, int]:
    """The aggregate ``cpu`` line of ``/proc/stat`` (proc(5)), whole file or that line alone, in clock ticks.

    Fields: user nice system idle iowait irq softirq steal guest guest_nice (older kernels print fewer; missing
    ones count as 0).  ``busy`` = user + nice + system + irq + softirq + steal, ``idle`` = idle + iowait,
    ``total`` = busy + idle.  guest and guest_nice are already counted in user and nice and are not added again.
    """
    for number, line in _lines(text, "/proc/stat"):
        words = line.split()
        if words[0] != "cpu":
            continue
        if len(words) < 5:
            raise _bad_line("/proc/stat", number, line, "expected at least user nice system idle")
        values = [_int(word, "/proc/stat", number, line) for word in words[1:]] + [0] * 7
        user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
        busy = user + nice + system + irq + softirq + steal
        return {"busy": busy, "idle": idle + iowait, "total": busy + idle + iowait}
    raise ProbeError("/proc/stat has no aggregate 'cpu' line")


# ---------------------------------------------------------------------------------------------------------------
# GPUs


_NVIDIA_MISSING = ("[N/A]", "N/A", "[Not Supported]")
_NVIDIA_KEYS = ("util_pct", "memory_used_mib", "memory_total_mib")


def parse_nvidia_smi(text: str) -> List[Dict[str, Optional[float]]]:
    """``nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits``.

    One line per GPU (driver 3xx and later): ``3, 412, 4096`` gives ``{"util_pct": 3.0, "memory_used_mib": 412.0,
    "memory_total_mib": 4096.0}``; ``[N/A]`` and ``[Not Supported]`` give None.  A message instead of numbers
    ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver ...") raises ProbeError.
    """
    gpus = []
    for number, line in _lines(text, "nvidia-smi output"):
        values = [value.strip() for value in line.split(",")]
        if len(values) != len(_NVIDIA_KEYS):
            raise _bad_line("nvidia-smi output", number, line, "expected %d comma-separated values" % len(_NVIDIA_KEYS))
        gpu: Dict[str, Optional[float]] = {}
        for key, value in zip(_NVIDIA_KEYS, values):
            if value in _NVIDIA_MISSING:
                gpu[key] = None
            elif re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value):
                gpu[key] = float(value)
            else:
                raise _bad_line("nvidia-smi output", number, line, "%s %r is not a number" % (key, value))
        gpus.append(gpu)
    return gpus


# vainfo (libva-utils vainfo/vainfo.c and common/va_display*.c) prints on stdout "Trying display: x11", then
# "<prog>: VA-API version: 1.22 (libva 2.22.0)", "<prog>: Driver version: ...", "<prog>: Supported profile and
# entrypoints" and one "      VAProfileX : <TAB>VAEntrypointY" line per pair; libva (va/va.c) writes "libva info:"
# and "libva error:" lines on stderr, vainfo its own failures ("vaInitialize failed with error code -1 (unknown
# libva error),exit", "error: can't connect to X server!", "error: failed to initialize display") too.
_VA_VERSION = re.compile(r"\S+: VA-API version: ([0-9]+\.[0-9]+)(?: \(.*\))?")
_VA_DRIVER = re.compile(r"\S+: Driver version: (.*)")
_VA_PROFILES = re.compile(r"\S+: Supported profile and entrypoints")
_VA_PAIR = re.compile(r"(VAProfile\w+)\s*:\s*(VAEntrypoint\w+)")
_VA_FATAL = re.compile(r".* failed with error code -?[0-9]+.*|\S+: vaGetDisplay\(\) failed|error: failed to initialize display.*")
# vainfo's own failures on stdout ("Failed to open the given device!", "Failed to allocate memory for ..."); on stderr
# such a line may come from any library and says nothing about vainfo's result.
_VA_STDOUT_FATAL = re.compile(r"Failed to .*")
_VA_ERROR = re.compile(r"libva error: .*|error: .*")
_VA_NOISE = re.compile(r"libva info: .*|Trying display: .*")


def parse_vainfo(stdout: str, stderr: str = "") -> Dict[str, Any]:
    """What ``vainfo`` (libva-utils 2.x, libva 2.x) printed: driver, VA-API version, profiles and entrypoints.

    Returns ``{"driver": "Intel iHD driver for Intel(R) Gen Graphics - 24.1.0 ()" or None, "va_api": "1.22" or
    None, "profiles": {"VAProfileH264Main": ["VAEntrypointVLD", "VAEntrypointEncSlice"], ...}, "error": None}``.
    When vainfo could not open a display or a driver, ``error`` holds its error lines (joined by "; ") and
    ``profiles`` is {}; an error line before a successful run (X11 refused, DRM then worked) is not an error.
    Both streams may be given joined as ``stdout`` (then no driver messages may be among them).  An unknown line
    on stdout raises ProbeError; stderr is free text from libva and the drivers, read only for error lines.
    """
    driver: Optional[str] = None
    va_api: Optional[str] = None
    profiles: Dict[str, List[str]] = {}
    errors: List[str] = []
    fatal = False
    last_stderr = ""
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        for number, raw in _lines(text, "vainfo " + stream):
            line = raw.strip()
            if _VA_NOISE.fullmatch(line):
                continue
            match = _VA_PAIR.fullmatch(line)
            if match:
                entrypoints = profiles.setdefault(match.group(1), [])
                if match.group(2) not in entrypoints:
                    entrypoints.append(match.group(2))
                continue
            match = _VA_VERSION.fullmatch(line)
            if match:
                va_api = match.group(1)
                continue
            match = _VA_DRIVER.fullmatch(line)
            if match:
                driver = None if match.group(1).strip() in ("", "<unknown>") else match.group(1).strip()
                continue
            if _VA_PROFILES.fullmatch(line):
                continue
            if _VA_FATAL.fullmatch(line) or (stream == "stdout" and _VA_STDOUT_FATAL.fullmatch(line)):
                fatal = True
                errors.append(line)
                continue
            if _VA_ERROR.fullmatch(line):
                errors.append(line)
                continue
            if stream == "stdout":
                raise _bad_line("vainfo output", number, raw)
            last_stderr = line
    error: Optional[str] = None
    if fatal or va_api is None:
        if errors:
            error = "; ".join(errors)
        elif last_stderr:
            error = last_stderr
        else:
            error = "vainfo printed no VA-API version"
        profiles = {}
    return {"driver": driver, "va_api": va_api, "profiles": profiles, "error": error}
