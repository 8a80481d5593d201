"""TIC Major Foreign Holders: both file layouts, their quirks, the combined load and benchmark revisions."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from emulator import tic_holdings as tic
from emulator.server import Emulator, base_urls, serve
from ingestion.common.errors import SourceDataError
from ingestion.pipelines import run_ingest
from ingestion.tic_holdings.parser import combine, parse_current, parse_history
from tests.conftest import AS_OF, FIXTURES, reference


def history(text):
    return parse_history(text, source="tic_holdings.major_foreign_holders", where="mfhhis01.txt (test)")


def current(text):
    return parse_current(text, source="tic_holdings.major_foreign_holders", where="slt_table5.txt (test)")


def by_key(parsed):
    return {(h.month_end, h.country, h.is_comparison_series): h for h in parsed.holdings}


def test_awkward_history_file():
    parsed = history((FIXTURES / "tic_history_awkward.txt").read_text())
    rows = by_key(parsed)
    # Shifted months: the 2012 block holds only March back to January.
    assert rows[(date(2012, 3, 31), "Japan", False)].holdings_bn == Decimal("1000.5")
    assert rows[(date(2012, 1, 31), "Japan", False)].holdings_bn == Decimal("980.1")
    # Footnote markers and padding are stripped from the name; the label is kept as published.
    uk = rows[(date(2011, 12, 31), "United Kingdom", False)]
    assert uk.label_as_published == "United Kingdom 2/" and uk.holdings_bn == Decimal("120")
    assert (date(2012, 3, 31), "Korea, South", False) in rows
    # A wrapped name is joined across its two lines.
    assert rows[(date(2012, 2, 29), "Carib Bnkng Ctrs", False)].holdings_bn == Decimal("251")
    # n.a. and * load as NULL with the marker kept.
    lux = rows[(date(2011, 6, 30), "Luxembourg", True)]
    assert (lux.holdings_bn, lux.value_flag) == (None, "n.a.")
    salvador = rows[(date(2012, 3, 31), "El Salvador", False)]
    assert (salvador.holdings_bn, salvador.value_flag) == (None, "*")
    # A series break: June twice; the second column is the old series, kept apart.
    assert rows[(date(2011, 6, 30), "Japan", False)].holdings_bn == Decimal("950")
    assert rows[(date(2011, 6, 30), "Japan", True)].holdings_bn == Decimal("911.1")
    # Memo lines are kept and marked.
    memo = rows[(date(2011, 12, 31), "Foreign Official Treasury Bills", False)]
    assert memo.row_type == "foreign_official_bills" and memo.label_as_published == "    Treasury Bills"
    assert rows[(date(2011, 12, 31), "Grand Total", False)].row_type == "grand_total"
    assert parsed.release_date == date(2012, 4, 15)
    assert parsed.revision_notes == ("2011 revised April 15, 2012",)


def test_current_table_and_the_current_table_wins():
    cur = current((FIXTURES / "tic_slt_table5.txt").read_text())
    rows = by_key(cur)
    assert rows[(date(2012, 4, 30), "China, Mainland", False)].holdings_bn == Decimal("1150")
    assert rows[(date(2012, 4, 30), "Foreign Official", False)].row_type == "foreign_official"
    assert rows[(date(2012, 2, 29), "Foreign Official T-Bonds & Notes", False)].holdings_bn == Decimal("1340")
    hist = history((FIXTURES / "tic_history_awkward.txt").read_text())
    merged = {(h.month_end, h.country, h.is_comparison_series): h for h in combine(cur, hist)}
    japan_march = merged[(date(2012, 3, 31), "Japan", False)]
    assert (japan_march.holdings_bn, japan_march.source_file) == (Decimal("1001.0"), "slt_table5.txt")
    # A month only the history covers still comes from the history.
    assert merged[(date(2012, 1, 31), "Japan", False)].source_file == "mfhhis01.txt"
    # Rows the current table lacks for its months (Carib Bnkng Ctrs) are not mixed in from the history.
    assert (date(2012, 3, 31), "Carib Bnkng Ctrs", False) not in merged


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("Japan\t1000.5", "Japan\t1,000.5"), "line 7: value '1,000.5' is not a number, n.a. or *"),
        (
            lambda t: t.replace("Japan\t1000.5\t990\t980.1", "Japan\t1000.5\t990"),
            "line 7: 'Japan' has 2 values for 3 month columns",
        ),
        (
            lambda t: t.replace("All Other\t200", "Stray text here\t200\t1\t2\t3"),
            "line 12: 'Stray text here' has 6 values for 3 month columns",
        ),
        (
            lambda t: t.replace("\tMar\tFeb\tJan", "\tMarch\tFeb\tJan", 1),
            "line 5: a Country/year row without a month row above it",
        ),
        (lambda t: t.replace("United Kingdom 2/\t120", "Japan\t120"), "'Japan' for 2011-12 also appears on line"),
    ],
)
def test_a_line_the_parser_cannot_place_is_an_error_quoting_it(edit, expected):
    text = edit((FIXTURES / "tic_history_awkward.txt").read_text())
    with pytest.raises(SourceDataError) as err:
        history(text)
    assert "[tic_holdings.major_foreign_holders] mfhhis01.txt (test)" in str(err.value)
    assert expected in str(err.value)


def test_current_table_with_a_bad_header_is_an_error():
    with pytest.raises(SourceDataError, match="header columns are not all YYYY-MM"):
        current("Country\t2012-04\tApril 2012\nJapan\t1\t2\n")


def test_reference_history_file():
    parsed = history(reference("tic_mfh/mfhhis01.txt").read_text())
    rows = by_key(parsed)
    months = {h.month_end for h in parsed.holdings}
    assert min(months) == date(2000, 3, 31) and max(months) == date(2025, 12, 31) and len(months) == 310
    assert rows[(date(2025, 12, 31), "Japan", False)].holdings_bn == Decimal("1185.5")
    assert rows[(date(2025, 12, 31), "Grand Total", False)].holdings_bn == Decimal("9271")
    assert rows[(date(2011, 6, 30), "Japan", True)].holdings_bn == Decimal("911.1")  # 2011's old-series June
    assert rows[(date(2000, 3, 31), "Japan", True)].holdings_bn == Decimal("325.8")  # 2000's duplicate March
    assert rows[(date(2002, 1, 31), "Luxembourg", False)].value_flag == "n.a."  # not reported before June 2002
    assert rows[(date(2002, 6, 30), "Luxembourg", True)].value_flag == "n.a."
    assert rows[(date(2002, 6, 30), "Luxembourg", False)].holdings_bn is not None
    assert (date(2001, 6, 30), "Belgium-Luxembourg", False) in rows and (
        date(2002, 7, 31),
        "Belgium-Luxembourg",
        False,
    ) not in rows
    # In this file the old aggregates stop with the 2011 block (the reference notes say February 2016).
    assert (date(2011, 12, 31), "Carib Bnkng Ctrs", False) in rows and (
        date(2012, 1, 31),
        "Carib Bnkng Ctrs",
        False,
    ) not in rows
    assert (
        rows[(date(2000, 12, 31), "Korea, South", False)].label_as_published == "Korea, South "
    )  # padded in the 2000 block
    assert parsed.release_date == date(2026, 3, 18)
    assert parsed.revision_notes[0] == "2025 revised March 18, 2026"
    # Countries + All Other reproduce the published grand total within rounding in every published month.
    sums, totals = defaultdict(Decimal), {}
    for h in parsed.holdings:
        key = (h.month_end, h.is_comparison_series)
        if h.row_type in ("country", "all_other") and h.holdings_bn is not None:
            sums[key] += h.holdings_bn
        if h.row_type == "grand_total":
            totals[key] = h.holdings_bn
    assert max(abs(sums[k] - totals[k]) for k in totals if not k[1]) <= Decimal("0.5")


def test_emulator_files_follow_the_release_calendar_and_the_identities():
    data = tic.tic_data(AS_OF)
    assert (
        tic.release_date(data.latest)
        <= AS_OF
        < tic.release_date(tic.month_end(data.latest.year + (data.latest.month == 12), data.latest.month % 12 + 1))
    )
    hist = history(tic.render_history(data))
    cur = current(tic.render_current(data))
    assert max(h.month_end for h in hist.holdings) == data.history_end
    assert sorted({h.month_end for h in cur.holdings}) == tic.months_between(
        tic.month_end(data.latest.year - 1, data.latest.month), data.latest
    )
    countries = {h.country for h in cur.holdings if h.row_type == "country"}
    assert len(countries) >= 33 and {"Japan", "China, Mainland", "United Kingdom", "Cayman Islands"} <= countries
    sums, totals = defaultdict(Decimal), {}
    for h in combine(cur, hist):
        key = (h.month_end, h.is_comparison_series)
        if h.row_type in ("country", "all_other") and h.holdings_bn is not None:
            sums[key] += h.holdings_bn
        if h.row_type == "grand_total":
            totals[key] = h.holdings_bn
    assert max(abs(sums[k] - totals[k]) for k in totals if not k[1]) <= Decimal("2.0")
    flags = {h.value_flag for h in hist.holdings}
    assert {"n.a.", "*"} <= flags


def test_tic_history_does_not_change_when_the_as_of_date_moves():
    earlier, later = tic.tic_data(AS_OF), tic.tic_data(AS_OF + timedelta(days=200))
    n = len(earlier.months)
    assert later.months[:n] == earlier.months
    for label, values in earlier.values.items():
        assert later.values[label][:n] == values, label


def query(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def ingest(warehouse, urls):
    summary = run_ingest(["tic_holdings"], warehouse=warehouse, as_of=AS_OF, base_urls=urls)
    assert summary.ok, summary.render()


def test_load_and_benchmark_revision_keeps_vintages(warehouse, served):
    emulator, urls = served
    ingest(warehouse, urls)
    data = tic.tic_data(AS_OF)
    table = "raw_tic_holdings.major_foreign_holders"
    (n,) = query(warehouse, f"select count(*) from {table}")[0]
    assert n > 10000
    assert query(warehouse, f"select count(*) from {table}_vintages") == [(n,)]
    assert query(warehouse, f"select distinct source_file from {table} where month_end > '{data.history_end}'") == [
        ("slt_table5.txt",)
    ]
    assert query(
        warehouse, f"select count(*) from {table} where row_type = 'grand_total' and not is_comparison_series"
    ) == [(len(data.months),)]
    types = dict(
        query(
            warehouse,
            "select column_name, data_type from information_schema.columns where table_schema='raw_tic_holdings' and table_name='major_foreign_holders'",
        )
    )
    assert (
        types["month_end"] == "DATE"
        and types["holdings_bn"] == "DECIMAL(38,9)"
        and types["is_comparison_series"] == "BOOLEAN"
    )
    year = data.history_end.year
    before = dict(
        query(
            warehouse,
            f"select country, holdings_bn from {table} where month_end = '{year}-06-30' and not is_comparison_series",
        )
    )
    # Rerunning the same release adds no vintage.
    ingest(warehouse, urls)
    assert query(warehouse, f"select count(*) from {table}_vintages") == [(n,)]
    with serve(Emulator(as_of=AS_OF, revised=True)) as root:
        ingest(warehouse, base_urls(root))
    after = dict(
        query(
            warehouse,
            f"select country, holdings_bn from {table} where month_end = '{year}-06-30' and not is_comparison_series",
        )
    )
    changed = {c for c in before if before[c] != after[c]}
    assert len(changed) > 20  # the benchmark revision rewrote the year
    japan = query(
        warehouse,
        f"""
        select holdings_bn, superseded_at is null from {table}_vintages
        where country = 'Japan' and month_end = '{year}-06-30' and not is_comparison_series order by first_seen_at""",
    )
    assert japan == [(before["Japan"], False), (after["Japan"], True)]
    # Earlier years are untouched: no new vintages there.
    assert query(
        warehouse,
        f"select count(*) from {table}_vintages where superseded_at is not null and year(month_end) <> {year}",
    ) == [(0,)]
    assert query(warehouse, f"select count(*) from {table}") == [(n,)]
