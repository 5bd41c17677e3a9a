#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: write_plan
short_description: Write the host's plan of generated files in one round trip
version_added: 0.2.0
description:
  - Takes the host's plan (the C(plan) of C(nixperf_planned), registered by the M(nixperf.tuning.phase) tasks of the
    phase roles in this play) and writes it with M(nixperf.tuning.write_files) (in the controller process when the
    target is this machine as this user).
  - The plan speaks for O(scope). The writer removes, with a backup, every file it wrote earlier for a phase in
    scope that the plan no longer holds, so a phase switched off is gone from the host (and from C(default.nix)).
    Files of phases outside the scope, and files the writer did not write, are never touched.
  - A host whose phases are all switched off is written an empty plan, so that their files are removed.
  - Settings come from the C(write) role's variables (C(write_backup), C(write_validate), C(write_in_process),
    C(write_shadow_dir)).
author:
  - nixperf.tuning contributors (@nixperf)
options:
  scope:
    description:
      - The phases this plan speaks for.
      - Default is C(nixperf_phases) (in C(site.yml) every phase the collection declares, switched on or off), else
        the phases the plan holds.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - nixperf.tuning.controller_action
attributes:
  check_mode:
    support: full
    details: Predicts every write and removal exactly; writes nothing.
  diff_mode:
    support: full
    details: The before/after of every changed or removed file.
  platform:
    support: full
    platforms: posix
notes:
  - Action-only, it runs on the controller and calls M(nixperf.tuning.write_files) on the host.
seealso:
  - module: nixperf.tuning.phase
  - module: nixperf.tuning.write_files
"""

EXAMPLES = r"""
- name: Write every planned file of the host
  nixperf.tuning.write_plan:
  register: write_result

- name: Write a plan that speaks for two phases only
  nixperf.tuning.write_plan:
    scope: [memory, gpu_video]
  register: write_result
"""

RETURN = r"""
scope:
  description: The phases the written plan spoke for.
  returned: success
  type: list
  elements: str
  sample: [electron_apps, gpu_video, hardware_profile, memory, resource_slices, runtimes, system_libs]
changed_files:
  description: Files written or removed (as M(nixperf.tuning.write_files) returns them, with C(files) and C(diff)).
  returned: success
  type: list
  elements: str
"""
