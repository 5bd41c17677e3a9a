# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KDE's configuration file format (the KConfig INI dialect of ``kwinrc``, ``kdeglobals``, ``baloofilerc``).

KDE rewrites its own rc files, so a tuning may change only the keys it owns and must give every other byte back.
``KConfigDoc.parse(text)`` keeps each line as it was read; ``render()`` joins them again, so
``KConfigDoc.parse(text).render() == text`` for every text the parser accepts.  ``set`` rewrites only the line of
the key it sets (a new key goes after the last entry of its group, a new group at the end of the file after one
blank line, as KConfig writes it); ``unset`` removes only the lines of that key.

The rules below follow KDE Frameworks' ``src/core/kconfigini.cpp`` (KDE/kconfig, master of 2026-08-20, commit
c21442bc): ``KConfigIniBackend::parseConfig``, ``writeEntries``, ``stringToPrintable`` and ``printableToString``.
Debian's ``libkf5config-bin`` 5.103 (``kreadconfig5``/``kwriteconfig5``) reads and writes the same format.

Lines (``parseConfig``)
    Every line is trimmed of ASCII white space (``QByteArrayView::trimmed``: space, ``\\t\\n\\v\\f\\r``), so CRLF
    files and indentation are accepted.  Empty lines and lines starting with ``#`` are skipped.  Lines are split on
    ``\\n`` only.
Groups
    ``[Name]``; nested groups are the segments of one header, ``[Parent][Child]`` (held internally joined by
    ``\\x1d``); a last segment ``[$i]`` makes the group immutable, and a header ``[$i]`` with no name before it makes
    the whole file immutable (its entries then belong to the group named "").  Text after the last ``]`` that does
    not open a new segment is ignored.  ``[<default>]`` names the default group, the one of the keys before any
    header.  A header that is never closed is refused here (KConfig warns "Invalid group header" and skips the line).
    A group may appear in several sections; its entries merge.
