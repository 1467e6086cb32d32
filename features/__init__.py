"""Feature jobs: complete hourly grids and feature rows as of an issue hour."""

from features.grid import (
    complete_grid,
    observed_aqi,
    observed_moving_values,
    official_components,
    wind_uv,
)
from features.windows import (
    DEFAULT_SPEC,
    FEATURE_POLLUTANTS,
    FeatureSpec,
    build_features,
    feature_names,
    horizon_matrix,
    target_calendar,
    targets,
)

__all__ = [
    "DEFAULT_SPEC",
    "FEATURE_POLLUTANTS",
    "FeatureSpec",
    "build_features",
    "complete_grid",
    "feature_names",
    "horizon_matrix",
    "observed_aqi",
    "observed_moving_values",
    "official_components",
    "target_calendar",
    "targets",
    "wind_uv",
]
