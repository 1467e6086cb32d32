"""Column names and types shared by every stage: the hourly frame's contract.

An *hourly frame* is a pandas DataFrame with one row per station and hour:

* ``site_id`` (str): MOENV ``siteid``, e.g. ``"49"`` for 仁武.
* ``time``: tz-aware ``Asia/Taipei`` timestamp marking the END of the hour
  (``10:00`` is the average over 09:00-10:00). The store keeps UTC on disk.
* one float64 column per measured item (:data:`MEASUREMENTS`), NaN when missing
  or marked invalid;
* the AQI fields MOENV published, when the source carries them
  (:data:`PUBLISHED_NUMBERS`, :data:`PUBLISHED_TEXT`); ``aqi`` is NaN for "no AQI".
"""

from __future__ import annotations

KEYS = ("site_id", "time")

#: Hourly pollutant concentrations (ppb, ppm for CO, µg/m³ for PM).
POLLUTANTS = ("so2", "co", "o3", "pm10", "pm2_5", "no2", "nox", "no")

#: Weather and other items of the yearly station files.
WEATHER = (
    "wind_speed",
    "wind_direc",
    "ws_hr",
    "wd_hr",
    "amb_temp",
    "rh",
    "rainfall",
)
OTHER_ITEMS = (
    "ch4",
    "thc",
    "nmhc",
    "ph_rain",
    "rain_cond",
    "pressure",
    "rp",
    "shelt_temp",
    "visibility",
)
MEASUREMENTS = POLLUTANTS + WEATHER + OTHER_ITEMS

#: MOENV's published moving values, the inputs of the sub-indices.
MOVING_VALUES = ("pm2_5_avg", "pm10_avg", "o3_8hr", "co_8hr", "so2_avg")

#: Numeric AQI fields of AQX_P_432 (``aqi`` NaN means no AQI was published).
PUBLISHED_NUMBERS = ("aqi",) + MOVING_VALUES
#: Text AQI fields of AQX_P_432, as published (Chinese), ``None`` when blank.
PUBLISHED_TEXT = ("pollutant", "status")

#: Where a row came from: a source kind (see ``SOURCE_RANK``) and the file name.
PROVENANCE = ("source_kind", "source")

#: Kinds of source, best first: validated yearly files beat the per-station hourly
#: datasets, which beat the real-time feed, for the measured values.
SOURCE_RANK = {"yearly": 3, "station_hourly": 2, "realtime": 1}

HOURLY_COLUMNS = KEYS + MEASUREMENTS + PUBLISHED_NUMBERS + PUBLISHED_TEXT + PROVENANCE

#: Columns of a flags frame: every cell that was not a plain number, verbatim.
FLAG_COLUMNS = ("site_id", "time", "item", "raw", "source")

HORIZONS = tuple(range(1, 13))
