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
  - Runs C(nixos-rebuild) for O(action). Before anything it reads the current system (C(/run/current-system));
    it builds the new system first and compares the two store paths, so C(changed) is true only when the host
    really gets a different system, and C(switch) / C(boot) / C(test) are not run at all when nothing differs.
  - Reports the previous and new system, the generation number, whether kernel, initrd or kernel parameters
    changed (then C(reboot_required)), and on request the closure diff (C(nix store diff-closures)).
  - In check mode it runs C(dry-build) (evaluation, nothing built or activated) and evaluates the new system's
    store path to predict C(changed) exactly.
  - O(rollback=true) goes back one generation (C(nixos-rebuild <action> --rollback)).
  - A switch refused by the pre-switch checks falls back to C(boot) when O(fallback_to_boot) is set, and then
    reports C(reboot_required).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
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
    description: Passed as C(--target-host); the current system is then read over SSH.
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
  - C(changed) compares store paths, never C(nixos-rebuild)'s output text.
seealso:
  - module: nixperf.tuning.nix_generations
"""

EXAMPLES = r"""
- name: Predict, then switch, showing the closure diff
  nixperf.tuning.nixos_rebuild:
    action: switch
    flake: /etc/nixos#shoshin
    diff_closures: true
    fallback_to_boot: true
  register: rebuild

- name: Go back one generation
  nixperf.tuning.nixos_rebuild:
    action: switch
    rollback: true

- name: Go back to generation 41, from the next boot on
  nixperf.tuning.nixos_rebuild:
    action: boot
    rollback: true
    generation: 41
"""

RETURN = r"""
previous_system:
  description: Store path of the system before the call.
  returned: always
  type: str
  sample: /nix/store/ab12...-nixos-system-shoshin-26.05
new_system:
  description: Store path of the system built (or predicted in check mode, or rolled back to).
  returned: always
  type: str
generation:
  description: Generation number of the system profile after the call.
  returned: always
  type: int
kernel_changed:
  description: Whether the kernel, initrd or kernel parameters differ between the two systems.
  returned: always
  type: bool
reboot_required:
  description: True when the new system needs a reboot (boot-relevant change, or O(action=boot), or a fallback).
  returned: always
  type: bool
fell_back_to_boot:
  description: True when a refused switch was turned into C(boot).
  returned: always
  type: bool
closure_diff:
  description: Output of C(nix store diff-closures), when asked and the system changed.
  returned: when O(diff_closures=true)
  type: str
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

import os  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils import cmd  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.generations import (  # noqa: E402
    boot_differs, generation_number, resolve)

PRESWITCH = "Pre-switch checks failed"


