# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd memory sizes (``512M``, ``2.5G``, ``12G``): parsed to MiB and written back, never rounded to zero."""
from __future__ import annotations

import re
from typing import Any, Optional

_SIZE = re.compile(r"([0-9]+)(?:\.([0-9]{1,3}))?([KMGT])")
_UNIT_MIB = {"K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
MIN_MIB = 1


def parse_mib(value: Any) -> Optional[int]:
    """A size such as ``512M``, ``2.5G`` or ``12G`` in MiB; None when it is not one, or below 1 MiB."""
    if not isinstance(value, str):
        return None
    m = _SIZE.fullmatch(value)
    if not m:
        return None
    whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
    mib = int((int(whole) + (int(frac) / 10 ** len(frac) if frac else 0)) * _UNIT_MIB[unit])
    return mib if mib >= MIN_MIB else None


def fmt(mib: int) -> str:
    """A systemd size: whole GiB as G, otherwise M.  Sizes below 1 MiB do not exist here."""
    if mib < MIN_MIB:
        raise ValueError("a size of %r MiB cannot be written (below 1M)" % (mib,))
    return "%dG" % (mib // 1024) if mib % 1024 == 0 else "%dM" % mib
