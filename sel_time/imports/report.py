"""What an import did (or, in a dry run, would do), kind by kind."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counts:
    """Records of one kind created, updated and left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), kind by kind."""

    filename: str
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> int:
        """Records created or updated."""
        return sum(c.created + c.updated for c in self.counts.values())

    def summary(self) -> str:
        """Lines for the command line: what happened to each kind of record."""
        verb = "Checked" if self.dry_run else "Imported"
        head = f"{verb} {self.filename}" + (" (dry run: nothing written)" if self.dry_run else "")
        if not self.counts:
            return f"{head}: no rows"
        lines = [f"{head}:"] + [
            f"  {kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]
        if not self.dry_run and not self.changed:
            lines.append("  nothing changed")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The report as the API answers it."""
        return {"filename": self.filename, "dry_run": self.dry_run,
                "counts": {k: vars(c).copy() for k, c in self.counts.items()}}
