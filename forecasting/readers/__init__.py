"""Readers: every MOENV hourly format into hourly frames (see ``base.ReadResult``).

``read_path`` recognises the layout of a file; the ``read_*_records`` functions
take in-memory API payloads (the live client).
"""

from forecasting.readers.aqx_p_432 import read_aqx_p_432_records
from forecasting.readers.base import ReadResult, Rejection
from forecasting.readers.detect import read_path
from forecasting.readers.station_hourly import read_station_hourly_records

__all__ = [
    "ReadResult",
    "Rejection",
    "read_aqx_p_432_records",
    "read_path",
    "read_station_hourly_records",
]
