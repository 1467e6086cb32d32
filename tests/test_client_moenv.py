"""The MOENV v2 client against a real local server replaying recorded payloads."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from forecasting.errors import FetchError
from forecasting.moenv_client import MoenvClient, fetch_records

OFFICIAL = Path(__file__).parent / "data" / "raw" / "crab650_aqx_p_432" / "official"
KEY = "c0ffee00-test-key-1234"


def _recorded(name: str) -> list[dict]:
    with gzip.open(OFFICIAL / name) as handle:
        return json.load(handle)["records"]


RECORDS = _recorded("aqx_p_432_2026080111.json.gz")


class Replay(BaseHTTPRequestHandler):
    """Answers ``/api/v2/<dataset>`` by the script of that dataset."""

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        dataset = url.path.rsplit("/", 1)[-1]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        server = self.server
        with server.lock:
            server.requests.append((dataset, query))
            count = sum(1 for d, _ in server.requests if d == dataset)
        status, headers, body = server.script[dataset](query, count)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _page(query: dict, bare: bool = False) -> tuple[int, dict, bytes]:
    offset, limit = int(query["offset"]), int(query["limit"])
    page = RECORDS[offset : offset + limit]
    payload = (
        page
        if bare
        else {
            "fields": [{"id": name, "type": "text"} for name in RECORDS[0]],
            "total": str(len(RECORDS)),
            "offset": str(offset),
            "limit": str(limit),
            "records": page,
        }
    )
    return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _first_fails(status: int, headers: dict):
    def answer(query: dict, count: int) -> tuple[int, dict, bytes]:
        if count == 1:
            return status, headers, b'{"message": "try later"}'
        return _page(query)

    return answer


SCRIPT = {
    "aqx_p_432": lambda q, n: _page(q),
    "aqx_bare": lambda q, n: _page(q, bare=True),
    "aqx_429": _first_fails(429, {"Retry-After": "0"}),
    "aqx_500": _first_fails(500, {}),
    "aqx_truncated": lambda q, n: (200, {}, _page(q)[2][:5000]),
    "aqx_down": lambda q, n: (503, {}, b"service unavailable"),
    "aqx_forbidden": lambda q, n: (403, {}, b'{"message": "invalid api_key"}'),
}


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    httpd.script, httpd.requests, httpd.lock = SCRIPT, [], threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server):
    server.requests.clear()
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    with MoenvClient(KEY, base, timeout=5, retries=3, backoff=0.01) as moenv:
        yield moenv


def _count(server, dataset: str) -> int:
    return sum(1 for name, _ in server.requests if name == dataset)


def test_pages_until_total_and_returns_the_real_records(client, server):
    records = client.fetch_records("aqx_p_432", limit=30)

    assert records == RECORDS
    assert len(records) == 84
    queries = [q for name, q in server.requests if name == "aqx_p_432"]
    assert [(q["offset"], q["limit"]) for q in queries] == [
        ("0", "30"),
        ("30", "30"),
        ("60", "30"),
    ]
    assert all(q["api_key"] == KEY and q["format"] == "json" for q in queries)
    zhongshan = next(r for r in records if r["siteid"] == "12")
    assert (zhongshan["aqi"], zhongshan["o3"], zhongshan["pm2.5"]) == ("33", "42", "")


def test_bare_list_pages_until_a_short_page(client, server):
    records = client.fetch_records("aqx_bare", limit=40)

    assert records == RECORDS
    assert _count(server, "aqx_bare") == 3  # 40 + 40 + 4


def test_max_records_stops_early(client, server):
    records = client.fetch_records("aqx_p_432", limit=30, max_records=50)

    assert records == RECORDS[:50]
    assert [q["limit"] for _, q in server.requests] == ["30", "20"]


@pytest.mark.parametrize("dataset", ["aqx_429", "aqx_500"])
def test_one_429_or_500_is_retried_then_succeeds(client, server, dataset, caplog):
    with caplog.at_level(logging.WARNING, logger="forecasting.moenv_client"):
        records = client.fetch_records(dataset, limit=100)

    assert records == RECORDS
    assert _count(server, dataset) == 2
    assert "retry 1 of 3" in caplog.text


def test_truncated_body_fails_clearly_after_retries(client, server):
    with pytest.raises(FetchError, match="not complete JSON") as raised:
        client.fetch_records("aqx_truncated", limit=100)

    assert _count(server, "aqx_truncated") == 4
    assert KEY not in str(raised.value)
    assert "api_key=***" in str(raised.value)


def test_permanent_failure_gives_fetch_error_after_retries(client, server):
    with pytest.raises(FetchError, match="failed 4 times; last error: HTTP 503"):
        client.fetch_records("aqx_down")

    assert _count(server, "aqx_down") == 4


def test_forbidden_is_not_retried(client, server):
    with pytest.raises(FetchError, match="HTTP 403.*AQI_MOENV_API_KEY") as raised:
        client.fetch_records("aqx_forbidden")

    assert _count(server, "aqx_forbidden") == 1
    assert KEY not in str(raised.value)


def test_key_never_reaches_the_logs(client, server, caplog):
    with caplog.at_level(logging.DEBUG):
        client.fetch_records("aqx_500", limit=100)
        with pytest.raises(FetchError):
            client.fetch_records("aqx_down")

    assert "HTTP Request: GET" in caplog.text  # httpx's own request lines, masked
    assert "api_key=***" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in repr(client)


def test_missing_key_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("AQI_MOENV_API_KEY", raising=False)

    with pytest.raises(FetchError, match="AQI_MOENV_API_KEY"):
        fetch_records("aqx_p_432")


def test_key_and_base_url_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("AQI_MOENV_API_KEY", KEY)
    monkeypatch.setenv(
        "AQI_MOENV_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    )
    server.requests.clear()

    records = fetch_records("aqx_p_432", limit=100, backoff=0.01)

    assert records == RECORDS
    assert server.requests[0][1]["api_key"] == KEY


def test_fetch_command_stores_the_real_hour(server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from forecasting.cli import app
    from forecasting.store import HourlyStore

    monkeypatch.setenv("AQI_MOENV_API_KEY", KEY)
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    args = ["fetch", "--home", str(tmp_path), "--base-url", base, "--limit", "50"]

    first = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    second = CliRunner().invoke(app, args, env={"COLUMNS": "160"})

    assert first.exit_code == 0, first.output
    assert "fetched 84 records of aqx_p_432" in first.output
    assert KEY not in first.output
    row = HourlyStore(tmp_path / "store").read(["12"]).iloc[0]
    assert row["time"] == pd.Timestamp("2026-08-01 11:00+08:00")
    assert (row["aqi"], row["o3"], row["so2"]) == (33.0, 42.0, 1.2)
    assert row["source"].startswith("moenv-api:aqx_p_432@")
    total = next(line for line in second.output.splitlines() if "total" in line)
    assert [c.strip() for c in total.split("│") if c.strip()][2:5] == ["0", "0", "84"]


def test_fetch_command_without_key_says_what_to_set(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from forecasting.cli import app

    monkeypatch.delenv("AQI_MOENV_API_KEY", raising=False)

    result = CliRunner().invoke(
        app, ["fetch", "--home", str(tmp_path)], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 2
    assert "set the environment variable AQI_MOENV_API_KEY" in result.output
