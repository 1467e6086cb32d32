"""Files into the hourly store: many paths, one bad file never stops the others.

Each file is read by :func:`forecasting.readers.read_path` and stored by
:meth:`forecasting.store.HourlyStore.ingest`; the store refuses a file as a
whole (nothing of it is stored) or takes it whole, so a refused file is only
reported, with the reason naming its file, line and field.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from forecasting.config import SAMPLE_DATA
from forecasting.errors import ForecastingError
from forecasting.store import HourlyStore, IngestSummary

logger = logging.getLogger(__name__)

#: Names skipped when a folder is expanded: notes, and the flags files that the
#: curated ``*.hourly.parquet`` reader takes from beside its hourly file.
SKIPPED_SUFFIXES = (".md", ".flags.parquet")


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Return the files to ingest: files as given, folders expanded recursively.

    Hidden files, ``*.md`` notes and ``*.flags.parquet`` (read with their
    hourly file) are skipped inside folders; a path given explicitly is kept.

    Returns
    -------
    list of Path
        In the order given, each folder's files sorted by name.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        for child in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
            if (
                child.is_file()
                and not hidden
                and not child.name.endswith(SKIPPED_SUFFIXES)
            ):
                found.append(child)
    return found


@contextmanager
def _progress(enabled: bool, total_bytes: int, files: int) -> Iterator:
    """Yield ``advance(path, stage)`` driving a rich bar weighted by file size."""
    if not enabled:
        yield lambda path, stage, done=0: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("ingest", total=max(total_bytes, 1), files=f"0/{files}")

        count = {"n": 0}

        def step(path: Path, stage: str, done: int = 0) -> None:
            if stage == "done":
                count["n"] += 1
            bar.update(
                task,
                description=f"{stage} {path.name}",
                advance=done,
                files=f"files {count['n']}/{files}",
            )

        yield step


def _with_path(message: str, path: Path) -> str:
    """Name the file as given on the command line where readers used its name."""
    if message.startswith(path.name) and not message.startswith(str(path)):
        return str(path) + message[len(path.name) :]
    return message


def ingest_file(path: Path, store: HourlyStore) -> IngestSummary:
    """Read one file and store it; a refused file is reported, not raised.

    Returns
    -------
    IngestSummary
        With ``error`` set when the file was refused (nothing of it stored).
    """
    from forecasting.readers import read_path

    started = clock.perf_counter()
    try:
        result = read_path(path)
        summary = store.ingest(result, label=str(path))
    except ForecastingError as error:
        summary = IngestSummary(source=str(path), error=_with_path(str(error), path))
    except OSError as error:
        summary = IngestSummary(
            source=str(path), error=f"{path}: cannot be read ({error.strerror})"
        )
    except Exception as error:  # a reader bug on a broken file must not stop others
        logger.exception("unexpected failure while ingesting %s", path)
        summary = IngestSummary(
            source=str(path),
            error=f"{path}: unexpected {type(error).__name__}: {error}; "
            "please report this file",
        )
    summary.seconds = clock.perf_counter() - started
    if summary.error:
        logger.info("refused %s: %s", path, summary.error)
    return summary


def ingest_paths(
    paths: Iterable[Path | str], store: HourlyStore, progress: bool = True
) -> list[IngestSummary]:
    """Ingest files and folders into ``store``, one summary per file.

    Parameters
    ----------
    paths:
        Files or folders (expanded by :func:`expand_paths`).
    store:
        The hourly store to write.
    progress:
        Show a rich progress bar over the files, weighted by their size.

    Returns
    -------
    list of IngestSummary
        One per file, in order; a refused file has ``error`` set.

    Raises
    ------
    InputFormatError
        When a path does not exist (before anything is ingested).
    """
    from forecasting.errors import InputFormatError

    files = expand_paths(paths)
    missing = [path for path in files if not path.exists()]
    if missing:
        raise InputFormatError(
            f"{missing[0]}: no such file or folder; check the path and try again"
        )
    started = clock.perf_counter()
    logger.info("ingest of %d files into %s started", len(files), store.root)
    sizes = {path: path.stat().st_size for path in files}
    summaries = []
    with _progress(progress, sum(sizes.values()), len(files)) as step:
        for path in files:
            step(path, "reading")
            summaries.append(ingest_file(path, store))
            step(path, "done", sizes[path])

    refused = sum(not summary.ok for summary in summaries)
    rows = sum(summary.total.added + summary.total.replaced for summary in summaries)
    logger.info(
        "ingest of %d files done in %.1f s: %d rows added or replaced, %d refused",
        len(files),
        clock.perf_counter() - started,
        rows,
        refused,
    )
    return summaries


def sample_data_files() -> list[Path]:
    """Return the bundled data files: the AQX_P_432 payload, the yearly files."""
    payloads = sorted(SAMPLE_DATA.glob("*.json.gz"))
    yearly = sorted((SAMPLE_DATA / "yearly").glob("*.hourly.parquet"))
    return payloads + yearly


def ingest_sample_data(
    store: HourlyStore, progress: bool = False
) -> list[IngestSummary]:
    """Ingest every bundled file of ``forecasting/sample_data`` into ``store``.

    Returns
    -------
    list of IngestSummary
        One per bundled file; ingesting them again adds and replaces nothing.

    Raises
    ------
    StoreError
        When a bundled file is refused: the package itself is broken then.
    """
    from forecasting.errors import StoreError

    summaries = ingest_paths(sample_data_files(), store, progress=progress)
    refused = [summary for summary in summaries if not summary.ok]
    if refused:
        raise StoreError(
            f"bundled file refused: {refused[0].error}; reinstall the package"
        )
    return summaries
