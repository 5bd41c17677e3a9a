# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of desktop_keys: the owned keys of every phase of the host's plan, for each user, in one
module call (in this process when the target is this machine as this user, as the writer does)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.module_utils.controller import ControllerModule
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import backend_of, chezmoi_source_of
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop_sync import desktop_keys_spec, sync
from ansible_collections.nixperf.tuning.plugins.module_utils.facts import FactError, check_desktop, check_users

DESKTOP_KEYS = "nixperf.tuning.desktop_keys"
# the variable each phase task registers its result as; its ``plan`` is the host's plan so far
PLANNED_VAR = "nixperf_planned"
RELOAD_VAR = "nixperf_desktop_reload"


def template_var(templar, task_vars: Dict[str, Any], name: str, default: Any = None) -> Any:
    """A task variable, templated; ``default`` when it is unset or null."""
    value = task_vars.get(name)
    return default if value is None else templar.template(value)


def plan_users(plan: Dict[str, Any], users: List[str], chezmoi_source: str) -> List[Dict[str, Any]]:
    """Every user of the host with the keys all phases of ``plan`` own for them and the planned chezmoi scripts.

    Users without keys are listed too: the step then gives back what it recorded for them earlier.
    """
    # root too: a system service's own files (RustDesk's) live in /root, and what was recorded there is given back
    keys: Dict[str, List[Dict[str, Any]]] = {u: [] for u in list(users) + ["root"]}
    for _phase, per_user in sorted((plan.get("keys") or {}).items()):
        for user, owned in sorted(per_user.items()):
            keys.setdefault(user, []).extend(owned)
    root = plan.get("root") or "/"
    out = []
    for user in sorted(keys):
        source = os.path.join(root, "home", user, chezmoi_source) + os.sep
        scripts = {path[len(source):]: entry["content"] for path, entry in sorted((plan.get("files") or {}).items())
                   if path.startswith(source)}
        entry = {"name": user, "keys": keys[user], "chezmoi_scripts": scripts}
        if user == "root":
            entry["home"] = os.path.join(root, "root")
        out.append(entry)
    return out


def desktop_arguments(templar, task_vars: Dict[str, Any], plan: Dict[str, Any],
                      given: Optional[Dict[str, Any]] = None, scope: Optional[List[str]] = None) -> Dict[str, Any]:
    """desktop_keys arguments from the host's plan and variables; ``given`` (task arguments) win.

    ``scope``: the phases the run speaks for (default ``nixperf_phases`` with the plan's, as the writer's): keys
    recorded for other phases are left alone."""
    given = dict(given or {})
    host = task_vars.get("inventory_hostname", "target")
    users = check_users(host, template_var(templar, task_vars, "nixperf_users"))
    desktop = check_desktop(host, template_var(templar, task_vars, "nixperf_desktop"))
    try:
        source = given.get("chezmoi_source") or chezmoi_source_of(host, desktop)
        backend = given.get("backend") or backend_of(host, desktop)
    except ValueError as exc:
        raise FactError(str(exc)) from exc
    reload = given.get("reload")
    if reload is None:
        reload = template_var(templar, task_vars, RELOAD_VAR, True)
    if scope is None:
        scope = given.get("scope")
    if scope is None:
        scope = sorted(set(template_var(templar, task_vars, "nixperf_phases") or []) | set(plan.get("scope") or []))
    args = {"root": plan.get("root") or "/", "mode": plan.get("mode") or "render", "backend": backend,
            "users": given.get("users") or plan_users(plan, users, source), "chezmoi_source": source,
            "reload": reload, "host": host, "scope": scope}
    if given.get("store"):
        args["store"] = given["store"]
    return args


class DesktopKeys:
    """Run desktop_keys in one module call, or in this process for a local target as this user."""

    def desktop_keys(self, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        local = (self._connection.transport in ("local", "ansible.builtin.local") and not self._play_context.become)
        if not local:
            return self._execute_module(module_name=DESKTOP_KEYS, module_args=args, task_vars=task_vars)
        validated = ArgumentSpecValidator(desktop_keys_spec()).validate(args)
        if validated.error_messages:
            return {"failed": True, "changed": False, "msg": "; ".join(validated.error_messages)}
        module = ControllerModule(check_mode=bool(self._play_context.check_mode))
        module._diff = bool(self._play_context.diff)  # pylint: disable=protected-access
        try:
            result = sync(module, validated.validated_parameters)
        finally:
            module.cleanup()
        if module.warnings:
            result["warnings"] = module.warnings
        return result

    def render_keys(self, plan: Dict[str, Any], task_vars: Dict[str, Any], result: Dict[str, Any],
                    scope: List[str]) -> None:
        """Render mode: the owned keys of ``plan`` in place under the build directory, merged into ``result``
        (the writer's task result): for hosts with ``nixperf_desktop`` or keys in the plan."""
        if result.get("failed") or plan.get("mode") != "render":
            return
        if not any((plan.get("keys") or {}).values()) and task_vars.get("nixperf_desktop") is None:
            return
        try:
            desktop = self.desktop_keys(desktop_arguments(self._templar, task_vars, plan, scope=scope), task_vars)
        except FactError as exc:
            desktop = {"failed": True, "msg": str(exc)}
        result["desktop"] = {k: v for k, v in desktop.items() if k != "diff"}
        if desktop.get("diff"):
            result["diff"] = list(result.get("diff") or []) + list(desktop["diff"])
        result["changed"] = bool(result.get("changed") or desktop.get("changed"))
        if desktop.get("failed"):
            result.update(failed=True, msg=desktop.get("msg"))


class ActionModule(DesktopKeys, ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        planned = task_vars.get(PLANNED_VAR)
        plan = planned.get("plan") if isinstance(planned, dict) else None
        given = dict(self._task.args)
        if plan is None:
            plan = {"root": given.get("root") or "/", "mode": given.get("mode") or "apply"}
        try:
            args = desktop_arguments(self._templar, task_vars, plan, given)
        except FactError as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result
        result.update(self.desktop_keys(args, task_vars))
        return result
