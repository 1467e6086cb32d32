"""Rolling-origin backtests: a forecast issued at every hour, scored on what came.

For every station and every hour ``issued_at`` from ``start`` to ``end`` the model
forecasts horizons 1..12 from the store's data at or before ``issued_at``; the
same rows get the baselines of :mod:`training.baselines`, and everything is
scored against the AQI MOENV published (:func:`features.observed_aqi`).

The model is whatever ``training.registry.load_bundle(ref)`` returns. When the
bundle records its training span, the issue hours with a target at or before the
last training hour are counted as in sample (:func:`in_sample_hours`); the CLI,
the report and the MLflow run say how many, since their scores flatter the model.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.config import TIMEZONE, Settings
from forecasting.errors import StoreError, UnknownStationError, ValidationError
from forecasting.hours import parse_hour
from forecasting.schema import HORIZONS
from training import scores as sc
from training.backtest_forecasts import forecast_issue_hours
from training.backtest_sample import in_sample_hours, trained_until
from training.baselines import BASELINES, baseline_forecasts, hourly_climatology
from training.bundle import FORECAST_COLUMNS

logger = logging.getLogger(__name__)

#: Columns of the backtest CSV, in order: those of ``ForecastBundle.forecast``.
CSV_COLUMNS = FORECAST_COLUMNS
KEY_COLUMNS = ("site_id", "issued_at", "horizon")
#: Hours before the backtest that the climatology baseline averages.
CLIMATOLOGY_SPAN = pd.Timedelta(days=365)


@dataclass
class BacktestResult:
    """A backtest's forecasts, its scored rows and its scores.

    Attributes
    ----------
    model_ref:
        The reference the model was loaded with (alias or run id).
    model_info:
        What the bundle tells of itself (run id, version, training end), if any.
    start, end:
        First and last issue hour (tz-aware, Asia/Taipei).
    stations:
        Stations backtested.
    forecasts:
        One row per expected station, issue hour and horizon (:data:`CSV_COLUMNS`);
        the forecast columns are NaN where the model gave no forecast.
    scored:
        ``forecasts`` plus ``aqi_obs`` and one column per baseline.
    by_horizon, by_station, overall:
        :func:`training.scores.score_table` per horizon, per station, pooled.
    reliability:
        :func:`training.scores.reliability_table`.
    seconds:
        Wall-clock time of the model's forecasts.
    headline:
        :func:`training.scores.headline`.
    in_sample:
        Issue hours with a target at or before the model's last training hour
        (:func:`in_sample_hours`); 0 when the bundle does not record its span.
    """

    model_ref: str
    model_info: dict[str, Any]
    start: pd.Timestamp
    end: pd.Timestamp
    stations: list[str]
    forecasts: pd.DataFrame
    scored: pd.DataFrame
    by_horizon: pd.DataFrame
    by_station: pd.DataFrame
    overall: pd.DataFrame
    reliability: pd.DataFrame
    seconds: float = 0.0
    headline: dict[str, float] = field(default_factory=dict)
    in_sample: int = 0

    @property
    def n_issue_hours(self) -> int:
        """Number of issue hours from ``start`` to ``end``."""
        return int((self.end - self.start) / pd.Timedelta(hours=1)) + 1

    def in_sample_note(self) -> str | None:
        """Return the in-sample warning, or None when every issue hour is out of
        sample."""
        if not self.in_sample:
            return None
        return (
            f"{self.in_sample} of {self.n_issue_hours} issue hours are in sample: "
            "these scores flatter the model"
        )


def expected_rows(stations: list[str], issue_hours: pd.DatetimeIndex) -> pd.DataFrame:
    """Return every (station, issue hour, horizon) a backtest must forecast.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``issued_at``, ``target_time``, ``horizon``, sorted that way.
    """
    n_h = len(HORIZONS)
    site = np.repeat(np.asarray(stations, dtype=object), len(issue_hours) * n_h)
    issued = np.tile(np.repeat(issue_hours.as_unit("ns").asi8, n_h), len(stations))
    horizon = np.tile(np.asarray(HORIZONS), len(stations) * len(issue_hours))
    issued_at = pd.to_datetime(issued, utc=True).tz_convert(TIMEZONE).as_unit("ns")
    rows = pd.DataFrame(
        {"site_id": site, "issued_at": issued_at, "horizon": horizon.astype("int64")}
    )
    rows["site_id"] = rows["site_id"].astype(str)
    rows.insert(
        2, "target_time", rows["issued_at"] + pd.to_timedelta(rows["horizon"], "h")
    )
    return rows


def observed_frame(hourly: pd.DataFrame) -> pd.DataFrame:
    """Return the observed AQI of an hourly frame on its complete hourly grid.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``time`` (ns, Asia/Taipei) and ``aqi`` (float, NaN = none).
    """
    from features import complete_grid, observed_aqi

    grid = complete_grid(hourly)
    return pd.DataFrame(
        {
            "site_id": grid["site_id"].astype(str),
            "time": grid["time"].dt.tz_convert(TIMEZONE).dt.as_unit("ns"),
            "aqi": observed_aqi(grid).to_numpy(dtype="float64"),
        }
    )


def _read_history(
    store, stations: list[str] | None, start: pd.Timestamp, end: pd.Timestamp
):
    """Stored hours of the stations from a year before ``start`` to the last
    target time (the year feeds the climatology baseline)."""
    last_target = end + pd.Timedelta(hours=max(HORIZONS))
    first = start - CLIMATOLOGY_SPAN
    if stations:
        _check_known(store, stations)
    hourly = store.read(stations=stations, start=first, end=last_target)
    if hourly.empty:
        raise StoreError(
            f"store {store.root}: no hourly data up to {last_target}; ingest data "
            "first (aqi-forecast ingest ...)"
        )
    hourly = hourly.assign(time=hourly["time"].dt.tz_convert(TIMEZONE))
    return hourly


def _check_known(store, stations: list[str]) -> None:
    """Refuse requested stations that the store holds no hour of."""
    known = set(store.station_ids())
    if not known:
        return
    unknown = sorted(dict.fromkeys(str(s) for s in stations if str(s) not in known))
    if unknown:
        raise UnknownStationError(
            f"--stations: station id {', '.join(unknown)} is unknown: the store "
            f"{store.root} has no data for it; list the stored stations with "
            "`aqi-forecast stations`"
        )


def _pick_stations(
    hourly: pd.DataFrame, stations: list[str] | None, start: pd.Timestamp
) -> list[str]:
    """Requested stations, or those with data in the week before start or after."""
    if stations:
        wanted = sorted(dict.fromkeys(str(s) for s in stations))
        missing = sorted(set(wanted) - set(hourly["site_id"].astype(str)))
        if missing:
            raise UnknownStationError(
                f"--stations: {', '.join(missing)} have no hours in the store "
                f"from a year before {start} to 12 h after the last issue hour; "
                "list the stored stations with `aqi-forecast stations`"
            )
        return wanted
    recent = hourly.loc[hourly["time"] >= start - pd.Timedelta(days=7), "site_id"]
    return sorted(recent.astype(str).unique())


def run_backtest(
    store,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    stations: list[str] | None = None,
    model: str = "champion",
    progress: bool = True,
    bundle=None,
    settings: Settings | None = None,
) -> BacktestResult:
    """Backtest a model over every issue hour from ``start`` to ``end``.

    Parameters
    ----------
    store:
        A :class:`forecasting.store.HourlyStore`.
    start, end:
        First and last issue hour, inclusive (naive times are Asia/Taipei).
    stations:
        Station ids; default every station with data from a week before ``start``.
    model:
        Registry alias (``champion``, ``challenger``) or MLflow run id.
    progress:
        Show a progress bar on the terminal.
    bundle:
        An already loaded :class:`ForecastBundle`; ``model`` then only names it.
    settings:
        Where MLflow lives (default :func:`forecasting.config.get_settings`).

    Returns
    -------
    BacktestResult
        Forecasts for every expected row, the scored frame and the scores.

    Raises
    ------
    ValidationError
        When ``start``/``end`` are not whole hours or ``start`` is after ``end``.
    StoreError
        When the store has no data up to ``end``.
    UnknownStationError
        When a requested station has no hours in the store.
    ModelNotFoundError
        When ``model`` names no trained model.
    """
    start = parse_hour(start, "start")
    end = parse_hour(end, "end")
    if start > end:
        raise ValidationError(
            f"backtest span: start {start} is after end {end}; swap them"
        )
    if bundle is None:
        from training.registry import load_bundle

        bundle = load_bundle(model, settings)

    hourly = _read_history(store, stations, start, end)
    chosen = _pick_stations(hourly, stations, start)
    issue_hours = pd.date_range(start, end, freq="h")
    in_sample = in_sample_hours(issue_hours, trained_until(bundle))
    if in_sample:
        logger.warning(
            "backtest from %s: %d of %d issue hours are in sample (the model was "
            "trained on data up to %s): these scores flatter the model; train with "
            "--end before the backtest start",
            start,
            in_sample,
            len(issue_hours),
            trained_until(bundle),
        )
    hourly = hourly.loc[hourly["site_id"].isin(chosen)]
    rows = expected_rows(chosen, issue_hours)
    logger.info(
        "backtest %s: %d stations x %d issue hours (%s .. %s), %d rows expected",
        model,
        len(chosen),
        len(issue_hours),
        start,
        end,
        len(rows),
    )

    began = clock.perf_counter()
    predicted = forecast_issue_hours(bundle, hourly, issue_hours, progress=progress)
    seconds = clock.perf_counter() - began
    forecasts = _attach(rows, predicted)
    logger.info(
        "backtest %s: %d of %d rows forecast in %.1f s",
        model,
        int(forecasts["aqi_pred"].notna().sum()),
        len(forecasts),
        seconds,
    )

    observed = observed_frame(hourly)
    climatology = hourly_climatology(observed, before=start)
    scored = score_rows(forecasts, observed, climatology)
    by_horizon = sc.score_table(scored, "horizon")
    overall = sc.score_table(scored, None)
    return BacktestResult(
        model_ref=model,
        model_info=_model_info(bundle),
        start=start,
        end=end,
        stations=chosen,
        forecasts=forecasts,
        scored=scored,
        by_horizon=by_horizon,
        by_station=sc.score_table(scored, "site_id"),
        overall=overall,
        reliability=sc.reliability_table(scored),
        seconds=seconds,
        headline=sc.headline(by_horizon, overall),
        in_sample=in_sample,
    )


def score_rows(
    forecasts: pd.DataFrame, observed: pd.DataFrame, climatology: pd.DataFrame
) -> pd.DataFrame:
    """Return ``forecasts`` with ``aqi_obs`` and the baselines, row for row.

    Returns
    -------
    pandas.DataFrame
        The scored frame of :mod:`training.scores`.
    """
    base = baseline_forecasts(forecasts, observed, climatology)
    lookup = observed.set_index(["site_id", "time"])["aqi"]
    keys = pd.MultiIndex.from_arrays(
        [forecasts["site_id"], forecasts["target_time"].dt.as_unit("ns")]
    )
    scored = forecasts.copy()
    scored["aqi_obs"] = lookup.reindex(keys).to_numpy()
    for name in BASELINES:
        scored[name] = base[name].to_numpy()
    return scored


def _attach(rows: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Left-join the model's rows onto the expected rows."""
    values = [c for c in CSV_COLUMNS if c not in rows.columns]
    if predicted.empty:
        out = rows.copy()
        for column in values:
            out[column] = np.nan
        return out.loc[:, list(CSV_COLUMNS)]
    predicted = predicted.assign(
        site_id=predicted["site_id"].astype(str),
        issued_at=predicted["issued_at"].dt.tz_convert(TIMEZONE).dt.as_unit("ns"),
        horizon=predicted["horizon"].astype("int64"),
    )
    out = rows.merge(
        predicted.loc[:, list(KEY_COLUMNS) + values],
        on=list(KEY_COLUMNS),
        how="left",
        validate="1:1",
    )
    return out.loc[:, list(CSV_COLUMNS)]


