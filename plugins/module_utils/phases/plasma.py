# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KWin compositor, effects and animations for the host's GPU (workstation plan phase 4, KubeVirt plan phase 2).

Two profiles, chosen from the facts (``gpu.vendor``; ``none`` or an llvmpipe driver is software rendering):

* ``gpu``: ``kwinrc [Compositing] Enabled=true, Backend=OpenGL, GLTextureFilter=1`` (bilinear), blur on, the other
  expensive effects off, ``kdeglobals [KDE] AnimationDurationFactor=0.5``.
* ``software`` (a GPU-less VM on llvmpipe): on Wayland ``Backend=QPainter`` (KWin's only non-OpenGL backend; a
  Wayland session always composites), on X11 ``[Compositing] Enabled=false``; animations 0; every expensive effect
  off.

Keys KWin 6 no longer reads are never written (``GLCore``, ``MaxFPS``, ``RefreshRate``, ``LatencyPolicy``,
``VSync``), nor ``Backend=XRender`` (gone since Plasma 5.23: anything but QPainter is OpenGL); the plan's
``AnimationDurationFactor`` under ``kwinrc [Compositing]`` is read from ``kdeglobals [KDE]``. Session variables go
through home-manager: ``KWIN_OPENGL_INTERFACE=egl`` on X11 with a GPU (a Wayland KWin always uses EGL), the
NVIDIA driver's ``__GL_YIELD`` / ``__GL_MaxFramesAllowed`` only with NVIDIA's driver.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import OwnedKey, kde_file, realize
from ansible_collections.nixperf.tuning.plugins.module_utils.facts import SESSIONS
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Inputs, Phase, PhasePlan, Setting

PROFILES = ("gpu", "software")
# KWin 6 effect plugin ids (kwin src/plugins/<id>) that cost GPU or CPU time on every frame or window change.
EXPENSIVE_EFFECTS = ("blur", "contrast", "wobblywindows", "magiclamp", "slidingpopups", "translucency", "slide")
# Keys KWin 6 ignores (FACTS: kwin src/core/options, compositing keys read in Plasma 6); never written.
IGNORED_KEYS = ("GLCore", "MaxFPS", "RefreshRate", "LatencyPolicy", "VSync")
ANIMATION_FACTOR = {"gpu": "0.5", "software": "0"}
# GLTextureFilter: 0 nearest, 1 bilinear, 2 trilinear (KWin's default); bilinear costs less on an older GPU.
GL_TEXTURE_FILTER = "1"


def profile_of(inp: Inputs) -> str:
    if inp["profile"]:
        return inp["profile"]
    vendor = inp.fact("gpu.vendor")
    driver = inp.fact("gpu.driver", "") or ""
    return "software" if vendor == "none" or driver == "llvmpipe" else "gpu"


def _factor(inp: Inputs, profile: str) -> str:
    value = inp["animation_factor"]
    if value is None:
        return ANIMATION_FACTOR[profile]
    try:
        number = float(value)
    except ValueError as exc:
        raise inp.fail(inp.prefix + "animation_factor", "must be a number from 0 (no animations) to 10, got %r"
                       % (value,)) from exc
    if not 0 <= number <= 10:
        raise inp.fail(inp.prefix + "animation_factor", "must be a number from 0 (no animations) to 10, got %r"
                       % (value,))
    return ("%g" % number)


def kde_keys(inp: Inputs, profile: str, session: str) -> List[OwnedKey]:
    """The kwinrc and kdeglobals keys of the profile."""
    lock = inp["lock"]
    kwinrc, kdeglobals = kde_file("kwinrc"), kde_file("kdeglobals")

    def kwin(group: str, key: str, value: str, live: str = "kwin") -> OwnedKey:
        return OwnedKey(kwinrc, (group,), key, value, immutable=lock, live=live)

    keys: List[OwnedKey] = []
    if profile == "gpu":
        keys += [kwin("Compositing", "Enabled", "true", "login"), kwin("Compositing", "Backend", "OpenGL", "login"),
                 kwin("Compositing", "GLTextureFilter", GL_TEXTURE_FILTER)]
        if session == "x11":
            # full-screen windows (games, video) may suspend compositing on X11 (KWin's default, kept explicit)
            keys.append(kwin("Compositing", "WindowsBlockCompositing", "true"))
    elif session == "wayland":
        keys.append(kwin("Compositing", "Backend", "QPainter", "login"))
    else:
        keys.append(kwin("Compositing", "Enabled", "false", "login"))
    blur = inp["blur"] if inp["blur"] is not None else profile == "gpu"
    off = inp["effects_off"] if inp["effects_off"] is not None else [e for e in EXPENSIVE_EFFECTS if e != "blur"]
    for effect in sorted(set(off) | ({"blur"} if not blur else set())):
        keys.append(kwin("Plugins", effect + "Enabled", "false"))
    if blur:
        if "blur" in off:
            raise inp.fail(inp.prefix + "effects_off", "lists blur while %sblur is true; drop one" % inp.prefix)
        keys.append(kwin("Plugins", "blurEnabled", "true"))
    keys.append(OwnedKey(kdeglobals, ("KDE",), "AnimationDurationFactor", _factor(inp, profile), immutable=lock,
                         live="live"))
    return sorted(keys, key=lambda k: (k.file, k.group, k.key))


