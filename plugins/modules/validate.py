#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: validate
short_description: Check a live host against the phases applied to it, like tuned-adm verify
version_added: 0.5.0
description:
  - Builds the plan of every phase switched on for the host, exactly as M(nixperf.tuning.phase) does (same role
    variables, facts and C(nixperf_phase_<phase>) switches), and turns each plan into checks
    (C(plugins/module_utils/checks.py)); the expected values are the plan's own values.
  - Then runs M(nixperf.tuning.verify) once on the host, which reads everything in that one run, and returns one
    line per check (V(ok), V(DRIFT), V(n/a) with expected and actual) and the summary.
  - "What is checked: sysctls (C(/proc/sys)), the zram device (C(/proc/swaps), C(zramctl), C(comp_algorithm), size
    against C(MemTotal), priority), kernel parameters (C(/proc/cmdline)), unit and slice properties (one C(systemctl
    show) for all: C(MemoryHigh), C(MemoryMax), C(CPUQuotaPerSecUSec), C(OOMScoreAdjust), ...), systemd-oomd, Akonadi
    and Baloo not running, session variables in the running Plasma session, VA-API driver and decode profiles
    (C(vainfo)), owned KDE keys in effect (C(kreadconfig6) / C(kreadconfig5)), RustDesk's TOML keys, the Electron
    apps' running scopes, the running generation against the system profile, the generated files against their
    manifest, and the idle memory against the plan's target (C(plugins/module_utils/targets.py))."
  - A phase whose module is inert (C(<phase>_enable=false)) or switched off expects nothing. A check that cannot apply
    (not NixOS, no session, a tool missing) is reported as not applicable with the reason, never as a pass.
  - Never fails for drift itself; the C(validate) role fails afterwards (or warns) as C(validate_on_drift) says.
    With O(on_drift=warn) the result carries a warning listing what drifted.
author:
  - nixperf.tuning contributors (@nixperf)
options:
  phases:
    description: The phases to check (default every declared phase; each only when switched on for the host).
    type: list
    elements: str
  skip:
    description: Check ids or shell patterns to leave out (C(memory:sysctl:vm.panic_on_oom), C(host:target:*)).
    type: list
    elements: str
    default: []
  on_drift:
    description: V(fail) (the role fails the host) or V(warn) (a warning, the run goes on).
    type: str
    choices: [fail, warn]
    default: fail
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - nixperf.tuning.controller_action
attributes:
  check_mode:
    support: full
    details: Reads only; the same checks run in check mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - In render mode (the local inventory) the live values are those of the machine the connection reaches (this
    machine), compared with the host's plan; on a machine that is not NixOS the NixOS checks are not applicable.
seealso:
  - module: nixperf.tuning.verify
  - module: nixperf.tuning.phase
"""

EXAMPLES = r"""
- name: Check the host against its phases
  nixperf.tuning.validate:
    on_drift: warn
    skip: ["host:target:*"]
  register: validation

- name: Show one line per check
  ansible.builtin.debug:
    msg: "{{ validation.lines }}"
"""

RETURN = r"""
results:
  description: One result per check, from M(nixperf.tuning.verify) (id, phase, title, status, expected, actual, reason).
  returned: success
  type: list
  elements: dict
lines:
  description: One line per check, then the summary line.
  returned: success
  type: list
  elements: str
  sample: ["DRIFT memory           sysctl vm.swappiness: expected 67, actual 60", "shoshin: 11 ok, 1 drift, 4 not applicable"]
summary:
  description: How many checks ended ok, drift and na.
  returned: success
  type: dict
drift:
  description: How many checks drifted.
  returned: success
  type: int
phases:
  description: The phases whose plans were checked.
  returned: success
  type: list
  elements: str
nixos:
  description: Whether the host the connection reached is NixOS.
  returned: success
  type: bool
"""
