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
  - For each directory in O(indexes), a C(default.nix) is generated that imports the generated modules in that
    directory.
  - With O(root), the writer owns what it wrote. It keeps a record of every file it generated below the root
    (C(<root>/var/lib/nixperf/manifest.json), with each file's path relative to the root, owning phase and content hash). Every recorded
    file of a phase in O(scope) that O(files) no longer contains is removed, after a backup next to it (named like
    the backups of replaced files, whatever O(backup) says), and dropped from its directory's C(default.nix); a directory left without
    modules keeps a C(default.nix) with C(imports = [ ];), so the host's C(./nixperf) import still evaluates.
    Phases outside O(scope) keep their files, and files the writer did not generate are never touched nor
    imported. Generated files found in the index directories (the collection's header, named C(<phase>.nix), or a
    data file in C(profile/)) are adopted into the record, so hosts written before the record existed upgrade
    cleanly. Removals happen only after every new file validated.
  - Without O(root) no record is kept, nothing is removed, and C(default.nix) imports the planned modules plus
    every file in the directory carrying the generated header.
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
      phase:
        description:
          - The phase that owns the file, recorded with O(root). A file without a phase is owned by the writer
            itself and is never removed as stale.
        type: str
  indexes:
    description:
      - Directories that get a generated C(default.nix) importing the generated modules in them (with O(root), the
        ones the writer owns there). With O(root), every directory whose C(default.nix) the writer generated
        earlier is regenerated too, so it never imports a removed module.
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
  root:
    description:
      - The host's root (C(/) on a real host, C(build/<host>) in render mode). With it the writer keeps its record
        of generated files in C(<root>/var/lib/nixperf/manifest.json) and removes the stale files of O(scope).
      - Every file of O(files) must be below it. O(plan) sets it from the plan's C(root).
    type: path
  scope:
    description:
      - With O(root), the phases this batch speaks for. Recorded files of these phases that O(files) no longer
        contains are removed. Unset, the phases of O(files). A phase role used on its own speaks for its own
        phase only, so it never removes the files of the others.
    type: list
    elements: str
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
  home_shadow:
    description:
      - Check mode only. Like O(shadow), for each user's home-manager configuration directory, so that a
        home-manager build can evaluate exactly what a real run would leave. Files the write would remove are
        absent from every shadow copy. The caller removes them (RV(home_shadows)).
    type: list
    elements: dict
    default: []
    suboptions:
      user:
        description: The user, the key of RV(home_shadows).
        type: str
        required: true
      source:
        description: The user's configuration directory, e.g. C(/home/mitsio/.config/home-manager).
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
      - A host's plan (the C(plan) the phase actions build). Its C(files), C(indexes), C(require_import), C(root)
        and C(scope) stand in for O(files), O(indexes), O(require_import), O(root) and O(scope). Handled by the
        action plugin.
      - In an apply-mode plan O(backup) defaults to V(true), and in check mode O(shadow) and O(home_shadow) are
        derived from the plan's C(root), C(home_configs) and O(shadow_dir).
      - In an apply-mode plan with C(live_cpu.enabled), the action first runs M(nixperf.tuning.hardware_facts) on
        the host with every value of C(cpu_targets.march) and C(cpu_targets.goamd64), reading the CPU under
        C(live_cpu.root), and fails naming the host, each value the CPU cannot run, the flags it lacks and the
        variables to change, before anything is written (check mode too). The live facts are returned as
        C(nixperf_live_hardware).
    type: dict
  shadow_dir:
    description:
      - With O(plan) in apply mode and check mode, where the shadow copy goes. Defaults to
        C(<root>/tmp/nixperf-shadow); the users' copies go to C(<shadow_dir>-home/<user>).
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
notes:
  - The record of generated files is bookkeeping, not configuration; writing it alone never makes the task
    changed (so the first run after an upgrade, which adopts the files, reports V(false) when nothing else
    changes), and an unchanged record is never rewritten.
seealso:
  - module: nixperf.tuning.nix_file
  - module: nixperf.tuning.restore_files
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

- name: Write the memory phase and remove the files of gpu_video, switched off
  nixperf.tuning.write_files:
    root: /
    scope: [memory, gpu_video]
    backup: true
    files:
      - path: /etc/nixos/nixperf/memory.nix
        phase: memory
        module:
          phase: memory
          config:
            zramSwap: {enable: true}
    indexes:
      - /etc/nixos/nixperf
  register: write_result
"""

RETURN = r"""
files:
  description:
    - One entry per file (index files included) with C(path), C(changed), C(created), C(validated) and
      C(backup_file).
    - A removed file has C(removed=true), C(changed=true) and its C(backup_file).
    - With O(root), a last entry C(manifest=true) for the record of generated files (C(changed), C(created),
      C(backup_file) when the write kept backups), so that M(nixperf.tuning.restore_files) restores it too.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/nixos/nixperf/memory.nix, changed: true, created: false, validated: true}
    - {path: /etc/nixos/nixperf/gpu_video.nix, changed: true, removed: true,
       backup_file: "/etc/nixos/nixperf/gpu_video.nix.4242.2026-11-23@10:00:00~"}
    - {path: /var/lib/nixperf/manifest.json, manifest: true, changed: true, created: false}
changed_files:
  description: Paths whose content or attributes changed or that were removed (or would be, in check mode). Never
    the record of generated files.
  returned: always
  type: list
  elements: str
  sample: [/etc/nixos/nixperf/memory.nix, /etc/nixos/nixperf/default.nix, /etc/nixos/nixperf/gpu_video.nix]
removed_files:
  description: Stale files removed (or that would be removed in check mode); a subset of RV(changed_files).
  returned: always
  type: list
  elements: str
  sample: [/etc/nixos/nixperf/gpu_video.nix]
shadow_root:
  description: The shadow copy made in check mode with O(shadow).
  returned: in check mode with O(shadow)
  type: str
home_shadows:
  description: The shadow copy of each user's home-manager configuration made in check mode with O(home_shadow).
  returned: in check mode with O(home_shadow)
  type: dict
  sample: {mitsio: /tmp/nixperf-shadow-home/mitsio}
ansible_facts:
  description: C(nixperf_live_hardware), the live hardware read by the live CPU guard (see O(plan)).
  returned: with an apply-mode O(plan) whose C(live_cpu) is enabled
  type: dict
live_cpu:
  description: C(march_ok), C(goamd64_ok) and C(mismatches) of the live CPU guard (see M(nixperf.tuning.hardware_facts)).
  returned: with an apply-mode O(plan) whose C(live_cpu) is enabled
  type: dict
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: 3 of 3 file(s) changed (1 removed)
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
