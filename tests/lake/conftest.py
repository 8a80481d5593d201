"""A throwaway PostgreSQL server per test module (tests/pg.py): each lake test file gets its own."""

from __future__ import annotations

import pytest

from tests.pg import remove, start_server


@pytest.fixture(scope="module")
def postgres():
    server = start_server()
    try:
        yield server
    finally:
        remove(server)
