# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters comparing a wanted VirtualMachine with the VMI that runs (module_utils/kubevirt_spec.py)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.errors import AnsibleFilterError
from ansible_collections.nixperf.tuning.plugins.module_utils.kubevirt_spec import restart_paths, vmi_problems


def _vm(manifest: Any, name: str) -> Dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("kind") != "VirtualMachine":
        raise AnsibleFilterError("%s: the input must be a VirtualMachine manifest (kubevirt_vm_spec's manifest)" % name)
    return manifest


def kubevirt_restart_paths(manifest: Any, vmi: Optional[Dict[str, Any]] = None) -> List[str]:
    return restart_paths(_vm(manifest, "kubevirt_restart_paths"), vmi or None)


def kubevirt_vmi_problems(manifest: Any, vmi: Optional[Dict[str, Any]] = None) -> List[str]:
    return vmi_problems(_vm(manifest, "kubevirt_vmi_problems"), vmi or None)


class FilterModule:
    def filters(self):
        return {"kubevirt_restart_paths": kubevirt_restart_paths, "kubevirt_vmi_problems": kubevirt_vmi_problems}
