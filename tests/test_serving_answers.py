"""The service's answers without HTTP: current AQI, station list, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecasting.config import SAMPLE_DATA
from forecasting.errors import UnknownStationError
from forecasting.ingest import ingest_paths
from forecasting.store import HourlyStore
from serving import answers
from serving.request_check import request_problem
from serving.schemas import CurrentAqiResponse, StationRequest

RAW = Path(__file__).parent / "data" / "raw" / "crab650_aqx_p_432"
#: MOENV's AQX_P_432 snapshot of the last bundled hour, as committed upstream.
PUBLISHED_2300 = RAW / "aqi_json_publish20260808T23_commit8bbd92ec.json"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> HourlyStore:
    """A store holding the bundled 750-hour AQX_P_432 payload (84 stations)."""
    store = HourlyStore(tmp_path_factory.mktemp("home") / "store")
    ingest_paths(sorted(SAMPLE_DATA.glob("*.json.gz")), store, progress=False)
    return store


@pytest.fixture(scope="module")
def published() -> dict[str, dict]:
    """MOENV's published records at 2026-08-08 23:00, by station id."""
    records = json.loads(PUBLISHED_2300.read_text(encoding="utf-8"))
    return {record["site_id"]: record for record in records}


def test_current_aqi_equals_published_aqi_for_every_station(store, published):
    for site_id, record in published.items():
        answer = answers.current_aqi(store, site_id)
        expected = float(record["aqi"]) if record["aqi"] not in ("", 0) else None

        assert answer["time"].isoformat() == "2026-08-08T23:00:00+08:00"
        assert answer["aqi"] == expected, site_id
        assert answer["published_aqi"] == expected, site_id
        assert answer["status"] == record["status"], site_id
        assert (answer["pollutant"] or "") == record["pollutant"], site_id
        assert "published" in answer["moving_values_source"]


def test_current_aqi_reports_sub_indices_and_moving_values_of_renwu(store):
    answer = answers.current_aqi(store, "49")

    # MOENV, 仁武 2026-08-08 23:00: o3_8hr 81 ppb -> sub-index 136 -> AQI 136
    assert answer["aqi"] == 136.0
    assert answer["pollutant"] == "臭氧八小時"
    assert answer["status_en"] == "Unhealthy for Sensitive Groups"
    assert answer["moving_values"]["o3_8hr"] == 81.0
    assert answer["moving_values"]["pm2_5_avg"] == 17.9
    assert answer["sub_indices"]["o3_8hr"] == 136.0
    assert answer["concentrations"]["o3"] == 84.0
    CurrentAqiResponse.model_validate(answer)


def test_current_aqi_recomputed_from_hourly_values_matches_moenv(store, published):
    # 中山, 基隆, 南投, 仁武: every input window is complete in the payload
    for site_id in ("12", "1", "36", "49"):
        answer = answers.current_aqi(store, site_id, prefer_published=False)

        assert answer["moving_values_source"] == "computed"
        assert answer["aqi"] == float(published[site_id]["aqi"]), site_id
        assert answer["moving_values"]["pm2_5_avg"] == float(
            published[site_id]["pm2_5_avg"]
        )


def test_station_list_holds_the_84_stations_with_positions(store):
    stations = answers.station_list(store)

    assert len(stations) >= 84
    assert stations[0] == {
        "station_id": "1",
        "name_zh": "基隆",
        "name_en": "Keelung",
        "county": "基隆市",
        "latitude": 25.129168,
        "longitude": 121.760056,
    }
    assert {"12", "49", "85"} <= {s["station_id"] for s in stations}


def test_unknown_station_is_refused_naming_the_field(store):
    with pytest.raises(UnknownStationError, match="station_id '9999'.*GET /stations"):
        answers.current_aqi(store, "9999")


def test_known_station_without_data_is_refused(tmp_path):
    empty = HourlyStore(tmp_path / "store")

    with pytest.raises(UnknownStationError, match="station_id '12' has no data"):
        answers.current_aqi(empty, "12")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"station_id": 12},
        {"station_id": ""},
        {"station_id": "12a"},
        {"station_id": "中山"},
    ],
)
def test_malformed_station_request_names_the_field(body):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        StationRequest.model_validate(body)

    assert caught.value.errors()[0]["loc"] == ("station_id",)


def test_band_follows_moenv_thresholds_after_rounding():
    assert answers.band(50.4) == "良好"
    assert answers.band(50.5) == "良好"  # half to even, as MOENV's sub-indices
    assert answers.band(50.6) == "普通"
    assert answers.band(100.0) == "普通"
    assert answers.band(150.6) == "對所有族群不健康"
    assert answers.band(612.0) == "危害"
    assert answers.band(None) is None


def test_station_request_strips_and_keeps_digits():
    assert StationRequest.model_validate({"station_id": " 12 "}).station_id == "12"


@pytest.mark.parametrize(
    ("body", "content_type", "kind", "problem"),
    [
        (b"", "", "missing", "the body is empty"),
        (b"[]", "application/json", "model_type", "the body is [], not a JSON"),
        (b'{"station_id": "12a"}', "", "value_error", "station_id '12a' is not a"),
        (b"station_id=12", "multipart/form-data", "unsupported_media_type", "the"),
    ],
)
def test_request_problem_names_station_id_and_the_fix(
    body, content_type, kind, problem
):
    found, message = request_problem(body, content_type)

    assert found == kind
    assert message.startswith(problem)
    assert message.endswith(
        'send a JSON body such as {"station_id": "12"}, station_id being a MOENV '
        "station id as a string of digits; GET /stations lists the stations"
    )


def test_request_problem_accepts_a_station_id_in_json():
    body = b'{"station_id": "12"}'

    assert request_problem(body, "application/json; charset=utf-8") is None
