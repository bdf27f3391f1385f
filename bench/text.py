"""Reading figures out of the output of the programs the benchmarks run."""

from __future__ import annotations

import re


def first_group(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of `pattern` in `text`; a benchmark stops with the output when it is missing."""
    match = re.search(pattern, text, flags)
    if match is None:
        raise SystemExit(f"expected {pattern!r} in the output:\n{text[-3000:]}")
    return match.group(1)
