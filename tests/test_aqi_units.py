"""Hand-checked cases of the AQI engine: rounding, cuts, validity, tables, ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.aqi import aqi_from_moving_values, compute_aqi, moving_values
from forecasting.errors import ValidationError

NAN = np.nan


def _aqi(time: str = "2026-07-10 12:00", **values: float) -> pd.Series:
    """The AQI result of one hour given its moving and hourly values."""
    frame = pd.DataFrame({name: [value] for name, value in values.items()})
    frame["time"] = pd.Timestamp(time, tz="Asia/Taipei")
    return aqi_from_moving_values(frame).iloc[0]


def _station(end: str = "2026-07-10 12:00", **series: list[float]) -> pd.DataFrame:
    """One station's consecutive hours ending at ``end``, one column per series."""
    length = len(next(iter(series.values())))
    end_time = pd.Timestamp(end, tz="Asia/Taipei")
    frame = pd.DataFrame(
        {
            "site_id": "1",
            "time": pd.date_range(end=end_time, periods=length, freq="h"),
        }
    )
    for name, values in series.items():
        frame[name] = np.asarray(values, dtype=np.float64)
    return frame


def _last(frame: pd.DataFrame, column: str) -> float:
    return float(moving_values(frame)[column].iloc[-1])


# Sub-indices ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("o3_8hr", "expected"),
    [(72, 104), (74, 112), (76, 118), (71, 101), (85, 150)],
)
def test_sub_index_rounds_exact_halves_to_even(o3_8hr, expected):
    # O3 8-h 71-85 ppb -> 101-150: 3.5 AQI per ppb, so 72 -> 104.5 -> 104.
    assert _aqi(o3_8hr=o3_8hr)["si_o3_8hr"] == expected


def test_so2_is_cut_to_whole_ppb_before_the_lookup():
    assert _aqi(so2=8.9, o3_8hr=10)["si_so2"] == 50
    assert _aqi(so2=9.0, o3_8hr=10)["si_so2"] == 51
    assert _aqi(so2=3.9, o3_8hr=10)["si_so2"] == _aqi(so2=3, o3_8hr=10)["si_so2"]


def test_pm2_5_uses_the_2016_table_before_2025():
    # 15.4 µg/m³ is the top of "good" in 2016-2024, "moderate" since 2025:
    # 51 + 49 / 17.9 x 2.9 = 58.94 -> 59.
    old = _aqi(time="2024-12-31 23:00", pm2_5_avg=15.4)
    new = _aqi(time="2025-01-01 00:00", pm2_5_avg=15.4)
    assert (old["aqi"], old["status"], old["pollutant"]) == (50, "良好", None)
    assert (new["aqi"], new["status"], new["pollutant"]) == (59, "普通", "細懸浮微粒")


def test_mixed_eras_in_one_frame_use_each_row_date():
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(
                ["2019-06-01 10:00", "2026-06-01 10:00"]
            ).tz_localize("Asia/Taipei"),
            "pm10_avg": [54.0, 54.0],
            "so2": [35.0, 35.0],
        }
    )
    result = aqi_from_moving_values(frame)
    assert result["si_pm10"].tolist() == [50, 77]  # 51 + 49/44 x 23 = 76.6
    assert result["si_so2"].tolist() == [50, 74]  # 51 + 49/56 x 26 = 73.75


def test_o3_one_hour_counts_only_from_101_ppb_and_the_larger_wins():
    below = _aqi(o3_8hr=49, o3=100)
    at = _aqi(o3_8hr=49, o3=101)
    assert np.isnan(below["si_o3"]) and below["aqi"] == 45
    assert at["si_o3"] == 101 and at["aqi"] == 101 and at["pollutant"] == "臭氧"
    eight_hour_higher = _aqi(o3_8hr=80, o3=110)  # 8-h 132.5 -> 132, 1-h 114.4
    assert eight_hour_higher["aqi"] == 132
    assert eight_hour_higher["pollutant"] == "臭氧八小時"


def test_o3_above_200_ppb_uses_only_the_one_hour_value():
    result = _aqi(o3_8hr=210, o3=300)
    assert np.isnan(result["si_o3_8hr"])
    assert result["si_o3"] == 248  # 201 + 99/199 x 95 = 248.26
    assert result["status"] == "非常不健康"


