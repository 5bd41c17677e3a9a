# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nixpkgs overlays that add compiler flags to packages, shared by every phase that rebuilds packages.

Append, never replace
    A package's own ``NIX_CFLAGS_COMPILE`` carries what it needs to build right: nixpkgs' sqlite keeps 21
    ``-DSQLITE_ENABLE_*`` / ``-DSQLITE_MAX_*`` defines there, binutils ``-static-libgcc``, glibc its ``-Wno-error``
    list.  An override that sets the variable drops them; ours are appended after the package's own.

Where the variable lives
    ``stdenv.mkDerivation`` takes an environment variable in one of two places: inside ``env`` (a string, bool,
    integer or derivation) or at the top level of the attributes (a string or a list, handed to ``derivation`` as
    is).  Its ``checkedEnv`` asserts that no name is in both: "The `env` attribute set cannot contain any attributes
    passed to derivation. The following attributes are overlapping" (``pkgs/stdenv/generic/make-derivation.nix``).
    So a variable the package sets at the top level (``old ? NIX_CFLAGS_COMPILE``) is appended there (to the list,
    or to the string), and only otherwise in ``env`` (``old.env.NIX_CFLAGS_COMPILE or ""``).

The Nix function that does this (``APPEND_FUNCTION``) is fixed code bound once per overlay; every value that comes
from data (the flags, the names) is rendered by the serializer, so nothing a user writes becomes code.

The bootstrap
    Overlays apply to every stage of the stdenv bootstrap (each stage of ``pkgs/stdenv/linux/default.nix`` hands
    ``overlays`` on; ``pkgs/top-level/stage.nix`` applies them before ``stdenvOverrides``, which brings packages
    forward from the stage before).  An overlay on a package the final stdenv takes from a bootstrap stage therefore
    changes stdenv itself, and every package of that package set is rebuilt.  ``STDENV_BOOTSTRAP`` names those
    packages, each with where the source says so.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.nix import KEYWORDS, NixRaw, attr_name, render, to_nix

# The name the appending function is bound to inside each overlay (a name no nixpkgs attribute uses).
APPEND = "nixperfAppendFlags"

# The variables the helper appends to; each value is a list of single flags.
FLAG_VARIABLES = ("NIX_CFLAGS_COMPILE", "NIX_CFLAGS_LINK", "NIX_LDFLAGS")

# The host's flags, bound once per overlay (``overlay(..., host_flags=...)``) and used by its entries.
HOST_FLAGS = "nixperfHostFlags"

APPEND_FUNCTION = """flags: old:
let
  # A variable the package sets at the top level is appended there: the same
  # name in env as well fails mkDerivation ("The `env` attribute set cannot
  # contain any attributes passed to derivation").
  top = builtins.intersectAttrs old flags;
  inEnv = builtins.removeAttrs flags (builtins.attrNames top);
  join = own: ours: if own == "" then ours else own + " " + ours;
  # at the top level: a list (a flag an element) or a string
  appendTop = name: ours:
    if builtins.isList old.${name} then old.${name} ++ ours
    else join (toString old.${name}) (builtins.concatStringsSep " " ours);
  # in env: a string
  appendEnv = name: ours:
    join (toString (old.env.${name} or "")) (builtins.concatStringsSep " " ours);
in
builtins.mapAttrs appendTop top
// (if inEnv == { } then { } else {
  env = (old.env or { }) // builtins.mapAttrs appendEnv inEnv;
})"""

# Reasons, each read from the nixpkgs source named (see docs/upstream/libraries.md for the versions read).
_FINAL = ("the final stdenv takes it from bootstrap-stage4 (\"inherit (prevStage) ...\" in the last stage's "
          "overrides, pkgs/stdenv/linux/default.nix) and lists it in allowedRequisites")
_REQUISITE = "in the final stdenv's allowedRequisites (pkgs/stdenv/linux/default.nix)"
_GLIBC_BUILD = ("built in a bootstrap stage for the final glibc: glibc's nativeBuildInputs are bison and "
                "python3Minimal (pkgs/development/libraries/glibc/common.nix)")
_PYTHON_MINIMAL = ("a build input of python3Minimal (pkgs/development/interpreters/python/cpython/default.nix), "
                   "which builds the final glibc in bootstrap-stage2 (glibc/common.nix nativeBuildInputs)")
_GCC_BUILD = ("built in a bootstrap stage for the final gcc (pkgs/development/compilers/gcc/common/"
              "dependencies.nix) or binutils (pkgs/development/tools/misc/binutils/default.nix)")

