"""MOENV's AQI breakpoint tables, status bands, colours and pollutant names.

Sources are the tags of ``tests/data/RULES.md`` (a copy of
``shared/aqi/RULES.md``): the table in force since 2025-01-01 (RULES.md §1, G1, N1,
C1, confirmed on published rows) and the 2016-2024 table (C3). Each table row is
``(C_lo, C_hi, I_lo, I_hi)``: a concentration band and the AQI band it maps to.
"""

from __future__ import annotations

import pandas as pd

from forecasting.config import TIMEZONE

#: First hour (hour ending, Asia/Taipei) scored with :data:`TABLE_2025`.
TABLE_2025_FROM = pd.Timestamp("2025-01-01 00:00", tz=TIMEZONE)

Band = tuple[float, float, int, int]

#: Sub-index keys: the value each table row is looked up with.
#: ``o3`` is the 1-hour ozone, ``so2`` the 1-hour SO2, ``so2_24h`` the 24-h mean.
TABLE_2025: dict[str, tuple[Band, ...]] = {
    "pm2_5": (
        (0.0, 12.4, 0, 50),
        (12.5, 30.4, 51, 100),
        (30.5, 50.4, 101, 150),
        (50.5, 125.4, 151, 200),
        (125.5, 225.4, 201, 300),
        (225.5, 325.4, 301, 400),
        (325.5, 500.4, 401, 500),
    ),
    "pm10": (
        (0, 30, 0, 50),
        (31, 75, 51, 100),
        (76, 190, 101, 150),
        (191, 354, 151, 200),
        (355, 424, 201, 300),
        (425, 504, 301, 400),
        (505, 604, 401, 500),
    ),
    "o3_8hr": (
        (0, 54, 0, 50),
        (55, 70, 51, 100),
        (71, 85, 101, 150),
        (86, 105, 151, 200),
        (106, 200, 201, 300),
    ),
    "o3": (
        (101, 134, 101, 150),
        (135, 204, 151, 200),
        (205, 404, 201, 300),
        (405, 504, 301, 400),
        (505, 604, 401, 500),
    ),
    "co": (
        (0.0, 4.4, 0, 50),
        (4.5, 9.4, 51, 100),
        (9.5, 12.4, 101, 150),
        (12.5, 15.4, 151, 200),
        (15.5, 30.4, 201, 300),
        (30.5, 40.4, 301, 400),
        (40.5, 50.4, 401, 500),
    ),
    "so2": (
        (0, 8, 0, 50),
        (9, 65, 51, 100),
        (66, 160, 101, 150),
        (161, 304, 151, 200),
    ),
    "so2_24h": (
        (305, 604, 201, 300),
        (605, 804, 301, 400),
        (805, 1004, 401, 500),
    ),
    "no2": (
        (0, 21, 0, 50),
        (22, 100, 51, 100),
        (101, 360, 101, 150),
        (361, 649, 151, 200),
        (650, 1249, 201, 300),
        (1250, 1649, 301, 400),
        (1650, 2049, 401, 500),
    ),
}

#: The 2016-2024 table (RULES.md §1 "Changes against the 2016-2024 table", C3).
TABLE_2016: dict[str, tuple[Band, ...]] = {
    **TABLE_2025,
    "pm2_5": (
        (0.0, 15.4, 0, 50),
        (15.5, 35.4, 51, 100),
        (35.5, 54.4, 101, 150),
        (54.5, 150.4, 151, 200),
        (150.5, 250.4, 201, 300),
        (250.5, 350.4, 301, 400),
        (350.5, 500.4, 401, 500),
    ),
    "pm10": (
        (0, 54, 0, 50),
        (55, 125, 51, 100),
        (126, 254, 101, 150),
        (255, 354, 151, 200),
        (355, 424, 201, 300),
        (425, 504, 301, 400),
        (505, 604, 401, 500),
    ),
    "o3": (
        (125, 164, 101, 150),
        (165, 204, 151, 200),
        (205, 404, 201, 300),
        (405, 504, 301, 400),
        (505, 604, 401, 500),
    ),
    "so2": (
        (0, 35, 0, 50),
        (36, 75, 51, 100),
        (76, 185, 101, 150),
        (186, 304, 151, 200),
    ),
    "no2": (
        (0, 53, 0, 50),
        (54, 100, 51, 100),
        (101, 360, 101, 150),
        (361, 649, 151, 200),
        (650, 1249, 201, 300),
        (1250, 1649, 301, 400),
        (1650, 2049, 401, 500),
    ),
}

#: Sub-index columns, in the order that breaks ties between equal sub-indices.
#: PM2.5 > O3 8-h > PM10 > SO2 > NO2 is seen on 388 published ties (RULES.md §5).
#: Where O3 1-h and CO go is not known (RULES.md §8, open point); we INFER O3 1-h
#: right after O3 8-h (the same pollutant, the 8-h value being the regular one)
#: and CO between PM10 and SO2. Neither has ever tied for the top in the feed.
SUB_INDEX_PRIORITY = (
    "si_pm2_5",
    "si_o3_8hr",
    "si_o3",
    "si_pm10",
    "si_co",
    "si_so2",
    "si_no2",
)

#: The ``pollutant`` name MOENV publishes for each sub-index (RULES.md §5). The CO
#: name comes from an older field description only (never seen in the feed).
POLLUTANT_NAMES = {
    "si_pm2_5": "細懸浮微粒",
    "si_o3_8hr": "臭氧八小時",
    "si_o3": "臭氧",
    "si_pm10": "懸浮微粒",
    "si_co": "一氧化碳",
    "si_so2": "二氧化硫",
    "si_no2": "二氧化氮",
}

#: Status bands: highest AQI of the band, Chinese and English name, official colour.
STATUS_BANDS = (
    (50, "良好", "Good", "#00e800"),
    (100, "普通", "Moderate", "#ffff00"),
    (150, "對敏感族群不健康", "Unhealthy for Sensitive Groups", "#ff7e00"),
    (200, "對所有族群不健康", "Unhealthy", "#ff0000"),
    (300, "非常不健康", "Very Unhealthy", "#8f3f97"),
    (500, "危害", "Hazardous", "#7e0023"),
)

#: AQI at or below which no pollutant is named.
POLLUTANT_NAMED_ABOVE = 50
