#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: nix_generations
short_description: List the generations of the NixOS system or of a user's home-manager profile
version_added: 0.1.0
description:
  - Reads a Nix profile's generation links (C(system-42-link) and so on) and returns, oldest first, each
    generation's number, date, store path, whether it is current, and for systems the NixOS and kernel versions.
  - Reads links and small files only; never runs a build.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  kind:
    description: Which profile to read, the system's or a user's home-manager profile.
    type: str
    choices: [system, home]
    default: system
  user:
    description: User whose home-manager profile to read (O(kind=home)); defaults to the connecting user.
    type: str
  home:
    description: Home directory of O(user); defaults to the user's entry in the password database.
    type: path
  profile:
    description: Explicit profile path; overrides O(kind).
    type: path
attributes:
  check_mode:
    support: full
    details: Read-only; the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Which system generation is running?
  nixperf.tuning.nix_generations:
  register: gens

- name: Report
  ansible.builtin.debug:
    msg: "generation {{ gens.current.generation }} (kernel {{ gens.current.kernel_version }})"

- name: Home-manager generations of mitsio
  nixperf.tuning.nix_generations:
    kind: home
    user: mitsio
"""

RETURN = r"""
profile:
  description: The profile read.
  returned: always
  type: str
  sample: /nix/var/nix/profiles/system
generations:
  description: Every generation, oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - {generation: 41, date: "2026-11-20T09:12:03Z", path: /nix/store/...-nixos-system-shoshin-26.05,
       current: false, nixos_version: 26.05.20261101.abcdef0, kernel_version: 6.12.0}
current:
  description: The current generation's entry (empty when the profile does not exist).
  returned: always
  type: dict
"""

import os  # noqa: E402
import pwd  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.generations import (  # noqa: E402
    SYSTEM_PROFILE, home_profile, list_generations)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type="str", choices=["system", "home"], default="system"),
            user=dict(type="str"),
            home=dict(type="path"),
            profile=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    profile = p["profile"]
    if not profile:
        if p["kind"] == "system":
            profile = SYSTEM_PROFILE
        else:
            user = p["user"] or pwd.getpwuid(os.getuid()).pw_name
            try:
                home = p["home"] or pwd.getpwnam(user).pw_dir
            except KeyError:
                module.fail_json(msg="user %s does not exist; give home explicitly" % user)
            profile = home_profile(home, user)
    gens = list_generations(profile)
    current = next((g for g in gens if g["current"]), {})
    module.exit_json(changed=False, profile=profile, generations=gens, current=current)


if __name__ == "__main__":
    main()
