# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """Options shared by the modules that write generated files."""

    DOCUMENTATION = r"""
options:
  role:
    description:
      - Name written into the header comment of each generated file, so a reader knows which role owns it.
    type: str
    default: nix_file
  validate:
    description:
      - Check changed C(.nix) files with C(nix-instantiate --parse) before anything is written.
      - V(auto) validates when C(nix-instantiate) is found on the target (on C($PATH), C(/run/current-system/sw/bin)
        or C(/nix/var/nix/profiles/default/bin)) and warns otherwise.
      - V(always) fails clearly when it is missing; V(never) skips the check.
      - Validation runs only for files whose content changes, once for all of them, and in check mode too.
    type: str
    choices: [auto, always, never]
    default: auto
  backup:
    description:
      - Keep a timestamped copy of each file it replaces, next to it. Rollback (the C(nixos_apply) role) restores from it.
    type: bool
    default: false
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    details: Reads the current files, renders and validates the new ones in a temp directory, and reports exactly what
      a real run would change; nothing on the target is modified.
  diff_mode:
    support: full
    details: One before/after diff per changed file, with the path as header (C((absent)) for a new file).
  platform:
    platforms: posix
"""

    CONTENT = r"""
options:
  content:
    description:
      - The file's text, written as it is. Mutually exclusive with O(data) and O(module).
    type: str
  data:
    description:
      - Structured data rendered as one Nix expression by the collection's serializer, under a generated header.
      - 'Strings always become escaped Nix strings. Nix code only through the markers C({_nix: CODE}),
        C({_nix_force: V}), C({_nix_default: V}), C({_nix_override: {priority: N, value: V}}),
        C({_nix_if: {condition: CODE, value: V}}) (the C(nix_raw), C(nix_force), C(nix_default), C(nix_if) filters
        build them).'
    type: raw
  module:
    description:
      - A whole NixOS (or home-manager) module for one phase, declaring C(options.nixperf.<phase>.enable) and wrapping
        O(module.config) in C(lib.mkIf cfg.enable).
    type: dict
    suboptions:
      phase:
        description: Phase name, C([a-z][a-z0-9_]*); the option path is C(nixperf.<phase>).
        type: str
        required: true
      config:
        description: The module's configuration as data (same rules as O(data)); nested single-key mappings are
          written as dotted paths.
        type: dict
        required: true
      description:
        description: What the phase does, for the enable option's description.
        type: str
      enable:
        description: Default of C(nixperf.<phase>.enable). V(false) keeps the module but makes it inert.
        type: bool
        default: true
  raw_fragments:
    description:
      - Raw Nix fragments embedded in O(content), so that a parse failure names the broken one. Filled in by the
        action plugin when it renders O(data) or O(module); rarely set by hand.
    type: list
    elements: str
    default: []
"""
