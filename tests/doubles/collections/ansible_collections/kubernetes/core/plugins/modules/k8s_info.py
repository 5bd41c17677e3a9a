# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of kubernetes.core.k8s_info: the same options, a JSON file instead of a cluster."""
from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_info
short_description: Test double of kubernetes.core.k8s_info backed by a JSON file
description:
  - Takes the options of kubernetes.core.k8s_info 6.2.0 and lists objects of the fake cluster stored in the JSON file
    named by C(NIXPERF_FAKE_CLUSTER); every call is recorded there.
  - Used by the tests of nixperf.tuning only, never shipped.
options:
  kind:
    description: The kind of the objects.
    type: str
    required: true
  name:
    description: Only the object of this name.
    type: str
  namespace:
    description: Only objects of this namespace (all namespaces when omitted).
    type: str
  wait_condition:
    description: With I(wait), fail when a found object does not have this condition.
    type: dict
notes:
  - The other options of kubernetes.core.k8s_info are accepted with the same types, defaults and choices.
  - Nothing is waited for in time; a condition is either met now or the call fails as a real timeout does.
"""

EXAMPLES = r"""
- name: Wait for the VirtualMachineInstance to be ready
  kubernetes.core.k8s_info:
    api_version: kubevirt.io/v1
    kind: VirtualMachineInstance
    name: desk
    namespace: vms
    wait: true
    wait_condition:
      type: Ready
      status: "True"
"""

RETURN = r"""
api_found:
  description: Always true.
  returned: always
  type: bool
resources:
  description: The matching objects.
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.kubernetes.core.plugins.module_utils import fakecluster  # noqa: E402


def main() -> None:
    fakecluster.run_module(fakecluster.K8S_INFO)


if __name__ == "__main__":
    main()
