# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-side step of the owned keys (``module_utils/desktop.py``): remember, set, give back.

For each user, a small record (``~/.local/state/nixperf/owned-keys.json``) keeps the value every owned key had
before the collection first set it (``null``: it was not there), with its KConfig options.  Each run:

1. a key owned now and not yet recorded is recorded, with its current value;
2. a recorded key no phase owns any more is put back to its recorded value (or removed, when it was not there)
   and forgotten: switching a phase off gives the user their own values back;
3. the owned keys are put in place: by this step for the ``direct`` backend and for every TOML key, by
   ``chezmoi apply`` for the ``chezmoi`` backend, by home-manager for ``plasma_manager``.

Everything here is pure (texts in, texts out); ``module_utils/desktop_sync.py`` does the I/O.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc, KConfigError
from ansible_collections.nixperf.tuning.plugins.module_utils.tomlkeys import TomlDoc, TomlError

STORE = ".local/state/nixperf/owned-keys.json"
STORE_VERSION = 1

KeyId = Tuple[str, str, Tuple[str, ...], str]  # (file, format, group, key)


class OwnedKeysError(ValueError):
    """A file or record the step cannot edit safely; nothing is written."""


def key_id(file: str, fmt: str, group: Sequence[str], key: str) -> KeyId:
    return (file, fmt, tuple(group), key)


def label(ident: KeyId) -> str:
    """``.config/kwinrc [Compositing] Backend`` for messages."""
    file, _fmt, group, key = ident
    return "%s %s%s" % (file, "".join("[%s]" % g for g in group), " " + key if group else key)


@dataclass
class Original:
    """A key's value before the collection first set it (None: absent), with its KConfig options."""

    value: Optional[str]
    immutable: bool = False
    expand: bool = False
    # how the program picks a change up (OwnedKey.live / unit), kept so that a give-back reloads it too
    live: str = "login"
    unit: Optional[str] = None
    # the phase that owned the key when it was recorded: a run that speaks for other phases leaves it alone
    phase: Optional[str] = None


class Doc:
    """One file's text through the model of its format."""

    def __init__(self, fmt: str, text: str, path: str) -> None:
        self.fmt, self.path = fmt, path
        try:
            self.doc: Any = KConfigDoc.parse(text) if fmt == "kconfig" else TomlDoc.parse(text)
        except (KConfigError, TomlError) as exc:
            raise OwnedKeysError("%s: %s" % (path, exc)) from exc

    def read(self, ident: KeyId) -> Original:
        """The key's value and KConfig options; a TOML key's table is its group path (``()``: the top level)."""
        group, key = ident[2], ident[3]
        if self.fmt == "kconfig":
            flags = self.doc.flags(group, key)
            return Original(self.doc.get(group, key), "i" in flags, "e" in flags)
        return Original(self.doc.get(group, key))

    def put(self, ident: KeyId, value: Optional[str], immutable: bool = False, expand: bool = False) -> None:
        group, key = ident[2], ident[3]
        try:
            if value is None:
                self.doc.unset(group, key)
            elif self.fmt == "kconfig":
                self.doc.ensure(group, key, value, immutable=immutable, expand=expand)
            elif self.doc.get(group, key) != value:
                self.doc.set(group, key, value)
        except (KConfigError, TomlError) as exc:
            raise OwnedKeysError("%s: cannot set %s: %s" % (self.path, label(ident), exc)) from exc

    def render(self) -> str:
        return self.doc.render()

    def hollow(self) -> bool:
        """Nothing but group / table headers and blank lines: what a give-back leaves of a file the collection
        created (the program treats it as absent)."""
        lines = [ln.strip() for ln in self.render().splitlines() if ln.strip()]
        return all(ln.startswith("[") and ln.endswith("]") and "=" not in ln for ln in lines)


# ------------------------------------------------------------------ the record


def load_store(text: Optional[str], path: str) -> Dict[KeyId, Original]:
    """The record's keys; an absent record is empty, a damaged one an error (never silently forgotten)."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
        if data.get("version") != STORE_VERSION:
            raise ValueError("version %r, expected %d" % (data.get("version"), STORE_VERSION))
        out: Dict[KeyId, Original] = {}
        for entry in data["keys"]:
            ident = key_id(entry["file"], entry["format"], entry["group"], entry["key"])
            out[ident] = Original(entry["original"], bool(entry.get("immutable")), bool(entry.get("expand")),
                                  entry.get("live", "login"), entry.get("unit"), entry.get("phase"))
        return out
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OwnedKeysError("%s: the record of the original values is damaged (%s); fix or remove it by hand "
                             "(removing it forgets the values to give back)" % (path, exc)) from exc


def dump_store(store: Dict[KeyId, Original]) -> Optional[str]:
    """The record's text; None when it holds nothing (the file then goes)."""
    if not store:
        return None
    keys = [{"file": i[0], "format": i[1], "group": list(i[2]), "key": i[3], "original": o.value,
             "immutable": o.immutable, "expand": o.expand, "live": o.live, "unit": o.unit, "phase": o.phase}
            for i, o in sorted(store.items())]
    return json.dumps({"version": STORE_VERSION, "keys": keys}, indent=1, sort_keys=True) + "\n"


