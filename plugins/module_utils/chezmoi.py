# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``chezmoi`` backend of the owned keys: a chezmoi source tree with one ``modify_`` script per KDE rc file.

KDE rewrites its own rc files, so ``~/.config/kwinrc`` is never written whole: ``kde_tree`` gives, for each rc file,
a ``modify_`` script that changes only the keys a phase owns (``desktop.OwnedKey``) and keeps every other byte.
``modify_text`` is the same edit in Python (what the script writes for a given file), ``source_path`` chezmoi's
naming of source files.

Sources: twpayne/chezmoi at v2.72.0-19 (master of 2026-08-19, commit 38b49b6c): the reference pages
``assets/chezmoi.io/docs/reference/source-state-attributes.md`` (2026-02-03), ``.../reference/target-types.md``
(2025-08-18), ``.../user-guide/manage-different-types-of-file.md`` (2025-06-10), and the code they describe,
``internal/chezmoi/attr.go`` (``FileAttr.SourceName``, ``DirAttr.SourceName``, ``perm``), ``chezmoi.go``
(``filePrefixRx``, ``dirPrefixRx``, ``fileSuffixRx``, ``isEmpty``), ``sourcestate.go``
(``newModifyTargetStateEntryFunc``), ``realsystem.go`` (``prepareScriptCmd``), ``targetstateentry.go``
(``TargetStateFile.Apply``, ``TargetStateDir.Apply``) and ``internal/cmd/interpreters.go``.

Source state attributes (``source-state-attributes.md``)
    "The following prefixes and suffixes are special, and are collectively referred to as "attributes":

    ================ ====================================================================================================
    Prefix           Effect
    ================ ====================================================================================================
    ``after_``       Run script after updating the destination
    ``before_``      Run script before updating the destination
    ``create_``      Ensure that the file exists, and create it with contents if it does not
    ``dot_``         Rename to use a leading dot, e.g. ``dot_foo`` becomes ``.foo``
    ``empty_``       Ensure the file exists, even if is empty. By default, empty files are removed
    ``encrypted_``   Encrypt the file in the source state
    ``external_``    Ignore attributes in child entries
    ``exact_``       Remove anything not managed by chezmoi
    ``executable_``  Add executable permissions to the target file
    ``literal_``     Stop parsing prefix attributes
    ``modify_``      Treat the contents as a script that modifies an existing file
    ``once_``        Only run the script if its contents have not been run successfully before
    ``onchange_``    Only run the script if its contents have not been run successfully before with the same filename
    ``private_``     Remove all group and world permissions from the target file or directory
    ``readonly_``    Remove all write permissions from the target file or directory
    ``remove_``      Remove the file or symlink if it exists or the directory if it is empty
    ``run_``         Treat the contents as a script to run
    ``symlink_``     Create a symlink instead of a regular file
    ================ ====================================================================================================

    ================ ====================================================================================================
    Suffix           Effect
    ================ ====================================================================================================
    ``.literal``     Stop parsing suffix attributes
    ``.tmpl``        Treat the contents of the source file as a template
    ================ ====================================================================================================

    Different target types allow different prefixes and suffixes. The order of prefixes is important.

    ============== =========== ================================================================= ==========
    Target type    Source type Allowed prefixes in order                                         Suffixes
    ============== =========== ================================================================= ==========
    Directory      Directory   ``remove_``, ``external_``, ``exact_``, ``private_``,             *none*
                               ``readonly_``, ``dot_``
    Regular file   File        ``encrypted_``, ``private_``, ``readonly_``, ``empty_``,          ``.tmpl``
                               ``executable_``, ``dot_``
    Create file    File        ``create_``, ``encrypted_``, ``private_``, ``readonly_``,         ``.tmpl``
                               ``empty_``, ``executable_``, ``dot_``
    Modify file    File        ``modify_``, ``encrypted_``, ``private_``, ``readonly_``,         ``.tmpl``
                               ``executable_``, ``dot_``
    Remove file    File        ``remove_``, ``dot_``                                             *none*
    Script         File        ``run_``, ``once_`` or ``onchange_``, ``before_`` or ``after_``   ``.tmpl``
    Symbolic link  File        ``symlink_``, ``dot_``                                            ``.tmpl``
    ============== =========== ================================================================= ==========

    The ``literal_`` prefix and ``.literal`` suffix can appear anywhere and stop attribute parsing. This permits
    filenames that would otherwise conflict with chezmoi's attributes to be represented. [...] chezmoi ignores all
    files and directories in the source directory that begin with a ``.`` with the exception of files and
    directories that begin with ``.chezmoi``."

    ``source_path`` writes names as ``FileAttr.SourceName`` / ``DirAttr.SourceName`` do: the attributes in that
    order, then ``dot_`` + the rest for a name with a leading dot, else ``literal_`` + the name when the name
    itself begins with an attribute, then ``.literal`` when the name ends with ``.literal`` or ``.tmpl``, then
    ``.tmpl`` for a template.  Every directory on the way gets the same ``dot_``/``literal_`` treatment.  Where
    chezmoi's own test for "begins with an attribute" misses a prefix its parser strips (``onchange_`` after
    ``run_``; ``remove_`` and ``external_`` for directories), ``literal_`` is added too, so that the name always
    parses back to the target.  Encryption (``encrypted_``, ``.age``/``.asc``) is not offered.

