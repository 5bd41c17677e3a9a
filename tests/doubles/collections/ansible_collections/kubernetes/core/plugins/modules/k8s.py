# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of kubernetes.core.k8s: the same options, a JSON file instead of a cluster."""
from __future__ import annotations

DOCUMENTATION = r"""
module: k8s
short_description: Test double of kubernetes.core.k8s backed by a JSON file
description:
  - Takes the options of kubernetes.core.k8s 6.2.0 and applies, creates, patches or deletes objects in the fake
    cluster stored in the JSON file named by C(NIXPERF_FAKE_CLUSTER); every call is recorded there.
  - A minimal KubeVirt controller starts and stops VirtualMachineInstances for VirtualMachines.
  - Used by the tests of nixperf.tuning only, never shipped.
options:
  resource_definition:
    description: One object or several (a mapping, YAML text or a list of them).
    type: raw
    aliases: [definition, inline]
  state:
    description: present, absent or patched.
    type: str
    default: present
    choices: [present, absent, patched]
  apply:
    description: Apply the definition (client-side, or server-side with I(server_side_apply)).
    type: bool
    default: false
  server_side_apply:
    description: Server-side apply with this field manager.
    type: dict
notes:
  - The other options of kubernetes.core.k8s are accepted with the same types, defaults and choices.
  - I(template), I(validate) and I(append_hash) are refused with a message.
"""

EXAMPLES = r"""
- name: Apply a VirtualMachine
  kubernetes.core.k8s:
    state: present
    apply: true
    server_side_apply:
      field_manager: nixperf
    definition: "{{ vm_manifest }}"
"""

RETURN = r"""
result:
  description: The object after the call (the deleted object for state=absent).
  returned: success
  type: dict
method:
  description: apply, create, update, replace or delete.
  returned: success
  type: str
diff:
  description: The object before and after, with --diff.
  returned: when diff mode is on and state is not absent
  type: dict
"""

from ansible_collections.kubernetes.core.plugins.module_utils import fakecluster  # noqa: E402


def main() -> None:
    fakecluster.run_module(fakecluster.K8S)


if __name__ == "__main__":
    main()
