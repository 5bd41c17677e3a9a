# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that parse a dry run's build cost and refuse a switch that costs too much."""

    DOCUMENTATION = r"""
options:
  max_builds:
    description:
      - Refuse a switch that needs more local builds (derivations) than this, before building or switching
        anything. V(-1) means no limit. In check mode the result says C(refused) instead of failing.
    type: int
    default: -1
  max_builds_var:
    description: The name under which the caller sets O(max_builds), for the refusal message.
    type: str
    default: max_builds
  rebuilds:
    description:
      - The packages each phase overrides (C(plan.rebuilds)), C(phase) -> C({packages, bootstrap, target}), to name
        the phases that cause the builds. C(packages) is a list for every C(target) of the phase, or a mapping
        V(nixos) / V(home) -> list when the phase overrides different packages in each. Only the packages for this
        module's configuration (V(nixos) or V(home)) count.
    type: dict
    default: {}
"""
