# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KDE background services: Baloo, Akonadi and autostart entries (KubeVirt plan phase 3, workstation plan phase 4).

* Baloo cannot be removed through NixOS (``environment.plasma6.excludePackages`` cannot drop it): it is switched off
  per user in ``baloofilerc [Basic Settings] Indexing-Enabled=false``.  Kept on, it is tuned there instead:
  ``[General] only basic indexing=true`` (file names, no contents), ``index hidden folders=false`` and the plan's
  ``exclude folders``, written as Baloo itself writes paths (``[$e]`` with ``$HOME``, expanded by KConfig for each
  user) plus the user's own additions.
* Akonadi: ``programs.kde-pim.enable = false`` (Plasma 6 turns it on; nixpkgs ``nixos/modules/programs/kde-pim.nix``).
* Further autostart entries: ``~/.config/autostart/<name>.desktop`` with ``[Desktop Entry] Hidden=true``, the XDG
  autostart way for a user to switch off a system-wide entry of the same name.

By default the switches are on for VMs (``virtualization.guest``) and off for a workstation, as the plans say.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey, kde_file, realize
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

# The workstation plan's Baloo exclude list (phase 4), as Baloo writes it: $HOME expanded by KConfig ([$e]).
BALOO_EXCLUDE = ("$HOME/.cache", "$HOME/.local/share/Trash", "$HOME/.nix-profile", "$HOME/.nix-defexpr", "/nix/store",
                 "$HOME/node_modules", "$HOME/.cargo", "$HOME/.rustup")
_AUTOSTART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def _folder(inp: Inputs, entry: Any) -> str:
    var = inp.prefix + "baloo_exclude"
    if not isinstance(entry, str) or not entry.strip():
        raise inp.fail(var, "holds %r: entries are folders (~/x, $HOME/x or /absolute)" % (entry,))
    entry = entry.strip().rstrip("/") or "/"
    if entry.startswith("~/") or entry == "~":
        entry = "$HOME" + entry[1:]
    if not (entry.startswith("/") or entry.startswith("$HOME")):
        raise inp.fail(var, "holds %r: folders are ~/x, $HOME/x or /absolute" % (entry,))
    if "," in entry or "\n" in entry:
        raise inp.fail(var, "holds %r: a comma or newline would split the list Baloo reads" % (entry,))
    return entry


def baloo_keys(inp: Inputs, off: bool) -> List[OwnedKey]:
    rc = kde_file("baloofilerc")
    if off:
        return [OwnedKey(rc, ("Basic Settings",), "Indexing-Enabled", "false")]
    folders: List[str] = []
    for entry in list(BALOO_EXCLUDE) + list(inp["baloo_exclude"] or []):
        folder = _folder(inp, entry)
        if folder not in folders:
            folders.append(folder)
    return [
        OwnedKey(rc, ("General",), "exclude folders", ",".join(folders), expand=True),
        OwnedKey(rc, ("General",), "index hidden folders", "false"),
        OwnedKey(rc, ("General",), "only basic indexing", "true"),
    ]


def autostart_keys(inp: Inputs) -> List[OwnedKey]:
    keys = []
    for name in inp["autostart_off"] or []:
        if not isinstance(name, str) or not _AUTOSTART.fullmatch(name.replace(".desktop", "")):
            raise inp.fail(inp.prefix + "autostart_off", "holds %r: give the autostart entry's file name, e.g. "
                           "org.kde.kdeconnect.daemon" % (name,))
        base = name if name.endswith(".desktop") else name + ".desktop"
        keys.append(OwnedKey(".config/autostart/" + base, ("Desktop Entry",), "Hidden", "true"))
    return keys


def build(inp: Inputs) -> PhasePlan:
    guest = bool(inp.fact("virtualization.guest", False))
    baloo_off = inp["baloo_off"] if inp["baloo_off"] is not None else guest
    akonadi_off = inp["akonadi_off"] if inp["akonadi_off"] is not None else guest
    if baloo_off and inp["baloo_exclude"]:
        raise inp.fail(inp.prefix + "baloo_exclude", "is set while %sbaloo_off is true: a switched-off Baloo indexes "
                       "nothing; drop one" % inp.prefix)
    keys = baloo_keys(inp, baloo_off) + autostart_keys(inp)
    owned = {user: keys for user in inp.users}
    try:
        files, home, requires = realize(inp.host, inp.desktop, owned, inp.priority, "kde_services")
    except ValueError as exc:
        raise inp.fail("nixperf_desktop", str(exc)) from exc
    config: Dict[str, Any] = {}
    if akonadi_off:
        config = {"programs": {"kde-pim": {"enable": inp.owned(False)}}}
    return PhasePlan(
        phase="kde_services", config=config or None, home_config=home or None, home_requires=requires, files=files,
        keys=owned,
        enable=inp["enable"], home_enable=inp["enable"],
        derived={"baloo_off": baloo_off, "akonadi_off": akonadi_off,
                 "autostart_off": sorted(k.file.rsplit("/", 1)[1] for k in keys if k.file.startswith(".config/auto")),
                 "keys": [k.as_dict() for k in keys]},
        description="KDE background services switched off or tuned",
        note="Baloo %s; Akonadi %s; %d autostart entries hidden." % (
            "off" if baloo_off else "basic indexing", "off" if akonadi_off else "as NixOS sets it",
            len(inp["autostart_off"] or [])),
    )


PHASE = Phase(
    name="kde_services",
    order=85,
    title="Baloo, Akonadi and autostart entries off or tuned (KubeVirt plan phase 3, workstation plan phase 4)",
    description=(
        "Baloo off per user (C(baloofilerc [Basic Settings] Indexing-Enabled=false); NixOS cannot remove it), or "
        "tuned (basic indexing, hidden folders off, the plan's exclude list plus O(kde_services_baloo_exclude)).",
        "Akonadi off through C(programs.kde-pim.enable = false) (NixOS module C(nixperf/kde_services.nix)).",
        "Autostart entries of O(kde_services_autostart_off) hidden per user (C(~/.config/autostart/<name>.desktop) "
        "C(Hidden=true)).",
        "Each switch on its own; on by default for VMs (C(nixperf_hardware.virtualization.guest)), off for a "
        "workstation. Switched off, the keys get back the values they had before.",
    ),
    facts=(),
    users=True,
    tags=("kde", "baloo", "akonadi", "desktop"),
    build=build,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.kde_services.enable) in the generated modules."),
        Setting("baloo_off", "bool", None, "Switch Baloo file indexing off; null = on a VM, not on a workstation."),
        Setting("akonadi_off", "bool", None, "Switch Akonadi off (C(programs.kde-pim.enable = false)); null = on a "
                "VM, not on a workstation."),
        Setting("baloo_exclude", "list", [], "Folders Baloo skips besides the plan's list (C(~/x), C($HOME/x) or "
                "absolute); only while Baloo stays on.", elements="str"),
        Setting("autostart_off", "list", [], "Autostart entries (file names of C(/etc/xdg/autostart), without or "
                "with C(.desktop)) hidden for every user.", elements="str"),
    ),
)