def _model_info(bundle) -> dict[str, Any]:
    """Run id, registry version and training span, as the bundle records them."""
    metadata = getattr(bundle, "metadata", {}) or {}
    info = {k: str(metadata[k]) for k in ("run_id", "version") if k in metadata}
    span = metadata.get("span")
    if span:
        info["trained_until"] = str(span[-1])
    return info


def iso_hours(times: pd.Series) -> pd.Series:
    """Return tz-aware times as ISO 8601 strings with offset (``..T13:00:00+08:00``)."""
    text = times.dt.tz_convert(TIMEZONE).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text.str[:-2] + ":" + text.str[-2:]


def write_csv(forecasts: pd.DataFrame, path) -> None:
    """Write the backtest CSV (:data:`CSV_COLUMNS`, ISO 8601 times with offset).

    The file is written to a temporary name and then renamed, so an existing
    file is never left half-written.

    Raises
    ------
    OSError
        When the folder cannot be written.
    """
    import os
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = forecasts.loc[:, list(CSV_COLUMNS)].copy()
    out["issued_at"] = iso_hours(out["issued_at"])
    out["target_time"] = iso_hours(out["target_time"])
    partial = path.with_name(path.name + ".partial")
    out.to_csv(partial, index=False, float_format="%.4f")
    os.replace(partial, path)
