"""What one ingest did, per station: the counts the CLI and the logs show."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forecasting.readers.base import ReadResult, Rejection


@dataclass
class StationCounts:
    """What one ingest did to one station's rows."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    flagged: int = 0
    rejected: int = 0

    def __iadd__(self, other: StationCounts) -> StationCounts:
        for name in ("added", "replaced", "unchanged", "flagged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass
class IngestSummary:
    """The outcome of ingesting one source.

    Attributes
    ----------
    source:
        The file name or payload label.
    stations:
        Counts per ``site_id``. Rejections of a single-station source are
        counted under that station, otherwise under ``"?"``.
    rejections:
        Rows or cells the reader did not take, naming file, line and field.
    error:
        Why the whole source was refused (nothing of it was stored), or None.
    seconds:
        Wall-clock time of reading and storing.
    """

    source: str
    stations: dict[str, StationCounts] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the whole source was refused."""
        return self.error is None

    @property
    def total(self) -> StationCounts:
        """Return the counts summed over stations."""
        total = StationCounts()
        for counts in self.stations.values():
            total += counts
        return total


def summarise(
    label: str,
    result: ReadResult,
    flags: pd.DataFrame,
    added: pd.Index,
    replaced: pd.Index,
    unchanged: pd.Index,
) -> IngestSummary:
    """Return the per-station counts of one ingest (see :mod:`forecasting.store`)."""
    summary = IngestSummary(source=label, rejections=list(result.rejections))
    groups = {
        "added": added,
        "replaced": replaced,
        "unchanged": unchanged,
    }
    for name, index in groups.items():
        for site_id, count in (
            pd.Series(index.get_level_values("site_id")).value_counts().items()
        ):
            counts = summary.stations.setdefault(str(site_id), StationCounts())
            setattr(counts, name, int(count))
    for site_id, count in flags["site_id"].value_counts().items():
        counts = summary.stations.setdefault(str(site_id), StationCounts())
        counts.flagged = int(count)
    if result.rejections:
        owner = next(iter(summary.stations)) if len(summary.stations) == 1 else "?"
        counts = summary.stations.setdefault(owner, StationCounts())
        counts.rejected = len(result.rejections)
    return summary
