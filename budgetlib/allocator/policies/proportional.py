"""proportional — closed form per task-year: x = clip(λ·w, lo, hi) with Σx = B[t,y] (water-filling).

Constraints that couple task-years (absorption, stability, targets, a unit's share) are not
applied; the explanation says so for each and suggests ``min_deviation``.
"""

from __future__ import annotations

import numpy as np

from ...core.i18n import Msg
from ...core.money import ApportionError, capped_proportional
from ...model.policy import PolicyKind
from ...model.result import Conflict, ConstraintKind, Diagnosis, DiagnosisMethod
from .._data import Data
from .base import Outcome, PolicyType

__all__ = ["POLICY", "water_fill_all"]


def water_fill_all(d: Data) -> np.ndarray | Diagnosis:
    """The water-filling split of every task-year [T, Y, U] (float đồng), or a located diagnosis."""
    T, Y, U = d.shape
    x = np.zeros((T, Y, U))
    lo, hi = d.lo, d.hi
    for t in range(T):
        for y in range(Y):
            if d.B[t, y] > 0:
                try:
                    x[t, y] = capped_proportional(d.B[t, y], d.w[t], lo[t, y], hi[t, y])
                except ApportionError as exc:  # pre-checks catch these; keep a located answer anyway
                    g = d.groups[int(d.budget_group[t, y])]
                    msg = Msg("alloc.diagnosis.apportion", task=d.task_labels[d.tasks[t].code], year=d.years[y], reason=exc.msg)
                    c = Conflict(name=g.name, kind=ConstraintKind.BUDGET, msg=msg, amounts={"budget": int(d.B[t, y])},
                                 names=(g.name,), locations=("budget_lines",))
                    return Diagnosis(method=DiagnosisMethod.PRECHECK, msg=msg, conflicts=(c,))
    return x


class Proportional(PolicyType):
    kind = PolicyKind.PROPORTIONAL
    applies_coupling = False

    def solve(self, d: Data, backend: str) -> Outcome:
        if not d.ref_failed.any():  # the reference share is the water-filling of every block
            return d.ref.ravel().copy(), None
        x = water_fill_all(d)  # a located diagnosis for the block that cannot be split
        if isinstance(x, Diagnosis):
            return x
        return x.ravel(), None


POLICY = Proportional()
