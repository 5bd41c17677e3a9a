#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: nix_file
short_description: Write one generated Nix file from data or text, atomically and validated
version_added: 0.1.0
description:
  - Writes one file on the target from structured data (rendered by the collection's Nix serializer), from a phase
    module description, or from literal O(content).
  - Rendering happens on the controller (action plugin); the target only compares, validates and writes.
  - The file is staged next to its destination, validated with C(nix-instantiate --parse) and moved into place
    atomically. Nothing is written when validation fails.
  - For many files at once (one round trip per host), use M(nixperf.tuning.write_files).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - nixperf.tuning.generated_file
  - nixperf.tuning.generated_file.content
  - nixperf.tuning.generated_file.attributes
options:
  path:
    description: Absolute path of the file on the target. Missing parent directories are created.
    type: path
    required: true
seealso:
  - module: nixperf.tuning.write_files
notes:
  - A NUL character, a lone surrogate, NaN, infinity, a subnormal float or an integer outside 64 bits cannot be
    represented in Nix; the task fails on the controller before touching the target.
"""

EXAMPLES = r"""
- name: Write a sysctl module by hand, with a forced value
  nixperf.tuning.nix_file:
    path: /etc/nixos/nixperf/extra.nix
    role: my_playbook
    module:
      phase: extra
      config:
        boot:
          kernel:
            sysctl:
              vm.swappiness: "{{ 67 | nixperf.tuning.nix_force }}"
        environment:
          systemPackages:
            - "{{ 'pkgs.zstd' | nixperf.tuning.nix_raw }}"
    backup: true

- name: Write plain data as a Nix expression (YAML markers instead of filters)
  nixperf.tuning.nix_file:
    path: /etc/nixos/nixperf/profile.nix
    data:
      cpu: {family: skylake, cores: 4}
      build: {system: {_nix: "builtins.currentSystem"}}
    validate: always

- name: Write a file as it is
  nixperf.tuning.nix_file:
    path: /etc/nixos/nixperf/hand.nix
    content: |
      { ... }: { }
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
  sample: /etc/nixos/nixperf/memory.nix
changed_files:
  description: Paths whose content or attributes changed (or would change in check mode).
  returned: always
  type: list
  elements: str
files:
  description: One entry per file with C(path), C(changed), C(validated) and C(backup_file) when a backup was made.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nixos/nixperf/memory.nix, changed: true, validated: true}]
backup_file:
  description: The backup of the previous file, when O(backup=true) and the file changed.
  returned: when a backup was made
  type: str
content:
  description: The rendered text (also in check mode).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.files import (  # noqa: E402
    CONTENT_EXCLUSIVE,
    CONTENT_REQUIRED,
    CONTENT_SPEC,
    VALIDATE_CHOICES,
    Batch,
    WriteError,
    result_message,
)


def main() -> None:
    spec = dict(
        path=dict(type="path", required=True),
        role=dict(type="str", default="nix_file"),
        validate=dict(type="str", choices=VALIDATE_CHOICES, default="auto"),
        backup=dict(type="bool", default=False),
    )
    spec.update(CONTENT_SPEC)
    module = AnsibleModule(
        argument_spec=spec,
        mutually_exclusive=CONTENT_EXCLUSIVE,
        required_one_of=CONTENT_REQUIRED,
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    batch = Batch(module, role=p["role"], validate=p["validate"], backup=p["backup"])
    try:
        batch.add(dict(path=p["path"], content=p["content"], data=p["data"], module=p["module"],
                       raw_fragments=p["raw_fragments"], mode=p["mode"] or "0644"))
        result = batch.run()
    except WriteError as exc:
        module.fail_json(msg="Failed to write %s: %s" % (p["path"], exc), path=p["path"])
    for m in batch.messages:
        module.warn(m)
    entry = result["files"][0]
    if "backup_file" in entry:
        result["backup_file"] = entry["backup_file"]
    result.update(path=p["path"], content=batch.entries[0]["content"],
                  msg=result_message(result, module.check_mode))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
