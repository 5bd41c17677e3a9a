#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: kubevirt_vm_spec
short_description: Build a KubeVirt VirtualMachine from a VM's inventory facts, check it offline, write it
version_added: 0.1.0
description:
  - Builds the C(kubevirt.io/v1) VirtualMachine of a KubeVirt desktop VM from the same facts that tune its guest
    (C(nixperf_hardware) - C(cpu.sockets), C(cpu.cores), C(cpu.threads) are the vCPU topology,
    C(memory.total_mib) the guest memory, C(storage) the disks) and its C(kubevirt_vm_*) variables (CPU placement,
    QoS class, IOThreads, volumes, network, run strategy, labels, node selector, video).
  - Checks first what KubeVirt's admission webhook would refuse (requests equal to limits for Guaranteed QoS,
    whole and matching CPU counts for dedicated CPUs, the emulator thread isolated only with dedicated CPUs,
    C(supplementalPool) with a thread count, dedicated IOThreads on virtio disks only) and what would make a VM
    unlike its facts (dedicated CPUs without Guaranteed QoS, guest memory outside request and limit). Errors name
    the host, the variable and the allowed values.
  - Every manifest is then validated against the VirtualMachine schema the collection carries
    (C(schemas/kubevirt/)), with unknown keys refused and the enums the schema lacks checked, so a key in the
    wrong place fails with its path instead of being dropped by the API server.
  - Never contacts a cluster; the C(nixperf.tuning.kubevirt_vm) role applies the returned manifest with
    C(kubernetes.core.k8s).
author:
  - nixperf.tuning contributors (@nixperf)
options:
  settings:
    description:
      - The VM's settings without the C(kubevirt_vm_) prefix (C(cpu_placement) for C(kubevirt_vm_cpu_placement)).
      - Default is to read the C(kubevirt_vm_*) variables; the role's argument spec documents each.
    type: dict
  hardware:
    description: The VM's hardware facts. Defaults to the C(nixperf_hardware) variable.
    type: dict
  namespace:
    description:
      - Namespace of the VM when C(kubevirt_vm_namespace) is not set.
      - Defaults to C(nixperf_kubevirt_namespace) of the cluster host that C(nixperf_kubevirt_cluster) names.
    type: str
  write:
    description: Write the manifest as YAML. Defaults to true when C(nixperf_mode) is V(render).
    type: bool
  dest:
    description:
      - Where to write it. Defaults to C(<nixperf_build_dir>/<host>/kubevirt/<vm name>.yaml) in render mode
        (C(<nixperf_root>/kubevirt/...) when C(nixperf_root) is set).
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - nixperf.tuning.controller_action
attributes:
  check_mode:
    support: full
    details: The manifest is built and checked the same way; a write is predicted, nothing is written.
  diff_mode:
    support: full
    details: The before and after of the written manifest.
  platform:
    support: full
    platforms: all
notes:
  - Action-only, it runs on the controller.
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Build and check the VM's manifest (render mode writes it under build/<vm>/kubevirt/)
  nixperf.tuning.kubevirt_vm_spec:
  register: kubevirt_vm_spec

- name: A shared-CPU, Burstable VM from explicit settings, not written
  nixperf.tuning.kubevirt_vm_spec:
    write: false
    namespace: desktops
    settings:
      cpu_placement: shared
      qos: Burstable
      volumes:
        vda:
          golden_image:
            pvc:
              namespace: images
              name: nixos-plasma
  register: kubevirt_vm_spec
"""

RETURN = r"""
manifest:
  description: The VirtualMachine, valid against the strict schema.
  returned: success
  type: dict
summary:
  description: vCPUs, topology, placement, emulator thread, guest memory, QoS class, IOThreads policy, disks.
  returned: success
  type: dict
  sample:
    vcpus: 8
    topology: 1 socket(s) x 8 core(s) x 1 thread(s)
    placement: dedicated
    isolate_emulator_thread: true
    guest_memory: 16Gi
    qos: Guaranteed
    io_threads_policy: auto
    disks: [vda (virtio, dedicated IOThread)]
    run_strategy: Always
cluster:
  description: The cluster host the VM belongs to (C(nixperf_kubevirt_cluster)), null when unset.
  returned: success
  type: str
  sample: hetzner
path:
  description: Where the manifest was written.
  returned: when written
  type: str
  sample: /srv/nixperf/build/plasma-vm-01/kubevirt/plasma-vm-01.yaml
"""
