# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``plasma_manager`` backend of the owned keys: a home-manager module setting ``programs.plasma.configFile``.

The same KConfig keys the ``chezmoi`` backend writes with ``modify_`` scripts (``module_utils/desktop.OwnedKey``)
become plasma-manager definitions; plasma-manager's activation script (``write_config.py``) then edits the rc files
at every ``home-manager switch``.  What plasma-manager does, as read in its source (nix-community/plasma-manager,
trunk: ``modules/files.nix`` at c5d04d41 of 2024-10-20, ``lib/types.nix``, ``lib/writeconfig.nix`` and
``script/write_config.py`` at ee4da516, the newest stored; ``test/basic.nix`` at 247a8e67 of 2024-10-23):

* three options of type ``attrsOf (attrsOf (attrsOf setting))``, file -> group -> key:
  ``programs.plasma.file`` (file names relative to ``$HOME``), ``configFile`` (relative to ``xdg.configHome``) and
  ``dataFile`` (relative to ``xdg.dataHome``).  Their paths are joined with ``//``, data over config over home, so a
  file named through two of them keeps the groups of one only: a key goes to the option the user would use too
  (``.config/kwinrc`` -> ``configFile.kwinrc``), where definitions merge key by key;
* a setting is a bool, float, int, string or null, or ``{ value; immutable; shellExpand; persistent; escapeValue; }``
  (``coercedTo``); ``immutable`` writes ``[$i]``, ``shellExpand`` ``[$e]``, ``escapeValue`` (default true) escapes
  the value the way KConfig reads it back, so ``value`` is the text the program reads;
* ``value = null`` (not ``persistent``) removes the key; with ``immutable`` other than ``immutableByDefault`` or with
  ``shellExpand`` the activation fails ("No value or persistency set"), so a removal sets ``value`` only;
* nested groups are one attribute name, segments joined by ``/``; a ``/`` inside a segment is written ``\\/``
  (``"escaped\\\\/nested/group"`` in ``test/basic.nix`` is ``[escaped/nested][group]``); the empty name is the
  default group (keys before any header);
* nothing is written unless ``programs.plasma.enable`` is true (``config.home.activation = lib.mkIf
  plasmaCfg.enable``), and keys nobody defines any more are left as they are: the host-side step
  (``desktop_keys``) gives the user's own values back.

