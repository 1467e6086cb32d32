"""Request and response models of the HTTP API, shown in its OpenAPI page.

The answers themselves are built as plain dicts by :mod:`serving.answers`; these
models only describe and validate them at the HTTP edge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

STATION_ID_HELP = (
    'MOENV station id (siteid) as a string of digits, e.g. "12"; '
    "GET /stations lists them"
)


class StationRequest(BaseModel):
    """Body of ``POST /forecast`` and ``POST /current_aqi``."""

    station_id: Annotated[
        str,
        Field(
            description=STATION_ID_HELP,
            examples=["12"],
            json_schema_extra={"pattern": "^[0-9]{1,6}$"},
        ),
    ]

    @field_validator("station_id")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 6:
            raise ValueError(
                f"station_id {value!r} is not a MOENV siteid (1 to 6 digits)"
            )
        return value


class Station(BaseModel):
    """One station of the registry."""

    station_id: str
    name_zh: str
    name_en: str | None = None
    county: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class ForecastEntry(BaseModel):
    """The forecast for one hour ahead."""

    target_time: datetime = Field(description="Hour forecast (hour ending, +08:00).")
    horizon: int = Field(ge=1, le=12, description="Hours after issued_at.")
    aqi: float | None = Field(description="Point forecast of the AQI.")
    aqi_p10: float | None = Field(description="10th percentile of the AQI.")
    aqi_p90: float | None = Field(description="90th percentile of the AQI.")
    status: str | None = Field(description="MOENV band of the point forecast.")
    p_good: float | None = None
    p_moderate: float | None = None
    p_usg: float | None = None
    p_unhealthy: float | None = None
    p_very_unhealthy: float | None = None
    p_hazardous: float | None = None


class ForecastResponse(BaseModel):
    """Answer of ``POST /forecast``: 12 hourly forecasts for one station."""

    station_id: str
    name_zh: str
    name_en: str | None = None
    county: str | None = None
    issued_at: datetime = Field(description="Last observed hour used (+08:00).")
    model: str = Field(description="Registered model version and MLflow run.")
    forecasts: list[ForecastEntry]


class SubIndices(BaseModel):
    """Sub-index of each pollutant (null when it cannot be computed)."""

    pm2_5: float | None = None
    pm10: float | None = None
    o3_8hr: float | None = None
    o3: float | None = None
    co: float | None = None
    so2: float | None = None
    no2: float | None = None


class MovingValues(BaseModel):
    """MOENV moving values behind the sub-indices."""

    pm2_5_avg: float | None = None
    pm10_avg: float | None = None
    o3_8hr: float | None = None
    co_8hr: float | None = None
    so2_avg: float | None = None


class Concentrations(BaseModel):
    """Hourly concentrations of that hour (µg/m³ for PM, ppm CO, ppb others)."""

    pm2_5: float | None = None
    pm10: float | None = None
    o3: float | None = None
    co: float | None = None
    so2: float | None = None
    no2: float | None = None


class CurrentAqiResponse(BaseModel):
    """Answer of ``POST /current_aqi``: the official AQI at the latest hour."""

    station_id: str
    name_zh: str
    name_en: str | None = None
    county: str | None = None
    time: datetime = Field(description="Latest hour in the store (+08:00).")
    aqi: float | None = Field(description="AQI computed by MOENV's rules; null: none.")
    pollutant: str | None = Field(description="Main pollutant; null when AQI <= 50.")
    status: str | None
    status_en: str | None
    color: str | None
    sub_indices: SubIndices
    moving_values: MovingValues
    moving_values_source: str = Field(
        description="'published' (MOENV's own), 'computed' (from the hourly "
        "concentrations) or 'computed+published' (some of each)."
    )
    concentrations: Concentrations
    published_aqi: float | None = Field(
        default=None, description="AQI MOENV published for that hour, if stored."
    )
