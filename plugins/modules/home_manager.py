#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: home_manager
short_description: Build and switch a home-manager configuration, or roll it back
version_added: 0.1.0
description:
  - Runs C(home-manager build), compares the built generation with the current one and runs C(home-manager switch)
    only when they differ, so C(changed) means the user's environment really changed.
  - C(changed) and C(moved) come from the profile, never from an exit code. A switch that fails after the new
    generation was linked (an activation step failing) reports C(changed) and C(moved.profile), so the caller
    rolls it back.
  - Check mode never builds. It evaluates the configuration (with the check-mode copy of the configuration when
    O(flake) or O(config_file) point at it) with C(nix build --dry-run) and C(nix eval) of the
    C(activationPackage), predicts C(changed) from the evaluated store path, and reports what a switch will cost
    (C(build_cost)). C(home-manager build --dry-run) is not used; it still builds the news file, and without a
    flake it does not pass C(--dry-run) on at all.
  - With O(max_builds), a switch that needs more local builds is refused before anything is built (the dry run
    runs first).
  - O(rollback=true) activates the previous generation (or O(generation)) by running its C(activate) script, which
    works with every home-manager release.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nixperf.tuning.build_cost
options:
  action:
    description: V(build) never activates; V(switch) activates when the generation differs.
    type: str
    choices: [build, switch]
    default: switch
  flake:
    description:
      - Flake reference C(PATH#USER@HOST) (C(path:PATH#...) for a directory that is not a git tree, such as the
        check-mode copy). Without C(#NAME) the configuration C(homeConfigurations.<user>) is evaluated.
    type: str
  config_file:
    description:
      - Without O(flake), the classic configuration file (C(home-manager -f FILE)); default
        C(~/.config/home-manager/home.nix) as home-manager finds it. Evaluated through
        C(<home-manager/home-manager/home-manager.nix>) in check mode.
    type: path
  extra_args:
    description: More arguments for C(home-manager), appended as they are.
    type: list
    elements: str
    default: []
  rollback:
    description: Activate an earlier generation instead of building.
    type: bool
    default: false
  generation:
    description: Generation number to roll back to; default the newest older than the current one.
    type: int
  profile:
    description: The home-manager profile link; defaults to the connecting user's (XDG state layout first).
    type: path
  timeout:
    description: Seconds each C(home-manager) or C(nix) call may take.
    type: int
    default: 1800
attributes:
  check_mode:
    support: full
    details: Evaluates and dry-runs the configuration, reports whether the generation differs and what building it
      costs; builds and activates nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Switch mitsio's home when it changed, refusing more than 100 local builds
  nixperf.tuning.home_manager:
    flake: /home/mitsio/.config/home-manager#mitsio@shoshin
    max_builds: 100
    rebuilds: "{{ nixperf_planned.plan.rebuilds }}"
  become: true
  become_user: mitsio

- name: Predict from the check-mode copy of the configuration
  nixperf.tuning.home_manager:
    flake: "path:{{ write_result.home_shadows.mitsio }}#mitsio@shoshin"
  check_mode: true

- name: Back to generation 41
  nixperf.tuning.home_manager:
    rollback: true
    generation: 41
"""

RETURN = r"""
previous_generation:
  description: Store path of the generation before the call.
  returned: always
  type: str
previous_generation_number:
  description: Number of the generation before the call.
  returned: always
  type: int
new_generation:
  description: Store path of the generation built (evaluated in check mode), or activated by a rollback.
  returned: always
  type: str
generation:
  description: Number of the current generation after the call.
  returned: always
  type: int
moved:
  description: Whether the profile moved (read after the command, also when it failed).
  returned: always
  type: dict
  sample: {profile: true}
build_cost:
  description:
    - What building the generation costs, from the dry run (C(builds), C(derivations), C(fetches), C(download),
      C(unpacked), C(phases), C(world), C(summary)); see M(nixperf.tuning.nixos_rebuild).
  returned: in check mode, and with O(max_builds) when a build was needed
  type: dict
refused:
  description: In check mode, the refusal a real run would give because of O(max_builds); null otherwise.
  returned: in check mode
  type: str
commands:
  description: Every command line run, in order.
  returned: always
  type: list
  elements: list
"""

import os  # noqa: E402
import pwd  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils import buildcost, cmd  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.generations import (  # noqa: E402
    generation_number, home_profile, previous_generation, resolve)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["build", "switch"], default="switch"),
            flake=dict(type="str"),
            config_file=dict(type="path"),
            extra_args=dict(type="list", elements="str", default=[]),
            rollback=dict(type="bool", default=False),
            generation=dict(type="int"),
            profile=dict(type="path"),
            timeout=dict(type="int", default=1800),
            **buildcost.argument_spec(),
        ),
        mutually_exclusive=[("flake", "config_file")],
        supports_check_mode=True,
    )
    p = module.params
    user = pwd.getpwuid(os.getuid())
    profile = p["profile"] or home_profile(user.pw_dir, user.pw_name)
    previous = resolve(profile)
    previous_number = generation_number(profile)
    workdir = tempfile.mkdtemp(prefix="home-manager-", dir=module.tmpdir)
    subject = "user %s on host %s" % (user.pw_name, os.uname()[1])
    rec = cmd.Recorder(module, subject, timeout=p["timeout"], cwd=workdir)
    commands = rec.commands
    config_file = p["config_file"] or os.path.join(user.pw_dir, ".config", "home-manager", "home.nix")

    def moved():
        return {"profile": (resolve(profile), generation_number(profile)) != (previous, previous_number)}

    def done(new, changed, **extra):
        module.exit_json(changed=changed, previous_generation=previous, previous_generation_number=previous_number,
                         new_generation=new, generation=generation_number(profile), profile=profile,
                         moved=moved(), commands=commands, **extra)

    if p["rollback"]:
        target = previous_generation(profile, p["generation"])
        if target is None:
            module.fail_json(msg="no home-manager generation %s in %s" % (
                p["generation"] if p["generation"] is not None else "older than the current one", profile))
        if target["path"] == previous or module.check_mode:
            done(target["path"], target["path"] != previous)
        rec.run([os.path.join(target["path"], "activate")], "activate generation %d" % target["generation"])
        done(resolve(profile), resolve(profile) != previous)

    nix = None
    activation = cmd.home_activation(p["flake"], config_file, user.pw_name)

    def dry_run():
        """The cost of building the configuration, and the refusal when it is over max_builds."""
        nonlocal nix
        nix = nix or module.get_bin_path("nix", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
        _rc, out, err = rec.run(cmd.nix_dry_run_argv(nix, *activation), "dry-run the home-manager configuration")
        c = buildcost.cost(out + "\n" + err, p["rebuilds"], "home")
        c["summary"] = buildcost.summary(c)
        refused = None
        if buildcost.over_limit(c, p["max_builds"]):
            refused = buildcost.refusal(c, p["max_builds"], subject, p["max_builds_var"],
                                        "the home-manager configuration")
        return c, refused

    if module.check_mode:
        cost, refused = dry_run()
        _rc, out, _err = rec.run(cmd.nix_eval_out_path_argv(nix, *activation), "evaluate the home-manager generation")
        new = out.strip()
        done(new, new != previous and p["action"] == "switch", build_cost=cost, refused=refused)

    extra = {}
    if p["max_builds"] >= 0:
        cost, refused = dry_run()
        extra["build_cost"] = cost
        if refused:
            module.fail_json(msg=refused, build_cost=cost, commands=commands, changed=False,
                             moved={"profile": False}, previous_generation=previous,
                             previous_generation_number=previous_number)
    binary = module.get_bin_path("home-manager", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
    args = cmd.home_manager_config_args(p["flake"], p["config_file"]) + p["extra_args"]
    _rc, out, _err = rec.run(cmd.home_manager_argv(binary, "build", None, args),
                             "build the home-manager configuration")
    new = cmd.built_path(out, workdir)
    if not new:
        module.fail_json(msg="home-manager build printed no generation path", commands=commands)
    if new == previous or p["action"] == "build":
        done(new, False, **extra)
    rc, _out, err = rec.run(cmd.home_manager_argv(binary, "switch", None, args),
                            "switch the home-manager configuration", allow_fail=True)
    if rc != 0:
        m = moved()
        tail = cmd.stderr_tail(err)
        what = ("the home-manager profile moved to generation %s (%s)" % (generation_number(profile),
                                                                          resolve(profile))
                if m["profile"] else "nothing moved")
        module.fail_json(msg="Failed to switch the home-manager configuration (rc %d) on %s; %s: %s" % (
            rc, subject, what, tail), changed=m["profile"], moved=m, stderr_tail=tail,
            previous_generation=previous, previous_generation_number=previous_number, new_generation=new,
            generation=generation_number(profile), profile=profile, commands=commands, **extra)
    done(new, moved()["profile"], **extra)


if __name__ == "__main__":
    main()
