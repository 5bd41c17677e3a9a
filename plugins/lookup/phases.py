# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: phases
short_description: The tuning phases this collection declares, in the plans' order
version_added: 0.2.0
description:
  - Returns the names of the phases declared in C(plugins/module_utils/phases/) (one module per phase), ordered as
    the plans apply them. C(site.yml) loops over them; a new phase is picked up without editing any playbook.
author:
  - nixperf.tuning contributors (@nixperf)
options:
  _terms:
    description: Not used.
    required: false
"""

EXAMPLES = r"""
- name: Every phase, in order
  ansible.builtin.debug:
    msg: "{{ lookup('nixperf.tuning.phases', wantlist=True) }}"
"""

RETURN = r"""
_raw:
  description: Phase names.
  type: list
  elements: str
  sample: [memory, resource_slices, hardware_profile, system_libs, runtimes, electron_apps, gpu_video]
"""

from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import known_phases  # noqa: E402


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return list(known_phases())