The module never sets ``overrideConfig`` (it deletes kwinrc, kdeglobals, baloofilerc and 35 other rc files at every
activation).  See docs/plasma-manager.md.
"""
from __future__ import annotations

import posixpath
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixDefault, NixOverride, NixRaw, nix_module

# plasma-manager's options for files, by the directory their names are relative to (modules/files.nix)
CONFIG_DIR = ".config/"
DATA_DIR = ".local/share/"
FILE_OPTIONS = ("configFile", "dataFile", "file")
# the option whose existence tells that plasma-manager's module is imported
REQUIRED_OPTION = ("programs", "plasma", "configFile")
# programs.plasma.enable is the user's switch for the whole of plasma-manager: lib.mkDefault, so that their own
# definition (even false) wins; a false one fails the assertion below instead of dropping the keys silently
ENABLE_PRIORITY = 1000
FIX = "or set nixperf_desktop.backend to chezmoi or direct"
# KConfig reads a last group segment of "$" and lower-case letters as group options ("[$i]": immutable);
# plasma-manager writes it as it is
_OPTION_SEGMENT = re.compile(r"^\$[a-z]{0,9}$")


class PlasmaManagerError(ValueError):
    """A key plasma-manager cannot write as it is meant."""


def where(file: str) -> Tuple[str, str]:
    """The plasma-manager option and file name for a file below the home directory.

    ``.config/kwinrc`` -> ``("configFile", "kwinrc")``; ``.local/share/x`` -> ``("dataFile", "x")``; any other
    path -> ``("file", path)``.
    """
    if not file or file.startswith("/") or posixpath.normpath(file) != file or file.startswith("./"):
        raise PlasmaManagerError("file %r must be a normalised path below the home directory" % (file,))
    if ".." in file.split("/"):
        raise PlasmaManagerError("file %r must be a path below the home directory" % (file,))
    if (file + "/") in (CONFIG_DIR, DATA_DIR, ".local/"):
        raise PlasmaManagerError("file %r is a directory, not a KConfig file" % (file,))
    for prefix, option in ((CONFIG_DIR, "configFile"), (DATA_DIR, "dataFile")):
        if file.startswith(prefix):
            return option, file[len(prefix):]
    return "file", file


def split_group(name: str) -> Tuple[str, ...]:
    """The group path plasma-manager's ``write_config.py`` reads from a group attribute name.

    Its tokens are a lone ``/`` or a run of characters other than ``/`` and ``\\``, or of ``\\`` with the character
    after it; every second token is a segment (the ones between are the separators), and in a segment ``\\/``
    becomes ``/`` (other escapes stay as they are).  A backslash at the very end belongs to no token.
    """
    tokens: List[str] = []
    i = 0
    while i < len(name):
        if name[i] == "/":
            tokens.append("/")
            i += 1
            continue
        run: List[str] = []
        while i < len(name) and name[i] != "/":
            if name[i] == "\\":
                if i + 1 == len(name):
                    break
                run.append(name[i:i + 2])
                i += 2
            else:
                run.append(name[i])
                i += 1
        if run:
            tokens.append("".join(run))
        elif i < len(name) and name[i] == "\\":
            i += 1  # a lone backslash at the end
    return tuple(t.replace("\\/", "/") for t in tokens[::2])


def group_name(group: Sequence[str]) -> str:
    """The attribute name plasma-manager reads back as ``group`` (outermost first; ``()`` is the default group)."""
    for segment in group:
        if not isinstance(segment, str) or not segment:
            raise PlasmaManagerError("group %r: plasma-manager cannot name an empty group" % (tuple(group),))
    if group and _OPTION_SEGMENT.fullmatch(group[-1]):
        raise PlasmaManagerError("group %r: KConfig reads a last group [%s] as group options, and plasma-manager "
                                 "writes it unescaped" % (tuple(group), group[-1]))
    name = "/".join(segment.replace("/", "\\/") for segment in group)
    if split_group(name) != tuple(group):
        raise PlasmaManagerError("group %r cannot be written through plasma-manager: it reads the name %r back as "
                                 "%r (a group name ending in a backslash, or holding a backslash before a '/')"
                                 % (tuple(group), name, split_group(name)))
    return name


def setting(key: OwnedKey) -> Dict[str, Any]:
    """plasma-manager's per-key settings for ``key``: the value and its options, or ``value = null`` to remove it."""
    if key.value is None:
        # immutable / shellExpand on a null value make the activation fail; a removed key has no options
        return {"value": None}
    return {"value": key.value, "immutable": key.immutable, "shellExpand": key.expand}


def _label(key: OwnedKey) -> str:
    return "~/%s %s%s" % (key.file, "".join("[%s]" % g for g in key.group), " " + key.key if key.group else key.key)


