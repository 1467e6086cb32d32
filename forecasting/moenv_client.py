"""Client of MOENV's open-data API v2 (``https://data.moenv.gov.tw/api/v2``).

``GET {base_url}/{dataset}?api_key=...&format=json&offset=..&limit=..`` answers
either ``{"fields": [...], "records": [...], "total": "84", "offset": "0",
"limit": "1000", ...}`` or, for some datasets and versions, a bare list of
records; both are accepted. Pages are requested until one comes back short (or
``total`` is reached).

The API key travels in the query string, so it is masked (``***``) in every
URL this module logs, in every exception it raises, and in the request lines
that ``httpx`` logs at INFO while a client is open. TLS certificates are always
verified. A 429 or 5xx answer, a transport error, or a body that is not
complete JSON is retried with exponential backoff (``Retry-After`` honoured);
other 4xx answers are not retried.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time as clock
from typing import Any

import httpx

from forecasting.errors import FetchError

logger = logging.getLogger(__name__)

MASK = "***"
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class _KeyMask(logging.Filter):
    """Rewrite log records of ``httpx`` so that no API key is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.keys:
            message = record.getMessage()
            for key in self.keys:
                message = message.replace(key, MASK)
            record.msg, record.args = message, None
        return True


_HTTPX_MASK = _KeyMask()
logging.getLogger("httpx").addFilter(_HTTPX_MASK)


def _retry_after(response: httpx.Response) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.time())


def _records(payload: Any) -> tuple[list[dict], int | None]:
    """Return the records of one page and the dataset's total when given."""
    if isinstance(payload, list):
        return payload, None
    if isinstance(payload, dict) and isinstance(payload.get("records"), list):
        total = payload.get("total")
        try:
            return payload["records"], int(total) if total is not None else None
        except (TypeError, ValueError):
            return payload["records"], None
    raise ValueError("neither a list of records nor an object with 'records'")


class MoenvClient:
    """Pages through one MOENV v2 dataset with retries.

    Parameters
    ----------
    api_key:
        The MOENV key; None reads ``Settings.moenv_api_key``
        (``AQI_MOENV_API_KEY``).
    base_url:
        API root; None reads ``Settings.moenv_base_url``.
    timeout:
        Seconds allowed to connect, and to read each response.
    retries:
        Extra attempts after a retryable failure (so ``retries + 1`` requests
        at most per page).
    backoff:
        First wait in seconds; doubled after each failure.
    max_wait:
        Longest single wait, also the cap on ``Retry-After``.

    Raises
    ------
    FetchError
        When no API key is set.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
    ) -> None:
        if api_key is None or base_url is None:
            from forecasting.config import get_settings

            settings = get_settings()
            api_key = api_key if api_key is not None else settings.moenv_api_key
            base_url = base_url or settings.moenv_base_url
        if not api_key:
            raise FetchError(
                "no MOENV API key: set the environment variable AQI_MOENV_API_KEY "
                "(a free key from https://data.moenv.gov.tw, member centre)"
            )
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=True,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        _HTTPX_MASK.keys.add(api_key)

    def __enter__(self) -> MoenvClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MoenvClient(base_url={self.base_url!r}, api_key={MASK!r})"

    def close(self) -> None:
        """Close the connection pool and stop masking this client's key."""
        self._http.close()
        _HTTPX_MASK.keys.discard(self._key)

    def mask(self, text: str) -> str:
        """Return ``text`` with the API key replaced by ``***``."""
        return text.replace(self._key, MASK)

    def _url(self, dataset: str, offset: int, limit: int) -> httpx.URL:
        return httpx.URL(
            f"{self.base_url}/{dataset}",
            params={
                "api_key": self._key,
                "format": "json",
                "offset": offset,
                "limit": limit,
            },
        )

    def fetch_page(
        self, dataset: str, offset: int = 0, limit: int = 1000
    ) -> tuple[list[dict], int | None]:
        """Return one page of records and the dataset's ``total`` (None if absent).

        Raises
        ------
        FetchError
            After ``retries + 1`` failed attempts, or at once on a 4xx answer
            other than 429.
        """
        url = self._url(dataset, offset, limit)
        shown = self.mask(str(url))
        last = "no attempt"
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt
            try:
                response = self._http.get(url)
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {self.mask(str(error)) or 'no detail'}"
            else:
                status = response.status_code
                if status in RETRIED_STATUS:
                    last = f"HTTP {status}"
                    asked = _retry_after(response)
                    wait = wait if asked is None else asked
                elif status >= 400:
                    raise FetchError(
                        f"GET {shown} answered HTTP {status}: "
                        f"{self.mask(response.text[:200])!r}; check the dataset id "
                        "and the key in AQI_MOENV_API_KEY"
                    )
                else:
                    try:
                        return _records(json.loads(response.content))
                    except ValueError as error:
                        last = (
                            f"the body ({len(response.content)} bytes) is not "
                            f"complete JSON records ({error})"
                        )
            if attempt < self.retries:
                wait = min(wait, self.max_wait)
                logger.warning(
                    "GET %s failed (%s); retry %d of %d in %.1f s",
                    shown,
                    last,
                    attempt + 1,
                    self.retries,
                    wait,
                )
                clock.sleep(wait)
        raise FetchError(
            f"GET {shown} failed {self.retries + 1} times; last error: {last}. "
            "Check the network and MOENV's status, then try again later"
        )

    def fetch_records(
        self, dataset: str, limit: int = 1000, max_records: int | None = None
    ) -> list[dict]:
        """Return every record of ``dataset``, paging by ``limit``.

        Parameters
        ----------
        dataset:
            MOENV dataset id, e.g. ``"aqx_p_432"`` or ``"aqx_p_189"``.
        limit:
            Records per request.
        max_records:
            Stop after this many records (None: all).

        Returns
        -------
        list of dict
            The records as the API gave them (strings), in order.

        Raises
        ------
        FetchError
            When a page fails after every retry (see :meth:`fetch_page`).
        """
        started = clock.perf_counter()
        records: list[dict] = []
        pages = 0
        while max_records is None or len(records) < max_records:
            size = (
                limit if max_records is None else min(limit, max_records - len(records))
            )
            page, total = self.fetch_page(dataset, offset=len(records), limit=size)
            pages += 1
            records.extend(page)
            if len(page) < size or (total is not None and len(records) >= total):
                break
        logger.info(
            "fetched %d records of %s in %d pages (%.1f s)",
            len(records),
            dataset,
            pages,
            clock.perf_counter() - started,
        )
        return records


def fetch_records(
    dataset: str,
    limit: int = 1000,
    max_records: int | None = None,
    **client_options: Any,
) -> list[dict]:
    """Fetch ``dataset`` with a :class:`MoenvClient` built from the settings.

    Returns
    -------
    list of dict
        See :meth:`MoenvClient.fetch_records`.

    Raises
    ------
    FetchError
        When no key is set or the API cannot be reached after the retries.
    """
    with MoenvClient(**client_options) as client:
        return client.fetch_records(dataset, limit=limit, max_records=max_records)
