"""The BentoML service: ``bentoml serve serving.service:AqiForecast``.

At start-up it loads one model set from the MLflow registry (``AQI_MODEL``,
default the ``champion`` alias) and opens the hourly store under ``AQI_HOME``.
Each request reads only the hours of the station asked about; the answers are
built by :mod:`serving.answers`.
"""

from __future__ import annotations

import logging
import os
import time as clock
from typing import TYPE_CHECKING

import bentoml
import pandas as pd
from fastapi import FastAPI
from starlette.responses import JSONResponse

from forecasting.config import get_settings
from forecasting.errors import ModelNotFoundError, StoreError, UnknownStationError
from serving import answers
from serving.request_check import StationRequestCheck
from serving.schemas import (
    CurrentAqiResponse,
    ForecastResponse,
    Station,
    StationRequest,
)

if TYPE_CHECKING:
    from training.bundle import ForecastBundle

log = logging.getLogger(__name__)

#: Seconds the station registry is kept between reads (it changes on ingest only).
REGISTRY_TTL = 60.0

#: Plain GET routes live on a FastAPI app mounted beside the BentoML APIs, which
#: BentoML only exposes as POST.
routes = FastAPI(title="AQI forecast: registry")


def _refusal(exc: Exception, status: int = 404) -> JSONResponse:
    """Return an error in the same shape as BentoML's own validation errors.

    Raising ``bentoml.exceptions.NotFound`` would do, but BentoML 1.4 answers it
    as a one-element list (``[{"error": ...}]``), unlike its 400s.
    """
    message = str(exc)
    loc, kind = {
        404: (["station_id"], "not_found"),
        422: (["station_id"], "too_little_history"),
    }.get(status, ([], "no_model"))
    return JSONResponse(
        {"error": message, "detail": [{"loc": loc, "msg": message, "type": kind}]},
        status_code=status,
    )


@bentoml.service(name="aqi_forecast", workers=1, traffic={"timeout": 30})
@bentoml.asgi_app(routes, path="/")
class AqiForecast:
    """12-hour AQI forecasts and the official current AQI of MOENV stations."""

    def __init__(self) -> None:
        from forecasting.store import HourlyStore
        from training.registry import load_bundle

        started = clock.perf_counter()
        settings = get_settings()
        self.model_ref = os.environ.get("AQI_MODEL", "champion")
        self.store = HourlyStore(settings.store_dir)
        self._registry = self.store.registry()
        self._registry_read = clock.monotonic()
        # Without a model the service still answers /current_aqi and /stations;
        # /forecast says what is missing (a crash would only restart the worker).
        self.bundle: ForecastBundle | None = None
        self.missing: ModelNotFoundError | None = None
        try:
            self.bundle = load_bundle(self.model_ref, settings)
        except ModelNotFoundError as exc:
            log.error("no forecasts will be served: %s", exc)
            self.missing = exc
        self.model = (
            answers.model_label(self.bundle, self.model_ref)
            if self.bundle is not None
            else self.model_ref
        )
        log.info(
            "loaded model %s (%s) and store %s in %.1f s",
            self.model_ref,
            self.model,
            settings.store_dir,
            clock.perf_counter() - started,
        )

    def registry(self) -> pd.DataFrame:
        """Return the store's station registry, re-read after ``REGISTRY_TTL``."""
        if clock.monotonic() - self._registry_read > REGISTRY_TTL:
            self._registry = self.store.registry()
            self._registry_read = clock.monotonic()
        return self._registry

    @bentoml.api(route="/forecast", input_spec=StationRequest)
    def forecast(self, station_id: str) -> ForecastResponse:
        """Forecast the AQI of one station for the 12 hours after its latest hour."""
        if self.bundle is None:
            return _refusal(self.missing, status=503)
        try:
            answer = answers.forecast(
                self.store, self.bundle, station_id, self.model, self.registry()
            )
        except (UnknownStationError, ModelNotFoundError) as exc:
            return _refusal(exc)
        except StoreError as exc:
            return _refusal(exc, status=422)
        return ForecastResponse.model_validate(answer)

    @bentoml.api(route="/current_aqi", input_spec=StationRequest)
    def current_aqi(self, station_id: str) -> CurrentAqiResponse:
        """Compute the official AQI of one station at its latest stored hour."""
        try:
            answer = answers.current_aqi(
                self.store, station_id, registry=self.registry()
            )
        except UnknownStationError as exc:
            return _refusal(exc)
        return CurrentAqiResponse.model_validate(answer)

    @routes.get("/stations", response_model=list[Station])
    def stations(self) -> list[dict]:
        """List the stations: id, Chinese and English name, county, position."""
        return answers.station_list(self.store, self.registry())


# Bad bodies are refused in our words before BentoML validates them in its own.
AqiForecast.add_asgi_middleware(StationRequestCheck)
