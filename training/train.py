"""Train every station's boosters from the hourly store and log them to MLflow.

Design (direct strategy, per-station ensembles):

* For every station and horizon 1..12, LightGBM boosters fed the window
  features as of ``issued_at``, the calendar of its target hour and the
  scenario AQIs of its target hour (:mod:`features.scenarios`). A direct model
  per horizon never feeds its own errors back (no recursion), and lets each
  horizon pick its own signal.
* A network-wide booster per horizon learns the change from the last AQI on
  every station's rows (:mod:`training.pooled`); each station's own booster
  starts from it and corrects it on the station's rows (``pooled``). The
  forecast is the mean of the network booster alone (``network``), ``pooled``
  and, for the first four hours, a station booster that starts from the AQI
  the target hour would have if the air stayed as last observed (``flat``)
  (:data:`training.fit.MEMBERS`, :data:`training.fit.MEMBER_HORIZONS`; README,
  "The models").
* Every stored year trains: the multi-year stations' older years (仁武 since
  2002, ...) add rows to the network-wide booster and to their own boosters.
* Time-ordered split per station: the last 20 % of the issue hours of its last
  365 days validate; training rows end 12 hours before the first validation
  hour, so no training target falls inside the validation period. Early
  stopping on the validation MAE, then a refit on all rows with the
  early-stopped number of rounds.
* Validation residuals of the ensemble mean, widened by
  :data:`training.intervals.WIDENING`, calibrate the intervals and band
  probabilities (:mod:`training.intervals`).
* One thread per booster; stations train in parallel worker processes.
"""

from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass, field, replace
from typing import Protocol

import pandas as pd

from features import DEFAULT_SPEC, FeatureSpec, build_features, feature_names, targets
from forecasting.config import Settings, get_settings
from forecasting.errors import StoreError
from forecasting.schema import HORIZONS
from training.bundle import ForecastBundle, StationModel
from training.fit import (
    LGB_PARAMS,
    MEMBERS,
    NETWORK_MEMBERS,
    NUM_BOOST_ROUND,
    StationFit,
    fit_station,
)
from training.pooled import fit_pooled

logger = logging.getLogger(__name__)


