#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: write_files
short_description: Write a batch of generated files in one round trip, all or nothing
version_added: 0.1.0
description:
  - Writes every file of O(files) on the target in one module call, so a host pays one round trip for a whole run
    instead of one per file.
  - Each entry is given as literal O(files[].content), as O(files[].data) rendered by the Nix serializer, or as a
    phase O(files[].module). Rendering happens on the controller (action plugin).
  - All changed files are staged, then all changed C(.nix) files are validated with one C(nix-instantiate --parse);
    only when every file is valid are they backed up (O(backup)) and moved into place. A failure leaves every
    destination untouched.
  - For each directory in O(indexes), a C(default.nix) is generated that imports every generated module in that
    directory (those planned now and those written earlier, recognised by their header).
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - nixperf.tuning.generated_file
  - nixperf.tuning.generated_file.attributes
options:
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path on the target; parent directories are created.
        type: path
        required: true
      content:
        description: Literal text. Exactly one of O(files[].content), O(files[].data) and O(files[].module).
        type: str
      data:
        description: Data rendered as a Nix expression (see M(nixperf.tuning.nix_file) for the markers).
        type: raw
      module:
        description: A phase module (C(phase), C(config), C(description), C(enable)), see M(nixperf.tuning.nix_file).
        type: dict
        suboptions:
          phase:
            description: Phase name, C([a-z][a-z0-9_]*); the option path is C(nixperf.<phase>).
            type: str
            required: true
          config:
            description: The module's configuration as data (same rules as O(files[].data)).
            type: dict
            required: true
          description:
            description: What the phase does, for the enable option's description.
            type: str
          enable:
            description: Default of C(nixperf.<phase>.enable). V(false) keeps the module but makes it inert.
            type: bool
            default: true
      raw_fragments:
        description: Raw Nix fragments embedded in O(files[].content), filled in by the action plugin.
        type: list
        elements: str
        default: []
      mode:
        description: Permissions of the file.
        type: raw
        default: '0644'
      validate:
        description: Whether this file takes part in O(validate) (only C(.nix) files ever do).
        type: bool
        default: true
  indexes:
    description: Directories that get a generated C(default.nix) importing every generated module in them.
    type: list
    elements: path
    default: []
  require_import:
    description:
      - Fail before writing anything unless one of O(require_import.candidates) imports O(require_import.directory)
        (C(./nixperf), C(./nixperf/default.nix) or the absolute path; comments do not count).
      - Used in apply mode, where generated modules nobody imports would be dead weight.
    type: dict
    suboptions:
      directory:
        description: The generated directory.
        type: path
        required: true
      candidates:
        description: Files of the host's own configuration that may import it.
        type: list
        elements: path
        required: true
  role:
    description:
      - Name written into the header comment of each generated file, so a reader knows which role owns it.
    type: str
    default: write_files
  shadow:
    description:
      - Check mode only. Copy O(shadow.source) (the host's configuration directory) to O(shadow.dest) and lay the
        planned files over the copy, so that a dry-build can evaluate exactly what a real run would switch to.
        The host's own files are not touched; the caller removes O(shadow.dest).
    type: dict
    suboptions:
      source:
        description: The configuration directory, e.g. C(/etc/nixos).
        type: path
        required: true
      dest:
        description: Where the shadow copy goes (replaced if it exists).
        type: path
        required: true
  host:
    description: Inventory name of the host, for error messages. The action plugin sets it.
    type: str
    default: target
  plan:
    description:
      - A host's plan (the C(nixperf_plan) fact the phase actions build). Its files, index directories and import
        requirement stand in for O(files), O(indexes) and O(require_import). Handled by the action plugin.
      - In an apply-mode plan O(backup) defaults to V(true), and in check mode O(shadow) is derived from the plan's
        root and O(shadow_dir).
    type: dict
  shadow_dir:
    description:
      - With O(plan) in apply mode and check mode, where the shadow copy goes. Defaults to C(<root>/tmp/nixperf-shadow).
    type: path
  in_process:
    description:
      - When the target is the controller itself as the same user (a local connection without become, for example
        render mode), run the batch in the controller process instead of starting a module, with the same checks,
        validation and result, without the module start-up cost. Files with a non-octal O(files[].mode) always go
        through the module.
      - The module itself ignores this option.
    type: bool
    default: true
seealso:
  - module: nixperf.tuning.nix_file
"""

EXAMPLES = r"""
- name: Write two phase modules and their index in one round trip
  nixperf.tuning.write_files:
    role: memory
    backup: true
    files:
      - path: /etc/nixos/nixperf/memory.nix
        module:
          phase: memory
          config:
            zramSwap: {enable: true, algorithm: zstd, memoryPercent: 75, priority: 100}
      - path: /etc/nixos/nixperf/notes.txt
        content: "generated by nixperf.tuning\n"
    indexes:
      - /etc/nixos/nixperf
    require_import:
      directory: /etc/nixos/nixperf
      candidates: [/etc/nixos/configuration.nix, /etc/nixos/flake.nix]
"""

RETURN = r"""
files:
  description: One entry per file (index files included) with C(path), C(changed), C(validated) and C(backup_file).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nixos/nixperf/memory.nix, changed: true, validated: true}]
changed_files:
  description: Paths whose content or attributes changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/nixos/nixperf/memory.nix, /etc/nixos/nixperf/default.nix]
shadow_root:
  description: The shadow copy made in check mode with O(shadow).
  returned: in check mode with O(shadow)
  type: str
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: 2 of 2 file(s) changed
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.files import (  # noqa: E402
    WriteError,
    write_batch,
    write_files_spec,
)


def main() -> None:
    module = AnsibleModule(argument_spec=write_files_spec(), add_file_common_args=True, supports_check_mode=True)
    try:
        result = write_batch(module, module.params)
    except WriteError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
