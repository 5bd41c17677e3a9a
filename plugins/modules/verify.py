#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: verify
short_description: Read the live host once and compare it with what the applied phases declare
version_added: 0.5.0
description:
  - Evaluates a list of checks, as the C(nixperf.tuning.validate) action builds them from the phases' own plans
    (C(module_utils/checks.py)), against the live host in one run; reads only, changes nothing.
  - Reads files under C(/proc), C(/sys) and the users' homes directly, and runs C(systemctl show) once for every unit,
    C(zramctl) once, C(vainfo) once per VA-API driver and C(kreadconfig6) or C(kreadconfig5) per KDE key.
  - Each check ends V(ok), V(drift) (expected and actual differ) or V(na) (not applicable, with the reason, e.g. the
    host is not NixOS, no Plasma session runs, C(vainfo) is not installed). A check that cannot apply is never a pass.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  checks:
    description:
      - The checks, each a mapping with C(id), C(phase), C(title), C(probe) (sysctl, zram, cmdline, unit, session_env,
        session_path, vainfo, processes, kconfig, toml, scope, caches_outside, ld_preload, generation, files,
        memory_used), C(args), C(expected), C(compare)
        (eq, max, near, contains, na) and C(requires) (nixos, session, manifest, render_node, home:USER,
        program:NAME).
    type: list
    elements: dict
    required: true
  root:
    description: Prefix of every path read (V(/) on a real host; a test root or a mounted system image).
    type: path
    default: /
  files_root:
    description: Where the collection's generated files and their manifest are; defaults to O(root).
    type: path
  host:
    description: The host's inventory name, for the summary line.
    type: str
    default: host
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing in what it does.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Compare the host with one sysctl the memory phase declares
  nixperf.tuning.verify:
    host: "{{ inventory_hostname }}"
    checks:
      - id: "memory:sysctl:vm.swappiness"
        phase: memory
        title: sysctl vm.swappiness
        probe: sysctl
        args: {key: vm.swappiness}
        expected: "67"
        compare: eq
        requires: [nixos]
  register: verified
"""

RETURN = r"""
results:
  description: One result per check (a C(user-) slice check gives one per running user slice).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: "memory:sysctl:vm.swappiness", phase: memory, title: sysctl vm.swappiness, status: drift,
       expected: "67", actual: "60", reason: ""}
summary:
  description: How many checks ended in each status.
  returned: always
  type: dict
  sample: {ok: 12, drift: 1, na: 5}
lines:
  description: One line per check as C(tuned-adm verify) prints them, then the summary line.
  returned: always
  type: list
  elements: str
nixos:
  description: Whether the host is NixOS (C(/etc/NIXOS) or C(/run/current-system) under O(root)).
  returned: always
  type: bool
"""

from typing import Dict, Optional, Sequence, Tuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.cmd import NIX_BIN_DIRS, run  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.verify import Host, evaluate, lines, summary  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type="list", elements="dict", required=True),
            root=dict(type="path", default="/"),
            files_root=dict(type="path"),
            host=dict(type="str", default="host"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for chk in p["checks"]:
        missing = [k for k in ("id", "phase", "title", "probe", "expected") if k not in chk]
        if missing:
            module.fail_json(msg="check %r lacks %s" % (chk.get("id", chk), ", ".join(missing)))

    def runner(argv: Sequence[str], env: Optional[Dict[str, str]]) -> Tuple[int, str, str]:
        return run(module, argv, env=env, timeout=60)

    def which(name: str) -> Optional[str]:
        return module.get_bin_path(name, required=False, opt_dirs=NIX_BIN_DIRS)

    host = Host(p["root"], runner, which, p["files_root"])
    results = evaluate(host, p["checks"])
    module.exit_json(changed=False, results=results, summary=summary(results), lines=lines(p["host"], results),
                     nixos=host.nixos())


if __name__ == "__main__":
    main()
