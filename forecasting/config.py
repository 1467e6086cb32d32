"""Settings: where the store, the models and the MOENV API live.

Every setting has a default that works on a fresh clone and can be moved by an
environment variable (prefix ``AQI_``) or, for the home folder, by ``--home``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = Path(__file__).resolve().parent / "sample_data"
TIMEZONE = "Asia/Taipei"
REGISTERED_MODEL = "aqi-forecast"


class Settings(BaseSettings):
    """Runtime settings, read from ``AQI_*`` environment variables.

    Attributes
    ----------
    home:
        Folder holding the hourly store (``AQI_HOME``); default ``var/`` in the repo.
    tracking_uri:
        MLflow tracking URI (``AQI_TRACKING_URI``, or MLflow's own
        ``MLFLOW_TRACKING_URI``); default a SQLite file under ``mlruns/``.
    artifact_root:
        Where a local tracking store keeps model artifacts (``AQI_ARTIFACT_ROOT``);
        default ``artifacts/`` beside the SQLite file, so a store moved by
        ``AQI_TRACKING_URI`` takes its artifacts along.
    moenv_api_key:
        Key for MOENV's open-data API (``AQI_MOENV_API_KEY``); never logged.
    moenv_base_url:
        Base URL of MOENV's open-data API v2.
    """

    model_config = SettingsConfigDict(
        env_prefix="AQI_", extra="ignore", populate_by_name=True
    )

    home: Path = REPO_ROOT / "var"
    tracking_uri: str | None = Field(default=None, validation_alias="AQI_TRACKING_URI")
    artifact_root: Path | None = None
    moenv_api_key: str | None = Field(default=None, repr=False)
    moenv_base_url: str = "https://data.moenv.gov.tw/api/v2"
    registered_model: str = REGISTERED_MODEL

    @property
    def mlflow_uri(self) -> str:
        """The tracking URI in force: ours, then MLflow's env var, then SQLite."""
        import os

        if self.tracking_uri:
            return self.tracking_uri
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        db = REPO_ROOT / "mlruns" / "mlflow.db"
        return f"sqlite:///{db}"

    @model_validator(mode="after")
    def _artifacts_beside_the_database(self) -> Settings:
        if self.artifact_root is None:
            uri = self.mlflow_uri
            if uri.startswith("sqlite:///"):
                root = Path(uri.removeprefix("sqlite:///")).parent / "artifacts"
            else:
                root = REPO_ROOT / "mlruns" / "artifacts"
            self.artifact_root = root
        return self

    @property
    def store_dir(self) -> Path:
        """Folder of the hourly Parquet store inside ``home``."""
        return self.home / "store"


def get_settings(home: Path | str | None = None) -> Settings:
    """Return the settings, with ``home`` overriding ``AQI_HOME`` when given."""
    if home is None:
        return Settings()
    return Settings(home=Path(home))
