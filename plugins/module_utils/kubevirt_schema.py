# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline, strict validation of ``kubevirt.io/v1`` VirtualMachine manifests (controller side).

The schema is the one a Kubernetes API server serves for the VirtualMachine CRD (``schemas/kubevirt/``, with its
provenance).  The API server drops unknown fields with a warning only, so a key in the wrong place (the plan's
``spec.template.spec.ioThreadsPolicy``; the real one is ``spec.template.spec.domain.ioThreadsPolicy``) silently gives
a VM without the setting.  Here unknown keys are errors, each named by its path, and the enums the schema leaves as
free strings are checked too.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas", "kubevirt",
                           "virtualmachine_v1.crd-openapi.json")

# Values the schema types as plain strings; the values KubeVirt's v1 API documents for them.
ENUMS: Dict[Tuple[str, ...], Tuple[str, ...]] = {
    ("spec", "runStrategy"): ("Always", "Halted", "Manual", "RerunOnFailure", "Once"),
    ("spec", "template", "spec", "domain", "ioThreadsPolicy"): ("shared", "auto", "supplementalPool"),
    ("spec", "template", "spec", "domain", "devices", "disks", "*", "disk", "bus"): ("virtio", "sata", "scsi", "usb"),
}

_VALIDATOR: Any = None


class ManifestError(ValueError):
    """A manifest the strict schema refuses; the message names every bad path."""


def strict(node: Any) -> Any:
    """The schema with unknown keys refused and the Kubernetes extensions translated to JSON Schema."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def validator() -> Any:
    """The strict schema's validator, built once per process."""
    global _VALIDATOR  # pylint: disable=global-statement
    if _VALIDATOR is None:
        import jsonschema  # controller side only: a requirement of the collection's set-up

        with open(SCHEMA_FILE, encoding="utf-8") as handle:
            schema = strict(json.load(handle))
        _VALIDATOR = jsonschema.Draft7Validator(schema)
    return _VALIDATOR


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "(the manifest)"


def _at(node: Any, pattern: Tuple[str, ...], done: Tuple[Any, ...] = ()) -> Iterator[Tuple[Tuple[Any, ...], Any]]:
    """Every value at ``pattern`` (``*`` for each list item) with its concrete path."""
    if not pattern:
        yield done, node
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for i, item in enumerate(node if isinstance(node, list) else []):
            yield from _at(item, rest, done + (i,))
    elif isinstance(node, dict) and head in node:
        yield from _at(node[head], rest, done + (head,))


def problems(manifest: Any) -> List[str]:
    """Every problem of ``manifest``, one line each, naming the path; empty when it is valid."""
    out = []
    for error in sorted(validator().iter_errors(manifest), key=lambda e: [str(p) for p in e.absolute_path]):
        where = _path(error.absolute_path)
        if error.validator == "additionalProperties":
            known = sorted((error.schema.get("properties") or {}).keys())
            extra = sorted(set(error.instance) - set(known)) if isinstance(error.instance, dict) else []
            for key in extra:
                out.append("%s: unknown key (the API server would drop it silently); %s takes %s"
                           % (_path(list(error.absolute_path) + [key]), where, ", ".join(known) or "no keys"))
            continue
        out.append("%s: %s" % (where, error.message))
    for pattern, allowed in ENUMS.items():
        for path, value in _at(manifest, pattern):
            if value not in allowed:
                out.append("%s: %r is not one of %s" % (_path(path), value, ", ".join(allowed)))
    return out


def check(manifest: Any, name: Optional[str] = None) -> None:
    """Raise ``ManifestError`` naming every problem of ``manifest``."""
    found = problems(manifest)
    if found:
        raise ManifestError("%s is not a valid kubevirt.io/v1 VirtualMachine:\n  %s"
                            % (name or "the manifest", "\n  ".join(found)))
