# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A line-preserving editor for the TOML files programs rewrite themselves (RustDesk's ``RustDesk2.toml``,
``RustDesk_default.toml``).

Such a file holds values that must never be lost (RustDesk keeps its ID, key pair and password salt in them), so a
tuning changes only the keys it owns and gives every other byte back: ``TomlDoc.parse(text).render() == text`` for
every text the parser accepts, ``set`` rewrites only the line of the key it sets (a new key goes after the last
entry of its table, a missing table is appended at the end of the file after one blank line), ``unset`` removes
only the key's line.  A new value is written as a TOML basic string (``"..."``, with ``\\"``, ``\\\\``, ``\\b \\t
\\n \\f \\r`` and ``\\uXXXX`` for the other control characters); a value replacing a literal string
(``'...'``, what RustDesk writes) keeps that style when it can, so a key given back its old value gets its old
line back byte for byte.  A key that is not a bare key is written quoted.

What RustDesk writes (hbb_common ``src/config.rs``, rustdesk-org/confy ``src/lib.rs``: ``toml::to_string_pretty``
of toml 0.5.11, ``src/ser.rs``): top-level keys, then one ``[table]`` per struct field or map (``[socks]``,
``[options]``), strings as literal strings (``'Y'``; ``'''it's'''`` when the value holds a ``'``, ``'''`` on its own
line when it holds a newline, a basic string when it holds a control character), arrays of two or more items one
item a line with a trailing comma.  The parser reads any TOML 1.0 document (``tomllib`` checks the whole text
first, so nothing invalid is ever edited), and keeps the physical lines: multi-line strings and arrays are
skipped as units, so a ``[options]`` inside a string is never taken for a header.

Refused with ``TomlError`` rather than risked (the file is then left as it was):

* an owned key whose value spans several lines (a multi-line string or array);
* a table defined by an inline table (``options = { ... }``) or by dotted keys (``options.direct-server = 'Y'``),
  or a value where a table is wanted;
