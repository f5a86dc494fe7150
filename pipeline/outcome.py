"""What a local run ended as, for people and for cron and CI: one word, a reason, and an exit status.

blessed (0): the gate passed, the model is in service (pushed now or already). refused (3): the gate said no,
nothing was pushed. stopped (4): a check stopped the run before training (anomalies, label drift). failed (1):
anything else went wrong. (2 is an invalid setting, refused before anything runs.)
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from components.errors import RunStopped
from components.report.record import RunRecord

EXIT_STATUS = {"blessed": 0, "failed": 1, "refused": 3, "stopped": 4}


@dataclasses.dataclass(frozen=True)
class Outcome:
    word: str  # blessed | refused | stopped | failed
    reason: str

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.word]

    @property
    def line(self) -> str:
        """The summary's last line: `Result: refused (accuracy 0.61 < min_accuracy 0.80)`."""
        return f"Result: {self.word}" + (f" ({self.reason})" if self.reason else "")


def run_outcome(record: RunRecord, error: Optional[BaseException]) -> Outcome:
    if isinstance(error, RunStopped):
        return Outcome("stopped", str(error).splitlines()[0].rstrip(":"))  # The details follow that colon.
    if error is not None:
        where = f"{', '.join(record.failed)}: " if record.failed else ""
        return Outcome("failed", f"{where}{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    gate = record.gate
    if not gate.evaluated:
        return Outcome("failed", "the run ended without an evaluation")
    if not gate.blessed:
        return Outcome("refused", "; ".join(gate.reasons) or "the gate did not bless the model")
    push = record.push
    served = f"in service as {push.destination}" if push.pushed else "blessed but not pushed"
    return Outcome("blessed", served)
