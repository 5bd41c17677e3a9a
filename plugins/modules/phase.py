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
  - Runs the pure builder of a phase (for example C(memory)) with the role's settings and the host's hardware facts,
    renders the resulting NixOS module with the collection's Nix serializer, and adds it to the host's plan (the
    C(nixperf_plan) fact). Nothing is written and the target is not contacted.
  - The C(nixperf.tuning.write) role then writes every planned file of the host in one round trip. When
    C(nixperf_write_deferred) is not true (a phase role used on its own), this action writes the host's plan itself,
    right away, with the settings of the write role (C(write_backup), C(write_validate), C(write_in_process),
    C(write_shadow_dir)); the task is then changed when a file changed.
  - Bad input (unknown choice, out-of-range number, missing hardware fact, a sysctl key with a space) fails here,
    naming the host, the variable and the allowed values, before any file is touched.
  - Output paths follow C(nixperf_mode) (V(render) under C(nixperf_build_dir)/<host>/, V(apply) the real paths),
    C(nixperf_root) and C(nixperf_nixos_entry_files).
author:
  - nixperf.tuning contributors (@nixperf)
options:
  phase:
    description: The phase to plan.
    type: str
    required: true
    choices: [memory, resource_slices, hardware_profile, system_libs, runtimes, electron_apps, gpu_video]
  role:
    description: Role named in the generated file's header. Defaults to O(phase).
    type: str
  settings:
    description: The role's settings, without the role prefix (C(zram_algorithm) for C(memory_zram_algorithm)).
    type: dict
    default: {}
  hardware:
    description: Hardware facts of the host. Defaults to the C(nixperf_hardware) variable.
    type: dict
  probe:
    description:
      - One read-only module to run on the host after the plan is made and before it is accepted, as part of this
        task (no task of its own). Used by the C(hardware_profile) role in apply mode to refuse a C(-march) the live
        CPU cannot run. A failed probe fails the task; its C(ansible_facts) are returned with the plan's.
    type: dict
    suboptions:
      module:
        description: The module.
        type: str
        required: true
        choices: [nixperf.tuning.hardware_facts]
      args:
        description: Its arguments.
        type: dict
        default: {}
      enabled:
        description: Whether to run it.
        type: bool
        default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
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
  - 'Action-only: it runs on the controller; only an O(probe) (or a write of its own) reaches the host.'
seealso:
  - module: nixperf.tuning.write_files
"""

EXAMPLES = r"""
- name: Plan the memory phase with a custom zram size
  nixperf.tuning.phase:
    phase: memory
    settings:
      zram_algorithm: lz4
      zram_memory_percent: 50
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
  description: The values the builder derived from the hardware facts (also set as the fact C(nixperf_<phase>)).
  returned: success
  type: dict
  sample: {zram_memory_percent: 75, zram_size_mib: 12288, dirty_ratio: 10, dirty_background_ratio: 5}
enabled:
  description: Whether the module's C(nixperf.<phase>.enable) defaults to true.
  returned: success
  type: bool
ansible_facts:
  description: C(nixperf_plan) (files planned for the host so far) and C(nixperf_<phase>) (derived values).
  returned: success
  type: dict
"""