#: nixpkgs attribute -> why the final stdenv of x86_64-linux depends on the build of it made inside the bootstrap.
STDENV_BOOTSTRAP: Dict[str, str] = {
    # the last stage's overrides: inherit (prevStage) ...; inherit (prevStage.gnugrep) pcre2; the libc
    **{name: _FINAL for name in (
        "gzip", "bzip2", "xz", "bash", "coreutils", "diffutils", "findutils", "gawk", "gnused", "gnutar",
        "gnugrep", "gnupatch", "patchelf", "attr", "acl", "zlib", "libunistring", "libidn2", "binutils",
        "binutils-unwrapped", "gcc")},
    "pcre2": ("the final stdenv takes gnugrep's pcre2 from bootstrap-stage4 (\"inherit (prevStage.gnugrep) pcre2\" "
              "in the last stage's overrides, pkgs/stdenv/linux/default.nix) and lists gnugrep.pcre2 in "
              "allowedRequisites"),
    "glibc": ("the final stdenv's libc is the one bootstrap-stage2 built (\"${localSystem.libc} = getLibc "
              "prevStage\", pkgs/stdenv/linux/default.nix)"),
    # allowedRequisites beyond the overrides
    **{name: _REQUISITE for name in (
        "gmp", "gnumake", "ed", "file", "linuxHeaders", "fortify-headers", "gcc-unwrapped", "mpfr", "libmpc", "isl",
        "libsigsegv", "gnu-config")},
    # the build closure: what the bootstrap stages build the final glibc, gcc and binutils with
    "python3Minimal": _GLIBC_BUILD,
    "bison": _GLIBC_BUILD,
    "expat": _PYTHON_MINIMAL,
    "mpdecimal": _PYTHON_MINIMAL,
    "libxcrypt": _PYTHON_MINIMAL,
    "perl": _GCC_BUILD,
    "texinfo": _GCC_BUILD,
    "gettext": _GCC_BUILD,
    "which": _GCC_BUILD,
    "gnum4": "inherited through bootstrap-stage4 (pkgs/stdenv/linux/default.nix) to build bison",
}


def bootstrap_reason(name: str) -> Optional[str]:
    """Why an overlay on the nixpkgs attribute ``name`` changes stdenv, or None when it does not."""
    return STDENV_BOOTSTRAP.get(name)


def _checked(name: str, values: Sequence[str]) -> list:
    values = list(values)
    bad = [v for v in values if not isinstance(v, str) or not v.startswith("-") or any(c.isspace() for c in v)]
    if bad:
        raise ValueError("%s: give single flags (-O3, -DNAME=1), got %r" % (name, bad))
    return values


def _flag_data(flags: Mapping[str, Sequence[str]], host_flags: bool) -> Dict[str, Any]:
    unknown = sorted(set(flags) - set(FLAG_VARIABLES))
    if unknown:
        raise ValueError("cannot append to %s: only %s" % (", ".join(unknown), ", ".join(FLAG_VARIABLES)))
    data: Dict[str, Any] = {name: _checked(name, values) for name, values in flags.items() if values}
    if host_flags:
        own = data.get("NIX_CFLAGS_COMPILE")
        data["NIX_CFLAGS_COMPILE"] = NixRaw(HOST_FLAGS + (" ++ " + to_nix(own) if own else ""))
    if not data:
        raise ValueError("no flags to append")
    return data


def append_list(attr: str, values: Sequence[Any]) -> NixRaw:
    """``(old.<attr> or [ ]) ++ [ values ]``: a list attribute of the package, extended (inside ``old: ...``);
    ``values`` are data (strings) or Nix code markers (``NixRaw("final.mold-wrapped")``)."""
    return NixRaw("(old.%s or [ ]) ++ %s" % (attr_name(attr), to_nix(list(values))))


def override_attrs(base: str, flags: Optional[Mapping[str, Sequence[str]]] = None,
                   extra: Optional[Mapping[str, NixRaw]] = None, host_flags: bool = False) -> NixRaw:
    """``<base>.overrideAttrs (old: ...)`` appending ``flags`` (variable -> single flags) to the package's own.

    ``base`` is Nix code for the package (``prev.sqlite``, ``(prev.python313.override { ... })``), built by the
    caller from checked names.  ``host_flags``: ``NIX_CFLAGS_COMPILE`` starts with the overlay's host flags
    (``overlay(..., host_flags=...)``), the package's extra flags from ``flags`` after them.  ``extra`` are further
    attributes of the result (``append_list`` values), merged after the flags; they may not touch ``env`` or the flag
    variables, which belong to the appending function.
    """
    return _append_to(base, _flag_data(flags or {}, host_flags), extra)


def _append_to(base: str, data: Any, extra: Optional[Mapping[str, NixRaw]]) -> NixRaw:
    """``<base>.overrideAttrs (old: nixperfAppendFlags <data> old // <extra>)``: ``data`` is the flag set (data, or
    Nix code choosing one)."""
    extra = dict(extra or {})
    clash = sorted(set(extra) & (set(FLAG_VARIABLES) | {"env"}))
    if clash:
        raise ValueError("extra attributes %s would replace what %s appends" % (", ".join(clash), APPEND))
    body = "%s %s old" % (APPEND, to_nix(data))
    if extra:
        body += "\n// %s" % to_nix(extra)
    return NixRaw("%s.overrideAttrs (\n  old:\n  %s\n)" % (base, body.replace("\n", "\n  ")))


