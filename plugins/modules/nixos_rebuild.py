#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: nixos_rebuild
short_description: Build and activate a NixOS configuration, reporting changed only when the system changes
version_added: 0.1.0
description:
  - Runs C(nixos-rebuild) for O(action). Before anything it reads the current system (C(/run/current-system))
    and the system profile; it builds the new system first and compares the two store paths, so C(switch) /
    C(boot) / C(test) are not run at all when nothing differs.
  - C(changed) and C(moved) come from the host's state, never from an exit code. After a C(switch), C(boot) or
    C(test), successful or not, the module reads the system profile and C(/run/current-system) again; any
    movement is a change, also when the command failed (C(switch-to-configuration) exits 4 when units fail after
    it activated the new system). The failure message says what moved.
  - Reports the previous and new system, the generation numbers before and after, whether kernel, initrd or
    kernel parameters changed (then C(reboot_required)), and on request the closure diff
    (C(nix store diff-closures)).
  - C(dry-build) and check mode report what a switch will cost, parsed from Nix's dry-run output (the number of
    derivations to build, the paths to fetch and their download size), attributed to the phases of O(rebuilds)
    whose overridden packages are among them. A C(dry-build) that needs more than O(max_builds) local builds
    fails; in check mode the module reports C(refused) instead.
  - In check mode it runs C(dry-build) (evaluation, nothing built or activated) and evaluates the new system's
    store path to predict C(changed) exactly.
  - With O(confirm_timeout), it arms a magic rollback on the host between the build and the switch, a transient
    systemd timer (C(systemd-run --on-active)) whose script puts back the previous system and the previous
    generated files (O(rollback_files)) unless M(nixperf.tuning.magic_rollback) confirms the new system in time.
    The script uses only absolute store paths of the previous system, so the host rolls itself back even when the
    controller, the connection or the new generation is gone.
  - O(rollback=true) goes back one generation (C(nixos-rebuild <action> --rollback)), to O(generation), or, with
    O(previous_system), exactly to the state before a failed apply (profile generation, boot default and running
    system, each only when it moved).
  - A switch refused by the pre-switch checks falls back to C(boot) when O(fallback_to_boot) is set, and then
    reports C(reboot_required).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nixperf.tuning.build_cost