Modify scripts (``target-types.md``, ``manage-different-types-of-file.md``)
    "Files with the ``modify_`` prefix are treated as scripts that modify an existing file. If the file contains
    the string ``chezmoi:modify-template``, then all lines containing that string will be removed, and the rest
    of the file will be interpreted as a template. [...] Otherwise, the script receives the current contents of
    the target file on standard input and must write the new contents to standard output. If the target file
    does not exist, the script's standard input will be empty, and the script is responsible for generating the
    complete file contents."  And for files in general: "If the target contents are empty then the file will be
    removed, unless it has an ``empty_`` prefix" (``empty_`` is not allowed on ``modify_``).

    What the code adds: a script that is itself empty (white space only) leaves the file as it is; a script that
    exits non-zero makes ``chezmoi apply`` fail for that file, which is then not written; an output of only white
    space (``isEmpty``: ``bytes.TrimSpace``) removes the target (KConfig too deletes an rc file left empty); the
    script is written to a private temporary file (mode 0700) and executed through its ``#!`` line, so the source
    file needs no executable bit; a target name ending in an interpreter's extension (``.bat .cmd .com .exe .nu
    .pl .ps1 .py .rb``, ``internal/cmd/interpreters.go``) is run by that interpreter and loses the extension, so
    such names are refused for ``modify``; a modify target is written whatever it held before (no prompt), with
    the mode of its attributes (``0666`` minus ``private_``/``readonly_`` bits, minus the umask), and that mode is
    set again on every apply, as is the mode of every directory of the source tree (``TargetStateDir.Apply``).

