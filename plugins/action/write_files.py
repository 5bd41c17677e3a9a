# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of write_files: render data and phase modules to text, then
hand the target one module call with plain content.

Rendering here means bad data fails before anything reaches the host, and the
target needs no serializer work at all.  When the target is the controller
itself, as the same user (a local connection without become: render mode, or
a NixOS host converging itself), the same batch runs in this process instead:
no module process to start, same checks, same result.

An apply-mode plan with ``live_cpu`` first runs ``hardware_facts`` on the host
(one module call) to check every ``-march`` and GOAMD64 value the plan writes
against the live CPU; when the CPU cannot run one, nothing is written.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.module_utils.controller import ControllerModule, octal_mode
from ansible_collections.nixperf.tuning.plugins.module_utils.files import (
    WriteError,
    render_for_controller,
    write_batch,
    write_files_spec,
)
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError


WRITE_FILES = "nixperf.tuning.write_files"
HARDWARE_FACTS = "nixperf.tuning.hardware_facts"


def plan_arguments(plan: Dict[str, Any], args: Dict[str, Any], shadow_dir: Any, check: bool) -> Dict[str, Any]:
    """write_files arguments a host's plan implies, where ``args`` does not give them.

    The plan's root is where the writer keeps its record of generated files; its scope names the phases whose
    stale files go.  In apply mode backups are on by default, and check mode lays the planned files over a scratch
    copy of the host's /etc/nixos (``shadow_dir``, default ``<root>/tmp/nixperf-shadow``) and of each user's
    home-manager configuration (``<shadow_dir>-home/<user>``) for the apply roles to evaluate.
    """
    apply = plan.get("mode") == "apply"
    implied: Dict[str, Any] = {"files": list((plan.get("files") or {}).values()),
                               "indexes": list(plan.get("indexes") or []), "backup": apply}
    if plan.get("require_import"):
        implied["require_import"] = plan["require_import"]
    if plan.get("root"):
        implied["root"] = plan["root"]
    if plan.get("scope") is not None:
        implied["scope"] = list(plan["scope"])
    if check and apply:
        root = (plan.get("root") or "/").rstrip("/")
        dest = (shadow_dir or root + "/tmp/nixperf-shadow").rstrip("/")
        implied["shadow"] = {"source": root + "/etc/nixos", "dest": dest}
        implied["home_shadow"] = [{"user": user, "source": source, "dest": "%s-home/%s" % (dest, user)}
                                  for user, source in sorted((plan.get("home_configs") or {}).items())]
    return {k: v for k, v in implied.items() if k not in args}


# Where each CPU target comes from, for the refusal message.
CPU_VARIABLES = {
    "march": "hardware_profile_march, or nixperf_hardware.cpu.family (the -march of system_libs and runtimes)",
    "goamd64": "runtimes_go_amd64, or nixperf_hardware.cpu.x86_64_level",
}


def live_cpu_arguments(plan: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """hardware_facts arguments for the live CPU guard of an apply-mode plan; None when there is none."""
    live = plan.get("live_cpu")
    if plan.get("mode") != "apply" or not isinstance(live, dict) or not boolean(live.get("enabled", True)):
        return None
    targets = plan.get("cpu_targets") or {}
    args: Dict[str, Any] = {"march": list(targets.get("march") or []), "goamd64": list(targets.get("goamd64") or []),
                            "root": live.get("root") or "/"}
    if live.get("expected") is not None:
        args["expected"] = live["expected"]
    return args


def live_cpu_refusal(host: str, probe: Dict[str, Any], root: str) -> str:
    """The message of a failed live CPU guard: host, each value and the flags it lacks, the variables to change."""
    problems = probe.get("cpu_problems") or []
    if not problems:
        return "host %s: the live CPU check under %s failed: %s" % (host, root, probe.get("msg", "no reason given"))
    cpu = (probe.get("ansible_facts") or {}).get("nixperf_live_hardware", {}).get("cpu", {})
    parts = ["%s=%s: it lacks %s" % ("-march" if p["kind"] == "march" else "GOAMD64", p["value"],
                                     ", ".join(p["missing"])) for p in problems]
    variables = [CPU_VARIABLES[k] for k in ("march", "goamd64") if any(p["kind"] == k for p in problems)]
    return ("host %s: refusing to write: the live CPU (%s, x86-64 level %s, read under %s) cannot run code built "
            "with %s. Code built for it would die with illegal instructions. Change %s to values this CPU runs. "
            "Nothing was written." % (host, cpu.get("model") or "unknown model", cpu.get("x86_64_level", "?"),
                                      root, "; ".join(parts), "; ".join(variables)))


class Writer:
    """Render, then write in one module call or in-process; shared with the phase action."""

    MODULE = WRITE_FILES
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

    def write(self, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """The task result of writing ``args`` (write_files arguments, or ``plan`` plus settings)."""
        result: Dict[str, Any] = {}
        host = task_vars.get("inventory_hostname", "target")
        args = dict(args)
        plan = args.pop("plan", None)
        shadow_dir = args.pop("shadow_dir", None)
        if plan is not None:
            args.update(plan_arguments(plan, args, shadow_dir, bool(self._play_context.check_mode)))
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
        guard = live_cpu_arguments(plan) if plan is not None else None
        if guard is not None:
            # the live CPU guard: one read-only module on the host, before anything is written
            probe = self._execute_module(module_name=HARDWARE_FACTS, module_args=guard, task_vars=task_vars)
            if probe.get("failed"):
                result.update(failed=True, changed=False, live_cpu=probe,
                              msg=live_cpu_refusal(host, probe, guard["root"]))
                return result
            result["ansible_facts"] = probe.get("ansible_facts") or {}
            result["live_cpu"] = {k: probe[k] for k in ("march_ok", "goamd64_ok", "mismatches") if k in probe}
        module_args = self.rebuild(args, rendered)
        if self.PASS_HOST:
            module_args.setdefault("host", host)
        in_process = module_args.pop("in_process", True) if self.MODULE == WRITE_FILES else False
        if in_process and self.local_target(module_args):
            result.update(self.run_here(module_args))
        else:
            result.update(self._execute_module(module_name=self.MODULE, module_args=module_args,
                                               task_vars=task_vars))
        return result

    def local_target(self, module_args: Dict[str, Any]) -> bool:
        """The files land on this machine as this user, with modes the adapter handles."""
        return (self._connection.transport in ("local", "ansible.builtin.local")
                and not self._play_context.become
                and all(octal_mode(f.get("mode", "0644")) is not None for f in module_args.get("files") or []))

    def run_here(self, module_args: Dict[str, Any]) -> Dict[str, Any]:
        validated = ArgumentSpecValidator(write_files_spec()).validate(module_args)
        if validated.error_messages:
            return {"failed": True, "changed": False, "msg": "; ".join(validated.error_messages)}
        module = ControllerModule(check_mode=bool(self._play_context.check_mode))
        try:
            result = write_batch(module, validated.validated_parameters)
        except WriteError as exc:
            return {"failed": True, "changed": False, "msg": str(exc)}
        finally:
            module.cleanup()
        if module.warnings:
            result["warnings"] = module.warnings
        result["invocation"] = {"module_args": validated.validated_parameters, "in_process": True}
        return result


class ActionModule(Writer, ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result.update(self.write(dict(self._task.args), task_vars))
        return result
