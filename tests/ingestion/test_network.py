"""Contract tests against the real public APIs: excluded by default (`uv run pytest -m network`).

Each reads a small slice of the live endpoint through the same code the pipeline uses and checks
that it still parses with no schema drift, so an upstream change shows up here first.
"""

from __future__ import annotations

from datetime import date

import pytest

from ingestion.cftc_tff.fields import TFF_FIELDS
from ingestion.common.http import make_session
from ingestion.common.records import DriftReport
from ingestion.par_yield_curve import year_url
from ingestion.par_yield_curve.parser import parse_csv
from ingestion.settings import CFTC_BASE_URL, FISCALDATA_BASE_URL, TIC_BASE_URL, YIELD_CURVE_BASE_URL
from ingestion.tic_holdings.parser import parse_current, parse_history
from ingestion.treasury_auctions import AUCTIONS_ENDPOINT, _read
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, AUCTIONS_REQUIRED

pytestmark = pytest.mark.network


def test_live_fiscaldata_auctions_query():
    drift = DriftReport()
    params = {
        "filter": "auction_date:gte:2025-04-01,auction_date:lte:2025-04-30",
        "sort": "auction_date,cusip",
        "page[size]": 100,
    }
    tables = list(
        _read(
            FISCALDATA_BASE_URL,
            AUCTIONS_ENDPOINT,
            params,
            "auctions_query",
            AUCTIONS_QUERY_FIELDS,
            AUCTIONS_REQUIRED,
            drift,
        )
    )
    assert sum(t.num_rows for t in tables) > 20
    assert not drift.new_fields, drift.describe()


def test_live_yield_curve_csv():
    url, params = year_url(YIELD_CURVE_BASE_URL, date.today().year - 1)
    response = make_session().get(url, params=params)
    drift = DriftReport()
    table = parse_csv(response.text, source="par_yield_curve", where=response.url, drift=drift)
    assert table.num_rows > 240 and not drift.new_fields


def test_live_cftc_tff():
    from ingestion.common.records import records_to_table

    response = make_session().get(
        f"{CFTC_BASE_URL}/resource/gpe5-46if.json", params={"$limit": 50, "$order": "report_date_as_yyyy_mm_dd DESC"}
    )
    drift = DriftReport()
    table = records_to_table(
        response.json(), TFF_FIELDS, source="cftc_tff", where=response.url, key_fields=("id",), drift=drift
    )
    assert table.num_rows == 50 and not drift.new_fields


def test_live_tic_files():
    session = make_session()
    current = parse_current(
        session.get(f"{TIC_BASE_URL}/slt_table5.txt").text, source="tic_holdings", where="slt_table5.txt"
    )
    history = parse_history(
        session.get(f"{TIC_BASE_URL}/mfhhis01.txt").text, source="tic_holdings", where="mfhhis01.txt"
    )
    assert len({h.month_end for h in current.holdings}) == 13 and history.release_date is not None
