"""The hourly store's files: Parquet schemas, the manifest, atomic publication.

Layout under the store's root::

    manifest.json                                   the live files (see below)
    hourly/site_id=49/year=2013/part-<token>.parquet
    flags/site_id=49/year=2013/part-<token>.parquet
    stations.parquet                                stations met in sources
    .lock                                           serialises writers

A data file is never modified: an ingest writes new files under fresh names,
then publishes them by replacing ``manifest.json`` in one ``os.replace`` (after
writing it to a temporary file and fsync-ing it). Readers open only files the
manifest names, so a writer killed at any moment leaves the previous manifest
and every file it lists untouched. Files no manifest names (left by a killed
writer) are removed by the next writer, under the lock.

``stations.parquet`` is replaced the same way (temporary file, fsync,
``os.replace``) just after the manifest; a writer killed between the two leaves
the station list one source behind, and the next ingest of that source (which
then changes no data file) completes it.

``year`` is the calendar year of ``time`` in Asia/Taipei; ``time`` is stored as
a UTC timestamp (microseconds).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from forecasting.config import TIMEZONE
from forecasting.errors import StoreError
from forecasting.schema import (
    FLAG_COLUMNS,
    KEYS,
    MEASUREMENTS,
    PROVENANCE,
    PUBLISHED_NUMBERS,
    PUBLISHED_TEXT,
)

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
TABLES = ("hourly", "flags")

_TIME = pa.timestamp("us", tz="UTC")

HOURLY_SCHEMA = pa.schema(
    [pa.field("site_id", pa.string()), pa.field("time", _TIME)]
    + [pa.field(name, pa.float64()) for name in MEASUREMENTS + PUBLISHED_NUMBERS]
    + [pa.field(name, pa.string()) for name in PUBLISHED_TEXT + PROVENANCE]
)
FLAGS_SCHEMA = pa.schema(
    [pa.field(name, _TIME if name == "time" else pa.string()) for name in FLAG_COLUMNS]
)
SCHEMAS = {"hourly": HOURLY_SCHEMA, "flags": FLAGS_SCHEMA}

#: Test hook: after writing this many new data files, an ingest sleeps before
#: publishing, so a test can kill it at a known point. Unset in normal use.
PAUSE_ENV = "AQI_STORE_TEST_PAUSE_AFTER_FILES"

assert tuple(HOURLY_SCHEMA.names[:2]) == KEYS


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Return ``frame``'s columns of ``schema`` as an Arrow table of that schema."""
    plain = frame.loc[:, schema.names]
    if "time" in schema.names:
        utc = plain["time"].dt.tz_convert("UTC").dt.tz_localize(None)
        plain = plain.assign(time=utc.astype("datetime64[us]"))
    table = pa.Table.from_pandas(plain, preserve_index=False)
    return table.cast(schema)


def partition_key(site_id: str, year: int) -> str:
    """Return the manifest key of one station-year partition, ``"49/2013"``."""
    return f"{site_id}/{year}"


def split_key(key: str) -> tuple[str, int]:
    """Return ``(site_id, year)`` of a manifest key."""
    site_id, year = key.rsplit("/", 1)
    return site_id, int(year)


def empty_manifest() -> dict:
    """Return the manifest of an empty store."""
    return {"format": FORMAT_VERSION, "generation": 0, "hourly": {}, "flags": {}}


def load_manifest(root: Path) -> dict:
    """Return the live manifest of the store at ``root`` (empty when none).

    Raises
    ------
    StoreError
        When the manifest exists but cannot be parsed.
    """
    path = root / MANIFEST
    if not path.exists():
        return empty_manifest()
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"store manifest {path} cannot be read ({exc}); restore it from a "
            "backup or move the store folder away and ingest again"
        ) from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise StoreError(
            f"store manifest {path} has format {manifest.get('format')!r}, this "
            f"version reads format {FORMAT_VERSION}; ingest into a new --home"
        )
    return manifest


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: temp file, fsync, os.replace."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def publish_manifest(root: Path, manifest: dict) -> None:
    """Make ``manifest`` the live one, atomically."""
    data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    write_bytes_atomically(root / MANIFEST, data)


def write_partition(root: Path, table_name: str, key: str, table: pa.Table) -> str:
    """Write one partition under a fresh name and return its path relative to root.

    The file is fsync-ed, so that a published manifest never names a file whose
    bytes are not on disk yet.
    """
    site_id, year = split_key(key)
    folder = root / table_name / f"site_id={site_id}" / f"year={year}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{uuid.uuid4().hex}.parquet"
    pq.write_table(table, path, compression="zstd")
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    return path.relative_to(root).as_posix()


