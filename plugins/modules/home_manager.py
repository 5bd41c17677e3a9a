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
  - O(rollback=true) activates the previous generation (or O(generation)) by running its C(activate) script, which
    works with every home-manager release.
  - Check mode builds only (nothing is activated) and predicts C(changed).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  action:
    description: V(build) never activates; V(switch) activates when the generation differs.
    type: str
    choices: [build, switch]
    default: switch
  flake:
    description: Flake reference C(PATH#USER@HOST).
    type: str
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
    description: Seconds each C(home-manager) call may take.
    type: int
    default: 1800
attributes:
  check_mode:
    support: full
    details: Builds (or, for a rollback, looks up) the generation and reports whether it differs; activates nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Switch mitsio's home when it changed
  nixperf.tuning.home_manager:
    flake: /home/mitsio/.config/home-manager#mitsio@shoshin
  become: true
  become_user: mitsio

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
new_generation:
  description: Store path of the generation built, or activated by a rollback.
  returned: always
  type: str
generation:
  description: Number of the current generation after the call.
  returned: always
  type: int
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
from ansible_collections.nixperf.tuning.plugins.module_utils import cmd  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.generations import (  # noqa: E402
    generation_number, home_profile, previous_generation, resolve)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["build", "switch"], default="switch"),
            flake=dict(type="str"),
            extra_args=dict(type="list", elements="str", default=[]),
            rollback=dict(type="bool", default=False),
            generation=dict(type="int"),
            profile=dict(type="path"),
            timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    p = module.params
    user = pwd.getpwuid(os.getuid())
    profile = p["profile"] or home_profile(user.pw_dir, user.pw_name)
    previous = resolve(profile)
    workdir = tempfile.mkdtemp(prefix="home-manager-", dir=module.tmpdir)
    rec = cmd.Recorder(module, "user %s" % user.pw_name, timeout=p["timeout"], cwd=workdir)
    commands = rec.commands

    def done(new, changed):
        module.exit_json(changed=changed, previous_generation=previous, new_generation=new,
                         generation=generation_number(profile), profile=profile, commands=commands)

    if p["rollback"]:
        target = previous_generation(profile, p["generation"])
        if target is None:
            module.fail_json(msg="no home-manager generation %s in %s" % (
                p["generation"] if p["generation"] is not None else "older than the current one", profile))
        if target["path"] == previous or module.check_mode:
            done(target["path"], target["path"] != previous)
        rec.run([os.path.join(target["path"], "activate")], "activate generation %d" % target["generation"])
        done(resolve(profile), resolve(profile) != previous)

    binary = module.get_bin_path("home-manager", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
    _rc, out, _err = rec.run(cmd.home_manager_argv(binary, "build", p["flake"], p["extra_args"]),
                             "build the home-manager configuration")
    new = cmd.built_path(out, workdir)
    if not new:
        module.fail_json(msg="home-manager build printed no generation path", commands=commands)
    if new == previous or p["action"] == "build" or module.check_mode:
        done(new, new != previous and module.check_mode and p["action"] == "switch")
    rec.run(cmd.home_manager_argv(binary, "switch", p["flake"], p["extra_args"]),
            "switch the home-manager configuration")
    done(new, True)


if __name__ == "__main__":
    main()
