# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The writer's record of the files it generated on a host (the manifest), as pure functions.

One JSON file per host root, ``<root>/var/lib/nixperf/manifest.json``::

    {"format": 1,
     "files": {"etc/nixos/nixperf/memory.nix": {"phase": "memory", "sha256": "..."},
               "etc/nixos/nixperf/default.nix": {"phase": null, "index": true, "sha256": "..."}}}

Paths are relative to the root, so a moved build tree keeps its record and a record
can never name a file outside its root.  ``phase`` is the owning phase; ``null``
means the writer itself owns the file (the ``default.nix`` indexes, files given
without a phase).  ``sha256`` is the content the writer last wrote, so a removal
can tell a generated file from one edited since.

A file the record names, whose phase the plan speaks for (its ``scope``) and
which the plan no longer contains, is stale: the writer removes it.  Files the
writer did not generate are never named by the record, so never touched.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence

MANIFEST = "var/lib/nixperf/manifest.json"
FORMAT = 1
# The hardware_profile phase keeps data files (not modules) in this subdirectory of its module directory.
DATA_DIR = "profile"
DATA_PHASE = "hardware_profile"

Record = Dict[str, Any]  # {"phase": str | None, "sha256": str, "index": bool (only when true)}


class ManifestError(ValueError):
    """A manifest that cannot be read back."""


def manifest_path(root: str) -> str:
    return os.path.join(root, MANIFEST)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def record(phase: Optional[str], text: str, index: bool = False) -> Record:
    rec: Record = {"phase": phase, "sha256": content_hash(text)}
    if index:
        rec["index"] = True
    return rec


def parse_manifest(text: str, root: str) -> Dict[str, Record]:
    """The records of a manifest, keyed by absolute path below ``root``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError("not JSON: %s" % exc) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise ManifestError("expected {\"format\": %d, \"files\": {...}}" % FORMAT)
    out: Dict[str, Record] = {}
    for rel, rec in data["files"].items():
        norm = os.path.normpath(rel)
        if os.path.isabs(rel) or norm.startswith(".."):
            raise ManifestError("path %r is not relative to the root" % rel)
        if not isinstance(rec, dict) or not isinstance(rec.get("sha256"), str) \
                or not isinstance(rec.get("phase"), (str, type(None))):
            raise ManifestError("entry %r needs phase (a string or null) and sha256" % rel)
        out[os.path.join(root, norm)] = dict(rec)
    return out


def dump_manifest(records: Dict[str, Record], root: str) -> str:
    """Deterministic text (sorted keys, no timestamps): an unchanged record is never rewritten."""
    files = {os.path.relpath(path, root): rec for path, rec in records.items()}
    return json.dumps({"format": FORMAT, "files": files}, indent=1, sort_keys=True) + "\n"


def relative_to(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def adopted_phase(directory: str, name: str, index_dirs: Iterable[str]) -> Optional[str]:
    """The phase a generated file found on disk belongs to, by its place; None when it is not a phase's.

    ``<index dir>/<phase>.nix`` is the module of ``<phase>``; a file in ``<index dir>/profile/`` is a data file
    of the hardware_profile phase.  The caller has checked the file carries the generated header.
    """
    dirs = {d.rstrip("/") for d in index_dirs}
    if name.startswith(".") or name.endswith("~"):
        return None  # temp files and backups
    if directory in dirs:
        if name.endswith(".nix") and name != "default.nix":
            return name[:-len(".nix")]
        return None
    if os.path.basename(directory) == DATA_DIR and os.path.dirname(directory) in dirs:
        return DATA_PHASE
    return None


def scope_of(scope: Optional[Sequence[str]], planned_phases: Iterable[Optional[str]]) -> List[str]:
    """The phases a plan speaks for: its ``scope``, or without one the phases of its files."""
    if scope is not None:
        return sorted(set(scope))
    return sorted({p for p in planned_phases if p})


def stale(records: Dict[str, Record], planned: Iterable[str], scope: Iterable[str]) -> List[str]:
    """Recorded files of a phase in ``scope`` that the plan no longer contains."""
    wanted, phases = set(planned), set(scope)
    return sorted(p for p, rec in records.items() if rec.get("phase") in phases and p not in wanted)


def index_dirs(records: Dict[str, Record]) -> List[str]:
    """Directories whose ``default.nix`` the writer generated."""
    return sorted(os.path.dirname(p) for p, rec in records.items() if rec.get("index"))


def index_members(directory: str, paths: Iterable[str]) -> List[str]:
    """File names ``<directory>/default.nix`` imports: the ``.nix`` files among ``paths`` directly in it."""
    directory = directory.rstrip("/")
    return sorted({os.path.basename(p) for p in paths
                   if os.path.dirname(p) == directory and p.endswith(".nix") and os.path.basename(p) != "default.nix"})


__all__ = [
    "MANIFEST", "FORMAT", "ManifestError", "Record", "manifest_path", "content_hash", "record", "parse_manifest",
    "dump_manifest", "relative_to", "adopted_phase", "scope_of", "stale", "index_dirs", "index_members",
]
