# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compiler flags from the host's CPU, shared by every phase that rebuilds packages (one helper, no copies)."""
from __future__ import annotations

from typing import List, Sequence

BASE_FLAGS = ["-pipe", "-fno-semantic-interposition", "-fno-plt"]


def cflag_list(march: str, opt: int, extra: Sequence[str] = ()) -> List[str]:
    """``-march=<m> -mtune=<m> -O<opt>``, the base flags and ``extra``: one flag an element (what an overlay
    appends to a package's own ``NIX_CFLAGS_COMPILE``, see ``overlays.py``)."""
    return ["-march=%s" % march, "-mtune=%s" % march, "-O%d" % opt] + BASE_FLAGS + list(extra)


def cflags(march: str, opt: int, extra: Sequence[str] = ()) -> str:
    """The same flags as one string (reports, notes)."""
    return " ".join(cflag_list(march, opt, extra))


def goamd64(level: int) -> str:
    """GOAMD64 for an x86-64 level (``3`` -> ``v3``)."""
    return "v%d" % level


def levels_up_to(level: int) -> List[str]:
    return [goamd64(n) for n in range(1, level + 1)]