options:
  action:
    description: What to do. V(dry-build) and V(build) never change the running system.
    type: str
    choices: [dry-build, build, test, switch, boot]
    default: switch
  rollback:
    description: Go back to the previous generation instead of building (with V(switch), V(boot) or V(test)).
    type: bool
    default: false
  generation:
    description:
      - With O(rollback=true), the generation number to go back to instead of the previous one. The profile is
        pointed at it (C(nix-env --switch-generation)) and its C(switch-to-configuration) runs with O(action).
    type: int
  previous_system:
    description:
      - With O(rollback=true), the system that ran before a failed apply (its C(previous_system)). The host is put
        back exactly, the profile to O(generation) and its system as boot default when the profile moved, this
        system running again when C(/run/current-system) moved. Nothing runs for what did not move.
    type: path
  flake:
    description: Flake reference C(PATH#HOST). Mutually exclusive with O(nixos_config).
    type: str
  nixos_config:
    description: Classic configuration file, passed as C(-I nixos-config=PATH).
    type: path
  extra_args:
    description: More arguments for C(nixos-rebuild), appended as they are (e.g. C(--show-trace)).
    type: list
    elements: str
    default: []
  target_host:
    description:
      - Passed as C(--target-host); the current system and the profile are then read over SSH. Not with
        O(confirm_timeout), whose timer is armed where the module runs.
    type: str
  use_remote_sudo:
    description: Passed as C(--use-remote-sudo).
    type: bool
    default: false
  timeout:
    description: Seconds each C(nixos-rebuild) call may take.
    type: int
    default: 3600
  diff_closures:
    description: Return the closure diff between the current and the new system.
    type: bool
    default: false
  fallback_to_boot:
    description: When a switch is refused by "Pre-switch checks failed", make the new system the boot default.
    type: bool
    default: false
  current_system:
    description: Link to the running system.
    type: path
    default: /run/current-system
  system_profile:
    description: The system profile whose generations C(boot) and C(switch) add to.
    type: path
    default: /nix/var/nix/profiles/system
  confirm_timeout:
    description:
      - Arm the magic rollback before switching, firing after this many seconds unless confirmed. V(0) arms
        nothing.
    type: int
    default: 0
  rollback_files:
    description:
      - The C(files) of the write result whose changes the magic rollback undoes (backups put back, created files
        removed, removed files put back).
    type: list
    elements: dict
    default: []
  rollback_dir:
    description: Directory on the host for the magic rollback's script and state (a tmpfs such as C(/run)).
    type: path
    default: /run/nixperf
  apply_lock:
    description: The apply lock of the run; the magic rollback removes it when it fires and the lock is unchanged.
    type: path
  reboot_reasons:
    description:
      - Changes that take effect only at the next boot although this module cannot see them in the kernel, initrd
        or kernel parameters (the C(boot) phase's service graph and timeouts, for instance), one text each. When the
        system changes and the list is not empty, C(reboot_required) is true and RV(reboot_reasons) names them.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Runs C(dry-build) and evaluates the new system's store path; builds and activates nothing.
  diff_mode:
    support: partial
    details: With O(diff_closures), the closure diff is returned as the diff's C(prepared) text.
  platform:
    platforms: posix
notes:
  - C(changed) compares store paths and links, never C(nixos-rebuild)'s output text or exit code.
  - The build cost is read from the lines Nix prints (C(printMissing) in Nix's C(src/libmain/shared.cc)).
seealso:
  - module: nixperf.tuning.nix_generations
  - module: nixperf.tuning.magic_rollback
"""

EXAMPLES = r"""
- name: Predict, then switch, showing the closure diff
  nixperf.tuning.nixos_rebuild:
    action: switch
    flake: /etc/nixos#shoshin
    diff_closures: true
    fallback_to_boot: true
  register: rebuild

- name: Refuse a configuration that needs more than 100 local builds
  nixperf.tuning.nixos_rebuild:
    action: dry-build
    max_builds: 100
    rebuilds: "{{ nixperf_planned.plan.rebuilds }}"

- name: Switch with a magic rollback that fires after 10 minutes unless confirmed
  nixperf.tuning.nixos_rebuild:
    action: switch
    confirm_timeout: 600
    rollback_files: "{{ write_result.files }}"
  register: rebuild

- name: Put the host back exactly where it was before a failed switch
  nixperf.tuning.nixos_rebuild:
    rollback: true
    generation: "{{ rebuild.previous_generation }}"
    previous_system: "{{ rebuild.previous_system }}"

- name: Go back to generation 41, from the next boot on
  nixperf.tuning.nixos_rebuild:
    action: boot
    rollback: true
    generation: 41
"""

RETURN = r"""
previous_system:
  description: Store path of the running system before the call.
  returned: always
  type: str
  sample: /nix/store/ab12...-nixos-system-shoshin-26.05
previous_generation:
  description: Generation number of the system profile before the call.
  returned: always
  type: int
  sample: 41
new_system:
  description: Store path of the system built (or predicted in check mode, or rolled back to).
  returned: always
  type: str
generation:
  description: Generation number of the system profile after the call.
  returned: always
  type: int
moved:
  description:
    - What moved, read from the host after the command, also when it failed. C(profile) is the system profile
      (the boot default), C(current) is C(/run/current-system) (the running system).
  returned: always
  type: dict
  sample: {profile: true, current: true}
kernel_changed:
  description: Whether the kernel, initrd or kernel parameters differ between the two systems.
  returned: success
  type: bool
reboot_required:
  description:
    - True when the new system needs a reboot (boot-relevant change, O(reboot_reasons), O(action=boot), or a
      fallback).
  returned: success
  type: bool
reboot_reasons:
  description: Why a reboot is required, one text each; empty when it is not.
  returned: success
  type: list
  elements: str
  sample: [kernel parameters changed, "phase boot changed: /etc/nixos/nixperf/boot.nix"]
fell_back_to_boot:
  description: True when a refused switch was turned into C(boot).
  returned: success
  type: bool
closure_diff:
  description: Output of C(nix store diff-closures), when asked and the system changed.
  returned: when O(diff_closures=true)
  type: str
build_cost:
  description:
    - What building the new system costs, from the dry run. C(builds) derivations to build (C(derivations) their
      names), C(fetches) paths to fetch, C(download) / C(unpacked) as Nix prints them (null when nothing is
      fetched), C(phases) the phases of O(rebuilds) whose packages are built (with the C(bootstrap) ones), C(world)
      whether one of them is a bootstrap package, C(summary) one line for people.
  returned: with V(dry-build) and in check mode
  type: dict
  sample:
    builds: 7
    fetches: 1
    download: 0.2 MiB
    unpacked: 1.1 MiB
    phases: {}
    world: false
    summary: 7 derivations to build; 1 path to fetch (0.2 MiB download, 1.1 MiB unpacked)
refused:
  description: In check mode, the refusal a real run would give because of O(max_builds); null otherwise.
  returned: with V(dry-build) and in check mode
  type: str
magic_rollback:
  description:
    - The armed magic rollback (O(confirm_timeout)) - C(unit) (confirm it with M(nixperf.tuning.magic_rollback)),
      C(timer), C(script), C(timeout), C(armed_at), C(fires_at) (epoch seconds), C(steps) (the system commands it
      runs) and C(files) (what it restores).
  returned: when a switch was armed, also on failure
  type: dict
restored:
  description: The commands an exact rollback (O(previous_system)) ran, or would run in check mode.
  returned: with O(previous_system)
  type: list
  elements: list
commands:
  description: Every command line run, in order.
  returned: always
  type: list
  elements: list
stderr_tail:
  description: The last lines of the failing command's error output.
  returned: failure
  type: str
"""

import contextlib  # noqa: E402
import fcntl  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils import buildcost, cmd, rollback_timer  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.generations import (  # noqa: E402
    boot_differs, generation_number, generation_of_link, generation_path, previous_generation, resolve,
    restore_steps)

PRESWITCH = "Pre-switch checks failed"


class Rebuild:
    def __init__(self, module: AnsibleModule) -> None:
        self.m = module
        self.p = module.params
        self.binary = module.get_bin_path("nixos-rebuild", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
        self.workdir = tempfile.mkdtemp(prefix="nixos-rebuild-", dir=module.tmpdir)
        self.subject = self.p["target_host"] or "host %s" % os.uname()[1]
        self.rec = cmd.Recorder(module, self.subject, timeout=self.p["timeout"], cwd=self.workdir)
        self.commands = self.rec.commands
        self.run = self.rec.run
        self.fail = self.rec.fail

    def argv(self, action: str, rollback: bool = False):
        p = self.p
        return cmd.nixos_rebuild_argv(self.binary, action, flake=p["flake"], nixos_config=p["nixos_config"],
                                      rollback=rollback, target_host=p["target_host"],
                                      use_remote_sudo=p["use_remote_sudo"], extra_args=p["extra_args"])

    def current(self):
        return resolve(self.p["current_system"])

    def profile_target(self):
        return resolve(self.p["system_profile"])

    def state(self):
        """The running system, the profile's system and its generation: what an apply can move."""
        p = self.p
        if not p["target_host"]:
            return {"current": self.current(), "profile": self.profile_target(),
                    "generation": generation_number(p["system_profile"])}
        ssh = self.m.get_bin_path("ssh", required=True)
        _rc, out, _err = self.run([ssh, p["target_host"], "readlink", "-f", p["current_system"], p["system_profile"]],
                                  "reading the current system", allow_fail=True)
        paths = (out.split() + [None, None])[:2]
        _rc, link, _err = self.run([ssh, p["target_host"], "readlink", p["system_profile"]],
                                   "reading the system profile", allow_fail=True)
        return {"current": paths[0], "profile": paths[1],
                "generation": generation_of_link(os.path.basename(p["system_profile"]), link.strip())}

    def predict(self):
        """The system the configuration evaluates to, without building it."""
        nix = self.m.get_bin_path("nix", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
        _rc, out, _err = self.run(cmd.toplevel_argv(nix, self.p["flake"], self.p["nixos_config"]),
                                  "evaluating the new system")
        return out.strip()

    def closure_diff(self, old, new):
        nix = self.m.get_bin_path("nix", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
        _rc, out, _err = self.run(cmd.diff_closures_argv(nix, old, new), "diffing closures")
        return out

    def nix_env(self):
        return self.m.get_bin_path("nix-env", required=True, opt_dirs=cmd.NIX_BIN_DIRS)


def moved_between(before, after):
    return {"profile": (after["profile"], after["generation"]) != (before["profile"], before["generation"]),
            "current": after["current"] != before["current"]}


def describe_move(r: Rebuild, moved, after) -> str:
    parts = []
    if moved["profile"]:
        parts.append("the system profile moved to generation %s (%s)" % (after["generation"], after["profile"]))
    if moved["current"]:
        parts.append("%s moved to %s" % (r.p["current_system"], after["current"]))
    return " and ".join(parts) if parts else "nothing moved"


BOOT_CHANGE_TEXT = {"kernel": "the kernel changed", "initrd": "the initrd changed",
                    "kernel_params": "the kernel parameters changed"}


def result_for(r: Rebuild, before, new, changed: bool, action: str, fell_back: bool = False, diff=None,
               moved=None):
    previous = before["current"]
    boot = boot_differs(previous, new) if changed else {"kernel": False, "initrd": False, "kernel_params": False}
    kernel_changed = any(boot.values())
    reasons = [BOOT_CHANGE_TEXT[k] for k in ("kernel", "initrd", "kernel_params") if boot.get(k)]
    if changed:
        reasons.extend(r.p.get("reboot_reasons") or [])
        if fell_back:
            reasons.append("the switch was refused by the pre-switch checks and fell back to boot")
        elif action == "boot":
            reasons.append("the new system is the boot default only (action boot)")
    res = dict(
        changed=changed,
        previous_system=previous,
        previous_generation=before["generation"],
        new_system=new,
        generation=generation_number(r.p["system_profile"]),
        moved=moved or {"profile": False, "current": False},
        kernel_changed=kernel_changed,
        boot_changes=boot,
        reboot_required=changed and bool(reasons),
        reboot_reasons=reasons if changed else [],
        fell_back_to_boot=fell_back,
        commands=r.commands,
        action=action,
    )
    if diff is not None:
        res["closure_diff"] = diff
        if r.m._diff:
            res["diff"] = {"prepared": diff}
    return res


def build_cost(r: Rebuild, out: str, err: str):
    """The dry run's cost, and the refusal when it is over ``max_builds``."""
    p = r.p
    c = buildcost.cost((out or "") + "\n" + (err or ""), p["rebuilds"], "nixos")
    c["summary"] = buildcost.summary(c)
    refused = None
    if buildcost.over_limit(c, p["max_builds"]):
        refused = buildcost.refusal(c, p["max_builds"], r.subject, p["max_builds_var"])
    return c, refused


def exact_rollback(r: Rebuild, before) -> None:
    """Put the profile, the boot default and the running system back to what they were, each only if moved."""
    m, p = r.m, r.p
    generation = p["generation"]
    profile_moved = generation is not None and before["generation"] != generation
    profile_system = generation_path(p["system_profile"], generation)
    if generation is not None and profile_system is None:
        r.fail("roll back", "no generation %d in %s" % (generation, p["system_profile"]))
    running_moved = before["current"] != p["previous_system"]
    steps = restore_steps(r.nix_env() if profile_moved else "nix-env", p["system_profile"], generation,
                          profile_system, p["previous_system"], profile_moved, running_moved)
    if m.check_mode or not steps:
        res = result_for(r, before, p["previous_system"], bool(steps), p["action"])
        m.exit_json(restored=steps, **res)
    tails = []
    for argv in steps:
        rc, _out, err = r.run(argv, "restore", allow_fail=True)
        if rc != 0:
            tails.append("%s (rc %d): %s" % (" ".join(argv), rc, cmd.stderr_tail(err, 5)))
    after = r.state()
    back = after["current"] == p["previous_system"] and (generation is None or after["generation"] == generation)
    res = result_for(r, before, after["current"], True, p["action"], moved=moved_between(before, after))
    if not back:
        m.fail_json(msg="Failed to put %s back to generation %s running %s: it is at generation %s running %s. %s"
                    % (r.subject, generation, p["previous_system"], after["generation"], after["current"],
                       " ".join(tails)), restored=steps, **res)
    if tails:
        m.warn("Rolled back, with errors on the way (the previous system is running): %s" % " ".join(tails))
    m.exit_json(restored=steps, **res)


def arm(r: Rebuild, before, action: str):
    """Arm the magic rollback: write the script, start the transient timer. Fails before anything moved."""
    m, p = r.m, r.p
    directory, timeout = p["rollback_dir"], p["confirm_timeout"]
    unit = rollback_timer.unit_name()
    try:
        tools = rollback_timer.resolve_tools(m, before["current"] or before["profile"])
        files = rollback_timer.restore_plan(p["rollback_files"])
    except ValueError as exc:
        r.fail("arm the magic rollback", str(exc))
    gone = [b for _path, b in files if b and not os.path.isfile(b)]
    if gone:
        r.fail("arm the magic rollback", "the backups %s are gone" % ", ".join(gone))
    steps = restore_steps(tools["nix-env"], p["system_profile"], before["generation"], before["profile"],
                          before["current"], profile_moved=action in ("switch", "boot"),
                          running_moved=action in ("switch", "test"))
    lock = None
    if p["apply_lock"] and os.path.isfile(p["apply_lock"]):
        with open(p["apply_lock"]) as f:
            lock = (p["apply_lock"], f.read())
    text = rollback_timer.script(unit, tools, steps, files, directory, timeout, r.subject, lock)
    script = rollback_timer.write_script(directory, unit, text)
    systemd_run = m.get_bin_path("systemd-run", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
    now = time.time()
    rc, _out, err = r.run(rollback_timer.systemd_run_argv(systemd_run, unit, timeout, tools["sh"], script,
                                                          r.subject), "arm the magic rollback", allow_fail=True)
    if rc != 0:
        os.unlink(script)
        r.fail("arm the magic rollback (rc %d)" % rc, err)
    return dict(unit=unit, timer=unit + ".timer", script=script, directory=directory, timeout=timeout,
                armed_at=now, fires_at=now + timeout, steps=steps,
                files=[{"path": path, "backup_file": b} for path, b in files])


@contextlib.contextmanager
def switch_lock(timer):
    """While the switch runs, a firing rollback waits (the script takes the same lock)."""
    if timer is None:
        yield
        return
    path = rollback_timer.paths(timer["directory"], timer["unit"])["switch_lock"]
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=list(cmd.NIXOS_REBUILD_ACTIONS), default="switch"),
            rollback=dict(type="bool", default=False),
            generation=dict(type="int"),
            previous_system=dict(type="path"),
            flake=dict(type="str"),
            nixos_config=dict(type="path"),
            extra_args=dict(type="list", elements="str", default=[]),
            target_host=dict(type="str"),
            use_remote_sudo=dict(type="bool", default=False),
            timeout=dict(type="int", default=3600),
            diff_closures=dict(type="bool", default=False),
            fallback_to_boot=dict(type="bool", default=False),
            current_system=dict(type="path", default="/run/current-system"),
            system_profile=dict(type="path", default="/nix/var/nix/profiles/system"),
            **buildcost.argument_spec(),
            confirm_timeout=dict(type="int", default=0),
            rollback_files=dict(type="list", elements="dict", default=[]),
            rollback_dir=dict(type="path", default=rollback_timer.DEFAULT_DIR),
            apply_lock=dict(type="path"),
            reboot_reasons=dict(type="list", elements="str", default=[]),
        ),
        mutually_exclusive=[("flake", "nixos_config")],
        supports_check_mode=True,
    )
    p = module.params
    if p["rollback"] and p["action"] in ("dry-build", "build"):
        module.fail_json(msg="rollback needs action switch, boot or test, got %s" % p["action"])
    if p["previous_system"] and not p["rollback"]:
        module.fail_json(msg="previous_system is for rollback=true only")
    if p["confirm_timeout"] < 0:
        module.fail_json(msg="confirm_timeout must be 0 (off) or a number of seconds, got %d" % p["confirm_timeout"])
    if p["confirm_timeout"] and p["target_host"]:
        module.fail_json(msg="confirm_timeout arms the magic rollback on the host the module runs on, not on "
                         "target_host %s: run the module on that host instead" % p["target_host"])
    r = Rebuild(module)
    before = r.state()
    previous = before["current"]
    action = p["action"]

    if p["rollback"] and p["previous_system"]:
        exact_rollback(r, before)

    if p["rollback"]:
        target = previous_generation(p["system_profile"], p["generation"])
        if target is None:
            r.fail("roll back", "no generation %s in %s" % (
                p["generation"] if p["generation"] is not None else "older than the current one",
                p["system_profile"]))
        if module.check_mode:
            module.exit_json(**result_for(r, before, target["path"], target["path"] != previous, action))
        if p["generation"] is None:
            r.run(r.argv(action, rollback=True), "nixos-rebuild %s --rollback" % action)
        else:
            r.run(cmd.switch_generation_argv(r.nix_env(), p["system_profile"], p["generation"]),
                  "switching the profile to generation %d" % p["generation"])
            r.run(cmd.switch_to_configuration_argv(p["system_profile"], action),
                  "activating generation %d" % p["generation"])
        after = r.state()
        new = after["profile"] if action == "boot" else after["current"]
        module.exit_json(**result_for(r, before, new, new != previous, action, moved=moved_between(before, after)))

    if module.check_mode or action == "dry-build":
        _rc, out, err = r.run(r.argv("dry-build"), "nixos-rebuild dry-build")
        cost, refused = build_cost(r, out, err)
        if refused and not module.check_mode:
            module.fail_json(msg=refused, build_cost=cost, commands=r.commands, changed=False,
                             moved={"profile": False, "current": False})
        new = r.predict()
        compare = before["profile"] if action == "boot" else previous
        would = new != compare
        res = result_for(r, before, new, would and module.check_mode and action != "dry-build", action)
        res.update(would_change=would, build_cost=cost, refused=refused)
        module.exit_json(**res)

    _rc, out, _err = r.run(r.argv("build"), "nixos-rebuild build")
    new = cmd.built_path(out, r.workdir)
    if not new:
        r.fail("read the system path nixos-rebuild build printed", out)
    compare = before["profile"] if action == "boot" else previous
    if action == "build" or new == compare:
        res = result_for(r, before, new, False, action)
        res["would_change"] = new != compare
        module.exit_json(**res)
    diff = r.closure_diff(previous, new) if p["diff_closures"] and previous else None
    timer = arm(r, before, action) if p["confirm_timeout"] > 0 else None
    fell_back = False
    ran = action
    with switch_lock(timer):
        rc, _out, err = r.run(r.argv(action), "nixos-rebuild %s" % action, allow_fail=True)
        if rc != 0 and PRESWITCH in err and p["fallback_to_boot"] and action in ("switch", "test"):
            ran, fell_back = "boot", True
            rc, _out, err = r.run(r.argv("boot"), "nixos-rebuild boot (fallback after refused switch)",
                                  allow_fail=True)
    after = r.state()
    moved = moved_between(before, after)
    extra = {"magic_rollback": timer} if timer else {}
    if rc != 0:
        tail = cmd.stderr_tail(err)
        res = result_for(r, before, new, any(moved.values()), ran, fell_back, diff, moved)
        res.update(extra)
        module.fail_json(msg="Failed to nixos-rebuild %s (rc %d) on %s; %s: %s" % (
            ran, rc, r.subject, describe_move(r, moved, after), tail), stderr_tail=tail, **res)
    if fell_back:
        module.warn("Switch refused by the pre-switch checks; the new system is the boot default, a reboot "
                    "is required")
    res = result_for(r, before, new, any(moved.values()), ran, fell_back, diff, moved)
    res.update(extra)
    module.exit_json(**res)


if __name__ == "__main__":
    main()
