# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: summary
type: notification
short_description: One-screen summary of the generated files per host
version_added: 0.1.0
description:
  - At the end of a playbook, prints one line per host with the number of generated files, how many changed (or
    would change, in check mode), how many the writer removed (or would remove) because the plan no longer
    contains them, and those paths, taken from the results of M(nixperf.tuning.write_files) and
    M(nixperf.tuning.nix_file); and, for desktop hosts, how many owned keys were set and given back
    (M(nixperf.tuning.desktop_keys)); for KubeVirt VMs, the VirtualMachine built (M(nixperf.tuning.kubevirt_vm_spec))
    with its vCPUs and placement, guest memory, QoS class and IOThreads policy.
  - Adds nothing when no task wrote generated files.
requirements:
  - enable in C(callbacks_enabled) (the collection's C(ansible.cfg) does)
"""

import os  # noqa: E402
from typing import Dict, List  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

_MODULES = ("nixperf.tuning.write_files", "nixperf.tuning.nix_file", "nixperf.tuning.phase", "nixperf.tuning.write_plan",
            "nixperf.tuning.desktop_keys", "nixperf.tuning.kubevirt_vm_spec", "write_files", "nix_file", "write_plan",
            "phase", "desktop_keys", "kubevirt_vm_spec")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "nixperf.tuning.summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        # host -> path -> {"changed": bool, "removed": bool}
        self.files: Dict[str, Dict[str, Dict[str, bool]]] = {}
        # host -> [keys set, keys given back, keys left to chezmoi / home-manager] by the desktop step
        self.keys: Dict[str, List[int]] = {}
        # host -> one line about its VirtualMachine
        self.vms: Dict[str, str] = {}
        self.check = False

    def v2_playbook_on_play_start(self, play) -> None:
        self.check = bool(getattr(play, "check_mode", False)) or self.check

    def v2_runner_on_ok(self, result) -> None:
        if result._task.action not in _MODULES:
            return
        host = result._host.get_name()
        desktop = result._result.get("desktop") if "users" not in result._result else result._result
        if isinstance(desktop, dict) and desktop.get("users"):
            counts = self.keys.setdefault(host, [0, 0, 0])
            for user in desktop["users"]:
                counts[0] += len(user.get("set") or [])
                counts[1] += len(user.get("restored") or [])
                counts[2] += len(user.get("pending") or [])
        vm = result._result.get("summary") if result._task.action.endswith("kubevirt_vm_spec") else None
        if isinstance(vm, dict):
            self.vms[host] = "VirtualMachine: %s vCPUs %s, %s guest memory, %s QoS, IOThreads %s" % (
                vm.get("vcpus"), vm.get("placement"), vm.get("guest_memory"), vm.get("qos"), vm.get("io_threads_policy"))
        if "files" not in result._result and host not in self.files:
            return
        entries = self.files.setdefault(host, {})
        for f in result._result.get("files") or []:
            if f.get("manifest"):
                continue  # the writer's record of its files: bookkeeping, not a generated file
            seen = entries.get(f["path"], {"changed": False})
            entries[f["path"]] = {"changed": seen["changed"] or bool(f.get("changed")),
                                  "removed": bool(f.get("removed"))}

    def lines(self) -> List[str]:
        """One line per host (present files, changed, removed, the paths), then the totals."""
        out: List[str] = []
        width = max(len(h) for h in list(self.files) + list(self.vms))
        verb, gone = ("would change", "to be removed") if self.check else ("changed", "removed")
        totals = [0, 0, 0]
        for host in sorted(self.files):
            entries = self.files[host]
            removed = sorted(p for p, e in entries.items() if e["removed"])
            present = [p for p in entries if p not in removed]
            changed = sorted(p for p in present if entries[p]["changed"])
            root = os.path.commonpath(list(entries)) if entries else ""
            shown = [os.path.relpath(p, root) for p in changed] + \
                ["%s (%s)" % (os.path.relpath(p, root), gone) for p in removed]
            keys = ""
            if host in self.keys:
                keys = "; owned desktop keys: %d set, %d given back, %d left to chezmoi / home-manager" % tuple(
                    self.keys[host])
            vm = "; %s" % self.vms[host] if host in self.vms else ""
            out.append("%s  %2d files, %2d %s, %d %s  under %s: %s%s%s"
                       % (host.ljust(width), len(present), len(changed), verb, len(removed), gone, root,
                          ", ".join(shown) or "-", keys, vm))
            totals = [totals[0] + len(present), totals[1] + len(changed), totals[2] + len(removed)]
        for host in sorted(set(self.vms) - set(self.files)):
            out.append("%s  %s" % (host.ljust(width), self.vms[host]))
        out.append("%d hosts, %d generated files, %d %s, %d %s"
                   % (len(self.files), totals[0], totals[1], verb, totals[2], gone))
        return out

    def v2_playbook_on_stats(self, stats) -> None:
        if not self.files and not self.vms:
            return
        self._display.banner("NIXPERF SUMMARY")
        for ln in self.lines():
            self._display.display(ln)
