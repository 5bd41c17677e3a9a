# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of write_files: render data and phase modules to text, then
hand the target one module call with plain content.

Rendering here means bad data fails before anything reaches the host, and the
target needs no serializer work at all.
"""
from __future__ import annotations

from typing import Any, Dict, List

from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.module_utils.files import WriteError, render_for_controller
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    MODULE = "nixperf.tuning.write_files"
    DEFAULT_ROLE = "write_files"
    PASS_HOST = True  # the module names the host in its errors

    def entries(self, args: Dict[str, Any]) -> List[Dict[str, Any]]:
        files = args.get("files")
        if not isinstance(files, list):
            raise WriteError("files must be a list of mappings")
        return files

    def rebuild(self, args: Dict[str, Any], rendered: List[Dict[str, Any]]) -> Dict[str, Any]:
        new = dict(args)
        new["files"] = rendered
        return new

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        host = task_vars.get("inventory_hostname", "target")
        args = dict(self._task.args)
        role = args.get("role") or self.DEFAULT_ROLE
        try:
            rendered = []
            for entry in self.entries(args):
                if not isinstance(entry, dict):
                    raise WriteError("each file must be a mapping, got %r" % (entry,))
                rendered.append(render_for_controller(entry, role))
        except (WriteError, NixError) as exc:
            result.update(failed=True, changed=False,
                          msg="Failed to render the generated files of host %s: %s" % (host, exc))
            return result
        module_args = self.rebuild(args, rendered)
        if self.PASS_HOST:
            module_args.setdefault("host", host)
        result.update(self._execute_module(module_name=self.MODULE, module_args=module_args,
                                           task_vars=task_vars))
        return result
