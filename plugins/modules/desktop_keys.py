#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: desktop_keys
short_description: Put the keys the desktop phases own in the users' KDE and RustDesk files, and give them back
version_added: 0.3.0
description:
  - KDE and RustDesk rewrite their own configuration files, so the collection never writes them whole. The desktop
    phases (C(plasma), C(kde_services), C(rustdesk)) name the keys they own; this module puts exactly those keys in
    place for each user and leaves every other byte of the files alone.
  - Before a key is set for the first time, its current value (or its absence) and its KConfig options are recorded
    in the user's C(~/.local/state/nixperf/owned-keys.json). A recorded key that no phase owns any more (a phase
    switched off, a setting removed) is put back to that value, or removed when it was not there, and forgotten.
  - The owned KDE keys are set by the host's backend (O(backend)). V(direct) edits the files here through the
    KConfig model of C(module_utils/kdeconfig). V(chezmoi) runs C(chezmoi apply --no-tty --source <source>
    --destination <home> --force -- <files>) for the files whose owned keys differ, as the user, after the writer
    put the C(modify_) scripts in the source directory; the result is compared with what the keys give. With no
    C(chezmoi) on the host (PATH, C(/etc/profiles/per-user/<user>/bin), C(~/.nix-profile/bin),
    C(/run/current-system/sw/bin)) the task fails saying so. V(plasma_manager) leaves the keys to home-manager
    (the values are only recorded and given back here). RustDesk's TOML keys are always set here.
  - A service whose files change (RustDesk's C(rustdesk.service)) is stopped first when it runs and started again
    afterwards, as it rewrites its files while running. KWin rereads C(kwinrc) at once (C(dbus-send --session
    --dest=org.kde.KWin /KWin org.kde.KWin.reconfigure)) when the user's session bus exists; other changes are
    reported in RV(needs_login).
  - In render mode (O(mode=render)) no command runs and the files under O(root) are edited.
author:
  - nixperf.tuning contributors (@nixperf)
options:
  root:
    description: The host's root (C(/) in apply mode, C(build/<host>) in render mode).
    type: path
    default: /
  mode:
    description: V(apply) runs chezmoi, systemctl and the KWin reload; V(render) only edits files under O(root).
    type: str
    choices: [render, apply]
    default: render
  backend:
    description: Who sets the KDE keys (C(nixperf_desktop.backend)).
    type: str
    choices: [chezmoi, plasma_manager, direct]
    default: chezmoi
  users:
    description: Every user of the host, with the keys the phases own for them (an empty list gives back all).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The user.
        type: str
        required: true
      home:
        description: The home directory; default C(<root>/home/<name>).
        type: path
      keys:
        description: The owned keys, as C(module_utils/desktop.OwnedKey) mappings (C(file), C(group), C(key),
          C(value), C(immutable), C(expand), C(format), C(live), C(unit)).
        type: list
        elements: dict
        default: []
      chezmoi_scripts:
        description: The planned files of the chezmoi source directory (relative path to text), laid over a
          scratch copy of the source for C(chezmoi apply --dry-run) in check mode.
        type: dict
        default: {}
  store:
    description: The record of the original values, relative to the home directory.
    type: str
    default: .local/state/nixperf/owned-keys.json
  chezmoi_source:
    description: The chezmoi source directory, relative to the home directory (C(nixperf_chezmoi_source)).
    type: str
    default: .local/share/chezmoi
  reload:
    description: Ask a running KWin to reread C(kwinrc) after a change (C(nixperf_desktop_reload)).
    type: bool
    default: true
  scope:
    description:
      - The phases this run speaks for. A recorded key of a phase outside the scope is neither given back nor
        forgotten (a phase role run on its own speaks for its phase only). Unset, every recorded key is in scope.
    type: list
    elements: str
  host:
    description: The host's name in messages.
    type: str
    default: target
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Predicts every change with the same models and writes nothing; with the chezmoi backend it runs
      C(chezmoi apply --dry-run --verbose) over a scratch copy of the source holding the planned scripts.
  diff_mode:
    support: full
    details: Before and after of every file this module edits, and the text chezmoi is expected to give.
  platform:
    platforms: posix
notes:
  - Commands run as the user through C(runuser -u <user> -- env HOME=<home> ...) when the module runs as root.
seealso:
  - module: nixperf.tuning.kde_config
  - name: chezmoi modify_ scripts
    description: How chezmoi runs a modify script with the target's contents on stdin.
    link: https://www.chezmoi.io/user-guide/manage-different-types-of-file/#handle-configuration-files-which-are-externally-modified
"""

EXAMPLES = r"""
- name: Put the owned desktop keys in place (the plan of this play's phases; what playbooks/nixos.yml runs)
  nixperf.tuning.desktop_keys:

- name: Give back every key the collection set for a user
  nixperf.tuning.desktop_keys:
    mode: apply
    backend: direct
    users:
      - name: mitsio
        keys: []
"""

RETURN = r"""
users:
  description: Per user, C(recorded), C(restored) and C(set) keys (C(<file> [group] key)), the C(pending) ones
    another program sets (home-manager, or chezmoi in render and check mode), the C(files) edited here, the
    C(chezmoi_targets), the C(restarted) units and what was C(reloaded).
  returned: always
  type: list
  elements: dict
needs_login:
  description: Changed keys that take effect at the next login.
  returned: success
  type: list
  elements: str
commands:
  description: Every command line run, in order.
  returned: always
  type: list
  elements: list
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.desktop_sync import desktop_keys_spec, sync  # noqa: E402


def main() -> None:
    module = AnsibleModule(argument_spec=desktop_keys_spec(), supports_check_mode=True)
    result = sync(module, module.params)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