Entries
    ``key = value``: white space around ``=`` is dropped.  Bracketed suffixes of the key are read from the right:
    ``[$...]`` are options (``i`` immutable, ``e`` expand ``$HOME``-style variables on read, ``d`` deleted: a
    ``Key[$d]`` line needs no ``=`` and deletes the key), any other bracket is the locale (``Name[de]``,
    ``Name[de][$e]``).  For one key the last line wins, except that an immutable entry (``[$i]`` on the key, on its
    group's header, or on the file) is never overridden by a later line.  KConfig's errors are refused here with the
    line number: a key with an unclosed ``[``, a second locale, a line without ``=`` (and without ``[$d]``), an empty
    key, an invalid escape.
Escapes (``printableToString``, read)
    A string without a backslash is taken as it is.  Otherwise it is trimmed, then ``\\s`` space, ``\\t`` tab,
    ``\\n`` newline, ``\\r`` carriage return, ``\\\\`` backslash, ``\\xNN`` one byte (two hex digits; the bytes are
    then read as UTF-8), and ``\\;`` and ``\\,`` are kept as the two characters (they are ``.desktop`` list escapes,
    not KConfig ones).  A backslash at the very end stays a backslash; any other escape is an error.
Escapes (``stringToPrintable``, write)
    Values: a leading and a trailing space become ``\\s``; newline, tab, CR and backslash become ``\\n``, ``\\t``,
    ``\\r``, ``\\\\``; other control characters and DEL become ``\\xNN`` (lower-case hex); ``=``, ``[``, ``]``, ``;``,
    ``,`` and non-ASCII text are written as they are.  Keys: as values, and ``=``, ``[``, ``]`` become ``\\x3d``,
    ``\\x5b``, ``\\x5d``; DEL stays.  Group segments: as keys but without the ``\\s`` protection and with ``=`` as it
    is; a ``/`` is an ordinary character; a last segment of ``$`` and up to nine lower-case letters is written
    ``\\x24...`` so that it cannot read back as an option.

Group names with white space at either end are refused by ``set``: KConfig writes them without protection and
trims them on read whenever the name holds an escape.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

GroupPath = Tuple[str, ...]
EntryId = Tuple[GroupPath, str, Optional[str]]  # (group path, key, locale)

# Qt's isspace() for bytes, used by QByteArrayView::trimmed()
_WS = " \t\n\v\f\r"
_DEFAULT_NAME = "<default>"
_HEX = "0123456789abcdefABCDEF"
_VALUE, _KEY, _GROUP = "value", "key", "group"


class KConfigError(ValueError):
    """A KDE config file or an edit that KConfig would refuse."""


class _Line:
    """One line of the file as read, with what KConfig makes of it."""

    __slots__ = ("raw", "kind", "path", "immutable", "key", "locale", "flags", "value")

    def __init__(self, raw: str, kind: str, path: GroupPath = (), immutable: bool = False, key: str = "",
                 locale: Optional[str] = None, flags: str = "", value: Optional[str] = None) -> None:
        self.raw = raw            # the text of the line, without its "\n"
        self.kind = kind          # "other" (blank, comment), "group" or "entry"
        self.path = path          # the group the line belongs to (the header's own group for "group")
        self.immutable = immutable  # entry: [$i] on it, its header or the file; group: [$i] on the header
        self.key = key
        self.locale = locale
        self.flags = flags        # the option letters of an entry, among "i", "e", "d"
        self.value = value        # None for a deleted ([$d]) entry


def _unescape(text: str, lineno: int) -> str:
    """``printableToString``: decode KConfig's escapes."""
    if "\\" not in text:
        return text
    data = text.strip(_WS).encode("utf-8")
    out = bytearray()
    i, size = 0, len(data)
    while i < size:
        byte = data[i]
        if byte != 0x5C:
            out.append(byte)
            i += 1
            continue
        i += 1
        if i >= size:
            out.append(0x5C)
            break
        char = chr(data[i])
        simple = {"s": b" ", "t": b"\t", "n": b"\n", "r": b"\r", "\\": b"\\", ";": b"\\;", ",": b"\\,"}
        if char in simple:
            out += simple[char]
        elif char == "x":
            if i + 2 >= size:
                out.append(0x78)
                break
            digits = data[i + 1:i + 3].decode("latin-1")
            if digits[0] not in _HEX or digits[1] not in _HEX:
                raise KConfigError("line %d: invalid hex character in escape sequence \\x%s" % (lineno, digits))
            out.append(int(digits, 16))
            i += 2
        else:
            raise KConfigError("line %d: invalid escape sequence \\%s" % (lineno, char))
        i += 1
    return out.decode("utf-8", errors="replace")


def _escape(text: str, kind: str) -> str:
    """``stringToPrintable``: encode ``text`` for a value, a key or a group segment."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise KConfigError("%r is not valid Unicode text: %s" % (text, exc)) from exc
    out: List[str] = []
    start = 0
    if text[:1] == " " and kind != _GROUP:
        out.append("\\s")
        start = 1
    for char in text[start:]:
        if char in "\n\t\r\\":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}[char])
        elif ord(char) < 32 or (char == "\x7f" and kind == _VALUE):
            out.append("\\x%02x" % ord(char))
        elif char == "=" and kind == _KEY:
            out.append("\\x3d")
        elif char in "[]" and kind != _VALUE:
            out.append("\\x%02x" % ord(char))
        else:
            out.append(char)
    result = "".join(out)
    if result.endswith(" ") and kind != _GROUP:
        result = result[:-1] + "\\s"
    return result


def _header(path: GroupPath, immutable: bool) -> str:
    """The header line KConfig's ``writeEntries`` writes for a group."""
    parts = []
    for index, segment in enumerate(path):
        prefix = ""
        if index == len(path) - 1 and segment[:1] == "$" and len(segment) <= 10 and all("a" <= c <= "z" for c in segment[1:]):
            prefix, segment = "\\x24", segment[1:]
        parts.append("[%s%s]" % (prefix, _escape(segment, _GROUP)))
    return "".join(parts) + ("[$i]" if immutable else "")


def _entry_line(key: str, value: str, locale: Optional[str], immutable: bool, expand: bool) -> str:
    flags = ("i" if immutable else "") + ("e" if expand else "")
    return "%s%s%s=%s" % (_escape(key, _KEY), "[%s]" % locale if locale is not None else "",
                          "[$%s]" % flags if flags else "", _escape(value, _VALUE))


def _group_name(path: GroupPath) -> str:
    return "[%s]" % "][".join(path) if path else "<default>"


def _check_path(path: Sequence[str], writing: bool = False) -> GroupPath:
    if isinstance(path, str):
        raise KConfigError("a group path is a tuple of group names, not the string %r" % path)
    path = tuple(path)
    for segment in path:
        if not isinstance(segment, str) or "\x1d" in segment or (writing and segment != segment.strip(_WS)):
            raise KConfigError("group name %r cannot be stored by KConfig (white space at an end, or \\x1d)" % segment)
    if path == (_DEFAULT_NAME,):
        return ()
    return path


def _check_locale(locale: Optional[str]) -> None:
    if locale is not None and (not locale or any(c in locale for c in "[]\\\n\r") or locale.startswith("$")
                               or locale != locale.strip(_WS)):
        raise KConfigError("invalid locale %r" % locale)


class KConfigDoc:
    """A KDE rc file: its lines, and the entries KConfig reads from them."""

    def __init__(self, lines: List[_Line], file_immutable: bool) -> None:
        self._lines = lines
        self.file_immutable = file_immutable

    # reading

    @classmethod
    def parse(cls, text: str) -> "KConfigDoc":
        """Read ``text`` as KConfig does; raise ``KConfigError`` (with the line number) where KConfig refuses."""
        lines: List[_Line] = []
        path: GroupPath = ()
        section_immutable = file_immutable = False
        for lineno, raw in enumerate(text.split("\n"), start=1):
            line = raw.strip(_WS)
            if not line or line[0] == "#":
                lines.append(_Line(raw, "other", path))
            elif line[0] == "[":
                path, section_immutable, file_immutable = cls._parse_header(line, lineno, file_immutable)
                lines.append(_Line(raw, "group", path, section_immutable))
            else:
                entry = cls._parse_entry(line, lineno)
                entry.raw, entry.path = raw, path
                entry.immutable = entry.immutable or section_immutable
                lines.append(entry)
        return cls(lines, file_immutable)

    @staticmethod
    def _parse_header(line: str, lineno: int, file_immutable: bool) -> Tuple[GroupPath, bool, bool]:
        names: List[str] = []
        immutable = file_immutable
        start = 1
        while True:
            end = line.find("]", start)
            if end < 0:
                raise KConfigError("line %d: invalid group header (no closing ']'): %s" % (lineno, line))
            if end + 1 == len(line) and line[start:end] == "$i":
                if names:
                    immutable = True
                else:
                    file_immutable = immutable = True
            else:
                names.append(_unescape(line[start:end], lineno))
            start = end + 2
            if start > len(line) or line[end + 1] != "[":
                break
        path = tuple("\x1d".join(names).split("\x1d"))
        if path == (_DEFAULT_NAME,):
            path = ()
        return path, immutable, file_immutable

    @staticmethod
    def _parse_entry(line: str, lineno: int) -> _Line:
        eqpos = line.find("=")
        if eqpos < 0:
            akey, raw_value = line, ""
        else:
            akey, raw_value = line[:eqpos].strip(_WS), line[eqpos + 1:].strip(_WS)
        if not akey:
            raise KConfigError("line %d: invalid entry (empty key)" % lineno)
        flags = ""
        locale: Optional[str] = None
        while True:
            start = akey.rfind("[")
            if start < 0:
                break
            end = akey.find("]", start)
            if end < 0:
                raise KConfigError("line %d: invalid entry (missing ']'): %s" % (lineno, line))
            if end > start + 1 and akey[start + 1] == "$":
                for option in akey[start + 2:end]:
                    if option in "ie" and option not in flags:
                        flags += option
                    elif option == "d":
                        if not _unescape(akey[:start], lineno):
                            raise KConfigError("line %d: invalid entry (empty key): %s" % (lineno, line))
                        return _Line("", "entry", key=_unescape(akey[:start], lineno), flags=flags + "d",
                                     immutable="i" in flags, value=None)
            else:
                if locale is not None:
                    raise KConfigError("line %d: invalid entry (second locale): %s" % (lineno, line))
                locale = akey[start + 1:end]
            akey = akey[:start]
        if eqpos < 0:
            raise KConfigError("line %d: invalid entry (missing '='): %s" % (lineno, line))
        key = _unescape(akey, lineno)
        if not key:
            raise KConfigError("line %d: invalid entry (empty key): %s" % (lineno, line))
        return _Line("", "entry", key=key, locale=locale, flags=flags, immutable="i" in flags,
                     value=_unescape(raw_value, lineno))

    def _effective(self, path: GroupPath, key: str, locale: Optional[str]) -> Optional[int]:
        """Index of the line KConfig takes the entry from: the last one, unless an earlier one is immutable."""
        found: Optional[int] = None
        for index, line in enumerate(self._lines):
            if line.kind == "entry" and line.path == path and line.key == key and line.locale == locale:
                if found is not None and self._lines[found].immutable:
                    continue
                found = index
        return found

    def get(self, group_path: Sequence[str], key: str, locale: Optional[str] = None) -> Optional[str]:
        """The value KConfig reads for ``key`` (unexpanded), or None when absent or deleted ([$d])."""
        index = self._effective(_check_path(group_path), key, locale)
        return None if index is None else self._lines[index].value

    def flags(self, group_path: Sequence[str], key: str, locale: Optional[str] = None) -> str:
        """The options of the entry KConfig reads: "i" immutable (also from its group or file), "e", "d"."""
        index = self._effective(_check_path(group_path), key, locale)
        if index is None:
            return ""
        line = self._lines[index]
        return ("i" if line.immutable else "") + line.flags.replace("i", "")

    def is_immutable(self, group_path: Sequence[str], key: Optional[str] = None, locale: Optional[str] = None) -> bool:
        """Whether KConfig refuses to change the group (``key`` None) or the entry."""
        path = _check_path(group_path)
        if self.file_immutable or any(line.kind == "group" and line.path == path and line.immutable for line in self._lines):
            return True
        if key is None:
            return False
        index = self._effective(path, key, locale)
        return index is not None and self._lines[index].immutable

    def groups(self) -> List[GroupPath]:
        """The groups with a header or an entry, in the order of their first appearance; () is the default group."""
        seen: Dict[GroupPath, None] = {}
        for line in self._lines:
            if line.kind == "group" or line.kind == "entry":
                seen.setdefault(line.path, None)
        return list(seen)

    def entries(self) -> Dict[EntryId, Optional[str]]:
        """Every (group path, key, locale) with the value KConfig reads (None when deleted)."""
        result: Dict[EntryId, Optional[str]] = {}
        for line in self._lines:
            if line.kind == "entry":
                ident = (line.path, line.key, line.locale)
                if ident not in result:
                    result[ident] = self.get(*ident)
        return result

    # writing

    def render(self) -> str:
        """The file's text: the lines as read, with only the edited ones changed."""
        return "\n".join(line.raw for line in self._lines)

    def _refuse_immutable(self, path: GroupPath, key: str, locale: Optional[str]) -> None:
        if self.is_immutable(path, key, locale):
            raise KConfigError("%s %s%s is immutable ([$i]): KDE ignores changes to it"
                               % (_group_name(path), key, "[%s]" % locale if locale is not None else ""))

    def _cr(self) -> str:
        return "\r" if self._lines and self._lines[0].raw.endswith("\r") else ""

    def set(self, group_path: Sequence[str], key: str, value: str, immutable: bool = False, locale: Optional[str] = None,
            expand: bool = False) -> None:
        """Set ``key`` (``Name[locale]`` when ``locale`` is given) in the group to ``value``.

        ``immutable`` writes ``[$i]``, ``expand`` writes ``[$e]`` (KDE then expands ``$HOME`` and the like on read);
        like KConfig's own ``writeEntry``, an edit drops an ``[$e]`` not asked for again.
        """
        path = _check_path(group_path, writing=True)
        _check_locale(locale)
        if not isinstance(key, str) or not key or "\x1d" in key or key.startswith("#"):
            raise KConfigError("invalid key %r (empty, or read back as a comment)" % (key,))
        if not isinstance(value, str):
            raise KConfigError("the value of %s %s must be a string, not %r" % (_group_name(path), key, value))
        self._refuse_immutable(path, key, locale)
        text = _entry_line(key, value, locale, immutable, expand)
        new = _Line(text + self._cr(), "entry", path, immutable, key, locale,
                    ("i" if immutable else "") + ("e" if expand else ""), value)
        index = self._effective(path, key, locale)
        if index is not None:
            old = self._lines[index]
            new.raw = text + ("\r" if old.raw.endswith("\r") else "")
            self._lines[index] = new
            return
        sections = [i for i, line in enumerate(self._lines) if line.kind == "group" and line.path == path]
        if sections or not path:
            first = sections[-1] + 1 if sections else 0
            last = first
            while last < len(self._lines) and self._lines[last].kind != "group":
                if self._lines[last].kind == "entry":
                    first = last + 1
                last += 1
            if not path and first == 0 and any(line.kind == "group" for line in self._lines):
                self._lines.insert(0, _Line(self._cr(), "other"))
            self._lines.insert(first, new)
            return
        self._append_group(path, new)

    def ensure(self, group_path: Sequence[str], key: str, value: str, immutable: bool = False,
               locale: Optional[str] = None, expand: bool = False) -> bool:
        """``set`` only when the key's value or options differ, so that a key already as asked keeps its line byte
        for byte; True when the text changed."""
        wanted = ("i" if immutable else "") + ("e" if expand else "")
        if self.get(group_path, key, locale) == value and self.flags(group_path, key, locale) == wanted:
            return False
        before = self.render()
        self.set(group_path, key, value, immutable=immutable, locale=locale, expand=expand)
        return self.render() != before

    def _append_group(self, path: GroupPath, entry: _Line) -> None:
        cr = self._cr()
        tail = self._lines[-1] if self._lines else None
        if tail is not None and tail.raw == "":
            self._lines.pop()  # the empty text after the file's last newline
        new = [_Line(_header(path, False) + cr, "group", path), entry, _Line("", "other", path)]
        if self._lines and self._lines[-1].raw.strip(_WS):
            new.insert(0, _Line(cr, "other", self._lines[-1].path))
        self._lines.extend(new)

    def unset(self, group_path: Sequence[str], key: str, locale: Optional[str] = None) -> bool:
        """Remove every line of ``key`` in the group (nothing when absent); True when a line was removed."""
        path = _check_path(group_path)
        _check_locale(locale)
        keep = [line for line in self._lines
                if not (line.kind == "entry" and line.path == path and line.key == key and line.locale == locale)]
        if len(keep) == len(self._lines):
            return False
        self._refuse_immutable(path, key, locale)
        self._lines = keep
        return True
