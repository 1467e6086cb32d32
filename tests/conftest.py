"""Fixtures shared by every test module.

``sample_store``
    Session-scoped :class:`forecasting.store.HourlyStore` in a temporary folder
    holding every bundled file of ``forecasting/sample_data`` (the 84-station
    AQX_P_432 payload and the yearly station files), ingested once per test
    session (about 5 s). Treat it as READ-ONLY: other modules share it.
``sample_store_copy``
    Function-scoped copy of ``sample_store`` (a folder copy, well under a
    second) for a test that ingests into it or breaks it.
``sample_home``
    Function-scoped home folder (``Settings.home``) whose ``store/`` is a copy
    of ``sample_store``: pass it as ``--home`` or ``get_settings(home=...)``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecasting.store import HourlyStore


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> HourlyStore:
    """The bundled sample data, ingested once per session (read-only)."""
    from forecasting.ingest import ingest_sample_data

    store = HourlyStore(tmp_path_factory.mktemp("sample_home") / "store")
    ingest_sample_data(store)
    return store


@pytest.fixture
def sample_store_copy(sample_store: HourlyStore, tmp_path: Path) -> HourlyStore:
    """A private copy of ``sample_store`` that a test may write."""
    root = tmp_path / "store"
    shutil.copytree(sample_store.root, root)
    return HourlyStore(root)


@pytest.fixture
def sample_home(sample_store: HourlyStore, tmp_path: Path) -> Path:
    """A home folder whose ``store/`` is a private copy of ``sample_store``."""
    home = tmp_path / "home"
    shutil.copytree(sample_store.root, home / "store")
    return home
