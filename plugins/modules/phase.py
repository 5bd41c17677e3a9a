#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: phase
short_description: Plan one tuning phase on the controller (validate, derive, render)
version_added: 0.1.0
description:
  - Runs the pure builder of a phase (for example C(memory)) with the role's settings and the host's facts, renders
    the result with the collection's Nix serializer, and returns the host's plan so far (C(plan)). Nothing is
    written and the target is not contacted.
  - The settings are read from the role's variables (C(<phase>_<setting>), as declared in
    C(plugins/module_utils/phases/<phase>.py)), unless O(settings) gives them. Text from the command line is
    converted as Ansible users expect (C(-e memory_enable=false) is a boolean, C(-e memory_zram_priority=5) an
    integer).
  - "The host's facts (C(nixperf_hardware), C(nixperf_users), C(nixperf_desktop)) are checked as a whole against one
    schema before the builder runs. A Nix code marker (C({_nix: ...})) is refused in facts and in every setting
    not documented to take Nix code."
  - The phase roles register the result as C(nixperf_planned); the plan lives for one run and is never a host fact.
    M(nixperf.tuning.write_plan) (the C(nixperf.tuning.write) role) writes the whole plan in one round trip. When
    C(nixperf_write_deferred) is not true (a phase role used on its own), this action writes its own part right
    away with the settings of the write role (C(write_backup), C(write_validate), C(write_in_process),
    C(write_shadow_dir)); the task is then changed when a file changed.
  - Bad input (unknown choice, out-of-range number, missing or inconsistent hardware fact, a sysctl key with a
    space) fails here, naming the host, the variable, what was given and what is allowed, before any file is touched.
  - Output paths follow C(nixperf_mode) (V(render) under C(nixperf_build_dir)/<host>/, V(apply) the real paths),
    C(nixperf_root) and C(nixperf_nixos_entry_files).
author:
  - nixperf.tuning contributors (@nixperf)
options:
  phase:
    description: The phase to plan (a declaration in C(plugins/module_utils/phases/)). Required without O(phases).
    type: str
    choices: [memory, resource_slices, hardware_profile, system_libs, runtimes, electron_apps, gpu_video, plasma,
      kde_services, monitoring, rustdesk, boot, startup, build_perf]
  phases:
    description:
      - Plan every phase of this list that is switched on for the host (C(nixperf_phase_<phase>), default true), in
        the plans' order, in one task, with each phase's settings read from its role's variables
        (C(<phase>_<setting>); the declared default when unset) and checked against the same declaration as the
        role's argument spec. C(playbooks/nixos.yml) uses it with C(nixperf_phases). The result's C(plan) holds
        them all and C(phases) names the phases planned.
      - Excludes O(phase), O(settings) and O(hardware).
    type: list
    elements: str
  role:
    description: Role named in the generated file's header. Defaults to O(phase).
    type: str
  settings:
    description:
      - The phase's settings without the role prefix (C(zram_algorithm) for C(memory_zram_algorithm)).
      - Default is to read the role's variables.
    type: dict
  hardware:
    description: Hardware facts of the host. Defaults to the C(nixperf_hardware) variable.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - nixperf.tuning.controller_action
attributes:
  check_mode:
    support: full
    details: The same plan is made in check mode; a write of its own (role used alone) predicts and changes nothing.
  diff_mode:
    support: full
    details: Only when it writes (role used on its own), the before/after of every changed file.
  platform:
    support: full
    platforms: all
notes:
  - Action-only, it runs on the controller; only a write of its own reaches the host.
seealso:
  - module: nixperf.tuning.write_plan
  - module: nixperf.tuning.write_files
"""

EXAMPLES = r"""
- name: Plan the memory phase from the memory_* role variables
  nixperf.tuning.phase:
    phase: memory
  register: nixperf_planned

- name: Plan it with explicit settings
  nixperf.tuning.phase:
    phase: memory
    settings:
      zram_algorithm: lz4
      zram_memory_percent: 50
  register: nixperf_planned
"""

RETURN = r"""
path:
  description: Where the NixOS module will be written; null for a home-manager-only phase.
  returned: success
  type: str
  sample: /etc/nixos/nixperf/memory.nix
paths:
  description: Every file this phase plans (NixOS module, data files, one home-manager module per user).
  returned: success
  type: list
  elements: str
  sample: [/etc/nixos/nixperf/memory.nix]
derived:
  description: The values the builder derived from the facts (also in C(plan.derived.<phase>)).
  returned: success
  type: dict
  sample: {zram_memory_percent: 75, zram_size_mib: 12288, dirty_ratio: 10, dirty_background_ratio: 5}
enabled:
  description: Whether the module's C(nixperf.<phase>.enable) defaults to true.
  returned: success
  type: bool
plan:
  description:
    - The host's plan so far in this play. C(files) (path to content and owning phase), C(indexes), C(mode),
      C(root), C(require_import), C(scope) (the phases it speaks for), C(home_configs) (user to home-manager
      directory), C(cpu_targets) (every C(-march) and C(GOAMD64) it writes), C(live_cpu) (in apply mode, the live
      CPU guard), C(rebuilds) (phase to the packages it rebuilds locally), C(derived) (phase to derived values).
  returned: success
  type: dict
"""
