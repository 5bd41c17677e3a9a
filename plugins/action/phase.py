# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan one phase on the controller: validate, derive, render; no remote call.

The action reads the phase's role variables itself (``<phase>_<setting>``, as declared in
``module_utils/phases/<phase>.py``) and the host's facts, and returns the host's plan so far in its result
(``plan``).  The phase roles register that result as ``nixperf_planned``: a registered variable lives for one
run and is never written to a fact cache.  ``nixperf.tuning.write_plan`` (the ``write`` role) then writes the
whole plan in one round trip; a phase role used on its own writes its part right away.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.nixperf.tuning.plugins.action.desktop_keys import PLANNED_VAR, DesktopKeys, template_var
from ansible_collections.nixperf.tuning.plugins.action.write_files import Writer
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import alternatives
from ansible_collections.nixperf.tuning.plugins.module_utils.facts import FactError, check_desktop, check_users
from ansible_collections.nixperf.tuning.plugins.module_utils.layout import Layout, LayoutError, layout
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import NixError, header_comment, nix_module, render
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import (
    PRIORITY_VAR, PhaseError, PhasePlan, build, check_priority, get, known_phases, phases as declared_phases)

# Import every builder now: the strategy loads this plugin in the controller's main process, so the
# forked worker of each task and host inherits them instead of importing them again.
known_phases()

# role variable of the write role -> write_files argument, for a phase role used on its own
WRITE_SETTINGS = {"write_backup": "backup", "write_validate": "validate", "write_in_process": "in_process",
                  "write_shadow_dir": "shadow_dir"}


def host_layout(templar, task_vars: Dict[str, Any]) -> Layout:
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


def run_id(task) -> Optional[str]:
    """The play a task belongs to: a plan from another play (or another run) is never continued."""
    node = task
    while node is not None:
        play = getattr(node, "_play", None)
        if play is not None:
            return getattr(play, "_uuid", None)
        node = getattr(node, "_parent", None)
    return None


def new_plan(where: Layout, run: Optional[str]) -> Dict[str, Any]:
    return {"run": run, "files": {}, "indexes": [], "mode": where.mode, "root": where.root,
            "require_import": None, "scope": [], "home_configs": {}, "cpu_targets": {"march": [], "goamd64": []},
            "live_cpu": None, "rebuilds": {}, "derived": {}, "keys": {},
            "reboot_modules": reboot_modules(where)}


def reboot_modules(where: Layout) -> Dict[str, str]:
    """The NixOS module of every phase whose changes need a reboot (``Phase.reboot``): path -> phase. A change of
    one of these files, its removal included, makes the apply engine report reboot_required."""
    return {where.nixos_module(p.name): p.name for p in declared_phases() if p.reboot}


def current_plan(task_vars: Dict[str, Any], where: Layout, run: Optional[str]) -> Dict[str, Any]:
    """The host's plan so far in this play (a deep-enough copy), or a new one."""
    planned = task_vars.get(PLANNED_VAR)
    plan = planned.get("plan") if isinstance(planned, dict) else None
    if not isinstance(plan, dict) or plan.get("run") != run or plan.get("root") != where.root:
        return new_plan(where, run)
    out = dict(new_plan(where, run), **plan)
    for key in ("files", "home_configs", "rebuilds", "derived", "keys"):
        out[key] = dict(out[key] or {})
    out["indexes"] = list(out["indexes"] or [])
    out["scope"] = list(out["scope"] or [])
    out["cpu_targets"] = {k: list(v) for k, v in (out["cpu_targets"] or {}).items()}
    return out


def plan_files(built: PhasePlan, where: Layout, role: str, nixos: Optional[Tuple[str, List[str]]],
               data: Dict[str, Tuple[str, List[str]]],
               home: Dict[str, Tuple[str, Tuple[str, List[str]]]]) -> Dict[str, Dict[str, Any]]:
    """Every file a phase's plan puts on the host: path -> write_files entry, owned by the phase."""
    out: Dict[str, Dict[str, Any]] = {}

    def add(path: str, content: str, raw: List[str], mode: Optional[str] = None) -> None:
        entry: Dict[str, Any] = {"path": path, "content": content, "raw_fragments": raw, "phase": built.phase}
        if mode:
            entry["mode"] = mode
        out[path] = entry

    if nixos is not None:
        add(where.nixos_module(built.phase), nixos[0], nixos[1])
    for rel, (body, body_raw) in sorted(data.items()):
        add(os.path.join(where.nixos_dir, rel), header_comment(role, "Data, not a module.") + body + "\n", body_raw)
    for _user, (directory, (text, raw)) in sorted(home.items()):
        add(os.path.join(directory, built.phase + ".nix"), text, raw)
    for rel, spec in sorted(built.files.items()):
        spec = spec if isinstance(spec, dict) else {"content": spec}
        norm = os.path.normpath(rel)
        if os.path.isabs(rel) or norm.startswith("..") or norm == ".":
            raise PhaseError("phase %s: file %r must be a path below the host's root" % (built.phase, rel))
        if not isinstance(spec.get("content"), str):
            raise PhaseError("phase %s: file %s needs text content" % (built.phase, rel))
        add(os.path.join(where.root, norm), spec["content"], [], spec.get("mode"))
    return out


