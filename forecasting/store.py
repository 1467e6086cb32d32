"""The hourly store: every source's rows, one per station and hour, on Parquet.

Files are partitioned by station and year and published atomically through a
manifest (see :mod:`forecasting.store_files`): a reader never sees half an
ingest, and a writer killed at any moment leaves the previous store whole.

Reconciliation rule
-------------------
Each station-hour is stored once. When a source brings a station-hour the store
already holds:

1. **Measured values** (every column of ``schema.MEASUREMENTS``, taken together
   as one row, with the row's ``source_kind`` and ``source``) come from the
   source with the highest ``schema.SOURCE_RANK``: a yearly station file (3)
   beats the per-station hourly datasets (2), which beat the real-time feed
   AQX_P_432 (1). At equal rank the newer ingest wins. A column the winning
   source does not carry is stored as missing: the row is the winner's row.
2. **Published AQI columns** (``aqi``, ``pollutant``, ``status`` and the moving
   values ``pm2_5_avg``, ``pm10_avg``, ``o3_8hr``, ``co_8hr``, ``so2_avg``) come
   from the real-time feed only, the newest real-time ingest winning; whatever
   else arrives keeps them (a yearly file has none).
3. Counting, per station: a source row is ``added`` when the store had no row
   for its station-hour, ``replaced`` when the stored values (measured,
   published or ``source_kind``) changed, ``unchanged`` when they are identical
   (two missing cells are equal; the file name is not compared, so an
   identical row from another file of the same rank keeps the first file's
   name in ``source``). Ingesting the same source twice therefore adds and
   replaces nothing and rewrites no file. Given sources of different ranks,
   the order of ingestion does not change the final store.

Every cell a reader could not take as a plain number is kept verbatim in the
flags table (``schema.FLAG_COLUMNS``), one row per station, hour, item and
source file; a later ingest of the same file replaces its own flags.
"""

from __future__ import annotations

import copy
import io
import logging
import time as clock
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from forecasting import store_files as files
from forecasting.readers.base import ReadResult
from forecasting.schema import FLAG_COLUMNS, HOURLY_COLUMNS, PUBLISHED_TEXT
from forecasting.stations import (
    merge_registry,
    merge_seen_stations,
    registry_frame,
)
from forecasting.store_reconcile import (
    FLAG_KEY,
    TIMEZONE,
    normalise_flags,
    normalise_hourly,
    reconcile,
)
from forecasting.store_summary import IngestSummary, StationCounts, summarise

logger = logging.getLogger(__name__)

__all__ = ["HourlyStore", "IngestSummary", "StationCounts"]

STATIONS_FILE = "stations.parquet"