def test_so2_above_304_ppb_switches_to_the_24_hour_mean():
    assert _aqi(o3_8hr=10, so2=400, so2_avg=350)["si_so2"] == 216  # 215.9
    assert _aqi(o3_8hr=10, so2=400, so2_avg=100)["si_so2"] == 200
    assert _aqi(o3_8hr=10, so2=304, so2_avg=350)["si_so2"] == 200


def test_no_aqi_when_pm2_5_pm10_and_o3_8h_are_all_missing():
    result = _aqi(pm2_5_avg=NAN, pm10_avg=NAN, o3_8hr=NAN, so2=40, no2=50, co_8hr=0.3)
    assert np.isnan(result["aqi"])
    assert result["status"] is None and result["pollutant"] is None
    assert result["color"] is None and result["si_so2"] == 78
    only_pm10 = _aqi(pm2_5_avg=NAN, pm10_avg=20, o3_8hr=NAN, no2=50)
    assert only_pm10["aqi"] == 69 and only_pm10["pollutant"] == "二氧化氮"


@pytest.mark.parametrize(
    ("values", "pollutant"),
    [
        ({"pm2_5_avg": 30.4, "pm10_avg": 75, "o3_8hr": 70}, "細懸浮微粒"),
        ({"pm2_5_avg": 5.0, "pm10_avg": 75, "o3_8hr": 70}, "臭氧八小時"),
        ({"pm2_5_avg": 5.0, "pm10_avg": 75, "so2": 65, "no2": 100}, "懸浮微粒"),
        ({"pm2_5_avg": 5.0, "so2": 65, "no2": 100}, "二氧化硫"),
        ({"pm2_5_avg": 5.0, "no2": 100, "co_8hr": 9.4}, "一氧化碳"),
    ],
)
def test_ties_name_one_pollutant_by_fixed_priority(values, pollutant):
    result = _aqi(**values)
    assert result["aqi"] == 100 and result["pollutant"] == pollutant


@pytest.mark.parametrize(
    ("pm2_5_avg", "aqi", "status", "status_en", "color"),
    [
        (12.4, 50, "良好", "Good", "#00e800"),
        (12.5, 51, "普通", "Moderate", "#ffff00"),
        (30.5, 101, "對敏感族群不健康", "Unhealthy for Sensitive Groups", "#ff7e00"),
        (50.5, 151, "對所有族群不健康", "Unhealthy", "#ff0000"),
        (125.5, 201, "非常不健康", "Very Unhealthy", "#8f3f97"),
        (225.5, 301, "危害", "Hazardous", "#7e0023"),
        (900.0, 500, "危害", "Hazardous", "#7e0023"),
    ],
)
def test_status_bands_names_and_colours(pm2_5_avg, aqi, status, status_en, color):
    result = _aqi(pm2_5_avg=pm2_5_avg)
    assert (result["aqi"], result["status"]) == (aqi, status)
    assert (result["status_en"], result["color"]) == (status_en, color)


def test_pollutant_is_blank_at_50_and_named_at_51():
    assert _aqi(pm2_5_avg=12.4)["pollutant"] is None
    assert _aqi(pm10_avg=31)["pollutant"] == "懸浮微粒"


# Moving values ------------------------------------------------------------------


def test_pm_moving_value_needs_6_of_12_hours():
    six = [NAN] * 6 + [30, 30, 10, 10, 10, 10]  # 0.5 x 100/6 + 0.5 x 10 = 13.33
    five = [NAN] * 7 + [30, 10, 10, 10, 10]
    assert _last(_station(pm2_5=six), "pm2_5_avg") == 13.3
    assert _last(_station(pm10=six), "pm10_avg") == 13
    assert np.isnan(_last(_station(pm2_5=five), "pm2_5_avg"))


def test_pm_moving_value_needs_2_of_the_last_4_hours():
    two = [10] * 8 + [NAN, NAN, 20, 20]  # 0.5 x 120/10 + 0.5 x 20 = 16.0
    one = [10] * 8 + [NAN, NAN, NAN, 20]
    assert _last(_station(pm2_5=two), "pm2_5_avg") == 16.0
    assert np.isnan(_last(_station(pm2_5=one), "pm2_5_avg"))


