"""What the surgery did: one :class:`TrickResult` per trick, collected in a :class:`TrickReport`."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TrickResult", "TrickReport", "Skip"]


class Skip(Exception):
    """A layer the trick cannot take (the message is the reason); counted, not raised to the user."""


@dataclass
class TrickResult:
    """What one trick changed: ``converted`` layers and ``skipped`` ones by reason."""

    trick: str
    kind: str
    converted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def skip_summary(self) -> str:
        """``"2× reason; 1× other reason"``."""
        return "; ".join(f"{n}× {r}" for r, n in self.skipped.items())

    def line(self) -> str:
        s = f"tricks: {self.trick}={self.kind}: {self.converted} converted"
        if self.skipped:
            s += f", {self.num_skipped} skipped ({self.skip_summary()})"
        return s


class TrickReport(list):
    """A list of :class:`TrickResult`, one per trick applied; ``str()`` gives one line each."""

    def __str__(self) -> str:
        return "\n".join(r.line() for r in self)

    def result(self, trick: str) -> TrickResult:
        for r in self:
            if r.trick == trick:
                return r
        raise KeyError(trick)
