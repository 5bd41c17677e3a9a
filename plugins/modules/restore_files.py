#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: restore_files
short_description: Undo a write of generated files, byte for byte
version_added: 0.1.0
description:
  - Takes the C(files) list returned by M(nixperf.tuning.write_files) and undoes that write. Every changed file is
    put back from its backup (atomically), every file the write created is removed, every file the write removed
    (C(removed=true)) comes back from its backup. Unchanged files are left alone.
  - The entry for the writer's record of generated files (C(manifest=true)) is restored from its backup as well, or
    removed when the write created it. When the write kept no backups the record is left as it is; it may name
    files that are gone again, and the next write drops those.
  - Used by the apply roles when a dry-build or a health check fails. Checks every backup exists before touching
    anything.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  files:
    description: The C(files) of a write result (C(path), C(changed), C(created), C(removed), C(manifest),
      C(backup_file)).
    type: list
    elements: dict
    required: true
attributes:
  check_mode:
    support: full
    details: Reports what it would restore or remove.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Put the previous generated files back
  nixperf.tuning.restore_files:
    files: "{{ write_result.files }}"
"""

RETURN = r"""
restored:
  description: One entry per file touched, with C(restored_from) (put back, a removed file included) or C(removed)
    (a created file deleted again), and C(changed).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/nixos/nixperf/gpu_video.nix, restored_from: "/etc/nixos/nixperf/gpu_video.nix.4242.2026-11-23@10:00:00~",
       changed: true}
    - {path: /etc/nixos/nixperf/extra.nix, removed: true, changed: true}
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.files import WriteError, restore  # noqa: E402


def main() -> None:
    module = AnsibleModule(argument_spec=dict(files=dict(type="list", elements="dict", required=True)),
                           supports_check_mode=True)
    try:
        done = restore(module, module.params["files"])
    except WriteError as exc:
        module.fail_json(msg="Failed to restore the previous files: %s" % exc)
    module.exit_json(changed=any(d["changed"] for d in done), restored=done)


if __name__ == "__main__":
    main()
