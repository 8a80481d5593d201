"""Contract tests against the real public APIs: excluded by default (`uv run pytest -m network`).

Each reads a small slice of the live endpoint through the same code the pipeline uses and checks
that it still parses with no schema drift, so an upstream change shows up here first.
"""

from __future__ import annotations

from datetime import date

import pytest

from ingestion.cftc_tff.fields import TFF_FIELDS
from ingestion.common.fiscaldata import typed_pages
from ingestion.common.http import make_session
from ingestion.common.records import DriftReport
from ingestion.par_yield_curve import year_url
from ingestion.par_yield_curve.parser import parse_csv
from ingestion.pipelines import public_host
from ingestion.tic_holdings.parser import parse_current, parse_history
from ingestion.treasury_auctions import AUCTIONS_ENDPOINT, KEY
from ingestion.treasury_auctions.fields import AUCTIONS_QUERY_FIELDS, AUCTIONS_REQUIRED
from ingestion.treasury_debt.fields import DEBT_TO_THE_PENNY_FIELDS

pytestmark = pytest.mark.network

# The public hosts, as the committed .dlt/config.toml names them.
FISCALDATA_BASE_URL = public_host("treasury_auctions")
YIELD_CURVE_BASE_URL = public_host("par_yield_curve")
CFTC_BASE_URL = public_host("cftc_tff")
TIC_BASE_URL = public_host("tic_holdings")
PRIMARY_DEALERS_BASE_URL = public_host("primary_dealers")
FUNDING_RATES_BASE_URL = public_host("funding_rates")
FRED_BASE_URL = public_host("fed_custody")


def test_live_fiscaldata_auctions_query():
    drift = DriftReport()
    params = {
        "filter": "auction_date:gte:2025-04-01,auction_date:lte:2025-04-30",
        "sort": "auction_date,cusip",
        "page[size]": 100,
    }
    tables = list(
        typed_pages(
            "treasury_auctions.auctions_query",
            FISCALDATA_BASE_URL,
            AUCTIONS_ENDPOINT,
            params,
            spec=AUCTIONS_QUERY_FIELDS,
            key=KEY,
            required=AUCTIONS_REQUIRED,
            drift=drift,
            limits={},
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


def test_live_nyfed_fred_and_debt():
    """The four newer sources against their public hosts: one request each, parsed by the loading code."""
    from decimal import Decimal

    from ingestion.common.http import read_exact_json
    from ingestion.fed_custody import parse_fredgraph
    from ingestion.funding_rates import parse_rates
    from ingestion.primary_dealers import keyid_url, parse_timeseries

    session = make_session()
    url = keyid_url(PRIMARY_DEALERS_BASE_URL, "PDPOSGST-TOT")
    total = parse_timeseries(session.get(url).json(), keyid="PDPOSGST-TOT", series_break="current", where=url)
    assert total.num_rows > 600
    response = session.get(
        f"{FUNDING_RATES_BASE_URL}/rates/secured/sofr/search.json",
        params={"startDate": "2025-04-01", "endDate": "2025-04-30"},
    )
    sofr = parse_rates(read_exact_json(response, "funding_rates"), where=response.url)
    assert sofr.num_rows >= 20 and all(Decimal(3) < r < Decimal(5) for r in sofr["percent_rate"].to_pylist())
    response = session.get(f"{FRED_BASE_URL}/fredgraph.csv", params={"id": "WMTSECL1", "cosd": "2025-01-01"})
    custody = parse_fredgraph(response.text, ["WMTSECL1"], where=response.url)
    assert custody.num_rows > 20
    penny = list(
        typed_pages(
            "treasury_debt.debt_to_the_penny",
            FISCALDATA_BASE_URL,
            "v2/accounting/od/debt_to_penny",
            {"filter": "record_date:gte:2025-01-01,record_date:lte:2025-03-31", "page[size]": 100},
            spec=DEBT_TO_THE_PENNY_FIELDS,
            key=("record_date",),
            required=("record_date",),
            drift=DriftReport(),
            limits={},
        )
    )
    assert sum(t.num_rows for t in penny) == 61
