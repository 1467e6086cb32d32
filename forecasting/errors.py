"""The project's exceptions, in one place.

Every message names the input, what was wrong with it, and what to do.
"""


class ForecastingError(Exception):
    """Base class of every error this project raises on purpose."""


class InputFormatError(ForecastingError, ValueError):
    """A file or payload is not in a layout we can read.

    The message names the file, the line and the field where it is known.
    """


class ValidationError(ForecastingError, ValueError):
    """Values are present but impossible (duplicates, no timezone, out of range)."""


class UnknownStationError(ForecastingError, KeyError):
    """A station id is not in the registry or has no data in the store."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown station"


class StoreError(ForecastingError):
    """The hourly store is missing, empty, or cannot be written."""


class ModelNotFoundError(ForecastingError):
    """No trained model matches (no run, no alias such as ``champion``)."""


class FetchError(ForecastingError):
    """The MOENV API could not be reached or answered with an error."""
