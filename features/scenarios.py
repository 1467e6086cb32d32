"""The official AQI each future hour would have if the air did not change.

At issue hour ``t`` the AQI of ``t + h`` is built from moving windows (PM 12 and
4 hours, O3 and CO 8 hours) that still hold ``window - h`` hours already
observed; only the rest is unknown. Filling the unknown hours with a simple
guess and running MOENV's own arithmetic on the result gives, per horizon, an AQI
that already knows which observed hours will leave and stay in each window,
and when the hourly O3 sub-index will switch on. Two guesses:

* ``flat``: every future hour repeats the last observed hour;
* ``yesterday``: every future hour repeats the same hour one day earlier (the
  daily cycle of O3 and traffic).

Measured on the held-out week of the bundled data, the ``flat`` AQI alone is off
by 1.78 at one hour where persistence (the last published AQI) is off by 2.40.
The boosters read these AQIs and their sub-indices as features, one set per
horizon. Every value reads only hours at or before ``issued_at``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.runs import StationRuns
from forecasting.aqi import aqi_from_moving_values

#: How the unknown future hours are filled.
SCENARIOS = ("flat", "yesterday")
#: What each scenario contributes per horizon: the AQI and the sub-indices that
#: drive it in Taiwan (PM and O3).
SCENARIO_OUTPUTS = ("aqi", "si_pm2_5", "si_pm10", "si_o3_8hr", "si_o3")
#: Hours the last observation may be carried forward for the ``flat`` guess.
FLAT_CARRY_HOURS = 3


def scenario_feature_names() -> list[str]:
    """Per-horizon model columns of :func:`scenario_columns`, in order."""
    return [f"{s}_{o}" for s in SCENARIOS for o in SCENARIO_OUTPUTS]


def stored_name(name: str, horizon: int) -> str:
    """The feature-frame column holding scenario feature ``name`` at ``horizon``."""
    return f"_scenario_{name}_h{horizon:02d}"


def _concentration(grid: pd.DataFrame, name: str) -> pd.Series:
    if name not in grid.columns:
        return pd.Series(np.nan, index=grid.index)
    return pd.to_numeric(grid[name], errors="coerce").astype("float64")


class _Guess:
    """Window means of one pollutant at ``t + h`` under one scenario."""

    def __init__(self, values: pd.Series, runs: StationRuns, scenario: str) -> None:
        self.values, self.runs, self.scenario = values, runs, scenario
        self.last = runs.ffill(values, FLAT_CARRY_HOURS).to_numpy()

    def _lagged(self, array: np.ndarray, hours: int) -> np.ndarray:
        return self.runs.lag(pd.Series(array, index=self.runs.index), hours).to_numpy()

    def hourly(self, horizon: int) -> np.ndarray:
        """The guessed value of the hour ``t + horizon`` itself."""
        if self.scenario == "flat":
            return self.last
        return self.runs.lag(self.values, 24 - horizon).to_numpy()

    def mean(self, window: int, horizon: int) -> np.ndarray:
        """Mean over the ``window`` hours ending at ``t + horizon``: observed
        hours where known, the guess for the hours after ``t``."""
        known_sum, known_count = self.runs.window_sum(self.values, window - horizon)
        guessed = min(horizon, window)
        if self.scenario == "flat":
            present = ~np.isnan(self.last)
            guess_sum = np.where(present, self.last * guessed, 0.0)
            guess_count = present * guessed
        else:
            # The same hours a day earlier: a window of ``guessed`` hours
            # ending at t + horizon - 24.
            total, count = self.runs.window_sum(self.values, guessed)
            guess_sum = np.nan_to_num(self._lagged(total, 24 - horizon))
            guess_count = np.nan_to_num(self._lagged(count, 24 - horizon))
        count = known_count + guess_count
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (known_sum + guess_sum) / count, np.nan)


def scenario_columns(
    grid: pd.DataFrame, runs: StationRuns, horizons: tuple[int, ...]
) -> dict[str, pd.Series]:
    """Every scenario's AQI and sub-indices at every horizon, as feature columns.

    Parameters
    ----------
    grid:
        A sorted complete hourly grid (:func:`features.grid.complete_grid`).
    runs:
        The grid's :class:`StationRuns`.
    horizons:
        Hours ahead.

    Returns
    -------
    dict
        :func:`stored_name` -> values on ``grid``'s index.
    """
    guesses = {
        scenario: {
            name: _Guess(_concentration(grid, name), runs, scenario)
            for name in ("pm2_5", "pm10", "o3", "co", "so2", "no2")
        }
        for scenario in SCENARIOS
    }
    columns: dict[str, pd.Series] = {}
    for horizon in horizons:
        target_time = grid["time"] + pd.Timedelta(hours=horizon)
        for scenario, guess in guesses.items():
            moving = {
                name: 0.5 * guess[name].mean(12, horizon)
                + 0.5 * guess[name].mean(4, horizon)
                for name in ("pm2_5", "pm10")
            }
            frame = pd.DataFrame(
                {
                    "time": target_time,
                    "pm2_5_avg": moving["pm2_5"],
                    "pm10_avg": moving["pm10"],
                    "o3_8hr": guess["o3"].mean(8, horizon),
                    "co_8hr": guess["co"].mean(8, horizon),
                    "o3": guess["o3"].hourly(horizon),
                    "so2": guess["so2"].hourly(horizon),
                    "no2": guess["no2"].hourly(horizon),
                },
                index=grid.index,
            )
            values = frame.columns.drop("time")
            frame[values] = frame[values].clip(lower=0)
            official = aqi_from_moving_values(frame)
            for output in SCENARIO_OUTPUTS:
                name = stored_name(f"{scenario}_{output}", horizon)
                columns[name] = official[output].astype("float64")
    return columns


def flat_base(features: pd.DataFrame, horizon: int) -> np.ndarray:
    """What a ``"flat"`` booster's output is added to at ``horizon``.

    Returns
    -------
    numpy.ndarray
        The ``flat`` scenario's AQI of the target hour, the last observed AQI
        (``aqi_last``) where the scenario has none; NaN where the last observed
        AQI is (as for ``"change"`` boosters, so both modes use the same rows).
    """
    last = features["aqi_last"].to_numpy(dtype="float64")
    column = stored_name("flat_aqi", horizon)
    if column not in features.columns:
        return last
    return np.where(
        last >= 0,
        features[column].fillna(pd.Series(last, index=features.index)),
        np.nan,
    )
