"""Garbage collection: remove what no tag, index or referrer in any repository still reaches.

`plan.py` decides from one consistent read what is unreachable; `run.py` removes it in small
transactions, re-checking every candidate under the same row locks that pushes, mounts and
promotions take, and skipping anything touched inside the grace window.
"""

from repos.services.gc.plan import GcPlan, gc_plan_build
from repos.services.gc.run import GcAlreadyRunning, gc_run

__all__ = ["GcAlreadyRunning", "GcPlan", "gc_plan_build", "gc_run"]