The script (``modify_script``)
    ``#!/bin/sh`` (bash on NixOS: ``system.build.binsh = pkgs.bashInteractive`` in nixpkgs
    ``nixos/modules/config/shells-environment.nix``; the script also runs under dash) and a POSIX ``awk`` program,
    run with ``LC_ALL=C`` so that every awk (gawk, mawk) handles bytes.  It needs only ``cat`` and ``awk``: on NixOS
    both come with ``environment.corePackages`` (``coreutils-full``, ``gawk``; nixpkgs
    ``nixos/modules/config/system-path.nix`` at commit 0354e8b7), and ``/run/current-system/sw/bin`` is put at the
    end of ``PATH`` in case chezmoi runs with a bare one.  The keys travel as environment variables in
    single quotes (read through awk's ``ENVIRON``, which applies no escapes), already in KConfig's escaped form,
    which holds no line break; the text ``chezmoi:modify-template`` is split by an empty quoted string
    (``chezmoi'':modify-template``) so that chezmoi never takes the script for a template.

    The awk program is ``modify_text`` line for line: it reads the file as ``kdeconfig.KConfigDoc.parse`` does
    (groups, nested groups, ``[$i]`` files, groups and keys, ``[$d]``, locales, escapes, CRLF), and for each key in
    order removes it (``unset``: every line of the key in its group, locale variants left alone) or, unless the
    key already has the value and the options asked for, sets it (``set``: the line KConfig reads is rewritten in
    place, a new key goes after the last entry of the last section of its group, a new group at the end after one
    blank line).  When ``KConfigDoc`` would refuse (a line KConfig cannot read, an immutable file, group or key),
    the script writes the file back unchanged and says why on standard error: it must never fail at login.  A key
    given twice counts once, as its last occurrence says, so that a second run is a no-op, byte for byte.

Mode (``kde_tree``)
    KConfig writes a new rc file with mode 0600 and keeps the mode of an existing one (``writeToDevice`` in KDE/kconfig
    ``src/core/kconfiginibackendreader_p.h``, master of 2026-08-20; ``kwriteconfig5`` creates 0600 files whatever
    the umask), so the scripts are ``modify_private_``: a file chezmoi creates is 0600 like KDE's.  The directories
    on the way (``dot_config``) carry no ``private_`` unless listed in ``private_dirs``: chezmoi sets their mode on
    every apply, 0755 with the usual umask, 0700 with ``private_``.
"""
from __future__ import annotations

import re
from typing import Collection, Dict, List, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey, by_file
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc, KConfigError

# chezmoi.go: filePrefixRx plus onchange_ (stripped after run_), dirPrefixRx plus external_ and remove_
_FILE_PREFIX_RX = re.compile(
    r"\A(after|before|create|dot|empty|encrypted|executable|literal|modify|once|onchange|private|readonly|remove|run|symlink)_")
_DIR_PREFIX_RX = re.compile(r"\A(dot|exact|external|literal|private|readonly|remove)_")
_SUFFIX_RX = re.compile(r"\.(literal|tmpl)\Z")
# internal/cmd/interpreters.go: NewDefaultInterpreters
INTERPRETER_EXTENSIONS = ("bat", "cmd", "com", "exe", "nu", "pl", "ps1", "py", "rb")
MODIFY_TEMPLATE_MARKER = "chezmoi:modify-template"
SOURCE_MODE = "0644"

_SCRIPT_KINDS = tuple("run" + cond + order for cond in ("", "_once", "_onchange") for order in ("", "_before", "_after"))
KINDS = ("file", "create", "modify", "remove", "symlink", "dir") + _SCRIPT_KINDS
# the attributes each kind takes (target-types table above)
_ALLOWED = {
    "file": {"private", "readonly", "empty", "executable", "template"},
    "create": {"private", "readonly", "empty", "executable", "template"},
    "modify": {"private", "readonly", "executable", "template"},
    "remove": set(),
    "symlink": {"template"},
    "dir": {"private", "readonly", "exact"},
}


def _components(target: str) -> List[str]:
    if not isinstance(target, str) or not target:
        raise ValueError("a chezmoi target is a non-empty path relative to the home directory, not %r" % (target,))
    if target.startswith("/"):
        raise ValueError("chezmoi target %r must be relative to the home directory" % target)
    parts = target.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise ValueError("chezmoi target %r: empty, '.' and '..' components are refused" % target)
        if "\x00" in part:
            raise ValueError("chezmoi target %r holds a NUL byte" % target)
    return parts


def _dir_name(name: str, private: bool = False, readonly: bool = False, exact: bool = False) -> str:
    """``DirAttr.SourceName``: remove_, external_, exact_, private_, readonly_, then dot_ or literal_."""
    out = ("exact_" if exact else "") + ("private_" if private else "") + ("readonly_" if readonly else "")
    if name.startswith("."):
        return out + "dot_" + name[1:]
    if _DIR_PREFIX_RX.match(name):
        return out + "literal_" + name
    return out + name


def _file_name(name: str, kind: str, attrs: Collection[str]) -> str:
    """``FileAttr.SourceName``."""
    if kind in _SCRIPT_KINDS:
        out = kind + "_"
    else:
        out = {"file": "", "create": "create_", "modify": "modify_", "remove": "remove_", "symlink": "symlink_"}[kind]
        for attr in ("private", "readonly", "empty", "executable"):
            if attr in attrs:
                out += attr + "_"
    if name.startswith("."):
        out += "dot_" + name[1:]
    elif _FILE_PREFIX_RX.match(name):
        out += "literal_" + name
    else:
        out += name
    if _SUFFIX_RX.search(name):
        out += ".literal"
    if "template" in attrs:
        out += ".tmpl"
    return out


def source_path(target: str, kind: str = "file", *, private: bool = False, readonly: bool = False,
                executable: bool = False, empty: bool = False, template: bool = False, exact: bool = False,
                private_dirs: Collection[str] = ()) -> str:
    """The path, relative to chezmoi's source directory, of the source entry for ``target`` (relative to the home
    directory): ``source_path(".config/kwinrc", "modify")`` is ``dot_config/modify_kwinrc``.

    ``kind`` is ``file``, ``create``, ``modify``, ``remove``, ``symlink``, ``dir`` or a script: ``run``,
    ``run_once``, ``run_onchange``, each also with ``_before`` or ``_after`` (``run_onchange_after``).  A script's
    "target" is its name in the directory it runs from.  The attributes must be allowed for the kind (see the
    table in the module's documentation); ``private_dirs`` lists directories (relative to the home directory,
    ``".config"``) named with ``private_``.  Raises ``ValueError`` for an absolute target, ``..``, an attribute
    the kind does not take, or a ``modify`` target chezmoi would hand to an interpreter.
    """
    if kind not in KINDS:
        raise ValueError("unknown chezmoi source kind %r (one of %s)" % (kind, ", ".join(KINDS)))
    attrs = {name for name, on in (("private", private), ("readonly", readonly), ("executable", executable),
                                   ("empty", empty), ("template", template), ("exact", exact)) if on}
    allowed = {"template"} if kind in _SCRIPT_KINDS else _ALLOWED[kind]
    if attrs - allowed:
        raise ValueError("chezmoi %s entries take no %s attribute" % (kind, ", ".join(sorted(attrs - allowed))))
    parts = _components(target)
    for directory in private_dirs:
        _components(directory)
    if kind == "modify":
        base = parts[-1]
        extension = base[base.rfind(".") + 1:].lower() if "." in base else ""
        if extension in INTERPRETER_EXTENSIONS:
            raise ValueError("chezmoi runs a modify_ script for %r with the .%s interpreter and drops the extension "
                             "from the target: no source name can manage it" % (target, extension))
    out = []
    for index, part in enumerate(parts[:-1]):
        out.append(_dir_name(part, private="/".join(parts[:index + 1]) in private_dirs))
    last = parts[-1]
    if kind == "dir":
        out.append(_dir_name(last, private=private or target in private_dirs, readonly=readonly, exact=exact))
    else:
        out.append(_file_name(last, kind, attrs))
    return "/".join(out)


# ---------------------------------------------------------------------------------------------------- the edit


def _canon(text: str) -> str:
    """The form the script compares keys, groups and values in: control characters and ``\\`` as ``\\xNN``."""
    return "".join("\\x%02x" % ord(c) if ord(c) < 0x20 or c == "\\" else c for c in text)


def _group(key: OwnedKey) -> Tuple[str, ...]:
    return () if tuple(key.group) == ("<default>",) else tuple(key.group)


def _label(key: OwnedKey) -> str:
    return "%s %s" % ("".join("[%s]" % g for g in key.group) or "[<default>]", key.key)


class _Op:
    """One owned key as the script receives it."""

    def __init__(self, key: OwnedKey) -> None:
        if key.format != "kconfig":
            raise ValueError("%s: %s is a %s key; modify_ scripts edit KConfig files" % (key.file, _label(key), key.format))
        group = _group(key)
        for segment in group:
            if not isinstance(segment, str) or "\x1d" in segment:
                raise ValueError("%s: group name %r cannot be stored by KConfig" % (key.file, segment))
        if not isinstance(key.key, str) or not key.key or "\x1d" in key.key:
            raise ValueError("%s: invalid key %r" % (key.file, key.key))
        self.op = "unset" if key.value is None else "set"
        self.path = "G" + _canon("\x1d".join(group)) if group else ""
        self.key = _canon(key.key)
        self.value = self.flags = self.header = self.line = ""
        if key.value is not None:
            doc = KConfigDoc.parse("")
            try:
                doc.set(group, key.key, key.value, immutable=key.immutable, expand=key.expand)
            except KConfigError as exc:
                raise ValueError("%s: %s: %s" % (key.file, _label(key), exc)) from exc
            lines = doc.render().split("\n")
            self.header, self.line = (lines[0], lines[1]) if group else ("", lines[0])
            self.value = _canon(key.value)
            self.flags = ("i" if key.immutable else "") + ("e" if key.expand else "")
        self.label = "".join("[%s]" % _canon(g) for g in group) or "[<default>]"
        self.label += " " + _canon(key.key)


def _last_wins(keys: Sequence[OwnedKey]) -> List[OwnedKey]:
    """Each (group, key) once, as its last occurrence says, in the order of the last occurrences."""
    seen = set()
    out: List[OwnedKey] = []
    for key in reversed(keys):
        ident = (_group(key), key.key)
        if ident not in seen:
            seen.add(ident)
            out.append(key)
    return out[::-1]


def _check_keys(keys: Sequence[OwnedKey]) -> List[OwnedKey]:
    if not keys:
        raise ValueError("a modify_ script needs at least one key")
    files = sorted({k.file for k in keys})
    if len(files) != 1:
        raise ValueError("a modify_ script edits one file, not %s" % ", ".join(files))
    for key in keys:
        _Op(key)
    return _last_wins(keys)


def modify_text(text: str, keys: Sequence[OwnedKey]) -> str:
    """What ``modify_script(keys)`` writes when it reads ``text``: the keys set or removed through ``KConfigDoc``
    (a key that already has the value and the options asked for keeps its line), or ``text`` unchanged when
    KConfig would refuse the file or an edit (immutable file, group or key).  A key given twice is set or
    removed once, as its last occurrence says."""
    keys = _check_keys(keys)
    try:
        doc = KConfigDoc.parse(text)
        for key in keys:
            group = _group(key)
            if key.value is None:
                doc.unset(group, key.key)
                continue
            doc.ensure(group, key.key, key.value, immutable=key.immutable, expand=key.expand)
    except KConfigError:
        return text
    return doc.render()


def _sh(text: str) -> str:
    """``text`` in single quotes for sh, the chezmoi template marker split by an empty quoted string."""
    quoted = "'" + text.replace("'", "'\\''") + "'"
    return quoted.replace(MODIFY_TEMPLATE_MARKER, "chezmoi'':modify-template")


# The awk program: kdeconfig.KConfigDoc.parse / get / flags / is_immutable / set / unset, on bytes (LC_ALL=C).
# Keys, group paths and values are compared in _canon form; a group path is "" for the default group, else "G"
# and its segments joined by the text \x1d (the _canon form of KConfig's separator byte).
_AWK = r"""
function trim(s) {
    while (s != "" && index(WS, substr(s, 1, 1))) s = substr(s, 2)
    while (s != "" && index(WS, substr(s, length(s), 1))) s = substr(s, 1, length(s) - 1)
    return s
}
function cc(c) { return (c in CANON) ? CANON[c] : c }
function canon(s,    i, len, c, out, d1, d2, v) {
    out = ""
    len = length(s)
    if (index(s, "\\") == 0) {
        for (i = 1; i <= len; i++) out = out cc(substr(s, i, 1))
        return out
    }
    s = trim(s); len = length(s); i = 1
    while (i <= len) {
        c = substr(s, i, 1)
        if (c != "\\") { out = out cc(c); i++; continue }
        i++
        if (i > len) { out = out "\\x5c"; break }
        c = substr(s, i, 1)
        if (c == "s") out = out " "
        else if (c == "t") out = out "\\x09"
        else if (c == "n") out = out "\\x0a"
        else if (c == "r") out = out "\\x0d"
        else if (c == "\\") out = out "\\x5c"
        else if (c == ";" || c == ",") out = out "\\x5c" c
        else if (c == "x") {
            if (i + 2 > len) { out = out "x"; break }
            d1 = substr(s, i + 1, 1); d2 = substr(s, i + 2, 1)
            if (!(d1 in HEXV) || !(d2 in HEXV)) { BAD = "invalid escape \\x" d1 d2; return "" }
            v = HEXV[d1] * 16 + HEXV[d2]
            out = out (v == 0 ? "\\x00" : cc(CHR[v]))
            i += 2
        } else { BAD = "invalid escape \\" c; return "" }
        i++
    }
    return out
}
function parse_header(line,    len, start, e, end, seg, names, nn, imm, c) {
    len = length(line); start = 2; names = ""; nn = 0; imm = FILEIMM
    while (1) {
        e = index(substr(line, start), "]")
        if (e == 0) { BAD = "invalid group header"; return 0 }
        end = start + e - 1
        seg = substr(line, start, end - start)
        if (end == len && seg == "$i") {
            if (nn) imm = 1
            else { FILEIMM = 1; imm = 1 }
        } else {
            c = canon(seg)
            if (BAD != "") return 0
            names = nn ? names "\\x1d" c : c
            nn++
        }
        start = end + 2
        if (start > len + 1 || substr(line, end + 1, 1) != "[") break
    }
    HPATH = "G" names
    if (HPATH == "G<default>") HPATH = ""
    HIMM = imm
    return 1
}
function clear(j) { KIND[j] = "o"; PATH[j] = ""; IMM[j] = 0; KEY[j] = ""; LOC[j] = 0; FLG[j] = ""; DEL[j] = 0; VAL[j] = "" }
function entry(j, k, loc, flags, del, v) {
    KIND[j] = "e"; KEY[j] = k; LOC[j] = loc; FLG[j] = flags; IMM[j] = index(flags, "i") > 0; DEL[j] = del; VAL[j] = v
}
function last_bracket(s,    i) {
    for (i = length(s); i > 0; i--) if (substr(s, i, 1) == "[") return i
    return 0
}
function parse_entry(line, j,    eq, akey, rv, flags, loc, s, e, opts, x, o, k, v) {
    eq = index(line, "=")
    if (eq == 0) { akey = line; rv = "" }
    else { akey = trim(substr(line, 1, eq - 1)); rv = trim(substr(line, eq + 1)) }
    if (akey == "") { BAD = "empty key"; return 0 }
    flags = ""; loc = 0
    while (1) {
        s = last_bracket(akey)
        if (s == 0) break
        e = index(substr(akey, s), "]")
        if (e == 0) { BAD = "missing ]"; return 0 }
        e = s + e - 1
        if (e > s + 1 && substr(akey, s + 1, 1) == "$") {
            opts = substr(akey, s + 2, e - s - 2)
            for (x = 1; x <= length(opts); x++) {
                o = substr(opts, x, 1)
                if ((o == "i" || o == "e") && index(flags, o) == 0) flags = flags o
                else if (o == "d") {
                    k = canon(substr(akey, 1, s - 1))
                    if (BAD != "") return 0
                    if (k == "") { BAD = "empty key"; return 0 }
                    entry(j, k, 0, flags "d", 1, "")
                    return 1
                }
            }
        } else {
            if (loc) { BAD = "second locale"; return 0 }
            loc = 1
        }
        akey = substr(akey, 1, s - 1)
    }
    if (eq == 0) { BAD = "missing ="; return 0 }
    k = canon(akey)
    if (BAD != "") return 0
    if (k == "") { BAD = "empty key"; return 0 }
    v = canon(rv)
    if (BAD != "") return 0
    entry(j, k, loc, flags, 0, v)
    return 1
}
function matches(j, p, k) { return KIND[j] == "e" && PATH[j] == p && KEY[j] == k && !LOC[j] }
function effective(p, k,    j, f) {
    f = 0
    for (j = 1; j <= N; j++) if (matches(j, p, k)) { if (f && IMM[f]) continue; f = j }
    return f
}
function immutable(p, f,    j) {
    if (FILEIMM) return 1
    for (j = 1; j <= N; j++) if (KIND[j] == "g" && PATH[j] == p && IMM[j]) return 1
    return f && IMM[f]
}
function flags_of(f,    s) {
    s = FLG[f]
    gsub(/i/, "", s)
    return (IMM[f] ? "i" : "") s
}
function copy(a, b) {
    RAW[b] = RAW[a]; KIND[b] = KIND[a]; PATH[b] = PATH[a]; IMM[b] = IMM[a]; KEY[b] = KEY[a]; LOC[b] = LOC[a]
    FLG[b] = FLG[a]; DEL[b] = DEL[a]; VAL[b] = VAL[a]
}
function insert(pos,    j) {
    for (j = N; j >= pos; j--) copy(j, j + 1)
    N++
    clear(pos)
}
function cr_of(s) { return substr(s, length(s), 1) == CR ? CR : "" }
function put(j, p, k, v, flags, line, cr) {
    RAW[j] = line cr; entry(j, k, 0, flags, 0, v); PATH[j] = p
}
function unchanged(why,    j) {
    for (j = 1; j <= ON; j++) { if (j > 1) printf "\n"; printf "%s", ORIG[j] }
    print FILE ": " why "; the file is left unchanged" | "cat 1>&2"
    close("cat 1>&2")
    exit 0
}
function apply(i,    op, p, k, v, flags, header, line, label, f, j, m, found, sec, anyg, first, last, cr) {
    op = ENVIRON["nixperf_" i "_op"] ""; p = ENVIRON["nixperf_" i "_path"] ""; k = ENVIRON["nixperf_" i "_key"] ""
    v = ENVIRON["nixperf_" i "_value"] ""; flags = ENVIRON["nixperf_" i "_flags"] ""
    header = ENVIRON["nixperf_" i "_header"] ""; line = ENVIRON["nixperf_" i "_line"] ""
    label = ENVIRON["nixperf_" i "_label"] ""
    f = effective(p, k)
    if (op == "unset") {
        found = 0
        for (j = 1; j <= N; j++) if (matches(j, p, k)) found = 1
        if (!found) return
        if (immutable(p, f)) unchanged(label " is immutable ([$i]) and cannot be removed")
        m = 0
        for (j = 1; j <= N; j++) if (!matches(j, p, k)) { m++; if (m != j) copy(j, m) }
        N = m
        return
    }
    if (f && !DEL[f] && VAL[f] == v && flags_of(f) == flags) return
    if (immutable(p, f)) unchanged(label " is immutable ([$i]) and cannot be set")
    cr = N >= 1 ? cr_of(RAW[1]) : ""
    if (f) { put(f, p, k, v, flags, line, cr_of(RAW[f])); return }
    sec = 0; anyg = 0
    for (j = 1; j <= N; j++) if (KIND[j] == "g") { anyg = 1; if (PATH[j] == p) sec = j }
    if (sec || p == "") {
        first = sec ? sec + 1 : 1
        last = first
        while (last <= N && KIND[last] != "g") { if (KIND[last] == "e") first = last + 1; last++ }
        if (p == "" && first == 1 && anyg) { insert(1); RAW[1] = cr }
        insert(first)
        put(first, p, k, v, flags, line, cr)
        return
    }
    if (N >= 1 && RAW[N] == "") N--
    if (N >= 1 && trim(RAW[N]) != "") { N++; clear(N); RAW[N] = cr }
    N++; clear(N); RAW[N] = header cr; KIND[N] = "g"; PATH[N] = p
    N++; clear(N); put(N, p, k, v, flags, line, cr)
    N++; clear(N); RAW[N] = ""
}
BEGIN {
    for (i = 1; i < 256; i++) CHR[i] = sprintf("%c", i)
    HEX = "0123456789abcdef"
    for (i = 1; i < 32; i++) CANON[CHR[i]] = "\\x" substr(HEX, int(i / 16) + 1, 1) substr(HEX, i % 16 + 1, 1)
    CANON["\\"] = "\\x5c"
    for (i = 0; i < 16; i++) { HEXV[substr(HEX, i + 1, 1)] = i; HEXV[toupper(substr(HEX, i + 1, 1))] = i }
    WS = " " CHR[9] CHR[10] CHR[11] CHR[12] CHR[13]
    CR = CHR[13]
    FILE = ENVIRON["nixperf_file"] ""
}
{ RAW[NR] = $0 }
END {
    N = NR
    RAW[N] = substr(RAW[N], 1, length(RAW[N]) - 1)
    ON = N
    for (j = 1; j <= N; j++) ORIG[j] = RAW[j]
    path = ""; secimm = 0; FILEIMM = 0; BAD = ""
    for (j = 1; j <= N; j++) {
        clear(j)
        PATH[j] = path
        line = trim(RAW[j])
        if (line == "" || substr(line, 1, 1) == "#") continue
        if (substr(line, 1, 1) == "[") {
            if (!parse_header(line)) unchanged("line " j ": " BAD ", KConfig cannot read the file")
            path = HPATH; secimm = HIMM
            KIND[j] = "g"; PATH[j] = path; IMM[j] = HIMM
            continue
        }
        if (!parse_entry(line, j)) unchanged("line " j ": " BAD ", KConfig cannot read the file")
        PATH[j] = path
        if (secimm) IMM[j] = 1
    }
    n = ENVIRON["nixperf_n"] + 0
    for (i = 1; i <= n; i++) apply(i)
    for (j = 1; j <= N; j++) { if (j > 1) printf "\n"; printf "%s", RAW[j] }
}
"""


def modify_script(keys: Sequence[OwnedKey]) -> str:
    """The text of chezmoi's ``modify_`` script for the KConfig file of ``keys`` (all with the same ``file``): it
    writes what ``modify_text`` gives for the file chezmoi passes on standard input."""
    ops = [_Op(k) for k in _check_keys(keys)]
    assigns = ["nixperf_file=%s" % _sh(keys[0].file), "nixperf_n=%d" % len(ops)]
    for index, op in enumerate(ops, start=1):
        for field in ("op", "path", "key", "value", "flags", "header", "line", "label"):
            assigns.append("nixperf_%d_%s=%s" % (index, field, _sh(getattr(op, field))))
    script = "\n".join([
        "#!/bin/sh",
        "# chezmoi modify_ script for ~/%s, generated by nixperf.tuning (do not edit)." % _comment(keys[0].file),
        "# chezmoi passes the current file on standard input (nothing when it does not exist) and writes back what",
        "# this prints.  Only the keys below change, as KConfig writes them; every other byte is kept.  A file",
        "# KConfig cannot read, or a change to an immutable ([$i]) file, group or key, leaves the file unchanged,",
        "# with the reason on standard error.",
        "set -a",
        *assigns,
        "set +a",
        "LC_ALL=C",
        "export LC_ALL",
        'PATH="${PATH:+$PATH:}/run/current-system/sw/bin"',
        "export PATH",
        "{ cat; printf x; } | awk '%s'" % _AWK,
        "",
    ])
    if MODIFY_TEMPLATE_MARKER in script:  # pragma: no cover - _sh and _comment split it
        raise AssertionError("the chezmoi template marker reached a modify_ script")
    return script


def _comment(text: str) -> str:
    return _canon(text).replace(MODIFY_TEMPLATE_MARKER, "chezmoi:modify_template")


def kde_tree(keys: Sequence[OwnedKey], *, private_dirs: Collection[str] = ()) -> Dict[str, Dict[str, str]]:
    """Every file of the chezmoi source tree for the KConfig ``keys``: one ``modify_private_`` script per rc file,
    path relative to chezmoi's source directory -> ``{"content": text, "mode": "0644"}``.

    TOML keys are left out (the host-side step writes them for every backend).  ``private_dirs``: the directories on
    the way whose mode is private (``".config"`` when ``~/.config`` is 0700), which chezmoi would otherwise set to
    0755 on every apply.
    """
    tree: Dict[str, Dict[str, str]] = {}
    for file, file_keys in by_file(k for k in keys if k.format == "kconfig").items():
        path = source_path(file, "modify", private=True, private_dirs=private_dirs)
        tree[path] = {"content": modify_script(file_keys), "mode": SOURCE_MODE}
    return tree


__all__ = ["INTERPRETER_EXTENSIONS", "KINDS", "MODIFY_TEMPLATE_MARKER", "SOURCE_MODE", "kde_tree", "modify_script",
           "modify_text", "source_path"]
