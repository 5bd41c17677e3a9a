#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: magic_rollback
short_description: Confirm or cancel the magic rollback armed by a switch
version_added: 0.2.0
description:
  - M(nixperf.tuning.nixos_rebuild) with C(confirm_timeout) arms, before it switches, a transient systemd timer on
    the host whose script puts the previous system and the previous generated files back. This module ends it.
  - O(state=confirmed) keeps the new system. Confirming and firing decide through one atomic C(mkdir); when the
    timer fired first, the host has rolled itself back (or is doing so) and the module fails saying so.
  - O(state=cancelled) ends it without judging, for a caller that rolls back itself. It reports C(fired) when the
    timer had fired already.
  - Either way the timer is stopped (C(systemctl stop <unit>.timer)) and the script removed.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  unit:
    description: The unit name of the armed rollback (C(magic_rollback.unit) of the switch's result).
    type: str
    required: true
  state:
    description: V(confirmed) keeps the new system; V(cancelled) only stops the timer.
    type: str
    choices: [confirmed, cancelled]
    default: confirmed
  directory:
    description: Where the rollback keeps its script and state (C(magic_rollback.directory)).
    type: path
    default: /run/nixperf
  wait:
    description:
      - When the timer fired and its script is still running, seconds to wait for it to finish before returning,
        so that nothing else touches the system meanwhile.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    details: Reports whether the rollback is still pending; stops and confirms nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The timer is transient, so a reboot forgets it. See the collection's C(docs/rollback.md).
seealso:
  - module: nixperf.tuning.nixos_rebuild
"""

EXAMPLES = r"""
- name: Switch with a magic rollback
  nixperf.tuning.nixos_rebuild:
    action: switch
    confirm_timeout: 600
    rollback_files: "{{ write_result.files }}"
  register: rebuild

- name: Keep the new system (after the health checks, over a fresh connection)
  nixperf.tuning.magic_rollback:
    unit: "{{ rebuild.magic_rollback.unit }}"
  when: rebuild.magic_rollback is defined
"""

RETURN = r"""
decision:
  description: C(confirmed), C(cancelled), or C(rolled-back) when the timer fired first; null in check mode.
  returned: always
  type: str
fired:
  description: Whether the timer had fired (the host rolled itself back).
  returned: always
  type: bool
outcome:
  description: The exit status of the rollback script when it has finished, null otherwise.
  returned: when fired
  type: int
commands:
  description: Every command line run.
  returned: always
  type: list
  elements: list
"""

import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils import cmd, rollback_timer  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type="str", required=True),
            state=dict(type="str", choices=["confirmed", "cancelled"], default="confirmed"),
            directory=dict(type="path", default=rollback_timer.DEFAULT_DIR),
            wait=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    p = module.params
    unit, directory = p["unit"], p["directory"]
    if not unit.startswith(rollback_timer.UNIT_PREFIX + "-"):
        module.fail_json(msg="unit must be a magic rollback unit (%s-<n>), got %s" % (rollback_timer.UNIT_PREFIX, unit))
    where = rollback_timer.paths(directory, unit)
    host = "host %s" % os.uname()[1]
    rec = cmd.Recorder(module, host, timeout=60)
    decided = os.path.isdir(where["decided"])
    if module.check_mode:
        module.exit_json(changed=not decided, decision=None, fired=decided and os.path.exists(
            os.path.join(where["decided"], rollback_timer.ROLLED_BACK)), commands=rec.commands)
    as_what = rollback_timer.CONFIRMED if p["state"] == "confirmed" else "cancelled"
    earlier = rollback_timer.decide(directory, unit, as_what)
    fired = earlier == rollback_timer.ROLLED_BACK
    systemctl = module.get_bin_path("systemctl", required=True, opt_dirs=cmd.NIX_BIN_DIRS)
    if earlier is None:
        # the timer may have elapsed meanwhile: its script then finds the decision taken and does nothing
        rec.run(rollback_timer.cancel_argv(systemctl, unit), "stop the magic rollback timer", allow_fail=True)
        if os.path.exists(where["script"]):
            os.unlink(where["script"])
        module.exit_json(changed=True, decision=as_what, fired=False, commands=rec.commands)
    if not fired:  # decided before, by an earlier confirm or cancel of this unit
        module.exit_json(changed=False, decision=earlier, fired=False, commands=rec.commands)
    status = rollback_timer.outcome(directory, unit)
    deadline = time.time() + p["wait"]
    while status is None and time.time() < deadline:
        time.sleep(0.5)
        status = rollback_timer.outcome(directory, unit)
    if p["state"] == "cancelled":
        module.exit_json(changed=False, decision=rollback_timer.ROLLED_BACK, fired=True, outcome=status,
                         commands=rec.commands)
    module.fail_json(msg="Failed to confirm the new system on %s: the magic rollback %s fired first, so the host "
                     "%s to the previous system and files. Raise the confirmation timeout if the switch and the "
                     "checks need longer." % (host, unit, "was still rolling back after %d s" % p["wait"]
                                              if status is None else "rolled back (status %d)" % status),
                     decision=rollback_timer.ROLLED_BACK, fired=True, outcome=status, commands=rec.commands)


if __name__ == "__main__":
    main()
