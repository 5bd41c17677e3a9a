# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the host's plan (the ``nixperf_planned`` result of its phase tasks) in one round trip.

The plan speaks for ``scope``: by default every phase of ``nixperf_phases`` (site.yml: all phases, on or off), else
the phases it holds.  A host whose phases are all switched off still gets a write, with an empty plan, so that
the files of those phases are removed.

In render mode the owned desktop keys (``desktop_keys``) are put in place in the same task, for every host with
``nixperf_desktop`` or keys in its plan; in apply mode the ``desktop_keys`` role does it after the NixOS switch.
"""
from __future__ import annotations

from typing import List

from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.action.phase import (
    ActionModule as PhaseAction,
    current_plan,
    host_layout,
    run_id,
    template_var,
)
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import LayoutError
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import known_phases


class ActionModule(PhaseAction):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = ActionBase.run(self, tmp, task_vars)
        result["changed"] = False
        host = task_vars.get("inventory_hostname", "localhost")
        try:
            where = host_layout(self._templar, task_vars)
        except LayoutError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        plan = current_plan(task_vars, where, run_id(self._task))
        scope = self._task.args.get("scope")
        if scope is None:
            scope = template_var(self._templar, task_vars, "nixperf_phases") or plan["scope"]
        known = known_phases()
        if not isinstance(scope, list) or any(p not in known for p in scope):
            result.update(failed=True, msg="host %s: scope must be a list of phases (known: %s), got %r"
                          % (host, ", ".join(known), scope))
            return result
        if where.nixos_dir not in plan["indexes"]:
            plan["indexes"].append(where.nixos_dir)
        scope_list: List[str] = sorted(set(scope) | set(plan["scope"]))
        result.update(self.finish(plan, scope_list, task_vars))
        result["scope"] = scope_list
        self.render_keys(plan, task_vars, result, scope_list)
        return result
