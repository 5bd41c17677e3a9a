# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the host's checks from the plans of its phases, then read the host once (module ``verify``).

The plans are built exactly as ``nixperf.tuning.phase`` builds them (same role variables, facts and switches), so
an expected value is the value the phase wrote, never a second copy.  Only one module runs on the host.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Dict, List

from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.action.desktop_keys import template_var
from ansible_collections.nixperf.tuning.plugins.action.phase import host_layout, role_settings, switched_on
from ansible_collections.nixperf.tuning.plugins.module_utils.checks import checks, host_checks
from ansible_collections.nixperf.tuning.plugins.module_utils.facts import FactError, check_users
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import LayoutError
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import (
    PRIORITY_VAR, PhaseError, build, get, known_phases)

ON_DRIFT = ("fail", "warn")

known_phases()  # import every builder in the controller process (see action/phase.py)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def host_checks(self, task_vars: Dict[str, Any], phases: List[str]) -> Dict[str, Any]:
        """The checks of every phase switched on for the host (and of the host as a whole)."""
        host = task_vars.get("inventory_hostname", "localhost")
        hardware = template_var(self._templar, task_vars, "nixperf_hardware")
        users_var = template_var(self._templar, task_vars, "nixperf_users")
        desktop = template_var(self._templar, task_vars, "nixperf_desktop")
        priority = template_var(self._templar, task_vars, PRIORITY_VAR)
        planned: List[str] = []
        out: List[Dict[str, Any]] = []
        for phase in [p for p in known_phases() if p in phases]:
            try:
                on = switched_on(self._templar, phase, task_vars)
            except TypeError as exc:
                raise PhaseError("host %s: nixperf_phase_%s must be true or false: %s" % (host, phase, exc)) from exc
            if not on:
                continue
            declared = get(phase, host)
            plan = build(phase, host, role_settings(self._templar, phase, task_vars), hardware,
                         users_var if declared.users else None, desktop, priority)
            users = check_users(host, users_var) if declared.users or plan.home_config else []
            if not plan.enable:
                continue  # the module is written, inert: nothing of it is expected on the host
            planned.append(phase)
            out += checks(plan, users)
        guest = (hardware or {}).get("virtualization", {}).get("guest") if isinstance(hardware, dict) else None
        out += host_checks(guest)
        return {"checks": out, "phases": planned}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        args = self._task.args
        host = task_vars.get("inventory_hostname", "localhost")
        known = known_phases()
        phases = args.get("phases") or known
        skip = args.get("skip") or []
        on_drift = args.get("on_drift", "fail")
        bad = [p for p in phases if p not in known] if isinstance(phases, list) else [phases]
        if bad or on_drift not in ON_DRIFT or not isinstance(skip, list):
            result.update(failed=True, msg="host %s: validate takes phases (a list among %s), skip (a list of check "
                          "ids or patterns) and on_drift (%s); got phases %r, skip %r, on_drift %r"
                          % (host, ", ".join(known), " or ".join(ON_DRIFT), phases, skip, on_drift))
            return result
        try:
            where = host_layout(self._templar, task_vars)
            built = self.host_checks(task_vars, phases)
        except (PhaseError, FactError, LayoutError, NixError, ValueError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        selected = [c for c in built["checks"] if not any(fnmatch.fnmatchcase(c["id"], pat) for pat in skip)]
        live_root = where.root if where.mode == "apply" else "/"
        verified = self._execute_module(
            module_name="nixperf.tuning.verify",
            module_args={"checks": selected, "root": live_root, "files_root": where.root, "host": host},
            task_vars=task_vars)
        if verified.get("failed"):
            result.update(failed=True, msg="host %s: reading the host failed: %s" % (host, verified.get("msg")))
            return result
        drift = verified["summary"]["drift"]
        result.update(results=verified["results"], summary=verified["summary"], lines=verified["lines"],
                      drift=drift, nixos=verified["nixos"], phases=built["phases"], mode=where.mode,
                      skipped_checks=len(built["checks"]) - len(selected),
                      msg=verified["lines"][-1])
        if where.mode == "render":
            result["note"] = ("render mode: the live values are those of the machine the connection reaches, "
                              "compared with the plan of %s" % host)
        if drift and on_drift == "warn":
            result["warnings"] = ["host %s: %d checks drifted: %s" % (host, drift, "; ".join(
                "%s (expected %s, actual %s)" % (r["title"], r["expected"], r["actual"])
                for r in verified["results"] if r["status"] == "drift"))]
        return result
