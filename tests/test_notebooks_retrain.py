"""The retraining notebook runs top to bottom on real data (through papermill)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "retrain.ipynb"


@pytest.mark.slow
def test_retrain_notebook_trains_a_challenger_and_backtests_it(tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "retrain.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "home": str(tmp_path / "home"),
            "tracking_uri": uri,
            "stations": ["12"],
            "train_end": "2026-08-05 23:00",
            "backtest_start": "2026-08-06 00:00",
            "backtest_end": "2026-08-06 11:00",
        },
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )

    executed = json.loads(out.read_text(encoding="utf-8"))
    errors = [
        output
        for cell in executed["cells"]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias("aqi-forecast", "challenger")
    metrics = client.get_run(version.run_id).data.metrics
    assert [f"val_mae_h{h:02d}" in metrics for h in range(1, 13)] == [True] * 12
    assert client.get_registered_model("aqi-forecast").aliases == {
        "challenger": version.version
    }