def _to_time(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(TIMEZONE)
    return stamp.tz_convert("UTC")


class HourlyStore:
    """Parquet store of hourly frames under ``root`` (``Settings.store_dir``).

    Parameters
    ----------
    root:
        Folder of the store; created by the first ingest.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"HourlyStore({str(self.root)!r})"

    # ------------------------------------------------------------------ reading

    def _entries(
        self,
        manifest: dict,
        table: str,
        stations: list[str] | None,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
    ) -> list[tuple[str, str]]:
        wanted = None if stations is None else {str(s) for s in stations}
        first_year = None if start is None else start.tz_convert(TIMEZONE).year
        last_year = None if end is None else end.tz_convert(TIMEZONE).year
        chosen = []
        for key, entry in manifest[table].items():
            site_id, year = files.split_key(key)
            if wanted is not None and site_id not in wanted:
                continue
            if first_year is not None and year < first_year:
                continue
            if last_year is not None and year > last_year:
                continue
            chosen.append(((site_id, year), key, entry["file"]))
        return [(key, path) for _, key, path in sorted(chosen)]

    def _read_table(
        self,
        table: str,
        stations: list[str] | None,
        start: str | pd.Timestamp | None,
        end: str | pd.Timestamp | None,
        columns: list[str] | None,
    ) -> pa.Table:
        start_utc, end_utc = _to_time(start), _to_time(end)
        filters = []
        if start_utc is not None:
            filters.append(("time", ">=", start_utc.to_pydatetime()))
        if end_utc is not None:
            filters.append(("time", "<=", end_utc.to_pydatetime()))
        schema = files.SCHEMAS[table]
        for attempt in (1, 2):
            manifest = files.load_manifest(self.root)
            entries = self._entries(manifest, table, stations, start_utc, end_utc)
            try:
                parts = [
                    files.read_partition(
                        self.root, path, table, columns, filters or None
                    )
                    for _, path in entries
                ]
                break
            except FileNotFoundError:
                # A writer published a new manifest and removed the old files
                # between our manifest read and our file reads: read again.
                if attempt == 2:
                    raise
        if not parts:
            names = columns or schema.names
            return pa.table({n: pa.array([], schema.field(n).type) for n in names})
        return pa.concat_tables(parts)

    def read(
        self,
        stations: list[str] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Return stored hours as an hourly frame.

        Parameters
        ----------
        stations:
            Station ids to read; None reads every station.
        start, end:
            Inclusive bounds on ``time``; a naive value is taken as Asia/Taipei.
        columns:
            Columns to return besides ``site_id`` and ``time``; None returns
            ``schema.HOURLY_COLUMNS``.

        Returns
        -------
        pandas.DataFrame
            Sorted by ``site_id`` then ``time``, ``time`` tz-aware Asia/Taipei,
            numbers float64, ``pollutant``/``status`` object with None when
            blank. Empty (with the columns) when nothing matches.

        Raises
        ------
        StoreError
            When the manifest cannot be read.
        ValueError
            When a column is not in ``schema.HOURLY_COLUMNS``.
        """
        wanted = list(HOURLY_COLUMNS)
        if columns is not None:
            unknown = [c for c in columns if c not in HOURLY_COLUMNS]
            if unknown:
                raise ValueError(
                    f"columns {unknown} are not stored; choose among "
                    f"{', '.join(HOURLY_COLUMNS)}"
                )
            wanted = ["site_id", "time"] + [
                c for c in columns if c not in ("site_id", "time")
            ]
        frame = self._read_table("hourly", stations, start, end, wanted).to_pandas()
        frame["time"] = frame["time"].dt.tz_convert(TIMEZONE)
        for name in PUBLISHED_TEXT:
            if name in frame.columns:
                values = frame[name].astype(object)
                frame[name] = values.where(values.notna(), None)
        frame = frame.sort_values(["site_id", "time"], kind="stable")
        return frame.reset_index(drop=True)

    def read_flags(
        self,
        stations: list[str] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Return the kept raw cells: ``schema.FLAG_COLUMNS``, time in Asia/Taipei.

        Returns
        -------
        pandas.DataFrame
            Sorted by ``site_id``, ``time``, ``item``, ``source``.

        Raises
        ------
        StoreError
            When the manifest cannot be read.
        """
        table = self._read_table("flags", stations, start, end, list(FLAG_COLUMNS))
        frame = table.to_pandas()
        frame["time"] = frame["time"].dt.tz_convert(TIMEZONE)
        frame = frame.sort_values(list(FLAG_KEY), kind="stable")
        return frame.reset_index(drop=True)

    def station_ids(self) -> list[str]:
        """Return the ids of stations with stored hours, in numeric order."""
        manifest = files.load_manifest(self.root)
        ids = {files.split_key(key)[0] for key in manifest["hourly"]}
        return sorted(
            ids, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s)
        )

    def time_spans(self) -> pd.DataFrame:
        """Return ``site_id, first, last, rows`` per stored station (Asia/Taipei).

        Read from the manifest alone, without opening data files.
        """
        rows: dict[str, dict] = {}
        for key, entry in files.load_manifest(self.root)["hourly"].items():
            site_id, _ = files.split_key(key)
            first, last = pd.Timestamp(entry["first"]), pd.Timestamp(entry["last"])
            row = rows.setdefault(site_id, {"first": first, "last": last, "rows": 0})
            row["first"] = min(row["first"], first)
            row["last"] = max(row["last"], last)
            row["rows"] += entry["rows"]
        frame = pd.DataFrame(
            [{"site_id": s, **v} for s, v in rows.items()],
            columns=["site_id", "first", "last", "rows"],
        )
        for name in ("first", "last"):
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(TIMEZONE)
        return frame

    def latest_time(self, site_id: str) -> pd.Timestamp | None:
        """Return the last stored hour of ``site_id`` (Asia/Taipei), None if none."""
        spans = self.time_spans()
        match = spans.loc[spans["site_id"] == str(site_id), "last"]
        return None if match.empty else match.iloc[0]

    def registry(self) -> pd.DataFrame:
        """Return the bundled registry plus every station met in ingested sources.

        Returns
        -------
        pandas.DataFrame
            ``stations.REGISTRY_COLUMNS``; a station known only from a source has
            ``name_en`` None.
        """
        path = self.root / STATIONS_FILE
        seen = pd.read_parquet(path) if path.exists() else None
        return merge_registry(seen)

    # ---------------------------------------------------------------- writing

    def ingest(self, result: ReadResult, label: str | None = None) -> IngestSummary:
        """Store a reader's result by the reconciliation rule, atomically.

        Parameters
        ----------
        result:
            A reader's output.
        label:
            Name of the source for messages when rows carry no ``source``.

        Returns
        -------
        IngestSummary
            Counts per station (added, replaced, unchanged, flagged, rejected).

        Raises
        ------
        ValidationError
            When ``time`` has no timezone, a station-hour repeats, or a field
            cannot be stored; nothing of the result is stored then.
        StoreError
            When the store cannot be read or written.
        """
        started = clock.perf_counter()
        label = label or "payload"
        incoming = normalise_hourly(result.hourly, label)
        if len(incoming):
            label = str(incoming["source"].iloc[0])
        flags = normalise_flags(result.flags, label)

        with files.writer_lock(self.root):
            manifest = files.load_manifest(self.root)
            files.remove_unlisted(self.root, manifest)
            incoming_keys = set(files.partition_labels(incoming.reset_index()))
            stored = files.read_partitions(self.root, manifest, "hourly", incoming_keys)
            merged, added, replaced, unchanged = reconcile(stored, incoming)
            changed = added.append(replaced)
            changed_keys = set(
                files.partition_labels(pd.DataFrame(index=changed).reset_index())
            )
            new_hourly, old_files = files.write_partitions(
                self.root, manifest, "hourly", merged.reset_index(), changed_keys
            )
            new_flags, old_flag_files = self._merge_flags(
                manifest, flags, written_before=len(new_hourly)
            )
            written = len(new_hourly) + len(new_flags)

            if new_hourly or new_flags:
                updated = copy.deepcopy(manifest)
                updated["generation"] += 1
                updated["hourly"].update(new_hourly)
                updated["flags"].update(new_flags)
                files.publish_manifest(self.root, updated)
                for path in old_files + old_flag_files:
                    (self.root / path).unlink(missing_ok=True)
            self._merge_stations(result.stations)

        summary = summarise(label, result, flags, added, replaced, unchanged)
        summary.seconds = clock.perf_counter() - started
        total = summary.total
        logger.info(
            "ingested %s: %d added, %d replaced, %d unchanged, %d flagged, "
            "%d rejected, %d files written in %.2f s",
            label,
            total.added,
            total.replaced,
            total.unchanged,
            total.flagged,
            total.rejected,
            written,
            summary.seconds,
        )
        return summary

    def _merge_flags(
        self, manifest: dict, flags: pd.DataFrame, written_before: int
    ) -> tuple[dict, list[str]]:
        if flags.empty:
            return {}, []
        keys = set(files.partition_labels(flags))
        stored = files.read_partitions(self.root, manifest, "flags", keys)
        combined = pd.concat([stored, flags], ignore_index=True)
        combined = combined.drop_duplicates(subset=list(FLAG_KEY), keep="last")
        combined = combined.sort_values(list(FLAG_KEY), kind="stable")
        # A partition changes when an incoming flag is not already stored as is.
        matched = flags.merge(
            stored, on=list(FLAG_COLUMNS), how="left", indicator=True
        )["_merge"].to_numpy()
        changed = set(files.partition_labels(flags).to_numpy()[matched == "left_only"])
        return files.write_partitions(
            self.root, manifest, "flags", combined, changed, written_before
        )

    def _merge_stations(self, seen: pd.DataFrame) -> None:
        if seen is None or seen.empty:
            return
        path = self.root / STATIONS_FILE
        before = pd.read_parquet(path) if path.exists() else None
        after = merge_seen_stations(before, seen)
        if before is not None and after.equals(registry_frame(before)):
            return
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(after, preserve_index=False), buffer)
        files.write_bytes_atomically(path, buffer.getvalue())