* a table that is, or lies inside, an array of tables (``[[options]]``);
* a key that names a table (``[options.direct-server]``);
* any edit whose result ``tomllib`` does not read back as exactly the old document with that one key changed.
"""
from __future__ import annotations

import bisect
import copy
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

try:
    import tomllib as _toml
except ImportError:  # Python < 3.11
    try:
        import tomli as _toml  # type: ignore[no-redef]
    except ImportError:
        _toml = None  # type: ignore[assignment]

TablePath = Tuple[str, ...]
Table = Union[str, Sequence[str]]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"
# what a literal string cannot hold: control characters other than tab (and lone surrogates)
_LITERAL_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class TomlError(ValueError):
    """A TOML file or an edit the editor refuses; nothing was changed."""


def _loads(text: str) -> Dict[str, Any]:
    if _toml is None:
        raise TomlError("reading TOML needs Python 3.11 or later (tomllib), or the tomli package")
    try:
        return _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise TomlError("not valid TOML: %s" % exc) from exc


def basic_string(value: str) -> str:
    """``value`` as a TOML basic string (one line; every control character escaped)."""
    if not isinstance(value, str):
        raise TomlError("a TOML string value must be text, not %r" % (value,))
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append("\\u%04X" % code)
        elif 0xD800 <= code <= 0xDFFF:
            raise TomlError("%r holds a lone surrogate (U+%04X), which UTF-8 cannot encode" % (value, code))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def same_style(old: str, value: str) -> Optional[str]:
    """``value`` in the literal style of the value it replaces (``old``, as written), when it fits.

    A one-quote literal takes no ``'``; a three-quote one on one line takes no three quotes in a row and no ``'`` at
    either end; neither takes a control character but tab.  None: write a basic string instead.  RustDesk writes
    literal strings, so giving a key back its old value gives back its old line, byte for byte.
    """
    if _LITERAL_BAD.search(value):
        return None
    if old.startswith("'''"):
        return None if "'''" in value or value.startswith("'") or value.endswith("'") else "'''" + value + "'''"
    if old.startswith("'"):
        return None if "'" in value else "'" + value + "'"
    return None


def key_text(key: str) -> str:
    """A key as TOML writes it: bare when it can be, a basic string otherwise."""
    return key if _BARE.fullmatch(key) else basic_string(key)


def table_path(table: Table) -> TablePath:
    """A table argument as a path: ``"options"`` -> ``("options",)``, ``""`` or ``()`` -> the top level."""
    if isinstance(table, str):
        return (table,) if table else ()
    path = tuple(table)
    if not all(isinstance(p, str) for p in path):
        raise TomlError("a table path is made of strings, got %r" % (table,))
    return path


def _label(path: TablePath, key: Optional[str] = None) -> str:
    table = "[%s]" % ".".join(key_text(p) for p in path) if path else "the top level"
    return table if key is None else "%s %s" % (table, key_text(key))


class _Item:
    """A header or an entry, with the lines it spans (first and last, 0-based, inclusive)."""

    __slots__ = ("kind", "first", "last", "table", "key", "array", "start", "end")

    def __init__(self, kind: str, first: int, last: int, table: TablePath, key: TablePath = (),
                 array: bool = False, start: int = 0, end: int = 0) -> None:
        self.kind = kind      # "header" or "entry"
        self.first = first
        self.last = last
        self.table = table    # header: the table it opens; entry: the table of its section
        self.key = key        # entry: the (dotted) key, as read
        self.array = array    # header: [[...]]
        self.start = start    # entry: the value's first column on its first line
        self.end = end        # entry: the value's end column on its last line

    @property
    def path(self) -> TablePath:
        return self.table + self.key


class _Scanner:
    """Finds the headers and entries of a document tomllib already accepted, with their line spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def column(self, pos: int) -> int:
        return pos - self.starts[self.line(pos)]

    def skip_ws(self, pos: int) -> int:
        while pos < self.n and self.text[pos] in _WS:
            pos += 1
        return pos

    def eol(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return self.n if end < 0 else end

    def string(self, pos: int) -> int:
        """The end of the string token starting at ``pos`` (any of the four kinds)."""
        t = self.text
        for delim in ('"""', "'''"):
            if t.startswith(delim, pos):
                q = delim[0]
                j = pos + 3
                while j < self.n:
                    if q == '"' and t[j] == "\\":
                        j += 2
                        continue
                    if t[j] == q:
                        run = 0
                        while j + run < self.n and t[j + run] == q:
                            run += 1
                        if run >= 3:
                            return j + min(run, 5)
                        j += run
                        continue
                    j += 1
                raise TomlError("unterminated multi-line string")  # tomllib would have refused it
        q = t[pos]
        j = pos + 1
        while j < self.n and t[j] != q:
            j += 2 if (q == '"' and t[j] == "\\") else 1
        return j + 1

    def key(self, pos: int) -> Tuple[TablePath, int]:
        """A dotted key: its parts (decoded) and the position after it."""
        parts: List[str] = []
        while True:
            pos = self.skip_ws(pos)
            c = self.text[pos]
            if c in "\"'":
                end = self.string(pos)
                parts.append(_loads("k = " + self.text[pos:end])["k"])
            else:
                m = _BARE.match(self.text, pos)
                if not m:
                    raise TomlError("line %d: cannot read the key" % (self.line(pos) + 1))
                end = m.end()
                parts.append(m.group())
            pos = self.skip_ws(end)
            if pos < self.n and self.text[pos] == ".":
                pos += 1
                continue
            return tuple(parts), pos

    def value(self, pos: int, nested: bool = False) -> int:
        """The end of the value starting at ``pos``."""
        t = self.text
        c = t[pos]
        if c in "\"'":
            return self.string(pos)
        if c in "[{":
            close = "]" if c == "[" else "}"
            j = pos + 1
            while True:
                while j < self.n and t[j] in " \t\r\n,":
                    j += 1
                if t[j] == "#":
                    j = self.eol(j)
                    continue
                if t[j] == close:
                    return j + 1
                if c == "{":  # key = value
                    _parts, j = self.key(j)
                    j = self.skip_ws(j + 1)  # past "="
                j = self.value(j, nested=True)
        j = pos
        stop = " \t\r\n#,]}" if nested else "\n#"
        while j < self.n and t[j] not in stop:
            j += 1
        if not nested:  # a date-time may hold a space: the scalar runs to the comment or the line's end
            while j > pos and t[j - 1] in " \t\r":
                j -= 1
        return j

    def items(self) -> List[_Item]:
        t = self.text
        items: List[_Item] = []
        table: TablePath = ()
        pos = 0
        while pos < self.n:
            pos = self.skip_ws(pos)
            if pos >= self.n:
                break
            c = t[pos]
            if c in "\r\n":
                pos += 1
                continue
            if c == "#":
                pos = self.eol(pos)
                continue
            start = pos
            if c == "[":
                array = t.startswith("[[", pos)
                table, pos = self.key(pos + (2 if array else 1))
                pos += 2 if array else 1
                line = self.line(start)
                items.append(_Item("header", line, line, table, array=array))
            else:
                key, pos = self.key(pos)
                vstart = self.skip_ws(pos + 1)  # past "="
                pos = self.value(vstart)
                items.append(_Item("entry", self.line(start), self.line(pos - 1), table, key,
                                   start=self.column(vstart), end=pos - self.starts[self.line(pos - 1)]))
            pos = self.skip_ws(pos)
            if pos < self.n and t[pos] == "#":
                pos = self.eol(pos)
        return items


class TomlDoc:
    """A TOML document: its lines as read, and the values ``tomllib`` reads from them."""

    def __init__(self, text: str, data: Dict[str, Any]) -> None:
        self._lines: List[str] = []
        self._data: Dict[str, Any] = {}
        self._items: List[_Item] = []
        self._load(text, data)

    def _load(self, text: str, data: Dict[str, Any]) -> None:
        self._lines = text.split("\n")
        self._data = data
        self._items = _Scanner(text).items()

    # reading

    @classmethod
    def parse(cls, text: str) -> "TomlDoc":
        """Read ``text``; raise ``TomlError`` when it is not valid TOML."""
        if not isinstance(text, str):
            raise TomlError("a TOML document is text, not %r" % type(text).__name__)
        return cls(text, _loads(text))

    @property
    def data(self) -> Dict[str, Any]:
        """What a TOML reader makes of the document (a copy)."""
        return copy.deepcopy(self._data)

    def _table(self, path: TablePath) -> Optional[Dict[str, Any]]:
        node: Any = self._data
        for depth, part in enumerate(path):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
            if not isinstance(node, dict):
                raise TomlError("%s is a TOML %s, not a table" % (_label(path[:depth + 1]), _kind(node)))
        return node

    def get(self, table: Table, key: str) -> Optional[str]:
        """The string value of ``key`` in ``table`` ("" or () for the top level), or None when absent."""
        path = table_path(table)
        found = self._table(path)
        if found is None or key not in found:
            return None
        value = found[key]
        if not isinstance(value, str):
            raise TomlError("%s holds a TOML %s, not a string" % (_label(path, key), _kind(value)))
        return value

    def render(self) -> str:
        """The document's text: the lines as read, with only the edited ones changed."""
        return "\n".join(self._lines)

    # checks

    def _check_table(self, path: TablePath) -> None:
        """Refuse a table the editor cannot put keys in by editing single lines."""
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            for item in self._items:
                if item.kind == "header" and item.array and item.table == prefix:
                    raise TomlError("%s is an array of tables ([[...]] at line %d): refusing to edit it"
                                    % (_label(prefix), item.first + 1))
                if item.kind == "entry" and len(item.table) < depth and item.path[:depth] == prefix:
                    how = "dotted keys"
                    if len(item.path) == depth:
                        first = self._lines[item.first][item.start:item.start + 1]
                        how = "an inline table" if first == "{" else "a value"
                    raise TomlError("%s is defined by %s at line %d (%s): refusing to edit it"
                                    % (_label(prefix), how, item.first + 1, self._lines[item.first].strip()))

    def _entry(self, path: TablePath, key: str) -> Optional[_Item]:
        full = path + (key,)
        for item in self._items:
            if item.kind == "entry" and item.path[:len(full)] == full and len(item.path) > len(full):
                raise TomlError("%s is a table (line %d defines %s), not a key"
                                % (_label(path, key), item.first + 1, ".".join(map(key_text, item.path))))
            if item.kind == "header" and item.table[:len(full)] == full:
                raise TomlError("%s is a table (header at line %d), not a key" % (_label(path, key), item.first + 1))
        for item in self._items:
            if item.kind == "entry" and item.path == full:
                if item.first != item.last:
                    raise TomlError("%s spans lines %d-%d (a multi-line value): refusing to edit it"
                                    % (_label(path, key), item.first + 1, item.last + 1))
                return item
        return None

    # writing

    def _cr(self) -> str:
        return "\r" if len(self._lines) > 1 and self._lines[0].endswith("\r") else ""

    def _insert(self, index: int, new: List[str]) -> None:
        """Insert lines before ``index``; after the last line when that line has no newline of its own."""
        cr = self._cr()
        if index >= len(self._lines):  # after an unterminated last line: it gets the line break
            self._lines[-1] += cr
            self._lines.extend([line + cr for line in new[:-1]] + new[-1:])
        else:
            self._lines[index:index] = [line + cr for line in new]

    def _commit(self, lines: List[str], expected: Dict[str, Any], what: str) -> None:
        text = "\n".join(lines)
        try:
            got = _loads(text)
        except TomlError as exc:
            raise TomlError("%s would not give valid TOML (%s): refusing" % (what, exc)) from exc
        if got != expected:
            raise TomlError("%s would change other values of the file: refusing" % what)
        self._load(text, got)

    def set(self, table: Table, key: str, value: str) -> None:
        """Set ``key`` in ``table`` ("" or () for the top level) to the string ``value``."""
        path = table_path(table)
        if not isinstance(key, str):
            raise TomlError("a key is text, not %r" % (key,))
        rendered = basic_string(value)
        self._check_table(path)
        self._table(path)
        expected = copy.deepcopy(self._data)
        node = expected
        for part in path:
            node = node.setdefault(part, {})
        node[key] = value
        saved = list(self._lines)
        try:
            self._put(path, key, value, rendered)
            self._commit(self._lines, expected, "setting %s" % _label(path, key))
        except TomlError:
            self._lines = saved
            raise

    def _put(self, path: TablePath, key: str, value: str, rendered: str) -> None:
        item = self._entry(path, key)
        if item is not None:
            line = self._lines[item.first]
            rendered = same_style(line[item.start:item.end], value) or rendered
            self._lines[item.first] = line[:item.start] + rendered + line[item.end:]
            return
        entry = "%s = %s" % (key_text(key), rendered)
        headers = [i for i in self._items if i.kind == "header"]
        if not path:
            entries = [i for i in self._items if i.kind == "entry" and not i.table]
            if entries:
                self._insert(entries[-1].last + 1, [entry])
            elif headers:
                self._insert(headers[0].first, [entry, ""])
            else:
                self._insert(len(self._lines) - 1 if self._lines[-1] == "" else len(self._lines), [entry])
            return
        own = [i for i in headers if i.table == path and not i.array]
        if own:
            header = own[0]
            after = header.last
            for i in self._items:
                if i.kind == "header" and i.first > header.first:
                    break
                if i.kind == "entry" and i.first > header.first:
                    after = i.last
            self._insert(after + 1, [entry])
            return
        block = ["[%s]" % ".".join(key_text(p) for p in path), entry]
        if self._lines[-1] == "":  # the text ends with a line break (or is empty)
            if len(self._lines) > 1 and self._lines[-2].strip():
                block.insert(0, "")
            self._insert(len(self._lines) - 1, block)
        else:
            if self._lines[-1].strip():
                block.insert(0, "")
            self._insert(len(self._lines), block)

    def unset(self, table: Table, key: str) -> bool:
        """Remove ``key`` from ``table``; True when it was there (its table stays, empty or not)."""
        path = table_path(table)
        if self._table(path) is None:
            return False
        self._check_table(path)
        item = self._entry(path, key)
        if item is None:
            return False
        expected = copy.deepcopy(self._data)
        node = expected
        for part in path:
            node = node[part]
        del node[key]
        lines = self._lines[:item.first] + self._lines[item.last + 1:]
        if item.last + 1 >= len(self._lines) and lines and lines[-1].endswith("\r"):
            lines[-1] = lines[-1][:-1]  # the new last line keeps no half line break
        if not lines:
            lines = [""]
        self._commit(lines, expected, "removing %s" % _label(path, key))
        return True


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, str):
        return "string"
    return "date-time"