class Rebuild:
    def __init__(self, module: AnsibleModule) -> None:
        self.m = module
        self.p = module.params
        self.binary = module.get_bin_path("nixos-rebuild", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
        self.workdir = tempfile.mkdtemp(prefix="nixos-rebuild-", dir=module.tmpdir)
        host = self.p["target_host"] or "host %s" % os.uname()[1]
        self.rec = cmd.Recorder(module, host, timeout=self.p["timeout"], cwd=self.workdir)
        self.commands = self.rec.commands
        self.run = self.rec.run
        self.fail = self.rec.fail

    def argv(self, action: str, rollback: bool = False):
        p = self.p
        return cmd.nixos_rebuild_argv(self.binary, action, flake=p["flake"], nixos_config=p["nixos_config"],
                                      rollback=rollback, target_host=p["target_host"],
                                      use_remote_sudo=p["use_remote_sudo"], extra_args=p["extra_args"])

    def current(self):
        if self.p["target_host"]:
            ssh = self.m.get_bin_path("ssh", required=True)
            rc, out, _err = self.run([ssh, self.p["target_host"], "readlink", "-f", self.p["current_system"]],
                                     "reading the current system", allow_fail=True)
            return (out.strip() or None) if rc == 0 else None
        return resolve(self.p["current_system"])

    def profile_target(self):
        return resolve(self.p["system_profile"])

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


def result_for(r: Rebuild, previous, new, changed: bool, action: str, fell_back: bool = False, diff=None):
    boot = boot_differs(previous, new) if changed else {"kernel": False, "initrd": False, "kernel_params": False}
    kernel_changed = any(boot.values())
    res = dict(
        changed=changed,
        previous_system=previous,
        new_system=new,
        generation=generation_number(r.p["system_profile"]),
        kernel_changed=kernel_changed,
        boot_changes=boot,
        reboot_required=changed and (kernel_changed or action == "boot" or fell_back),
        fell_back_to_boot=fell_back,
        commands=r.commands,
        action=action,
    )
    if diff is not None:
        res["closure_diff"] = diff
        if r.m._diff:
            res["diff"] = {"prepared": diff}
    return res


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=list(cmd.NIXOS_REBUILD_ACTIONS), default="switch"),
            rollback=dict(type="bool", default=False),
            generation=dict(type="int"),
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
        ),
        mutually_exclusive=[("flake", "nixos_config")],
        supports_check_mode=True,
    )
    p = module.params
    if p["rollback"] and p["action"] in ("dry-build", "build"):
        module.fail_json(msg="rollback needs action switch, boot or test, got %s" % p["action"])
    r = Rebuild(module)
    previous = r.current()
    action = p["action"]

    if p["rollback"]:
        from ansible_collections.nixperf.tuning.plugins.module_utils.generations import previous_generation

        target = previous_generation(p["system_profile"], p["generation"])
        if target is None:
            r.fail("roll back", "no generation %s in %s" % (
                p["generation"] if p["generation"] is not None else "older than the current one",
                p["system_profile"]))
        if module.check_mode:
            module.exit_json(**result_for(r, previous, target["path"], target["path"] != previous, action))
        if p["generation"] is None:
            r.run(r.argv(action, rollback=True), "nixos-rebuild %s --rollback" % action)
        else:
            nix_env = module.get_bin_path("nix-env", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
            r.run(cmd.switch_generation_argv(nix_env, p["system_profile"], p["generation"]),
                  "switching the profile to generation %d" % p["generation"])
            r.run(cmd.switch_to_configuration_argv(p["system_profile"], action),
                  "activating generation %d" % p["generation"])
        new = r.profile_target() if action == "boot" else r.current()
        module.exit_json(**result_for(r, previous, new, new != previous, action))

    if module.check_mode or action == "dry-build":
        r.run(r.argv("dry-build"), "nixos-rebuild dry-build")
        new = r.predict()
        compare = r.profile_target() if action == "boot" else previous
        would = new != compare
        res = result_for(r, previous, new, would and module.check_mode and action != "dry-build", action)
        res["would_change"] = would
        module.exit_json(**res)

    _rc, out, _err = r.run(r.argv("build"), "nixos-rebuild build")
    new = cmd.built_path(out, r.workdir)
    if not new:
        r.fail("read the system path nixos-rebuild build printed", out)
    compare = r.profile_target() if action == "boot" else previous
    if action == "build" or new == compare:
        res = result_for(r, previous, new, False, action)
        res["would_change"] = new != compare
        module.exit_json(**res)
    diff = r.closure_diff(previous, new) if p["diff_closures"] and previous else None
    fell_back = False
    rc, _out, err = r.run(r.argv(action), "nixos-rebuild %s" % action, allow_fail=True)
    if rc != 0:
        if PRESWITCH in err and p["fallback_to_boot"] and action in ("switch", "test"):
            r.run(r.argv("boot"), "nixos-rebuild boot (fallback after refused switch)")
            fell_back = True
            module.warn("Switch refused by the pre-switch checks; the new system is the boot default, a reboot "
                        "is required")
        else:
            r.fail("nixos-rebuild %s (rc %d)" % (action, rc), err)
    module.exit_json(**result_for(r, previous, new, True, "boot" if fell_back else action, fell_back, diff))


if __name__ == "__main__":
    main()