def plan_keys(planned: Dict[str, Any], built: PhasePlan, users: List[str], host: str) -> Dict[str, Any]:
    """The plan's owned keys with ``built``'s in place of its earlier ones: phase -> user -> key mappings.

    A file has one owner among the phases (chezmoi takes one source per target), and keys go to the host's users
    (and root, whose home is /root: a system service's own configuration, e.g. RustDesk's).
    """
    out = {phase: per_user for phase, per_user in planned.items() if phase != built.phase}
    if not built.keys:
        return out
    strangers = sorted(set(built.keys) - set(users) - {"root"})
    if strangers:
        raise PhaseError("host %s: phase %s owns keys of %s, who are not in nixperf_users" % (
            host, built.phase, ", ".join(strangers)))
    for phase, per_user in sorted(out.items()):
        for user, owned in per_user.items():
            theirs = set(k["file"] for k in owned)
            ours = set(k.file for k in built.keys.get(user, []))
            if theirs & ours:
                raise PhaseError("host %s: phases %s and %s both own keys of %s for %s; a file has one owning phase"
                                 % (host, phase, built.phase, ", ".join(sorted(theirs & ours)), user))
    out[built.phase] = {user: [dict(k.as_dict(), phase=built.phase) for k in owned]
                        for user, owned in sorted(built.keys.items())}
    return out


def role_settings(templar, phase: str, task_vars: Dict[str, Any]) -> Dict[str, Any]:
    """The phase's settings from its role variables (``<phase>_<name>``), templated; unset ones omitted."""
    declared = get(phase)
    out = {}
    for s in declared.settings:
        name = declared.prefix + s.name
        if name in task_vars:
            out[s.name] = template_var(templar, task_vars, name)
    return out


def switched_on(templar, phase: str, task_vars: Dict[str, Any]) -> bool:
    """Whether ``nixperf_phase_<phase>`` (default true) switches the phase on for the host; TypeError when it is
    not a boolean."""
    return boolean(template_var(templar, task_vars, "nixperf_phase_" + phase, True))


def _add_unique(items: List[str], more: List[str]) -> List[str]:
    return sorted(set(items) | set(more))


