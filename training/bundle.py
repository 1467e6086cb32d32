"""One model bundle for the whole network: boosters, feature spec, calibration.

A bundle holds, for every trained station and every horizon (the *direct*
strategy), a small ensemble of LightGBM boosters whose forecasts are averaged,
each member starting from a different place (the last AQI, the AQI the target
hour would have if the air stayed as it is, a network-wide booster), and the
quantiles of the ensemble's validation residuals (intervals and band
probabilities, see :mod:`training.intervals`). On disk it is a folder:
``bundle.json`` (spec, calibration, metadata), one gzipped JSON of LightGBM model
strings per station under ``boosters/``, and ``pooled.json.gz``.
"""

from __future__ import annotations

import gzip
import json
import logging
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from features import FeatureSpec, build_features, feature_names, horizon_matrix
from forecasting.config import TIMEZONE
from forecasting.errors import ModelNotFoundError, ValidationError
from forecasting.schema import HORIZONS
from training.fit import NETWORK_MEMBERS, offset
from training.intervals import BAND_COLUMNS, band_probabilities, interval

logger = logging.getLogger(__name__)

#: Columns of :meth:`ForecastBundle.forecast`, in order.
FORECAST_COLUMNS = (
    "site_id",
    "issued_at",
    "target_time",
    "horizon",
    "aqi_pred",
    "aqi_p10",
    "aqi_p90",
) + BAND_COLUMNS

BUNDLE_FORMAT = 2


@dataclass
class StationModel:
    """The boosters and calibration of one station.

    Attributes
    ----------
    model_strings:
        Per horizon, LightGBM model text per ensemble member; the member names
        what its booster's output is added to (:func:`training.fit.offset`).
        ``"network"`` has no booster of its own (empty text).
    quantiles:
        Residual quantiles of the members' mean per horizon, 21 values each.
    trained_through:
        Last issue hour whose target entered training (ISO 8601).
    """

    model_strings: dict[int, dict[str, str]]
    quantiles: dict[int, list[float]]
    trained_through: str
    _boosters: dict[tuple[int, str], lgb.Booster] = field(
        default_factory=dict, repr=False
    )

    def members(self, horizon: int) -> list[str]:
        """The ensemble members of ``horizon``."""
        return list(self.model_strings[horizon])

    def booster(self, horizon: int, member: str) -> lgb.Booster:
        """The booster of ``member`` at ``horizon``, parsed on first use."""
        key = (horizon, member)
        if key not in self._boosters:
            text = self.model_strings[horizon][member]
            self._boosters[key] = lgb.Booster(model_str=text)
        return self._boosters[key]


