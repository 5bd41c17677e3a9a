# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every phase builder shares: input checks that name the host, the
variable and the allowed values, and the shape of a builder's result.

Builders are pure: ``build(settings, hardware, host) -> PhasePlan``.  They raise
``PhaseError`` for bad input, before anything is rendered or written.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence

_MISSING = object()


class PhaseError(ValueError):
    """Bad input for a phase; the message is meant for the user as it is."""


@dataclass
class PhasePlan:
    """A builder's output: the NixOS module config plus the values it derived."""

    phase: str
    # the NixOS module's config; None: a home-manager-only phase writes no NixOS module
    config: Optional[Dict[str, Any]]
    derived: Dict[str, Any] = field(default_factory=dict)
    description: str = ""
    enable: bool = True
    note: str = ""
    # config applied whether or not the phase is enabled (e.g. ``_module.args``)
    always: Dict[str, Any] = field(default_factory=dict)
    # plain data files next to the module: relative path -> data (rendered as one Nix expression)
    data_files: Dict[str, Any] = field(default_factory=dict)
    # a home-manager module for every user of the host (None: no home part)
    home_config: Optional[Dict[str, Any]] = None
    home_enable: bool = True


class Inputs:
    """Typed access to a role's settings and the host's hardware facts."""

    def __init__(self, host: str, settings: Mapping, hardware: Optional[Mapping], prefix: str) -> None:
        self.host = host
        self.settings = settings or {}
        self.hardware = hardware if isinstance(hardware, Mapping) else None
        self.prefix = prefix

    def fail(self, var: str, problem: str) -> PhaseError:
        return PhaseError("host %s: %s %s" % (self.host, var, problem))

    # -- role settings ----------------------------------------------------
    def setting(self, name: str, default: Any = _MISSING) -> Any:
        if name in self.settings and self.settings[name] is not None:
            return self.settings[name]
        if default is _MISSING:
            raise self.fail(self.prefix + name, "is required")
        return default

    def int_setting(self, name: str, lo: int, hi: int, default: Any = _MISSING) -> Optional[int]:
        value = self.setting(name, default)
        if value is None:
            return None
        return self._int(self.prefix + name, value, lo, hi)

    def choice(self, name: str, choices: Sequence[Any], default: Any = _MISSING) -> Any:
        value = self.setting(name, default)
        ints = all(isinstance(c, int) and not isinstance(c, bool) for c in choices)
        if ints and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)
        if value not in choices or isinstance(value, bool) and ints:
            raise self.fail(self.prefix + name, "must be one of %s, got %r"
                            % (", ".join(str(c) for c in choices), value))
        return value

    def bool_setting(self, name: str, default: Any = _MISSING) -> bool:
        value = self.setting(name, default)
        if not isinstance(value, bool):
            raise self.fail(self.prefix + name, "must be true or false, got %r" % (value,))
        return value

    # -- hardware facts ---------------------------------------------------
    def fact(self, path: str, kind: type = int, lo: Optional[int] = None, hi: Optional[int] = None,
             choices: Optional[Sequence[Any]] = None, hint: str = "") -> Any:
        var = "nixperf_hardware." + path
        node: Any = self.hardware
        if node is None:
            raise self.fail("nixperf_hardware", "is missing; the host's inventory file must describe its hardware"
                            " (see docs/inventory.md)")
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node or node[part] is None:
                raise self.fail(var, "is missing; set it in the host's inventory file%s"
                                % (" (%s)" % hint if hint else ""))
            node = node[part]
        if kind is list and not isinstance(node, list):
            raise self.fail(var, "must be a list, got %r" % (node,))
        if kind is int:
            return self._int(var, node, lo if lo is not None else -(2 ** 63), hi if hi is not None else 2 ** 63 - 1)
        if choices is not None and node not in choices:
            raise self.fail(var, "must be one of %s, got %r" % (", ".join(map(str, choices)), node))
        if not isinstance(node, kind):
            raise self.fail(var, "must be a %s, got %r" % (kind.__name__, node))
        return node

    def int_value(self, var: str, value: Any, lo: int, hi: int) -> int:
        """``value`` as an integer in [lo, hi]; ``var`` names it in the error."""
        return self._int(var, value, lo, hi)

    def _int(self, var: str, value: Any, lo: int, hi: int) -> int:
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)  # inventory values templated to text
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(var, "must be an integer from %d to %d, got %r" % (lo, hi, value))
        return value


Builder = Callable[[Inputs], PhasePlan]
_REGISTRY: Dict[str, Builder] = {}
_PREFIX: Dict[str, str] = {}


def register(phase: str, prefix: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``fn`` the builder of ``phase`` (role variables ``prefix*``)."""

    def wrap(fn: Builder) -> Builder:
        _REGISTRY[phase] = fn
        _PREFIX[phase] = prefix
        return fn

    return wrap


def _load_builders() -> None:
    """Import the builder modules; each registers itself."""
    from ansible_collections.nixperf.tuning.plugins.module_utils import (  # noqa: F401
        electron, gpu, libs, memory, profile, runtimes, slices)


def build(phase: str, host: str, settings: Mapping, hardware: Optional[Mapping]) -> PhasePlan:
    _load_builders()
    if phase not in _REGISTRY:
        raise PhaseError("host %s: unknown phase %r (known: %s)" % (host, phase, ", ".join(sorted(_REGISTRY))))
    return _REGISTRY[phase](Inputs(host, settings, hardware, _PREFIX[phase]))


def known_phases() -> Sequence[str]:
    _load_builders()
    return sorted(_REGISTRY)
