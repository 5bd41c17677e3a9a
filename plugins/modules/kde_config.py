#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: kde_config
short_description: Set or unset the keys a tuning owns in one KDE rc file, touching nothing else
version_added: 0.3.0
description:
  - Edits one KDE configuration file (C(~/.config/kwinrc), C(kdeglobals), C(baloofilerc), ...) through the KConfig
    model of C(module_utils/kdeconfig); every line the settings do not name is given back byte for byte (comments,
    other groups and keys, their order, white space and line endings included).
  - Every setting of O(settings) is applied in order. A key set to the value and options it already has keeps its
    line as it is. A new key goes after the last entry of its group, a new group at the end of the file.
  - The rendered text is compared with the file. When they are equal the file is not written (its modification time
    stays). Otherwise it is replaced atomically by a temporary file in the same directory; the file keeps its mode
    and owner. When O(path) is a symbolic link, the file it points to is edited and the link stays.
  - A file KConfig would refuse, or a setting that would change an immutable (C([$i])) group, key or file, fails
    the task naming the file before anything is written, as KDE would ignore such a change.
author:
  - nixperf.tuning contributors (@nixperf)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
options:
  path:
    description: The rc file, for example C(~/.config/kwinrc).
    type: path
    required: true
  settings:
    description: The keys to set or remove, applied in order (a later setting of the same key wins).
    type: list
    elements: dict
    required: true
    suboptions:
      group:
        description:
          - The group path, outermost first; C([Compositing]), or C([Containments, '1', General]) for the nested
            group C([Containments][1][General]).
          - An empty list V([]) names the default group, the keys before the first group header (KConfig's
            C(<default>) group).
        type: list
        elements: str
        required: true
      key:
        description: The key, without locale or options.
        type: str
        required: true
      value:
        description:
          - The value, as KDE reads it (KConfig's escapes are written as needed). Quote booleans and numbers in YAML
            (V('false'), V('0.5')) so they reach the file as written.
          - Required with O(settings[].state=present); ignored with O(settings[].state=absent).
        type: str
      state:
        description: V(present) sets the key, V(absent) removes every line of it (nothing when it is not there).
        type: str
        choices: [present, absent]
        default: present
      immutable:
        description: Write the entry as C(Key[$i]=value), so KDE never overrides it (with O(settings[].state=present)).
        type: bool
        default: false
      expand:
        description:
          - Write the entry as C(Key[$e]=value), so KDE expands C($HOME) and the like when reading it. Without it an
            existing C([$e]) is dropped when the value is rewritten, as KConfig's own C(writeEntry) does.
        type: bool
        default: false
      locale:
        description: The locale of a translated entry, C(Name[de]=...). Unset, the untranslated entry.
        type: str
  backup:
    description:
      - Before changing an existing file, keep a copy of it next to it, named C(<file>.<pid>.<date>@<time>~), and
        return it as RV(backup_file).
    type: bool
    default: false
  create:
    description:
      - Create the file (and its parent directories) when it is missing. With V(false), a missing file fails the
        task.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Computes the new text and reports RV(changed_keys) and the diff exactly; writes nothing.
  diff_mode:
    support: full
    details: The whole text of the file before and after.
  platform:
    platforms: posix
notes:
  - KDE programs rewrite their rc files when they save settings. Apply while the owning program does not run, or
    expect it to keep its own value in memory until restarted (C(kwin --replace), C(qdbus org.kde.KWin /KWin
    reconfigure)).
seealso:
  - name: KConfig file format (KDE Frameworks, C(src/core/kconfigini.cpp))
    description: The parser and writer the model follows.
    link: https://invent.kde.org/frameworks/kconfig/-/blob/master/src/core/kconfigini.cpp
"""

EXAMPLES = r"""
- name: KWin renders with OpenGL
  nixperf.tuning.kde_config:
    path: ~/.config/kwinrc
    settings:
      - group: [Compositing]
        key: Backend
        value: OpenGL

- name: Halve the animation durations, keeping a backup of kdeglobals
  nixperf.tuning.kde_config:
    path: ~/.config/kdeglobals
    backup: true
    settings:
      - group: [KDE]
        key: AnimationDurationFactor
        value: '0.5'

- name: Switch the Baloo file indexer off, and drop a key the tuning owned before
  nixperf.tuning.kde_config:
    path: ~/.config/baloofilerc
    settings:
      - group: [Basic Settings]
        key: Indexing-Enabled
        value: 'false'
      - group: [General]
        key: only basic indexing
        state: absent

- name: Lock a KWin plugin off so that System Settings cannot turn it on again
  nixperf.tuning.kde_config:
    path: ~/.config/kwinrc
    mode: '0600'
    settings:
      - group: [Plugins]
        key: wobblywindowsEnabled
        value: 'false'
        immutable: true
"""

RETURN = r"""
path:
  description: The file edited (a symbolic link resolved).
  returned: always
  type: str
  sample: /home/mitsio/.config/kwinrc
changed_keys:
  description:
    - The settings that changed the file (or would, in check mode), as C(group/.../key), C(key[locale]) for a
      translated entry; a key of the default group has no group part. Each key once, in the order of O(settings).
  returned: always
  type: list
  elements: str
  sample: [Compositing/Backend, KDE/AnimationDurationFactor]
backup_file:
  description: The copy of the file kept before the change.
  returned: when O(backup) is set and an existing file was changed
  type: str
  sample: /home/mitsio/.config/kwinrc.4242.2026-11-24@10:00:00~
created:
  description: Whether the file did not exist and was (or would be, in check mode) created. A missing file that
    the settings leave empty (only O(settings[].state=absent)) is not created.
  returned: always
  type: bool
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: 2 key(s) changed in /home/mitsio/.config/kwinrc
"""

import os  # noqa: E402
import tempfile  # noqa: E402
from typing import Any, Dict, List, Optional, Tuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402
from ansible_collections.nixperf.tuning.plugins.module_utils.kdeconfig import KConfigDoc, KConfigError  # noqa: E402

SETTING_SPEC: Dict[str, Any] = dict(
    group=dict(type="list", elements="str", required=True),
    key=dict(type="str", required=True, no_log=False),
    value=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    immutable=dict(type="bool", default=False),
    expand=dict(type="bool", default=False),
    locale=dict(type="str"),
)

ARGUMENT_SPEC: Dict[str, Any] = dict(
    path=dict(type="path", required=True),
    settings=dict(type="list", elements="dict", required=True, options=SETTING_SPEC),
    backup=dict(type="bool", default=False),
    create=dict(type="bool", default=True),
)


def key_label(setting: Dict[str, Any]) -> str:
    """``group/.../key`` (``key[locale]`` for a translated entry) for messages and ``changed_keys``."""
    name = setting["key"] + ("[%s]" % setting["locale"] if setting.get("locale") is not None else "")
    return "/".join(list(setting["group"]) + [name])


def validate(settings: List[Dict[str, Any]]) -> Optional[str]:
    """The first problem of ``settings`` the argument spec cannot express, or None."""
    for index, setting in enumerate(settings):
        if setting["state"] == "present" and setting.get("value") is None:
            return "settings[%d] (%s): value is required when state is present" % (index, key_label(setting))
    return None


def apply_settings(text: str, settings: List[Dict[str, Any]]) -> Tuple[str, List[str]]:
    """Apply ``settings`` to the rc file ``text``: the new text and the labels of the keys that changed it.

    A key that already has the value and options asked for keeps its line. Raises ``KConfigError`` for a file
    KConfig refuses and for a change to an immutable entry.
    """
    doc = KConfigDoc.parse(text)
    changed: List[str] = []
    for setting in settings:
        group, key, locale = setting["group"], setting["key"], setting.get("locale")
        before = doc.render()
        if setting["state"] == "absent":
            doc.unset(group, key, locale)
        else:
            doc.ensure(group, key, setting["value"], immutable=setting["immutable"], locale=locale,
                       expand=setting["expand"])
        if doc.render() != before and key_label(setting) not in changed:
            changed.append(key_label(setting))
    return doc.render(), changed


def read_text(path: str) -> Optional[str]:
    """The file's text (line endings as they are), or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    return data.decode("utf-8")


def write_text(module: AnsibleModule, path: str, text: str) -> None:
    """Replace ``path`` atomically by a file holding ``text``, from a temporary file in the same directory."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, add_file_common_args=True, supports_check_mode=True)
    params = module.params
    path = os.path.realpath(params["path"])
    settings: List[Dict[str, Any]] = params["settings"]
    problem = validate(settings)
    if problem:
        module.fail_json(msg=problem, path=path)
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not a KDE rc file" % path, path=path)

    try:
        original = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, to_native(exc)), path=path)
    if original is None and not params["create"]:
        module.fail_json(msg="%s does not exist (create=false)" % path, path=path)
    before = original or ""
    try:
        after, changed_keys = apply_settings(before, settings)
    except KConfigError as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), path=path)

    changed = after != before
    created = original is None and changed
    result: Dict[str, Any] = dict(path=path, changed_keys=changed_keys, created=created)
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    if changed and not module.check_mode:
        try:
            if created:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            elif params["backup"]:
                result["backup_file"] = module.backup_local(path)
            write_text(module, path, after)
        except OSError as exc:
            module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)), path=path)
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    result["changed"] = changed
    result["msg"] = "%d key(s) changed in %s%s" % (len(changed_keys), path, " (created)" if created else "")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