# ------------------------------------------------------------------ one user's plan


def _bucket(live: str, unit: Optional[str]) -> str:
    """``kwin`` / ``live`` / ``login``, or ``service:<unit>``."""
    return "service:%s" % unit if live == "service" and unit else live


@dataclass
class UserPlan:
    """What the step does for one user: new file texts, the new record, and what it says about them."""

    texts: Dict[str, Tuple[Optional[str], str]] = field(default_factory=dict)  # file -> (before, after)
    store: Dict[KeyId, Original] = field(default_factory=dict)
    recorded: List[str] = field(default_factory=list)
    restored: List[str] = field(default_factory=list)
    set_keys: List[str] = field(default_factory=list)
    # keys that differ and that another program sets (chezmoi, home-manager)
    pending: List[str] = field(default_factory=list)
    # files another program puts in place (chezmoi): file -> predicted text after it ran
    external: Dict[str, str] = field(default_factory=dict)
    live: Dict[str, List[str]] = field(default_factory=dict)  # "kwin" / "login" / "live" / unit -> keys

    def changed_files(self) -> List[str]:
        return sorted(set(f for f, (b, a) in self.texts.items() if (b or "") != a)
                      | set(f for f, a in self.external.items() if (self.texts.get(f, (None, ""))[1]) != a))


def plan_user(owned: Sequence[OwnedKey], store: Dict[KeyId, Original], read: Callable[[str], Optional[str]],
              backend: str, phases: Optional[Dict[KeyId, str]] = None,
              scope: Optional[Collection[str]] = None) -> UserPlan:
    """Record, give back and set, as texts. ``read(file)`` gives a file's text (None: missing).

    ``phases`` names the phase owning each key (kept in the record); ``scope`` the phases this run speaks for (None:
    all): a recorded key of a phase outside it is neither given back nor forgotten (a phase role run on its own).

    ``backend`` decides who sets the KConfig keys: ``direct`` (this step), ``chezmoi`` (its ``modify_`` scripts,
    predicted here with the same model) or ``plasma_manager`` (home-manager; nothing predicted). TOML keys are
    always set here.
    """
    plan = UserPlan(store=dict(store))
    wanted: Dict[KeyId, OwnedKey] = {}
    for k in owned:
        ident = key_id(k.file, k.format, k.group, k.key)
        if ident in wanted and wanted[ident] != k:
            raise OwnedKeysError("%s is owned twice with different values (%r, %r)"
                                 % (label(ident), wanted[ident].value, k.value))
        wanted[ident] = k
    files = sorted(set(i[0] for i in wanted) | set(i[0] for i in store))
    formats: Dict[str, str] = {}
    for ident in list(wanted) + list(store):
        if formats.setdefault(ident[0], ident[1]) != ident[1]:
            raise OwnedKeysError("%s is named both as a KConfig and as a TOML file" % ident[0])
    for file in files:
        fmt = formats[file]
        before = read(file)
        doc = Doc(fmt, before or "", file)
        # 1. record what the user had, before anything of ours touches the file
        for ident in sorted(i for i in wanted if i[0] == file):
            if ident not in plan.store:
                original = doc.read(ident)
                original.live, original.unit = wanted[ident].live, wanted[ident].unit
                original.phase = (phases or {}).get(ident)
                plan.store[ident] = original
                plan.recorded.append(label(ident))
        # 2. give back what no phase owns any more
        for ident in sorted(i for i in store if i[0] == file and i not in wanted
                            and (scope is None or store[i].phase is None or store[i].phase in scope)):
            original = plan.store.pop(ident)
            was = doc.render()
            doc.put(ident, original.value, original.immutable, original.expand)
            if doc.render() != was:
                plan.restored.append(label(ident))
                plan.live.setdefault(_bucket(original.live, original.unit), []).append(label(ident))
        # 3. the owned keys: here, or predicted for the program that sets them
        ours = fmt == "toml" or backend == "direct"
        predicted = doc if ours else Doc(fmt, doc.render(), file)
        for ident in sorted(i for i in wanted if i[0] == file):
            k = wanted[ident]
            was = predicted.render()
            predicted.put(ident, k.value, k.immutable, k.expand)
            if predicted.render() != was:
                (plan.set_keys if ours else plan.pending).append(label(ident))
                plan.live.setdefault(_bucket(k.live, k.unit), []).append(label(ident))
        after = doc.render()
        if plan.restored and after and not any(i[0] == file for i in wanted) and doc.hollow():
            after = ""  # the file held only what the collection had put there: it goes
        if before is not None or after:
            plan.texts[file] = (before, after)
        if not ours and backend == "chezmoi":
            plan.external[file] = predicted.render()
    return plan
