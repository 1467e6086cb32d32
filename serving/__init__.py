"""Serving: forecasts and the official current AQI over HTTP (BentoML 1.4).

* :mod:`serving.answers` builds every answer as a plain dict (store, bundle in);
* :mod:`serving.schemas` describes requests and answers for the OpenAPI page;
* :mod:`serving.service` is the BentoML service (``serving.service:AqiForecast``);
* :mod:`serving.process` starts, waits for and stops the real server;
* :mod:`serving.cli` holds ``aqi-forecast serve`` and ``aqi-forecast forecast``.
"""
