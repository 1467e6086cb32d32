"""A writer killed mid-ingest leaves the previous store whole; the next one finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from forecasting.config import SAMPLE_DATA
from forecasting.readers import read_path
from forecasting.store import HourlyStore
from forecasting.store_files import PAUSE_ENV, live_files, load_manifest

PAYLOAD = SAMPLE_DATA / "aqx_p_432_2026070322_2026080823.json.gz"
LUNBEI = SAMPLE_DATA / "yearly" / "lunbei_38_2017.hourly.parquet"

CHILD = """
import logging, sys
from pathlib import Path
from forecasting.readers import read_path
from forecasting.store import HourlyStore
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
HourlyStore(Path(sys.argv[1])).ingest(read_path(Path(sys.argv[2])))
"""


def _data_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for name in ("hourly", "flags")
        for p in (root / name).rglob("*.parquet")
    }


@pytest.mark.slow
def test_killed_ingest_leaves_previous_store_then_reingest_completes(tmp_path):
    store = HourlyStore(tmp_path / "store")
    store.ingest(read_path(LUNBEI))
    manifest_before = (store.root / "manifest.json").read_bytes()
    files_before = _data_files(store.root)
    frame_before, flags_before = store.read(), store.read_flags()

    env = {**os.environ, PAUSE_ENV: "30"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store.root), str(PAYLOAD)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    line = ""
    while "pausing before publishing" not in line:
        line = child.stderr.readline()
        assert line or child.poll() is None, "the ingest ended before the pause"
        assert time.monotonic() < deadline
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()

    assert child.returncode == -signal.SIGKILL
    written = _data_files(store.root) - files_before
    assert len(written) == 30  # half-written ingest: files exist, unpublished
    assert (store.root / "manifest.json").read_bytes() == manifest_before
    assert live_files(load_manifest(store.root)) == files_before
    pd.testing.assert_frame_equal(store.read(), frame_before)
    pd.testing.assert_frame_equal(store.read_flags(), flags_before)

    summary = store.ingest(read_path(PAYLOAD))

    assert summary.total.added == 63000
    assert summary.stations["38"].added == 750
    assert _data_files(store.root) == live_files(load_manifest(store.root))
    assert len(store.read()) == 7007 + 63000
    pd.testing.assert_frame_equal(
        store.read(["38"], end="2017-12-31"),
        frame_before.reset_index(drop=True),
    )


@pytest.mark.slow
def test_reader_sees_the_whole_previous_or_the_whole_new_store(tmp_path):
    store = HourlyStore(tmp_path / "store")
    store.ingest(read_path(LUNBEI))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store.root), str(PAYLOAD)],
        stderr=subprocess.DEVNULL,
    )

    sizes = []
    while child.poll() is None:
        sizes.append(len(store.read(columns=["aqi"])))
    sizes.append(len(store.read(columns=["aqi"])))

    assert child.returncode == 0
    assert set(sizes) <= {7007, 7007 + 63000}
    assert sizes[0] == 7007 and sizes[-1] == 7007 + 63000