@dataclass
class ForecastBundle:
    """Every station's models, and the forecast they make together.

    Attributes
    ----------
    stations:
        Station id -> :class:`StationModel`.
    spec:
        The feature spec the boosters were trained on.
    horizons:
        Hours ahead, 1..12.
    metadata:
        Free JSON-able facts (run id, data span, lightgbm params).
    pooled:
        Network-wide booster text per horizon that ``"pooled"`` station
        boosters start from (empty when none is).
    """

    stations: dict[str, StationModel]
    spec: FeatureSpec
    horizons: tuple[int, ...] = HORIZONS
    metadata: dict = field(default_factory=dict)
    pooled: dict[int, str] = field(default_factory=dict)
    _pooled: dict[int, lgb.Booster] = field(default_factory=dict, repr=False)

    @property
    def history_hours(self) -> int:
        """Hours of history before ``issued_at`` that :meth:`forecast` needs."""
        return self.spec.history_hours

    @property
    def station_ids(self) -> list[str]:
        """Ids of the stations that have a model, sorted."""
        return sorted(self.stations, key=_site_order)

    def forecast(
        self,
        history: pd.DataFrame,
        issued_at: pd.Timestamp | str | Sequence[pd.Timestamp] | None = None,
    ) -> pd.DataFrame:
        """Forecast horizons 1..12 from an hourly history.

        Parameters
        ----------
        history:
            Hourly frame (as ``HourlyStore.read`` returns) covering at least
            :attr:`history_hours` hours before ``issued_at`` for each station.
            When the spec uses network features (``spec.network_k > 0``), pass
            every station's hours: a station's neighbours are read from this
            frame, and a one-station history forecasts with NaN network
            features (less accurate, still a forecast).
        issued_at:
            The last observed hour to use. ``None``: each station's latest hour
            with data. One timestamp: that hour for every station. A sequence of
            timestamps: every one of them (a backtest in one call).

        Returns
        -------
        pandas.DataFrame
            :data:`FORECAST_COLUMNS`, one row per station, issue hour and horizon,
            sorted by station, ``issued_at``, ``horizon``; ``target_time =
            issued_at + horizon`` hours (Asia/Taipei). ``aqi_pred`` >= 0 and
            ``aqi_p10 <= aqi_pred <= aqi_p90``; the six band probabilities sum
            to 1. Stations without a model, or whose history does not reach
            ``issued_at``, are left out with a logged warning. A row whose last
            observed AQI is too old (``spec.last_aqi_hours``) has NaN values.

        Raises
        ------
        ValidationError
            If ``history`` is not an hourly frame or ``issued_at`` has no timezone.
        """
        started = _time.perf_counter()
        if "site_id" not in history.columns:
            raise ValidationError(
                "forecast history: column 'site_id' is missing; pass an hourly "
                "frame as HourlyStore.read returns it"
            )
        known = history["site_id"].isin(self.stations)
        unknown = sorted(history.loc[~known, "site_id"].unique(), key=_site_order)
        if unknown:
            logger.warning("no model for stations %s: skipped", ", ".join(unknown))
        # Network features read the other stations' hours too: build on all.
        features = build_features(
            history if self.spec.network_k else history[known], self.spec
        )
        features = features[features["site_id"].isin(self.stations)]
        rows = _issue_rows(features, issued_at)
        if rows.empty:
            return pd.DataFrame(columns=list(FORECAST_COLUMNS))

        parts = [
            self._forecast_station(site, part)
            for site, part in rows.groupby("site_id", sort=False)
        ]
        out = pd.concat(parts, ignore_index=True)
        out = out.sort_values(
            ["site_id", "issued_at", "horizon"], key=_sort_key, ignore_index=True
        )
        logger.info(
            "forecast: %d stations, %d issue hours, %d rows in %.3f s",
            out["site_id"].nunique(),
            len(rows),
            len(out),
            _time.perf_counter() - started,
        )
        return out[list(FORECAST_COLUMNS)]

    def _pooled_booster(self, horizon: int) -> lgb.Booster:
        """The network-wide booster of ``horizon``, parsed on first use."""
        if horizon not in self._pooled:
            self._pooled[horizon] = lgb.Booster(model_str=self.pooled[horizon])
        return self._pooled[horizon]

    def _forecast_station(self, site_id: str, rows: pd.DataFrame) -> pd.DataFrame:
        """Forecast rows for one station's issue hours, all horizons."""
        model = self.stations[site_id]
        frames = []
        for horizon in self.horizons:
            x = horizon_matrix(rows, horizon, self.spec)
            members = []
            for member in model.members(horizon):
                pooled = (
                    self._pooled_booster(horizon).predict(x, num_threads=1)
                    if member in NETWORK_MEMBERS
                    else None
                )
                raw = (
                    0.0  # the network booster's forecast alone
                    if member == "network"
                    else model.booster(horizon, member).predict(x, num_threads=1)
                )
                start = offset(member, rows, horizon, pooled)
                members.append(np.clip(raw + start, 0.0, None))
            pred = np.mean(members, axis=0)
            quantiles = np.tile(model.quantiles[horizon], (len(rows), 1))
            p10, p90 = interval(pred, quantiles)
            bands = band_probabilities(pred, quantiles)
            frame = pd.DataFrame(
                {
                    "site_id": site_id,
                    "issued_at": rows["issued_at"].to_numpy(),
                    "target_time": (
                        rows["issued_at"] + pd.Timedelta(hours=horizon)
                    ).to_numpy(),
                    "horizon": horizon,
                    "aqi_pred": pred,
                    "aqi_p10": p10,
                    "aqi_p90": p90,
                }
            )
            frame[list(BAND_COLUMNS)] = bands
            missing = np.isnan(pred)
            if missing.any():
                frame.loc[missing, ["aqi_p10", "aqi_p90", *BAND_COLUMNS]] = np.nan
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        for column in ("issued_at", "target_time"):
            out[column] = pd.to_datetime(out[column], utc=True).dt.tz_convert(TIMEZONE)
        return out

    def save(self, folder: Path) -> Path:
        """Write the bundle into ``folder`` (created; must not hold a bundle).

        Returns
        -------
        pathlib.Path
            ``folder``.
        """
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "boosters").mkdir(exist_ok=True)
        index = {
            "format": BUNDLE_FORMAT,
            "spec": self.spec.to_dict(),
            "horizons": list(self.horizons),
            "metadata": self.metadata,
            "stations": {
                site: {
                    "quantiles": {str(h): list(q) for h, q in model.quantiles.items()},
                    "trained_through": model.trained_through,
                }
                for site, model in self.stations.items()
            },
        }
        for site, model in self.stations.items():
            payload = {str(h): m for h, m in model.model_strings.items()}
            with gzip.open(folder / "boosters" / f"{site}.json.gz", "wt") as handle:
                json.dump(payload, handle)
        if self.pooled:
            payload = {str(h): s for h, s in self.pooled.items()}
            with gzip.open(folder / "pooled.json.gz", "wt") as handle:
                json.dump(payload, handle)
        (folder / "bundle.json").write_text(json.dumps(index, indent=1))
        return folder

    @classmethod
    def load(cls, folder: Path) -> ForecastBundle:
        """Read a bundle written by :meth:`save`.

        Returns
        -------
        ForecastBundle
            Boosters are parsed lazily, on a station's first forecast.

        Raises
        ------
        ModelNotFoundError
            If ``folder`` holds no ``bundle.json``.
        """
        index_path = Path(folder) / "bundle.json"
        if not index_path.exists():
            raise ModelNotFoundError(
                f"{folder}: no bundle.json; this is not a forecast bundle. "
                "Run `aqi-forecast train` to make one"
            )
        index = json.loads(index_path.read_text())
        if index.get("format") != BUNDLE_FORMAT:
            raise ModelNotFoundError(
                f"{folder}: bundle format {index.get('format')}, this code reads "
                f"format {BUNDLE_FORMAT}; retrain with `aqi-forecast train`"
            )
        stations = {}
        for site, entry in index["stations"].items():
            with gzip.open(Path(folder) / "boosters" / f"{site}.json.gz", "rt") as f:
                strings = {int(h): s for h, s in json.load(f).items()}
            stations[site] = StationModel(
                model_strings=strings,
                quantiles={int(h): q for h, q in entry["quantiles"].items()},
                trained_through=entry["trained_through"],
            )
        spec = FeatureSpec.from_dict(index["spec"])
        trained_on = index.get("metadata", {}).get("feature_names")
        if trained_on is not None and list(trained_on) != feature_names(spec):
            raise ModelNotFoundError(
                f"{folder}: the model was trained on {len(trained_on)} features but "
                f"this code builds {len(feature_names(spec))} from its spec; the "
                "feature code changed since training. Retrain with "
                "`aqi-forecast train`"
            )
        pooled = {}
        if (Path(folder) / "pooled.json.gz").exists():
            with gzip.open(Path(folder) / "pooled.json.gz", "rt") as f:
                pooled = {int(h): s for h, s in json.load(f).items()}
        return cls(
            stations=stations,
            spec=spec,
            horizons=tuple(index["horizons"]),
            metadata=index.get("metadata", {}),
            pooled=pooled,
        )


