# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys a desktop phase owns in a user's own configuration files (KDE rc files, RustDesk's TOML files).

KDE and RustDesk rewrite their files themselves, so a phase never writes such a file whole: it names the keys it
owns (``OwnedKey``), and a backend puts exactly those keys in place:

``chezmoi``
    a ``modify_`` script per file in the user's chezmoi source directory (``module_utils/chezmoi.py``), applied with
    ``chezmoi apply`` on the host;
``plasma_manager``
    a home-manager module setting ``programs.plasma.configFile`` (``module_utils/plasma_manager.py``);
``direct``
    the files edited on the host through the KConfig model (``module_utils/kdeconfig.py``) or the TOML table
    editor (``module_utils/tomlkeys.py``).

Whatever the backend, the host-side step (module ``desktop_keys``) keeps the value each key had before the
collection first set it, and puts it back when no phase owns the key any more.
"""
from __future__ import annotations

from dataclasses import dataclass
import posixpath
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

BACKENDS = ("chezmoi", "plasma_manager", "direct")
BACKEND_VAR = "nixperf_desktop.backend"
SOURCE_VAR = "nixperf_desktop.chezmoi_source"
DEFAULT_BACKEND = "chezmoi"
FORMATS = ("kconfig", "toml")
LIVE = ("kwin", "live", "service", "login")
# chezmoi's default source directory, relative to the home directory
CHEZMOI_SOURCE = ".local/share/chezmoi"


@dataclass(frozen=True)
class OwnedKey:
    """One key a phase owns.

    ``file`` is relative to the home directory (``.config/kwinrc``); ``group`` the group path, outermost first
    (``("Compositing",)``; for TOML the table, ``("options",)``); ``value`` the text the program reads, or None to
    remove the key; ``immutable`` writes KConfig's ``[$i]`` lock, ``expand`` its ``[$e]`` (``$HOME`` expanded on
    read).  ``live`` says how the running program picks the change up: ``"kwin"`` (KWin's D-Bus ``reconfigure``),
    ``"live"`` (read at once, e.g. ``AnimationDurationFactor``), ``"service"`` (the owning service restarts) or
    ``"login"`` (a new login).  ``unit`` names the systemd unit of ``"service"``.
    """

    file: str
    group: Tuple[str, ...]
    key: str
    value: Optional[str]
    immutable: bool = False
    expand: bool = False
    format: str = "kconfig"
    live: str = "login"
    # with live "service": the systemd unit stopped while the file is edited and started after
    unit: Optional[str] = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError("owned key %s: format must be one of %s" % (self.key, ", ".join(FORMATS)))
        if not self.file or self.file.startswith("/") or ".." in self.file.split("/"):
            raise ValueError("owned key %s: file %r must be a path below the home directory" % (self.key, self.file))
        if self.live not in LIVE:
            raise ValueError("owned key %s: live must be one of %s" % (self.key, ", ".join(LIVE)))
        if (self.live == "service") != bool(self.unit):
            raise ValueError("owned key %s: a unit goes with live 'service', and only there" % self.key)
        if self.format == "toml" and (self.immutable or self.expand):
            raise ValueError("owned key %s: [$i] and [$e] are KConfig options, not TOML" % self.key)

    def as_dict(self) -> Dict[str, Any]:
        return {"file": self.file, "group": list(self.group), "key": self.key, "value": self.value,
                "immutable": self.immutable, "expand": self.expand, "format": self.format, "live": self.live, "unit": self.unit}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "OwnedKey":
        return cls(file=data["file"], group=tuple(data["group"]), key=data["key"], value=data.get("value"),
                   immutable=bool(data.get("immutable", False)), expand=bool(data.get("expand", False)),
                   format=data.get("format", "kconfig"), live=data.get("live", "login"), unit=data.get("unit"))


def by_file(keys: Iterable[OwnedKey]) -> Dict[str, List[OwnedKey]]:
    """The keys grouped by file, files in name order, keys in the order given."""
    out: Dict[str, List[OwnedKey]] = {}
    for k in keys:
        out.setdefault(k.file, []).append(k)
    return dict(sorted(out.items()))


def kde_file(name: str) -> str:
    """The path of a KDE rc file below the home directory (``kwinrc`` -> ``.config/kwinrc``)."""
    return ".config/" + name


def backend_of(host: str, desktop: Optional[Mapping[str, Any]]) -> str:
    """The host's backend (``nixperf_desktop.backend``, default chezmoi); the schema checked its value."""
    backend = (desktop or {}).get("backend") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError("host %s: %s must be one of %s, got %r" % (host, BACKEND_VAR, ", ".join(BACKENDS), backend))
    return backend


def chezmoi_source_of(host: str, desktop: Optional[Mapping[str, Any]]) -> str:
    """The users' chezmoi source directory below their home (``nixperf_desktop.chezmoi_source``)."""
    source = (desktop or {}).get("chezmoi_source") or CHEZMOI_SOURCE
    norm = posixpath.normpath(source)
    if posixpath.isabs(source) or norm == "." or norm.startswith(".."):
        raise ValueError("host %s: %s must be a directory below the home directory (e.g. %s), got %r"
                         % (host, SOURCE_VAR, CHEZMOI_SOURCE, source))
    return norm


Realized = Tuple[Dict[str, Any], Optional[Dict[str, Any]], Optional[Tuple[Tuple[str, ...], str]]]


def realize(host: str, desktop: Optional[Mapping[str, Any]], keys: Mapping[str, List[OwnedKey]],
            priority: int, phase: str) -> Realized:
    """The backend's share of a phase's owned keys: ``(files, home_config, home_requires)``.

    ``chezmoi``: a ``modify_`` script per KDE rc file in each user's chezmoi source directory (``files``, paths
    below the host's root); ``plasma_manager``: the ``programs.plasma.configFile`` home-manager config (the same
    for every user, so the keys must be) and the guard for plasma-manager's options; ``direct``: nothing (the host-side step edits the files). TOML keys
    (RustDesk) never go to a backend: the host-side step sets them with the service stopped.
    """
    backend = backend_of(host, desktop)
    kde = {user: [k for k in owned if k.format == "kconfig"] for user, owned in keys.items()}
    kde = {user: owned for user, owned in kde.items() if owned}
    files: Dict[str, Any] = {}
    if not kde or backend == "direct":
        return files, None, None
    # the backends' modules import this one: each is imported here, when a phase realizes keys through it
    if backend == "chezmoi":
        source = chezmoi_source_of(host, desktop)
        from ansible_collections.nixperf.tuning.plugins.module_utils import chezmoi

        for user, owned in sorted(kde.items()):
            for rel, spec in sorted(chezmoi.kde_tree(owned).items()):
                files[posixpath.join("home", user, source, rel)] = spec
        return files, None, None
    from ansible_collections.nixperf.tuning.plugins.module_utils import plasma_manager

    first = next(iter(kde.values()))
    if any(owned != first for owned in kde.values()):
        raise ValueError("host %s: the plasma_manager backend writes one home-manager module for every user, but "
                         "the users' keys differ" % host)
    return files, plasma_manager.home_config(first, priority), plasma_manager.requires(phase)


ALTERNATIVES_DIR = "alternatives"


def alternatives(host: str, desktop: Optional[Mapping[str, Any]], keys: Mapping[str, List[OwnedKey]], priority: int,
                 phase: str, role: str) -> Dict[str, Any]:
    """Render mode only: what the backends the host does not use would write, under ``alternatives/<backend>/``
    of the host's build directory, to compare before choosing one. Nothing reads them."""
    from ansible_collections.nixperf.tuning.plugins.module_utils import plasma_manager

    chosen = backend_of(host, desktop)
    kde = {user: [k for k in owned if k.format == "kconfig"] for user, owned in keys.items()}
    kde = {user: owned for user, owned in kde.items() if owned}
    out: Dict[str, Any] = {}
    if not kde:
        return out
    if chosen != "chezmoi":
        files, _home, _requires = realize(host, dict(desktop or {}, backend="chezmoi"), kde, priority, phase)
        out.update({posixpath.join(ALTERNATIVES_DIR, "chezmoi", rel): spec for rel, spec in files.items()})
    if chosen != "plasma_manager":
        for user, owned in sorted(kde.items()):
            text, _raw = plasma_manager.home_module(phase, owned, priority, role=role)
            out[posixpath.join(ALTERNATIVES_DIR, "plasma_manager", "home", user, phase + ".nix")] = text
    return out