def test_o3_8h_needs_5_of_8_and_corrects_the_integer_feed():
    assert _last(_station(o3=[NAN] * 3 + [30, 30, 30, 30, 33]), "o3_8hr") == 31  # 30.6
    assert np.isnan(_last(_station(o3=[NAN] * 4 + [30, 30, 30, 33]), "o3_8hr"))
    assert _last(_station(o3=[30] * 4 + [31] * 4), "o3_8hr") == 30  # 30.5 + 0.45
    assert _last(_station(o3=[30] * 3 + [31] * 5), "o3_8hr") == 31  # 30.625


def test_o3_8h_of_one_decimal_values_is_cut():
    assert _last(_station(o3=[30.9] * 8), "o3_8hr") == 30
    assert _last(_station(o3=[30.5, 31.0] * 4), "o3_8hr") == 30  # 30.75


def test_co_8h_needs_4_of_8_and_is_cut_to_0_1():
    assert _last(_station(co=[NAN] * 4 + [0.1, 0.2, 0.3, 0.5]), "co_8hr") == 0.2
    assert np.isnan(_last(_station(co=[NAN] * 5 + [0.2, 0.3, 0.5]), "co_8hr"))


def test_so2_24h_needs_16_of_24_and_is_cut_to_an_integer():
    sixteen = [NAN] * 8 + [2.0] * 15 + [16.4]  # 46.4 / 16 = 2.9
    fifteen = [NAN] * 9 + [2.0] * 14 + [16.4]
    assert _last(_station(so2=sixteen), "so2_avg") == 2
    assert np.isnan(_last(_station(so2=fifteen), "so2_avg"))


def test_truncation_is_exact_where_floats_fall_short():
    # These 8 CO values sum to 3.2 ppm; in doubles their mean is 0.39999999999999997,
    # which a float truncation would cut to 0.3.
    values = [0.79, 0.08, 0.46, 0.30, 0.31, 0.64, 0.36, 0.26]
    assert np.mean(values) < 0.4
    assert _last(_station(co=values), "co_8hr") == 0.4
    assert _last(_station(pm2_5=[12.3] * 12), "pm2_5_avg") == 12.3


def test_absent_hours_count_as_invalid_like_blank_hours():
    values = [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32] * 2
    blank = _station(pm2_5=values, o3=values, co=values, so2=values)
    blank.loc[[13, 14, 20, 21, 22], ["pm2_5", "o3", "co", "so2"]] = NAN
    absent = blank.drop(index=[13, 14, 20, 21, 22])
    from_blank = moving_values(blank).loc[absent.index]
    pd.testing.assert_frame_equal(moving_values(absent), from_blank)
    assert np.isnan(from_blank["pm2_5_avg"].iloc[-1])  # 1 valid of the last 4


def test_row_order_and_index_are_kept_and_stations_do_not_mix():
    first = _station(pm2_5=[20.0] * 12)
    second = _station(pm2_5=[NAN] * 6 + [40.0] * 6).assign(site_id="2")
    both = pd.concat([first, second], ignore_index=True)
    shuffled = both.sample(frac=1.0, random_state=3)
    shuffled.index = shuffled.index + 100

    result = compute_aqi(shuffled)
    assert result.index.equals(shuffled.index)
    last_hour = result[result["time"] == result["time"].max()].set_index("site_id")
    assert last_hour.loc["1", "pm2_5_avg"] == 20.0
    assert last_hour.loc["2", "pm2_5_avg"] == 40.0
    assert last_hour.loc["2", "aqi"] == 124  # 101 + 49/19.9 x 9.5 = 124.4


def test_duplicate_station_hour_is_refused():
    frame = _station(pm2_5=[10.0, 11.0])
    frame.loc[1, "time"] = frame.loc[0, "time"]
    with pytest.raises(ValidationError, match="more than one row"):
        moving_values(frame)


def test_naive_time_is_refused():
    frame = _station(pm2_5=[10.0, 11.0])
    frame["time"] = frame["time"].dt.tz_localize(None)
    with pytest.raises(ValidationError, match="timezone-aware"):
        compute_aqi(frame)