def read_partition(
    root: Path,
    relative: str,
    table_name: str,
    columns: list[str] | None = None,
    filters: list | None = None,
) -> pa.Table:
    """Read one live partition file with the table's schema."""
    return pq.read_table(
        root / relative,
        columns=columns,
        filters=filters,
        schema=SCHEMAS[table_name],
    )


def partition_labels(frame: pd.DataFrame) -> pd.Series:
    """Return each row's manifest key, ``"<site_id>/<year in Asia/Taipei>"``.

    A row without a time (possible in flags) goes to year 0.
    """
    years = frame["time"].dt.tz_convert(TIMEZONE).dt.year.fillna(0).astype(int)
    return frame["site_id"].astype(str) + "/" + years.astype(str)


def read_partitions(
    root: Path, manifest: dict, table: str, keys: set[str]
) -> pd.DataFrame:
    """Return the live rows of partitions ``keys`` in the store's own form.

    Returns
    -------
    pandas.DataFrame
        The table's columns, time in UTC, text as object arrays with None;
        ``hourly`` is indexed by ``(site_id, time)``.
    """
    parts = [
        read_partition(root, manifest[table][key]["file"], table)
        for key in sorted(keys)
        if key in manifest[table]
    ]
    schema = SCHEMAS[table]
    data = pa.concat_tables(parts) if parts else schema.empty_table()
    text = [f.name for f in schema if pa.types.is_string(f.type)]
    frame = data.drop_columns(text).to_pandas()
    for name in text:
        frame[name] = data.column(name).to_numpy(zero_copy_only=False)
    frame = frame.loc[:, schema.names]
    if table == "hourly":
        frame = frame.set_index(["site_id", "time"])
    return frame


def write_partitions(
    root: Path,
    manifest: dict,
    table: str,
    frame: pd.DataFrame,
    keys: set[str],
    written_before: int = 0,
) -> tuple[dict, list[str]]:
    """Write partitions ``keys`` of ``frame`` under fresh names.

    ``frame`` is sorted so that each partition's rows are contiguous. A few
    threads write (and fsync) the files: both release the GIL.

    Returns
    -------
    tuple
        ``(entries, superseded)``: the new manifest entries by key, and the
        files of the live manifest they replace (to delete once published).
    """
    if not keys:
        return {}, []
    labels = partition_labels(frame).to_numpy()
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    stops = np.r_[starts[1:], len(frame)]
    bounds = zip(starts, stops, strict=True)
    wanted = [(labels[a], a, b) for a, b in bounds if labels[a] in keys]
    data = to_arrow(frame, SCHEMAS[table])
    times = frame["time"]

    def write(part: tuple[str, int, int]) -> str:
        key, start, stop = part
        return write_partition(root, table, key, data.slice(start, stop - start))

    entries, superseded = {}, []
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Under the kill test's pause hook, write one file at a time (lazily)
        # so that exactly the announced number of files exists.
        hooked = bool(os.environ.get(PAUSE_ENV))
        paths = map(write, wanted) if hooked else pool.map(write, wanted)
        for (key, start, stop), path in zip(wanted, paths, strict=True):
            span = times.iloc[start:stop].dropna()
            entries[key] = {
                "file": path,
                "rows": int(stop - start),
                "first": span.min().isoformat() if len(span) else None,
                "last": span.max().isoformat() if len(span) else None,
            }
            if key in manifest[table]:
                superseded.append(manifest[table][key]["file"])
            pause_after(written_before + len(entries))
    return entries, superseded


def live_files(manifest: dict) -> set[str]:
    """Return every data file the manifest names, relative to the root."""
    return {entry["file"] for name in TABLES for entry in manifest[name].values()}


def remove_unlisted(root: Path, manifest: dict) -> int:
    """Delete data and temp files the manifest does not name; return how many."""
    keep = live_files(manifest)
    removed = 0
    for name in TABLES:
        folder = root / name
        if not folder.exists():
            continue
        for path in folder.rglob("*.parquet"):
            if path.relative_to(root).as_posix() not in keep:
                path.unlink(missing_ok=True)
                removed += 1
    for path in root.glob(".*.tmp"):
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        logger.info("store %s: removed %d files no manifest names", root, removed)
    return removed


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold the store's writer lock (one ingest at a time, across processes).

    Raises
    ------
    StoreError
        When the store folder cannot be created or locked.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / ".lock", "a+b")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise StoreError(
            f"cannot create the store at {root} ({exc}); choose a writable --home"
        ) from exc
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def pause_after(written: int) -> None:
    """Honour the :data:`PAUSE_ENV` test hook after ``written`` new files."""
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and written == int(wanted):
        import time

        logger.warning("%s=%s: pausing before publishing", PAUSE_ENV, wanted)
        time.sleep(3600)
