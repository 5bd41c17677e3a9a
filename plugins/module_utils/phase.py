# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A phase is one declaration: its settings (type, default, range, description) and its pure builder.

Each module in ``module_utils/phases/`` defines ``PHASE = Phase(...)``; the phases are discovered from that
directory, never listed by hand.  From the declaration come:

* the role's ``defaults/main.yml`` and ``meta/argument_specs.yml`` (``make generate``; a unit test fails when they
  are stale);
* the values the planning action reads from the role's variables (``<prefix><name>``), checked and converted once
  here: ``"false"`` from ``-e x=false`` is a boolean, ``"3"`` an integer, a Nix code marker is refused unless the
  setting is documented to take Nix code;
* the order of the phases in ``site.yml`` (``order``) and the facts each needs.

Builders are pure: ``build(inputs) -> PhasePlan``; they raise ``PhaseError`` for bad input, before anything is
rendered or written.
"""
from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.facts import FactError, check_facts
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import (
    MARKER_KEYS, NixError, NixMarker, NixOverride, from_marker)

_MISSING = object()
KINDS = ("bool", "int", "str", "list", "dict", "raw")
TRUE = ("true", "yes", "on", "1", "y", "t")
FALSE = ("false", "no", "off", "0", "n", "f")


# The module-system priority of the values a host's own modules may also define (nixperf_priority).
# Below 100 (a plain definition) and 1000 (lib.mkDefault, the NixOS modules' defaults): ours win over them.
# Above 50 (lib.mkForce): a value the host forces wins over ours. Never 50 or 100 themselves: options that take
# one definition (boot.kernel.sysctl values merge with mergeOneOption) fail with "defined multiple times" when
# two modules define them at one priority, even with equal values.
PRIORITY_VAR = "nixperf_priority"
DEFAULT_PRIORITY = 75
PRIORITY_RANGE = (1, 999)


class PhaseError(ValueError):
    """Bad input for a phase; the message is meant for the user as it is."""


def check_priority(host: str, value: Any) -> int:
    """``nixperf_priority`` as an integer (text from ``-e`` converted); None gives the default."""
    if value is None:
        return DEFAULT_PRIORITY
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value)
    lo, hi = PRIORITY_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PhaseError("host %s: %s must be an integer from %d to %d (the lib.mkOverride priority of the generated "
                         "values; 50 is lib.mkForce, 100 a plain definition, 1000 lib.mkDefault), got %r"
                         % (host, PRIORITY_VAR, lo, hi, value))
    if value in (50, 100):
        raise PhaseError("host %s: %s must not be %d: that is the priority of %s, so a host module setting the same "
                         "sysctl there fails evaluation (\"defined multiple times\"); take %d or %d"
                         % (host, PRIORITY_VAR, value, "lib.mkForce" if value == 50 else "a plain definition",
                            value - 1, value + 1))
    return value


@dataclass(frozen=True)
class Setting:
    """One role variable ``<prefix><name>``.

    ``kind`` is the Ansible argument-spec type (bool, int, str, list, dict, raw).  ``default`` None means "derived
    from the facts" (say how in ``doc``) or "unset".  ``nix_code`` marks the only settings where a Nix code marker
    (``{_nix: ...}``) is honoured; everywhere else a marker is an error.
    """

    name: str
    kind: str
    default: Any
    doc: str
    choices: Optional[Tuple[Any, ...]] = None
    lo: Optional[int] = None
    hi: Optional[int] = None
    elements: Optional[str] = None
    nix_code: bool = False
    # a Jinja expression as the role default (e.g. from nixperf_desktop); the argument spec then has no default
    template: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError("setting %s: kind must be one of %s" % (self.name, ", ".join(KINDS)))


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
    # files of any kind (a chezmoi script, TOML, a YAML manifest): path relative to the host's root -> text, or
    # {"content": text, "mode": "0755"}; the writer owns them like the Nix files
    files: Dict[str, Any] = field(default_factory=dict)
    # a home-manager module for every user of the host (None: no home part)
    home_config: Optional[Dict[str, Any]] = None
    home_enable: bool = True
    # (option path, message): the home module's config uses another project's options (plasma-manager); without
    # them it fails with the message (nix_module's ``requires``)
    home_requires: Optional[Tuple[Tuple[str, ...], str]] = None
    # every GCC -march and GOAMD64 value the phase writes (checked against the live CPU in apply mode)
    march: List[str] = field(default_factory=list)
    goamd64: List[str] = field(default_factory=list)
    # packages the phase overrides, so they are built locally: {"packages", "bootstrap", "target"}
    rebuilds: Optional[Dict[str, Any]] = None
    # keys the phase owns in files programs rewrite themselves (KDE rc files, RustDesk's TOML), per user name:
    # module_utils/desktop.OwnedKey; put in place by the host-side step (module desktop_keys), never whole files
    keys: Dict[str, List[Any]] = field(default_factory=dict)
    # switches of the phase's own, each declared in its modules as nixperf.<phase>.<name>.enable (default, doc):
    # every value of a feature is guarded with nix.feature_if(name, value), so each change is opt-in on its own
    features: Dict[str, Tuple[bool, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Phase:
    """The declaration of a phase: everything the collection needs to know about it, in one place."""

    name: str
    order: int
    title: str
    description: Tuple[str, ...]
    settings: Tuple[Setting, ...]
    build: Callable[["Inputs"], PhasePlan]
    # dotted paths of nixperf_hardware the phase needs (documented in the argument spec, required at run time)
    facts: Tuple[str, ...] = ()
    # whether the phase writes a home-manager module per user of nixperf_users
    users: bool = False
    tags: Tuple[str, ...] = ()
    # a change of the phase's NixOS module (switched on, off, or any value) takes effect only after a reboot
    # (initrd, kernel command line, the boot service graph): the apply engine then reports reboot_required, and
    # reboots only when allowed to (nixos_apply_reboot_ok)
    reboot: bool = False

    @property
    def prefix(self) -> str:
        return self.name + "_"

    def setting(self, name: str) -> Setting:
        for s in self.settings:
            if s.name == name:
                return s
        raise KeyError("phase %s declares no setting %r" % (self.name, name))


def _find_marker(value: Any, path: str = "") -> Optional[str]:
    """The path of the first Nix code marker inside ``value``, or None."""
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in MARKER_KEYS:
            return path or "(the value)"
        for k, v in value.items():
            found = _find_marker(v, "%s.%s" % (path, k) if path else str(k))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _find_marker(v, "%s[%d]" % (path, i))
            if found:
                return found
    return None


def objectify(value: Any) -> Any:
    """Turn the one-key marker dicts inside ``value`` into marker objects (settings that take Nix code)."""
    if isinstance(value, Mapping):
        marker = from_marker(value)
        if marker is not None:
            return marker
        return {k: objectify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [objectify(v) for v in value]
    return value


class Inputs:
    """A phase's settings and the host's facts, checked against the declaration."""

    def __init__(self, host: str, settings: Optional[Mapping], hardware: Any, phase: Phase,
                 users: Any = None, desktop: Any = None, priority: Any = None) -> None:
        self.host = host
        self.phase = phase
        self.prefix = phase.prefix
        self.priority = check_priority(host, priority)
        try:
            self.hardware, self.users, self.desktop = check_facts(host, hardware, users, desktop, phase.facts)
        except FactError as exc:
            raise PhaseError(str(exc)) from exc
        settings = dict(settings or {})
        unknown = sorted(set(settings) - {s.name for s in phase.settings})
        if unknown:
            raise PhaseError("host %s: phase %s has no settings %s (known: %s)" % (
                host, phase.name, ", ".join(unknown), ", ".join(s.name for s in phase.settings)))
        self.values: Dict[str, Any] = {s.name: self._check(s, settings.get(s.name)) for s in phase.settings}

    def fail(self, var: str, problem: str) -> PhaseError:
        return PhaseError("host %s: %s %s" % (self.host, var, problem))

    # -- settings ----------------------------------------------------------
    def _check(self, s: Setting, value: Any) -> Any:
        var = self.prefix + s.name
        if value is None:
            value = s.default
        if value is None:
            return None
        if s.nix_code:
            try:
                value = objectify(value)
            except NixError as exc:
                raise self.fail(var, "holds a malformed Nix code marker: %s" % exc) from exc
        else:
            where = _find_marker(value)
            if where:
                raise self.fail(var, "holds a Nix code marker at %s; this variable does not take Nix code (only "
                                "variables documented to take it do)" % where)
        if s.kind == "bool":
            value = self.as_bool(var, value)
        elif s.kind == "int" and s.choices is not None:
            if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
                value = int(value)
            if isinstance(value, bool) or value not in s.choices:
                raise self.fail(var, "must be one of %s, got %r" % (", ".join(map(str, s.choices)), value))
        elif s.kind == "int":
            value = self.as_int(var, value, s.lo if s.lo is not None else -(2 ** 63),
                                s.hi if s.hi is not None else 2 ** 63 - 1)
        elif s.kind == "str":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise self.fail(var, "must be a string, got %r" % (value,))
            value = str(value)
        elif s.kind == "list" and not isinstance(value, (list, tuple)):
            raise self.fail(var, "must be a list, got %r" % (value,))
        elif s.kind == "dict" and not isinstance(value, Mapping):
            raise self.fail(var, "must be a mapping, got %r" % (value,))
        if s.choices is not None and value not in s.choices:
            raise self.fail(var, "must be one of %s, got %r" % (", ".join(map(str, s.choices)), value))
        return list(value) if s.kind == "list" else dict(value) if s.kind == "dict" else value

    def as_bool(self, var: str, value: Any) -> bool:
        """Ansible's booleans: true/false, yes/no, on/off, 1/0, as YAML or as text (``-e x=false``)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) and str(value).strip().lower() in TRUE + FALSE:
            return str(value).strip().lower() in TRUE
        raise self.fail(var, "must be true or false, got %r" % (value,))

    def as_int(self, var: str, value: Any, lo: int, hi: int) -> int:
        """``value`` as an integer in [lo, hi] (text such as ``"3"`` from ``-e`` is converted)."""
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(var, "must be an integer from %d to %d, got %r" % (lo, hi, value))
        return value

    def owned(self, value: Any) -> Any:
        """``value`` at the nixperf priority (``lib.mkOverride <nixperf_priority> value``), for an option a host's
        own modules may also define; a value that already carries a priority marker keeps it."""
        return value if isinstance(value, NixMarker) else NixOverride(self.priority, value)

    def __getitem__(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError("phase %s declares no setting %r" % (self.phase.name, name))
        return self.values[name]

    def given(self, name: str) -> bool:
        """Whether the user set the variable (not its declared or derived default)."""
        return self.values[name] is not None and self.values[name] != self.phase.setting(name).default

    # -- facts ------------------------------------------------------------
    def fact(self, path: str, default: Any = _MISSING) -> Any:
        """A fact already checked by the schema (``cpu.threads``); ``default`` when absent."""
        node: Any = self.hardware
        for part in path.split("."):
            if not isinstance(node, Mapping) or node.get(part) is None:
                if default is not _MISSING:
                    return default
                raise self.fail("nixperf_hardware." + path, "is missing; set it in the host's inventory file")
            node = node[part]
        return node


# ---------------------------------------------------------------- discovery

_PHASES: Dict[str, Phase] = {}
PHASES_PACKAGE = "ansible_collections.nixperf.tuning.plugins.module_utils.phases"


def phases() -> List[Phase]:
    """Every declared phase, in the plans' order."""
    if not _PHASES:
        directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "phases")
        for name in sorted(os.listdir(directory)):
            if name.endswith(".py") and not name.startswith("_"):
                module = importlib.import_module("%s.%s" % (PHASES_PACKAGE, name[:-3]))
                declared = getattr(module, "PHASE", None)
                if isinstance(declared, Phase):
                    if declared.name != name[:-3]:
                        raise ValueError("phases/%s declares phase %r: the file must be named after the phase"
                                         % (name, declared.name))
                    _PHASES[declared.name] = declared
    return sorted(_PHASES.values(), key=lambda p: (p.order, p.name))


def get(phase: str, host: str = "?") -> Phase:
    known = {p.name: p for p in phases()}
    if phase not in known:
        raise PhaseError("host %s: unknown phase %r (known: %s)" % (host, phase, ", ".join(known)))
    return known[phase]


def known_phases() -> Sequence[str]:
    return [p.name for p in phases()]


def build(phase: str, host: str, settings: Optional[Mapping], hardware: Any, users: Any = None,
          desktop: Any = None, priority: Any = None) -> PhasePlan:
    """Check the facts and settings of ``phase`` for ``host``, then run its builder (``priority``:
    ``nixperf_priority``, None for the default)."""
    declared = get(phase, host)
    return declared.build(Inputs(host, settings, hardware, declared, users, desktop, priority))
