# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters: the Nix serializer and its markers, usable from any template.

The marker filters return one-key mappings (``{"_nix": ...}``) rather than
objects, so they survive templating, module arguments and JSON.
"""
from __future__ import annotations

from typing import Any, Dict

from ansible.errors import AnsibleFilterError
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError, NixOverride, NixRaw, to_nix


def _to_nix(value: Any, indent: int = 0, dotted: bool = False) -> str:
    try:
        return to_nix(value, indent=indent, dotted=dotted)
    except NixError as exc:
        raise AnsibleFilterError("to_nix: %s" % exc) from exc


def nix_raw(code: str) -> Dict[str, Any]:
    try:
        NixRaw(code)
    except NixError as exc:
        raise AnsibleFilterError("nix_raw: %s" % exc) from exc
    return {"_nix": str(code)}


def nix_force(value: Any) -> Dict[str, Any]:
    return {"_nix_force": value}


def nix_default(value: Any) -> Dict[str, Any]:
    return {"_nix_default": value}


def nix_override(value: Any, priority: int) -> Dict[str, Any]:
    try:
        NixOverride(priority, value)
    except NixError as exc:
        raise AnsibleFilterError("nix_override: %s" % exc) from exc
    return {"_nix_override": {"priority": priority, "value": value}}


def nix_if(value: Any, condition: Any) -> Dict[str, Any]:
    if not isinstance(condition, (bool, str)):
        raise AnsibleFilterError("nix_if: the condition must be a bool or Nix code, got %r" % (condition,))
    return {"_nix_if": {"condition": condition, "value": value}}


class FilterModule:
    def filters(self):
        return {
            "to_nix": _to_nix,
            "nix_raw": nix_raw,
            "nix_force": nix_force,
            "nix_default": nix_default,
            "nix_override": nix_override,
            "nix_if": nix_if,
        }