class HourlySource(Protocol):
    """What training needs from the store: ``HourlyStore.read``."""

    def read(
        self,
        stations: list[str] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame: ...


@dataclass
class TrainingResult:
    """What a training produced, for the CLI and for experiments.

    Attributes
    ----------
    run_id:
        MLflow run id.
    version:
        Registered model version (string, as MLflow gives it).
    bundle:
        The trained bundle.
    scores:
        One row per station and horizon: ``val_mae`` (the ensemble mean),
        ``val_mae_<member>`` per member, ``persistence_mae``, ``members``,
        ``n_train``, ``n_valid``, ``rounds``.
    skipped:
        Station id -> why it got no model.
    span:
        First and last hour of the data trained on.
    seconds:
        Wall-clock seconds: ``features``, ``fit``, ``mlflow``.
    """

    run_id: str
    version: str
    bundle: ForecastBundle
    scores: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def horizon_table(self) -> pd.DataFrame:
        """Network mean validation MAE and persistence MAE per horizon.

        Returns
        -------
        pandas.DataFrame
            Index ``horizon``; columns ``val_mae``, ``persistence_mae``,
            ``skill`` (1 - val_mae / persistence_mae).
        """
        table = self.scores.groupby("horizon")[["val_mae", "persistence_mae"]].mean()
        table["skill"] = 1 - table["val_mae"] / table["persistence_mae"]
        return table


def read_training_data(
    store: HourlySource,
    stations: list[str] | None = None,
    end: str | pd.Timestamp | None = None,
    lookback_days: int | None = None,
) -> pd.DataFrame:
    """Read the hourly history to train on.

    Parameters
    ----------
    store:
        An ``HourlyStore`` (anything with its ``read``).
    stations:
        Station ids; ``None`` for every station in the store.
    end:
        Last hour to use (inclusive); ``None`` for all.
    lookback_days:
        Keep only this many days before each station's last hour; ``None``
        (the default) keeps everything: the older years of the multi-year
        stations train the boosters too (validation stays on each station's
        recent days, :data:`training.fit.RECENT_DAYS`).

    Returns
    -------
    pandas.DataFrame
        Hourly frame sorted by station and time.

    Raises
    ------
    StoreError
        If the store has no rows for the request.
    """
    hourly = store.read(stations=stations, end=end)
    if hourly.empty:
        raise StoreError(
            f"store has no hourly rows for stations {stations or 'all'} up to "
            f"{end or 'the latest hour'}; run `aqi-forecast ingest` first"
        )
    if lookback_days is not None:
        last = hourly.groupby("site_id")["time"].transform("max")
        hourly = hourly[hourly["time"] > last - pd.Timedelta(days=lookback_days)]
    return hourly.reset_index(drop=True)


def fit_network(
    hourly: pd.DataFrame,
    spec: FeatureSpec = DEFAULT_SPEC,
    horizons: tuple[int, ...] = HORIZONS,
    n_jobs: int = 2,
    members: tuple[str, ...] = MEMBERS,
    params: dict | None = None,
    num_boost_round: int = NUM_BOOST_ROUND,
    refit: bool = True,
    fit_stations: list[str] | None = None,
) -> tuple[list[StationFit], dict[str, float], dict[int, str]]:
    """Build features for every station and fit the stations in parallel.

    ``fit_stations`` limits the stations that get models (default: all in
    ``hourly``); the others still serve as neighbours of network features and
    as rows of the pooled boosters. With a ``"pooled"`` or ``"network"`` member,
    first fit one network-wide booster per horizon on every station's rows
    (:mod:`training.pooled`) that these members of every station start from.

    Returns
    -------
    tuple
        The per-station :class:`training.fit.StationFit` list (station order),
        seconds spent on ``features``, ``pooled`` and ``fit``, and the pooled
        model strings per horizon (empty without such a member).
    """
    started = _time.perf_counter()
    features = build_features(hourly, spec)
    future = targets(features, horizons)
    seconds = {"features": _time.perf_counter() - started}
    strings: dict[int, str] = {}
    starts: dict[int, tuple] = {}
    pooled = any(member in NETWORK_MEMBERS for member in members)
    if pooled:
        started = _time.perf_counter()
        strings, early, final = fit_pooled(features, future, spec, horizons)
        starts = {h: (early[h], final[h]) for h in strings}
        seconds["pooled"] = _time.perf_counter() - started

    def station_start(index: pd.Index) -> dict | None:
        if not pooled:
            return None
        where = features.index.get_indexer(index)
        return {h: (e[where], f[where]) for h, (e, f) in starts.items()}

    jobs = [
        (site, features.loc[rows.index], future.loc[rows.index])
        for site, rows in features.groupby("site_id", sort=False)
        if fit_stations is None or site in fit_stations
    ]
    started = _time.perf_counter()
    kwargs = dict(
        spec=spec,
        horizons=horizons,
        members=members,
        params=params,
        num_boost_round=num_boost_round,
        refit=refit,
    )
    if n_jobs == 1 or len(jobs) == 1:
        fits = [
            fit_station(site, f, y, pooled=station_start(f.index), **kwargs)
            for site, f, y in jobs
        ]
    else:
        from joblib import Parallel, delayed
        from joblib.externals.loky import get_reusable_executor

        # Longest histories first (仁武's 24 years), so that no worker is
        # left with one long station after the others are done.
        longest_first = sorted(jobs, key=lambda job: -len(job[1]))
        fits = Parallel(n_jobs=n_jobs, backend="loky")(
            delayed(fit_station)(site, f, y, pooled=station_start(f.index), **kwargs)
            for site, f, y in longest_first
        )
        order = {site: i for i, (site, _, _) in enumerate(jobs)}
        fits.sort(key=lambda fit: order[fit.site_id])
        # The workers would otherwise idle on ~270 MB each while `run` serves.
        get_reusable_executor().shutdown(wait=True)
    seconds["fit"] = _time.perf_counter() - started
    logger.info(
        "fit %d stations x %d horizons in %.1f s (%d jobs)",
        len(jobs),
        len(horizons),
        seconds["fit"],
        n_jobs,
    )
    return fits, seconds, strings


def bundle_from_fits(
    fits: list[StationFit],
    spec: FeatureSpec,
    horizons: tuple[int, ...],
    metadata: dict,
    pooled: dict[int, str] | None = None,
) -> ForecastBundle:
    """Gather the stations that got models into one :class:`ForecastBundle`."""
    stations = {
        fit.site_id: StationModel(
            model_strings=fit.model_strings,
            quantiles=fit.quantiles,
            trained_through=fit.trained_through,
        )
        for fit in fits
        if fit.skipped is None
    }
    return ForecastBundle(
        stations=stations,
        spec=spec,
        horizons=horizons,
        metadata=metadata,
        pooled=dict(pooled or {}),
    )


def with_positions(spec: FeatureSpec, store: object) -> FeatureSpec:
    """``spec`` with the registry's station positions when it uses neighbours.

    Returns
    -------
    FeatureSpec
        ``spec`` itself when it has no network features or already has
        positions; else a copy holding every registry station with a position.
    """
    if spec.network_k <= 0 or spec.positions or not hasattr(store, "registry"):
        return spec
    registry = store.registry().dropna(subset=["latitude", "longitude"])
    positions = tuple(
        (str(site), float(lat), float(lon))
        for site, lat, lon in registry[["site_id", "latitude", "longitude"]].itertuples(
            index=False
        )
    )
    return replace(spec, positions=positions)


def run_training(
    store: HourlySource,
    stations: list[str] | None = None,
    end: str | pd.Timestamp | None = None,
    alias: str | None = "champion",
    n_jobs: int = 2,
    *,
    settings: Settings | None = None,
    spec: FeatureSpec = DEFAULT_SPEC,
    horizons: tuple[int, ...] = HORIZONS,
    members: tuple[str, ...] = MEMBERS,
    params: dict | None = None,
    num_boost_round: int = NUM_BOOST_ROUND,
    refit: bool = True,
    lookback_days: int | None = None,
    run_name: str | None = None,
) -> TrainingResult:
    """Train every station with enough data, log one MLflow run, register it.

    Parameters
    ----------
    store:
        The hourly store (``HourlyStore``).
    stations:
        Station ids to train; ``None`` for all in the store.
    end:
        Last hour of data to use (inclusive), e.g. to keep a test period out.
    alias:
        Registry alias to point at the new version (``None``: register only).
    n_jobs:
        Worker processes (stations in parallel; one thread per booster).
    settings:
        Where MLflow lives (default :func:`forecasting.config.get_settings`).
    spec, horizons, members, params, num_boost_round, refit, lookback_days:
        See :func:`fit_network`, :func:`training.fit.fit_station` and
        :func:`read_training_data`.
    run_name:
        MLflow run name.

    Returns
    -------
    TrainingResult
        ``run_id``, registered ``version``, the bundle and the scores.

    Raises
    ------
    StoreError
        If the store holds no data for the request, or no station had enough
        data to train.
    """
    from training.registry import log_training

    settings = settings or get_settings()
    spec = with_positions(spec, store)
    # Network features read every station's hours; only ``stations`` get
    # models. The pooled boosters learn from the stations trained.
    network = spec.network_k > 0
    hourly = read_training_data(
        store, None if network else stations, end, lookback_days
    )
    span = (hourly["time"].min(), hourly["time"].max())
    logger.info(
        "training %d stations on %d hourly rows, %s to %s",
        hourly["site_id"].nunique(),
        len(hourly),
        span[0],
        span[1],
    )
    fits, seconds, pooled_strings = fit_network(
        hourly,
        spec,
        horizons,
        n_jobs,
        members,
        params,
        num_boost_round,
        refit,
        fit_stations=stations if network else None,
    )
    skipped = {fit.site_id: fit.skipped for fit in fits if fit.skipped is not None}
    for site, why in skipped.items():
        logger.warning("station %s not trained: %s", site, why)
    if len(skipped) == len(fits):
        raise StoreError(
            f"no station had enough data to train (need {168 + 48} usable hours); "
            "ingest more hours or pick other --stations"
        )

    lgb_params = dict(params or LGB_PARAMS)
    metadata = {
        "span": [span[0].isoformat(), span[1].isoformat()],
        "lightgbm": lgb_params,
        "num_boost_round": num_boost_round,
        "members": list(members),
        "refit": refit,
        "feature_names": feature_names(spec),
    }
    bundle = bundle_from_fits(fits, spec, horizons, metadata, pooled_strings)
    scores = pd.DataFrame([s for fit in fits for s in fit.scores])
    valid_starts = {fit.site_id: fit.valid_start for fit in fits if not fit.skipped}

    started = _time.perf_counter()
    run_id, version = log_training(
        bundle,
        scores,
        skipped=skipped,
        valid_starts=valid_starts,
        settings=settings,
        alias=alias,
        run_name=run_name,
        n_jobs=n_jobs,
    )
    seconds["mlflow"] = _time.perf_counter() - started
    bundle.metadata["run_id"] = run_id
    logger.info(
        "trained %d stations (%d skipped): run %s, version %s; "
        "features %.1f s, fit %.1f s, mlflow %.1f s",
        len(bundle.stations),
        len(skipped),
        run_id,
        version,
        seconds["features"],
        seconds["fit"],
        seconds["mlflow"],
    )
    return TrainingResult(
        run_id=run_id,
        version=version,
        bundle=bundle,
        scores=scores,
        skipped=skipped,
        span=span,
        seconds=seconds,
    )


def train(
    store: HourlySource,
    stations: list[str] | None = None,
    end: str | pd.Timestamp | None = None,
    alias: str | None = "champion",
    n_jobs: int = 2,
    **options: object,
) -> str:
    """Train, log and register like :func:`run_training`; return the run id.

    Returns
    -------
    str
        The MLflow run id.

    Raises
    ------
    StoreError
        As :func:`run_training`.
    """
    return run_training(store, stations, end, alias, n_jobs, **options).run_id