def session_variables(inp: Inputs, profile: str, session: str) -> Dict[str, str]:
    env: Dict[str, str] = {}
    if not inp["session_variables"]:
        return env
    if profile == "gpu" and session == "x11":
        env["KWIN_OPENGL_INTERFACE"] = "egl"
    if inp.fact("gpu.vendor") == "nvidia" and inp.fact("gpu.driver", "nvidia") == "nvidia":
        env["__GL_YIELD"] = "USLEEP"          # the driver sleeps instead of spinning while it waits for the GPU
        env["__GL_MaxFramesAllowed"] = "1"    # one frame queued: lower input latency in the compositor
    return env


def build(inp: Inputs) -> PhasePlan:
    session: Optional[str] = inp["session"] or inp.desktop.get("session")
    if session is None:
        raise inp.fail(inp.prefix + "session", "is not set and nixperf_desktop.session is missing: set one of them "
                       "(%s)" % ", ".join(SESSIONS))
    profile = profile_of(inp)
    for effect in inp["effects_off"] or []:
        if not isinstance(effect, str) or not effect.replace("_", "").isalnum():
            raise inp.fail(inp.prefix + "effects_off", "holds %r: effects are KWin plugin ids such as %s"
                           % (effect, ", ".join(EXPENSIVE_EFFECTS)))
    keys = kde_keys(inp, profile, session)
    users = list(inp.users)
    owned = {user: keys for user in users}
    try:
        files, backend_home, requires = realize(inp.host, inp.desktop, owned, inp.priority, "plasma")
    except ValueError as exc:
        raise inp.fail("nixperf_desktop", str(exc)) from exc
    env = session_variables(inp, profile, session)
    home: Dict[str, Any] = dict(backend_home or {})
    if env:
        home["home"] = {"sessionVariables": {k: inp.owned(v) for k, v in env.items()}}
    login = sorted("%s %s" % (k.file, k.key) for k in keys if k.live == "login")
    return PhasePlan(
        phase="plasma", config=None, home_config=home or None, home_requires=requires, files=files,
        keys=owned, enable=inp["enable"], home_enable=inp["enable"],
        derived={"profile": profile, "session": session, "keys": [k.as_dict() for k in keys],
                 "session_variables": env, "needs_login": login, "ignored_keys": list(IGNORED_KEYS)},
        description="KWin compositor and effects for this host's GPU",
        note="Profile %s on %s: %d owned KDE keys%s." % (
            profile, session, len(keys), "; session variables " + ", ".join(sorted(env)) if env else ""),
    )


PHASE = Phase(
    name="plasma",
    order=80,
    title="KWin compositor, effects and animations for the host's GPU (workstation plan phase 4, KubeVirt plan "
          "phase 2)",
    description=(
        "Owns keys in the C(kwinrc) and C(kdeglobals) of each user, put in place by the backend of the host, "
        "C(nixperf_desktop.backend) (chezmoi C(modify_) scripts, plasma-manager, or direct edits); every other key "
        "of those files stays as KDE wrote it. Switched off, the keys get back the values they had before.",
        "Profile V(gpu) (OpenGL, blur on, other expensive effects off, animations at half duration) or V(software) "
        "(QPainter on Wayland, compositing off on X11, animations and expensive effects off), from "
        "C(nixperf_hardware.gpu).",
        "Never writes keys KWin 6 ignores (C(GLCore), C(MaxFPS), C(VSync), C(RefreshRate), C(LatencyPolicy), "
        "C(Backend=XRender)).",
    ),
    facts=("gpu.vendor",),
    users=True,
    tags=("kde", "plasma", "desktop", "home-manager"),
    build=build,
    settings=(
        Setting("enable", "bool", True, "Default of C(nixperf.plasma.enable) in the generated home-manager module "
                "(session variables and, with the plasma_manager backend, the keys)."),
        Setting("profile", "str", None, "V(gpu) or V(software); null = from C(nixperf_hardware.gpu) (vendor none "
                "or driver llvmpipe is software).", choices=PROFILES),
        Setting("session", "str", None, "V(x11) or V(wayland); null = C(nixperf_desktop.session).",
                choices=SESSIONS),
        Setting("blur", "bool", None, "The blur effect; null = on with a GPU, off without."),
        Setting("effects_off", "list", None, "KWin effect plugin ids switched off; null = the expensive ones "
                "(%s, blur only without a GPU)." % ", ".join(EXPENSIVE_EFFECTS), elements="str"),
        Setting("animation_factor", "str", None, "C(kdeglobals [KDE] AnimationDurationFactor), 0 (off) to 10; null "
                "= 0.5 with a GPU, 0 without."),
        Setting("lock", "bool", False, "Write the owned keys immutable (C([$i])), so System Settings cannot change "
                "them."),
        Setting("session_variables", "bool", True, "C(KWIN_OPENGL_INTERFACE=egl) on X11 with a GPU, "
                "C(__GL_YIELD) and C(__GL_MaxFramesAllowed) with NVIDIA's driver (home-manager)."),
    ),
)
