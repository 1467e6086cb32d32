"""``aqi-forecast ingest`` and ``stations`` on real files, good and broken."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from forecasting.cli import app
from forecasting.ingest import expand_paths, ingest_paths
from forecasting.store import HourlyStore

RAW = Path(__file__).parent / "data" / "raw"
HSINCHU_2019 = RAW / "hsinchu_2019_2021" / "新竹_2019_first3days.csv"
OFFICIAL = RAW / "crab650_aqx_p_432" / "official"

runner = CliRunner()


def _shuffled_header_copy(folder: Path) -> Path:
    """The real 新竹 2019 file with its first two header fields swapped."""
    lines = HSINCHU_2019.read_bytes().split(b"\r\n")
    fields = lines[0].split(b",")
    fields[0], fields[2] = fields[2], fields[0]
    lines[0] = b",".join(fields)
    broken = folder / "新竹_2019_shuffled.csv"
    broken.write_bytes(b"\r\n".join(lines))
    return broken


def test_cli_ingest_bundled_data_again_changes_nothing(sample_home):
    result = runner.invoke(
        app,
        ["ingest", "--home", str(sample_home), "--sample-data", "--no-progress"],
        env={"COLUMNS": "160"},
    )

    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if "total" in line)
    cells = [cell.strip() for cell in total.split("│") if cell.strip()]
    assert cells == ["total", "84 stations", "0", "0", "205,122", "184,050", "0"]
    assert "6 of 6 files stored; 0 refused" in result.output


def test_cli_ingest_refuses_a_broken_file_and_stores_the_others(tmp_path):
    broken = _shuffled_header_copy(tmp_path)
    home = tmp_path / "home"

    result = runner.invoke(
        app,
        ["ingest", "--home", str(home), "--no-progress", str(broken), str(OFFICIAL)],
        env={"COLUMNS": "160"},
    )

    assert result.exit_code == 2
    assert "3 of 4 files stored; 1 refused" in result.output
    assert f"refused {broken}:1" in result.output
    store = HourlyStore(home / "store")
    assert store.station_ids() == sorted(store.station_ids(), key=int)
    assert len(store.read()) == 3 * 84
    assert store.read(["24"])["source_kind"].unique().tolist() == ["realtime"]


def test_ingest_paths_counts_per_file_and_station(tmp_path):
    store = HourlyStore(tmp_path / "store")

    summaries = ingest_paths([HSINCHU_2019, OFFICIAL], store, progress=False)

    assert [s.ok for s in summaries] == [True] * 4
    assert summaries[0].stations["24"].added == 72
    assert summaries[0].stations["24"].flagged > 0
    assert all(s.total.added == 84 for s in summaries[1:])
    assert len(store.read(["24"], end="2019-12-31")) == 72
    first = store.read(["24"]).iloc[0]
    assert first["time"] == pd.Timestamp("2019-01-01 01:00+08:00")
    assert first["amb_temp"] == 17.5


def test_folders_expand_to_data_files_only(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.csv", "README.md", "b.hourly.parquet", "b.flags.parquet"):
        (tmp_path / name).write_text("")
    (tmp_path / ".hidden.csv").write_text("")

    files = expand_paths([tmp_path])

    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a/x.csv",
        "b.hourly.parquet",
    ]


def test_cli_ingest_missing_path_is_a_clear_error(tmp_path):
    result = runner.invoke(
        app,
        ["ingest", "--home", str(tmp_path), str(tmp_path / "nope.csv")],
        env={"COLUMNS": "300"},
    )

    assert result.exit_code == 2
    assert "nope.csv: no such file or folder" in result.output


def test_cli_stations_lists_registry_with_store_spans(sample_home):
    result = runner.invoke(
        app, ["stations", "--home", str(sample_home)], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    renwu = next(line for line in result.output.splitlines() if "仁武" in line)
    assert "Renwu" in renwu and "高雄市" in renwu
    assert "2002-01-01 01:00" in renwu and "2026-08-08 23:00" in renwu
    assert "98,717" in renwu
