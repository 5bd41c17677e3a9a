"""Generate each phase role's defaults, argument spec, tasks and galaxy metadata from its declaration.

    python scripts/generate.py           write the files (make generate)
    python scripts/generate.py --check   exit 1 and list the stale files (the unit tests call this)

The declarations live in plugins/module_utils/phases/<phase>.py (PHASE = Phase(...)).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.nixperf.tuning.plugins.module_utils.phase import Phase, Setting, phases  # noqa: E402

HEADER = "# Generated from plugins/module_utils/phases/%s.py by `make generate`: do not edit.\n"


class _Dumper(yaml.SafeDumper):
    """Indents sequences inside mappings, as the rest of the repository (and yamllint) does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100, default_flow_style=False, allow_unicode=True)


def scalar(value: Any) -> str:
    """A YAML scalar or flow collection on one line."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10 ** 6).strip()
    return text[:-4].strip() if text.endswith("\n...") else text.replace("\n...", "")


def defaults(p: Phase) -> str:
    lines = ["---", (HEADER % p.name).rstrip("\n")] + comment(p.title) + [""]
    for s in p.settings:
        lines.extend(comment(s.doc))
        lines.append("%s%s: %s" % (p.prefix, s.name, scalar(s.template if s.template else s.default)))
    return "\n".join(lines) + "\n"


def plain(doc: str) -> str:
    """A description without Ansible's doc markup (``C(x)`` -> ``x``), for YAML comments."""
    return re.sub(r"\b[CVMOI]\(([^()]*)\)", r"\1", doc)


def comment(doc: str) -> List[str]:
    return ["# " + line for line in textwrap.wrap(plain(doc), width=116)]


def option(s: Setting) -> Dict[str, Any]:
    o: Dict[str, Any] = {"description": s.doc, "type": s.kind}
    if s.elements:
        o["elements"] = s.elements
    if s.choices is not None and s.default is None:
        # the role validator checks null against choices too: name them in the description instead
        o["description"] = "%s One of %s." % (s.doc, ", ".join("V(%s)" % c for c in s.choices))
    elif s.choices is not None:
        o["choices"] = list(s.choices)
    if s.default is not None and s.template is None:
        o["default"] = s.default
    return o


def argument_specs(p: Phase) -> str:
    options: Dict[str, Any] = {}
    if p.facts:
        options["nixperf_hardware"] = {
            "description": "Hardware facts of the host (checked as a whole, docs/inventory.md); this phase needs %s."
                           % ", ".join("C(%s)" % f for f in p.facts),
            "type": "dict", "required": True}
    if p.users:
        options["nixperf_users"] = {
            "description": "Users who get the home-manager module: unique Linux user names, or mappings with C(name).",
            "type": "list", "elements": "raw", "required": True}
    options["nixperf_desktop"] = {"description": "The host's desktop (C(environment), C(session), C(remote)).",
                                  "type": "dict"}
    for s in p.settings:
        options[p.prefix + s.name] = option(s)
    spec = {"argument_specs": {"main": {
        "short_description": p.title,
        "description": list(p.description),
        "author": ["nixperf.tuning contributors"],
        "options": options,
    }}}
    return "---\n" + HEADER % p.name + dump(spec)


def tasks(p: Phase) -> str:
    text = dump([{
        "name": "Plan the %s phase from the host's facts and the %s* variables" % (p.name, p.prefix),
        "nixperf.tuning.phase": {"phase": p.name},
        "register": "nixperf_planned",
    }])
    # one plan shared by every phase role of the play: the name is deliberately not role-prefixed
    return "---\n" + HEADER % p.name + text.replace(
        "register: nixperf_planned", "register: nixperf_planned  # noqa: var-naming[no-role-prefix]")


def meta(p: Phase) -> str:
    return "---\n" + HEADER % p.name + dump({
        "galaxy_info": {
            "author": "nixperf.tuning contributors",
            "description": p.title,
            "license": "GPL-3.0-or-later",
            "min_ansible_version": "2.19",
            "platforms": [{"name": "GenericLinux", "versions": ["all"]}],
            "galaxy_tags": [t.replace("-", "") for t in p.tags],
        },
        "dependencies": [],
    })


def outputs() -> Dict[Path, str]:
    out: Dict[Path, str] = {}
    for p in phases():
        role = ROOT / "roles" / p.name
        out[role / "defaults" / "main.yml"] = defaults(p)
        out[role / "meta" / "argument_specs.yml"] = argument_specs(p)
        out[role / "meta" / "main.yml"] = meta(p)
        out[role / "tasks" / "main.yml"] = tasks(p)
    return out


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print("%s %s" % ("stale:" if args.check else "wrote", os.path.relpath(path, ROOT)))
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
