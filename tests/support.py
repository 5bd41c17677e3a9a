"""Helpers shared by the unit and the integration tests (each tier has its own conftest)."""
from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False