def _site_order(site_id: str) -> tuple[int, str]:
    """Numeric ids in numeric order, others after them."""
    return (int(site_id), "") if site_id.isdigit() else (10**9, site_id)


def _sort_key(column: pd.Series) -> pd.Series:
    if column.name == "site_id":
        return column.map(lambda s: _site_order(s)[0])
    return column


def _issue_rows(
    features: pd.DataFrame,
    issued_at: pd.Timestamp | str | Sequence[pd.Timestamp] | None,
) -> pd.DataFrame:
    """The feature rows to forecast from, per the ``issued_at`` rule."""
    if issued_at is None:
        with_data = features[features["has_data"]]
        last = with_data.groupby("site_id", sort=False)["issued_at"].transform("max")
        return with_data[with_data["issued_at"] == last]

    wanted = pd.DatetimeIndex(
        [issued_at] if isinstance(issued_at, (str, pd.Timestamp)) else issued_at
    )
    if wanted.tz is None:
        raise ValidationError(
            f"forecast issued_at {wanted[0]}: no timezone; give an Asia/Taipei "
            "(or UTC) timestamp"
        )
    rows = features[features["issued_at"].isin(wanted.tz_convert(TIMEZONE))]
    reached = set(rows["site_id"])
    short = sorted(set(features["site_id"]) - reached, key=_site_order)
    if short:
        logger.warning(
            "history of stations %s does not reach issued_at: skipped", ", ".join(short)
        )
    return rows
