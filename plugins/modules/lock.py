#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: lock
short_description: Take or release the host's apply lock, so two runs never interleave
version_added: 0.1.0
description:
  - O(state=present) creates the lock file exclusively (C(O_CREAT|O_EXCL)) with the holder's name and the time;
    when another run holds it, fails with a message naming that holder and since when.
  - A lock older than O(stale_after) seconds is taken over, with a warning (its run died without releasing it).
  - O(state=absent) removes the lock when it is held by O(holder).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description: The lock file.
    type: path
    default: /run/nixperf/apply.lock
  state:
    description: Take (V(present)) or release (V(absent)) the lock.
    type: str
    choices: [present, absent]
    default: present
  holder:
    description: Who takes the lock (shown to a second run).
    type: str
    required: true
  stale_after:
    description: Seconds after which a lock is considered left by a dead run.
    type: int
    default: 7200
attributes:
  check_mode:
    support: full
    details: Reports whether the lock could be taken; creates and removes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Take the apply lock
  nixperf.tuning.lock:
    holder: "awx job 42"

- name: Release it
  nixperf.tuning.lock:
    holder: "awx job 42"
    state: absent
"""

RETURN = r"""
holder:
  description: The holder written into the lock.
  returned: always
  type: str
took_over:
  description: Holder of a stale lock that was taken over.
  returned: when a stale lock was taken over
  type: str
"""

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def read(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/run/nixperf/apply.lock"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            holder=dict(type="str", required=True),
            stale_after=dict(type="int", default=7200),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path, holder = p["path"], p["holder"]
    info = read(path) if os.path.exists(path) else None
    if p["state"] == "absent":
        if info is None:
            module.exit_json(changed=False, holder=holder)
        if info.get("holder") != holder:
            module.fail_json(msg="the lock %s is held by %s, not by %s; left in place" % (
                path, info.get("holder", "an unknown run"), holder))
        if not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=True, holder=holder)
    result = dict(changed=True, holder=holder)
    if info is not None:
        age = time.time() - float(info.get("since_epoch", 0))
        if info.get("holder") == holder:
            module.exit_json(changed=False, holder=holder)
        if age < p["stale_after"]:
            module.fail_json(msg="another run holds the lock %s: %s, since %s (%d s ago). Wait for it, or remove "
                             "the file if that run is dead." % (path, info.get("holder", "unknown"),
                                                                info.get("since", "?"), age),
                             holder=info.get("holder"))
        module.warn("taking over the stale lock %s of %s (%d s old)" % (path, info.get("holder"), age))
        result["took_over"] = info.get("holder")
    if module.check_mode:
        module.exit_json(**result)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    if info is not None:
        os.unlink(path)
    data = json.dumps({"holder": holder, "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "since_epoch": time.time(), "pid": os.getpid()})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        other = read(path)
        module.fail_json(msg="another run took the lock %s first: %s" % (path, other.get("holder", "unknown")))
    with os.fdopen(fd, "w") as f:
        f.write(data)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