def override_attrs_by_compiler(name: str, gnu: Mapping[str, Sequence[str]], clang: Mapping[str, Sequence[str]],
                               extra: Optional[Mapping[str, NixRaw]] = None) -> NixRaw:
    """``prev.<name>.overrideAttrs (old: ...)`` appending ``gnu`` or ``clang`` (variable -> single flags) to the
    package's own flags, whichever compiler the package is built with.

    The choice is made by the evaluator from the package's own stdenv: ``stdenv.mkDerivation`` passes ``stdenv`` to
    ``derivation`` (``inherit stdenv;`` in ``makeDerivationArgument``, ``pkgs/stdenv/generic/make-derivation.nix``),
    so ``prev.<name>.stdenv.cc.isClang`` is true for a package built with a clang stdenv; anything else (nixpkgs'
    default stdenv on Linux is GCC, ``pkgs/stdenv/linux/default.nix``) gets ``gnu``.  Both sets are data rendered by
    the serializer; only the fixed condition is code.
    """
    if not is_attribute(name):
        raise ValueError("%r is not a nixpkgs attribute name" % (name,))
    base = package(name)
    data = NixRaw("if %s.stdenv.cc.isClang or false\nthen %s\nelse %s"
                  % (base, to_nix(_flag_data(clang, False)), to_nix(_flag_data(gnu, False))))
    return _append_to(base, data, extra)


def override_args(name: str, args: Mapping[str, Any]) -> NixRaw:
    """``prev.<name>.override { ... }``: the package's function called again with ``args`` changed (a switch of its
    expression such as CPython's ``enableOptimizations``).  ``args`` are data rendered by the serializer (one-key
    dicts stay data); Nix code enters only as marker objects (``NixRaw("final.python3")``) from the caller's own
    table.  An earlier ``overrideAttrs`` of the package survives the call: ``lib.makeOverridable`` re-applies it
    (``overrideResult`` in ``lib/customisation.nix``)."""
    if not is_attribute(name):
        raise ValueError("%r is not a nixpkgs attribute name" % (name,))
    if not args:
        raise ValueError("override of %s: no arguments" % name)
    bad = [k for k in args if not isinstance(k, str) or not is_attribute(k)]
    if bad:
        raise ValueError("override of %s: %r are not argument names" % (name, bad))
    return NixRaw("%s.override %s" % (package(name), render(dict(args), markers=False)[0]))


# A top-level nixpkgs attribute: a Nix identifier (letters, digits, _, ' and -, not starting with a digit or -),
# not a keyword. Dotted paths (python3Packages.numpy) are not top-level attributes.
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")


def is_attribute(name: Any) -> bool:
    """Whether ``name`` can be a top-level nixpkgs attribute (``prev.<name>``, ``super.${name}``)."""
    return isinstance(name, str) and bool(_ATTRIBUTE.fullmatch(name)) and name not in KEYWORDS


def bootstrap_refusal(names: Sequence[str], prefix: str, package_set: str,
                      noun: Tuple[str, str] = ("package", "packages")) -> Optional[str]:
    """The message refusing the packages of ``names`` that stdenv's bootstrap builds (None when there is none), for
    a phase whose variable ``<prefix>allow_bootstrap`` is the opt-in; ``package_set`` is what is rebuilt ("the
    users' package set", "the system"), ``noun`` the singular and plural of what the names are.  The caller raises
    it as ``inp.fail(<variable>, message)``."""
    refused = [n for n in names if bootstrap_reason(n)]
    if not refused:
        return None
    one = len(refused) == 1
    return ("names %s, %s of stdenv's bootstrap: %s. An overlay on %s changes stdenv itself, so every package of %s "
            "is rebuilt from source (hours). Set %sallow_bootstrap: true to accept that, or leave %s out"
            % (", ".join(refused), "a " + noun[0] if one else noun[1],
               "; ".join("%s: %s" % (n, bootstrap_reason(n)) for n in refused),
               "it" if one else "them", package_set, prefix, "it" if one else "them"))


def package(name: str) -> str:
    """``prev.<name>`` for a checked attribute name (quoted when it is not a bare identifier)."""
    return "prev." + attr_name(name)


def overlay(entries: Mapping[str, NixRaw], host_flags: Optional[Sequence[str]] = None) -> NixRaw:
    """``final: prev: let ...; in { <name> = <entry>; ... }``: binds the appending function (when an entry uses it)
    and the host's flags (``host_flags``, one flag an element) once for every entry."""
    body = to_nix(dict(entries))
    code = "".join(entry.code for entry in entries.values())
    bindings = []
    if APPEND in code:
        bindings.append("%s =\n  %s;" % (APPEND, APPEND_FUNCTION.replace("\n", "\n  ")))
    if host_flags is not None:
        bindings.append("# the host's compiler flags, appended to each package's own\n%s = %s;"
                        % (HOST_FLAGS, to_nix(_checked(HOST_FLAGS, host_flags))))
    elif HOST_FLAGS in code:
        raise ValueError("an entry uses the host flags, but the overlay was given none")
    if not bindings:
        return NixRaw("final: prev:\n" + body)
    let = "\n".join("  " + b.replace("\n", "\n  ") for b in bindings)
    return NixRaw("final: prev:\nlet\n%s\nin\n%s" % (let, body))
