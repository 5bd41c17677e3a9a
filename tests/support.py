"""Helpers shared by the unit and the integration tests (each tier has its own conftest)."""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any, Callable, Dict, Union

# stdenv.mkDerivation as far as an override can tell (nixpkgs pkgs/stdenv/generic/make-derivation.nix, checkedEnv):
# a name in env and at the top level is refused, env values must be strings, booleans or integers; overrideAttrs
# merges. A Nix attribute binding, for a stub ``pkgs`` / ``prev``.
MKDERIVATION = """mkDerivation = attrs:
    let
      env = attrs.env or { };
      overlapping = builtins.attrNames (builtins.intersectAttrs env (builtins.removeAttrs attrs [ "env" ]));
      badEnv = builtins.filter (n: !(builtins.isString env.${n} || builtins.isBool env.${n} || builtins.isInt env.${n}))
        (builtins.attrNames env);
    in
    if overlapping != [ ] then throw ("The `env` attribute set cannot contain any attributes passed to derivation. "
      + "The following attributes are overlapping: ${toString overlapping}")
    else if badEnv != [ ] then throw ("The `env` attribute set can only contain derivation, string, boolean or integer "
      + "attributes: ${toString badEnv}")
    else { inherit attrs; overrideAttrs = f: mkDerivation (attrs // f attrs); };"""


def snapshot(root: Union[str, Path]) -> Dict[str, Any]:
    """Content, mtime and mode of every file below ``root`` (empty when absent): equal snapshots mean nothing was
    touched."""
    out: Dict[str, Any] = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            st = os.stat(p)
            with open(p, "rb") as f:
                out[p] = (f.read(), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def wait_for(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False