def home_config(keys: Sequence[OwnedKey], priority: int) -> Dict[str, Any]:
    """The home-manager config putting ``keys`` in place through plasma-manager (Python data for ``nix.py``).

    Every KConfig key becomes ``programs.plasma.<option>.<file>.<group>.<key> = lib.mkOverride <priority> { value;
    immutable; shellExpand; }`` (``{ value = null; }`` removes it); ``programs.plasma.enable`` is set with
    ``lib.mkDefault``; assertions fail the build when the user's own ``programs.plasma.enable = false`` would drop
    the keys, or when ``xdg.configHome`` / ``xdg.dataHome`` is not the directory the keys are owned in.  TOML keys
    are skipped: the host-side step writes them whatever the backend (``ownedkeys.plan_user``).  Empty when there is
    no KConfig key.
    """
    seen: Dict[Tuple[str, str, str, str], OwnedKey] = {}
    tree: Dict[str, Dict[str, Dict[str, Dict[str, Any]]]] = {}
    files: List[str] = []
    for key in keys:
        if not isinstance(key, OwnedKey):
            raise PlasmaManagerError("owned keys must be OwnedKey objects, got %r" % (key,))
        if key.format != "kconfig":
            continue
        if not isinstance(key.key, str) or not key.key:
            raise PlasmaManagerError("~/%s %s: KConfig keys need a name" % (key.file, list(key.group)))
        option, file = where(key.file)
        group = group_name(key.group)
        ident = (option, file, group, key.key)
        if ident in seen:
            if setting(seen[ident]) != setting(key):
                raise PlasmaManagerError("%s is owned twice with different values (%r, %r)"
                                         % (_label(key), seen[ident].value, key.value))
            continue
        seen[ident] = key
        tree.setdefault(option, {}).setdefault(file, {}).setdefault(group, {})[key.key] = NixOverride(
            priority, setting(key))
        if key.file not in files:
            files.append(key.file)
    if not tree:
        return {}
    named = ", ".join("~/" + f for f in sorted(files))
    assertions: List[Dict[str, Any]] = [{
        "assertion": NixRaw("config.programs.plasma.enable"),
        "message": "nixperf.tuning: programs.plasma.enable is false, so plasma-manager writes none of the KDE keys "
                   "the collection owns in %s. Set programs.plasma.enable = true (or drop the false), %s." % (named, FIX),
    }]
    for option, directory, home_dir in (("configFile", "configHome", CONFIG_DIR), ("dataFile", "dataHome", DATA_DIR)):
        if option in tree:
            assertions.append({
                "assertion": NixRaw('toString config.xdg.%s == toString config.home.homeDirectory + "/%s"'
                                    % (directory, home_dir.rstrip("/"))),
                "message": "nixperf.tuning: xdg.%s is not ~/%s, but the collection owns KDE keys in ~/%s (%s) and "
                           "plasma-manager's %s writes below xdg.%s. Leave xdg.%s at its default, %s."
                           % (directory, home_dir.rstrip("/"), home_dir.rstrip("/"),
                              ", ".join("~/" + f for f in sorted(files) if f.startswith(home_dir)), option,
                              directory, directory, FIX),
            })
    plasma: Dict[str, Any] = {"enable": NixDefault(True)}
    plasma.update(tree)
    return {"programs": {"plasma": plasma}, "assertions": assertions}


def requires(phase: str) -> Tuple[Tuple[str, ...], str]:
    """``nix_module``'s ``requires`` for a module using plasma-manager's options: the option and the message."""
    return REQUIRED_OPTION, (
        "nixperf.tuning (phase %s): KDE keys are set through plasma-manager (nixperf_desktop.backend: "
        "plasma_manager), but this home-manager configuration does not import plasma-manager's module, so "
        "programs.plasma does not exist. Add it to the home-manager modules: "
        "inputs.plasma-manager.homeModules.plasma-manager (homeManagerModules.plasma-manager in plasma-manager "
        "before 2025-09), %s." % (phase, FIX))


def lock_note(keys: Sequence[OwnedKey]) -> str:
    """A note for the module header on the locked keys (``immutable``: KConfig's ``[$i]``); "" when none."""
    locked = [k for k in keys if k.format == "kconfig" and k.immutable and k.value is not None]
    if not locked:
        return ""
    lines = [
        "Locked keys (immutable, written key[$i]=value): KConfig lets no later file and no program change them, so",
        "System Settings shows their controls disabled and the user cannot change them there any more. Change",
        "them in the inventory; removing a key from the inventory gives the user's own value back.",
    ]
    lines.extend("  " + _label(k) for k in locked)
    return "\n".join(lines)


def home_module(phase: str, keys: Sequence[OwnedKey], priority: int, role: Optional[str] = None,
                description: Optional[str] = None, enable: bool = True, note: Optional[str] = None
                ) -> Tuple[str, List[str]]:
    """The whole home-manager module of a phase whose keys go through plasma-manager (text, raw fragments).

    The config is guarded (``nix_module(requires=...)``): without plasma-manager's module the build fails with an
    assertion naming the import to add.
    """
    notes = [n for n in (note, lock_note(keys)) if n]
    return nix_module(phase, home_config(keys, priority), role=role, description=description, enable=enable,
                      note="\n".join(notes) or None, markers=False, priority=priority, requires=requires(phase))