class ActionModule(DesktopKeys, Writer, ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False

    def role_settings(self, phase: str, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        return role_settings(self._templar, phase, task_vars)

    def finish(self, plan: Dict[str, Any], scope: List[str], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """Write ``plan`` now, as the phase it speaks for, with the write role's variables where set."""
        plan = dict(plan, scope=scope)
        settings = {arg: template_var(self._templar, task_vars, name) for name, arg in WRITE_SETTINGS.items()}
        settings = {k: v for k, v in settings.items() if v is not None}
        written = self.write(dict(settings, role="write", plan=plan), task_vars)
        written["reboot_modules"] = dict(plan.get("reboot_modules") or {})
        return written

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        args = self._task.args
        if args.get("phases") is None:
            result.update(self.plan_phase(args.get("phase"), args, task_vars))
            return result
        # every phase of the list switched on for the host, in one task (playbooks/nixos.yml): one task per host
        # instead of one role include per phase and host
        host = task_vars.get("inventory_hostname", "localhost")
        phases = args["phases"]
        known = known_phases()
        if not isinstance(phases, list) or any(p not in known for p in phases) or args.get("phase"):
            result.update(failed=True, msg="host %s: phases must be a list of phases (known: %s), without phase; got %r"
                          % (host, ", ".join(known), phases))
            return result
        planned: List[str] = []
        plan: Dict[str, Any] = {}
        vars_now = task_vars
        for phase in [p for p in known if p in phases]:
            switch = "nixperf_phase_" + phase
            try:
                if not switched_on(self._templar, phase, task_vars):
                    continue
            except TypeError as exc:
                result.update(failed=True, msg="host %s: %s must be true or false: %s" % (host, switch, exc))
                return result
            one = self.plan_phase(phase, {"phase": phase}, vars_now)
            if one.get("failed"):
                result.update(one)
                return result
            planned.append(phase)
            plan = one["plan"]
            vars_now = dict(vars_now, **{PLANNED_VAR: {"plan": plan}})
        if not planned:
            return result  # nothing planned: the write task writes the host an empty plan
        result.update(plan=plan, phases=planned, derived=plan["derived"],
                      msg="planned %s" % ", ".join(planned))
        return result

    def plan_phase(self, phase: str, args: Dict[str, Any], task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """The task result of planning ``phase`` for the host (its files added to the host's plan so far)."""
        result: Dict[str, Any] = {"changed": False}
        host = task_vars.get("inventory_hostname", "localhost")
        role = args.get("role") or phase
        try:
            declared = get(phase, host)
            settings = args.get("settings")
            if settings is None:
                settings = self.role_settings(phase, task_vars)
            hardware = args.get("hardware")
            if hardware is None:
                hardware = template_var(self._templar, task_vars, "nixperf_hardware")
            users_var = template_var(self._templar, task_vars, "nixperf_users")
            desktop = template_var(self._templar, task_vars, "nixperf_desktop")
            where = host_layout(self._templar, task_vars)
            priority = check_priority(host, template_var(self._templar, task_vars, PRIORITY_VAR))
            built = build(phase, host, settings, hardware, users_var if declared.users else None, desktop, priority)
            # the facts are checked as a whole for every phase (in build); users by the phases that write homes
            users = check_users(host, users_var) if declared.users else []
            nixos = None
            if built.config is not None:
                nixos = nix_module(built.phase, built.config, role=role, description=built.description,
                                   enable=built.enable, note=built.note, always=built.always, markers=False,
                                   priority=priority, features=built.features or None)
            data = {rel: render(value, markers=False) for rel, value in built.data_files.items()}
            home = {}
            if built.home_config is not None:
                if not users:
                    raise PhaseError("host %s: nixperf_users is empty; phase %s writes a home-manager module for "
                                     "each user" % (host, built.phase))
                home_text = nix_module(built.phase, built.home_config, role=role, description=built.description,
                                       enable=built.home_enable, note=built.note, markers=False, priority=priority,
                                       requires=built.home_requires, features=built.features or None)
                home = {u: (where.home_dir(u), home_text) for u in users}
            if where.mode == "render" and built.keys:
                # what the other desktop backends would write, to compare (render mode only)
                built.files = dict(built.files, **alternatives(host, check_desktop(host, desktop), built.keys,
                                                               priority, built.phase, role))
        except (PhaseError, FactError, LayoutError, NixError, ValueError) as exc:
            result.update(failed=True, msg=str(exc))
            return result

        run = run_id(self._task)
        new = current_plan(task_vars, where, run)
        try:
            files = plan_files(built, where, role, nixos, data, home)
        except PhaseError as exc:
            result.update(failed=True, msg="host %s: %s" % (host, exc))
            return result
        # a phase planned twice in one play replaces its own files
        new["files"] = {k: v for k, v in new["files"].items() if v.get("phase") != built.phase}
        new["files"].update(files)
        planned = list(files)
        path = where.nixos_module(built.phase)
        for user, (directory, _text) in sorted(home.items()):
            new["home_configs"][user] = os.path.dirname(directory)
            if directory not in new["indexes"]:
                new["indexes"].append(directory)
        if where.nixos_dir not in new["indexes"]:
            new["indexes"].append(where.nixos_dir)
        if where.mode == "apply":
            new["require_import"] = {"directory": where.nixos_dir, "candidates": where.entry_files}
            new["live_cpu"] = {
                "enabled": boolean(template_var(self._templar, task_vars, "nixperf_check_live_cpu", True)),
                "root": where.root, "expected": hardware}
        new["cpu_targets"]["march"] = _add_unique(new["cpu_targets"].get("march", []), built.march)
        new["cpu_targets"]["goamd64"] = _add_unique(new["cpu_targets"].get("goamd64", []), built.goamd64)
        new["rebuilds"].pop(built.phase, None)
        if built.rebuilds:
            new["rebuilds"][built.phase] = built.rebuilds
        new["derived"][built.phase] = built.derived
        try:
            new["keys"] = plan_keys(new["keys"], built, users, host)
        except PhaseError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        new["scope"] = _add_unique(new["scope"], [built.phase])
        if not boolean(template_var(self._templar, task_vars, "nixperf_write_deferred", False)):
            # the role runs on its own: write now, in this task; it speaks for its own phase only
            written = self.finish(new, [built.phase], task_vars)
            self.render_keys(new, task_vars, written, [built.phase])
            result.update({k: v for k, v in written.items() if k != "invocation"})
            if result.get("failed"):
                return result
        result.update(
            path=path if nixos is not None else None,
            paths=planned,
            derived=built.derived,
            enabled=built.enable,
            plan=new,
            msg="planned %s (%s)" % (", ".join(planned), "enabled" if built.enable else "disabled"),
        )
        return result
