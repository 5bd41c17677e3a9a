# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan one phase on the controller: validate, derive, render; no remote call.

The rendered module is added to the host's plan (the ``nixperf_plan`` fact);
the ``write`` role writes the whole plan in one round trip.
"""
from __future__ import annotations

import os
from typing import Any, Dict

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.action.write_files import Writer
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import LayoutError, layout
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError, header_comment, nix_module, render
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build, known_phases

# Import every builder now: the strategy loads this plugin in the controller's main process, so the
# forked worker of each task and host inherits them instead of importing them again.
known_phases()

PLAN_FACT = "nixperf_plan"
# read-only modules a phase may run on the host before its plan is accepted (apply mode)
PROBES = ("nixperf.tuning.hardware_facts",)


def template_var(templar, task_vars: Dict[str, Any], name: str, default: Any = None) -> Any:
    """A task variable, templated; ``default`` when it is unset or null."""
    value = task_vars.get(name)
    return default if value is None else templar.template(value)


def host_layout(templar, task_vars: Dict[str, Any]):
    """The host's Layout from its (templated) nixperf_* variables."""

    def var(name: str) -> Any:
        return template_var(templar, task_vars, name)

    return layout(
        host=task_vars.get("inventory_hostname", "localhost"),
        mode=var("nixperf_mode"),
        root=var("nixperf_root"),
        build_dir=var("nixperf_build_dir"),
        config_file=task_vars.get("ansible_config_file"),
        entry_files=var("nixperf_nixos_entry_files"),
    )


def empty_plan() -> Dict[str, Any]:
    return {"files": {}, "indexes": [], "require_import": None, "mode": None, "root": None}


# role variable of the write role -> write_files argument, for a phase role used on its own
WRITE_SETTINGS = {"write_backup": "backup", "write_validate": "validate", "write_in_process": "in_process",
                  "write_shadow_dir": "shadow_dir"}


class ActionModule(Writer, ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        host = task_vars.get("inventory_hostname", "localhost")
        args = self._task.args
        phase = args.get("phase")
        role = args.get("role") or phase
        settings = args.get("settings") or {}
        hardware = args.get("hardware")
        if hardware is None:
            hardware = self._templar.template(task_vars.get("nixperf_hardware"))
        try:
            where = host_layout(self._templar, task_vars)
            plan = build(phase, host, settings, hardware)
            nixos = None
            if plan.config is not None:
                nixos = nix_module(plan.phase, plan.config, role=role, description=plan.description,
                                   enable=plan.enable, note=plan.note, always=plan.always)
            data = {rel: render(value) for rel, value in plan.data_files.items()}
            home = {}
            if plan.home_config is not None:
                users = [u.get("name") if isinstance(u, dict) else u
                         for u in (self._templar.template(task_vars.get("nixperf_users")) or [])]
                if not users:
                    raise PhaseError("host %s: nixperf_users is empty; phase %s writes a home-manager module for "
                                     "each user" % (host, plan.phase))
                home_text = nix_module(plan.phase, plan.home_config, role=role, description=plan.description,
                                       enable=plan.home_enable, note=plan.note)
                home = {where.home_dir(u): home_text for u in users}
        except (PhaseError, LayoutError, NixError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        probe_facts: Dict[str, Any] = {}
        probe = args.get("probe")
        if probe and boolean(probe.get("enabled", True)):
            # one read-only module on the host (the live CPU guard): part of this task, not a task of its own
            if probe.get("module") not in PROBES:
                result.update(failed=True, msg="host %s: probe module must be one of %s, got %r"
                              % (host, ", ".join(PROBES), probe.get("module")))
                return result
            probed = self._execute_module(module_name=probe["module"], module_args=dict(probe.get("args") or {}),
                                          task_vars=task_vars)
            if probed.get("failed"):
                result.update(failed=True, msg=probed.get("msg"), probe=probed)
                return result
            probe_facts = probed.get("ansible_facts") or {}
        current = (task_vars.get("ansible_facts") or {}).get(PLAN_FACT) or empty_plan()
        new = {
            "files": dict(current.get("files") or {}),
            "indexes": list(current.get("indexes") or []),
            "mode": where.mode,
            "root": where.root,
            "require_import": current.get("require_import"),
        }
        path = where.nixos_module(plan.phase)
        planned = []
        if nixos is not None:
            new["files"][path] = {"path": path, "content": nixos[0], "raw_fragments": nixos[1]}
            planned.append(path)
        for rel, (body, body_raw) in sorted(data.items()):
            data_path = os.path.join(where.nixos_dir, rel)
            planned.append(data_path)
            new["files"][data_path] = {"path": data_path, "raw_fragments": body_raw,
                                       "content": header_comment(role, "Data, not a module.") + body + "\n"}
        for directory, (home_text, home_raw) in sorted(home.items()):
            home_path = os.path.join(directory, plan.phase + ".nix")
            new["files"][home_path] = {"path": home_path, "content": home_text, "raw_fragments": home_raw}
            planned.append(home_path)
            if directory not in new["indexes"]:
                new["indexes"].append(directory)
        if where.nixos_dir not in new["indexes"]:
            new["indexes"].append(where.nixos_dir)
        if where.mode == "apply":
            new["require_import"] = {"directory": where.nixos_dir, "candidates": where.entry_files}
        if not boolean(template_var(self._templar, task_vars, "nixperf_write_deferred", False)):
            # the role runs on its own: write now, in this task, with the write role's variables where set
            settings = {arg: template_var(self._templar, task_vars, name) for name, arg in WRITE_SETTINGS.items()}
            settings = {k: v for k, v in settings.items() if v is not None}
            written = self.write(dict(settings, role="write", plan=new), task_vars)
            result.update({k: v for k, v in written.items() if k != "invocation"})
            if written.get("failed"):
                return result
        result.update(
            path=path if nixos is not None else None,
            paths=planned,
            derived=plan.derived,
            enabled=plan.enable,
            msg="planned %s (%s)" % (", ".join(planned), "enabled" if plan.enable else "disabled"),
            ansible_facts=dict(probe_facts, **{PLAN_FACT: new, "nixperf_" + plan.phase: plan.derived}),
        )
        return result
