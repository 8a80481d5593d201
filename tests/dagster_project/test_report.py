"""The weekly stress report: its figures are the marts' (April 2025 as known on Friday 11 April, from the session's
sample serving file), the build writes it after publishing, and a real browser (headless Chromium) renders every
chart offline without a single network request."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.report import page as report

EPISODE = date(2025, 4, 11)  # the Friday of the April 2025 episode


@pytest.fixture(scope="module")
def april_report(sample_build, tmp_path_factory) -> report.Report:
    return report.build(sample_build.serving, tmp_path_factory.mktemp("report"), EPISODE, sample=True)


def _query(serving, sql, params=()):
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _section(page: str, name: str) -> str:
    return page.split(f'<section id="{name}">')[1].split("</section>")[0]


def _rows(section: str) -> list[list[str]]:
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    ]


def test_the_board_shows_the_flagged_week_with_the_marts_figures(april_report, sample_build):
    page = april_report.path.read_text()
    [(score, auction_z, yields_z)] = _query(
        sample_build.serving,
        "select composite_stress_score, auction_demand_z, yield_moves_z from marts.mart_treasury_stress_weekly "
        "where week_ending = ?",
        [EPISODE],
    )
    assert april_report.headline["week ending"] == "2025-04-11"
    assert april_report.headline["stress flag"] == "ON"
    assert april_report.headline["composite stress score"] == f"{score:.2f}"
    board = _rows(_section(page, "board"))
    assert [row[0] for row in board] == ["2025-04-11", "2025-04-04", "2025-03-28", "2025-03-21", "2025-03-14"]
    assert board[0][1] == f"{score:.2f}" and board[0][2] == "STRESS"
    assert board[0][3].startswith(f"{auction_z:.2f}") and board[0][4].startswith(f"{yields_z:.2f}")
    # Said once at the top, a small tag on each of the seven sections, and no emulator URL anywhere.
    assert page.count(report.SAMPLE_BANNER.split(":")[0]) == 1 and page.count('<span class="tag">sample data') == 7
    assert "127.0.0.1" not in page and "localhost" not in page


def test_the_board_chart_draws_the_composite_strong_and_the_components_as_panels(april_report):
    """Issue 24: the composite is the one strong line (at least twice any component's width), each component its own
    panel, the flagged weeks shaded and April 2025 named."""
    page = april_report.path.read_text()
    figure = page.split('<figure id="chart-board">')[1].split("</figure>")[0]
    lines = [
        [float(w) for w in re.findall(r'stroke-width="([0-9.]+)"', group)]
        for group in re.findall(r'<g class="mark-line role-mark[^"]*"[^>]*>(.*?)</g>', figure, flags=re.S)
    ]
    widths = sorted(max(group) for group in lines if group)
    assert len(widths) == 8, widths  # the composite and seven component panels
    assert widths[-1] >= 2 * widths[-2], widths
    assert ">Apr 2025<" in figure
    assert figure.count('class="mark-rect role-mark') >= 2  # shading on the composite and on the panels
    tails = page.split('<figure id="chart-tails">')[1].split("</figure>")[0]
    assert all(f">{term}<" in tails for term in ("2-Year", "5-Year", "10-Year", "30-Year"))  # one panel per term


def test_the_page_reads_as_the_public_apis_or_a_mirror_without_the_sample_label(sample_build, tmp_path):
    public = report.build(sample_build.serving, tmp_path / "public", EPISODE, sample=False, hosts=("api.example.gov",))
    page = public.path.read_text()
    assert "Data from api.example.gov." in page and report.SAMPLE_BANNER.split(":")[0] not in page
    assert 'class="tag"' not in page
    mirror = report.build(
        sample_build.serving, tmp_path / "mirror", EPISODE, sample=False, hosts=("mirror.desk:8080",), mirror=True
    )
    page = mirror.path.read_text()
    assert page.count("mirror.desk:8080") == 1 and page.count('<span class="tag">not the public APIs') == 7


def test_the_scorecard_lists_the_last_20_coupon_auctions_with_the_april_3_year(april_report, sample_build):
    page = april_report.path.read_text()
    expected = _query(
        sample_build.serving,
        "select auction_date::varchar, security_class || ' ' || term_group, tail_proxy_prior_close_bp "
        "from marts.fct_auctions where security_class in ('Note', 'Bond') and auction_date <= ? "
        "order by auction_date desc, cusip desc limit 20",
        [EPISODE],
    )
    rows = _rows(_section(page, "auctions"))
    assert [(r[0], r[1]) for r in rows] == [(day, term) for day, term, _ in expected]
    three_year = next(r for r in rows if r[0] == "2025-04-08" and r[1] == "Note 3-Year")
    tail = next(t for day, term, t in expected if day == "2025-04-08" and term == "Note 3-Year")
    assert three_year[3].startswith(f"{tail:.2f}")
    # The highlighted row is the highest tail z-score of the 20.
    [(weakest_day, weakest_term)] = _query(
        sample_build.serving,
        "select auction_date::varchar, security_class || ' ' || term_group from (select * from marts.fct_auctions "
        "where security_class in ('Note', 'Bond') and auction_date <= ? order by auction_date desc, cusip desc "
        "limit 20) order by tail_proxy_prior_close_bp_z_prior_12 desc nulls last limit 1",
        [EPISODE],
    )
    marked = re.search(r"<tr class=weak>(.*?)</tr>", _section(page, "auctions"), flags=re.S)[1]
    assert weakest_day in marked and weakest_term in marked


def test_the_curve_and_foreign_sections_match_the_marts(april_report, sample_build):
    page = april_report.path.read_text()
    [(crossings,)] = _query(
        sample_build.serving,
        "select count(*) filter (where is_10y_5pct_crossing) + count(*) filter (where is_30y_5pct_crossing) "
        "from marts.mart_yield_curve_daily where curve_date > ?::date - interval 1 year and curve_date <= ?",
        [EPISODE, EPISODE],
    )
    assert crossings >= 1  # the 30-year on 9 April
    assert f"{crossings} close(s) at or above 5%" in _section(page, "curve")
    foreign = _section(page, "foreign")
    # As known on 11 April: January's TIC (released in March), not February's (released 18 April).
    assert "TIC holdings for 2025-01-31, released 2025-03-18" in foreign
    top = _query(
        sample_build.serving,
        "select country_display_name, holdings_usd_bn from marts.fct_foreign_holdings "
        "where month_end = '2025-01-31' and row_type = 'country' order by holdings_usd_bn desc limit 10",
    )
    rows = _rows(foreign)
    assert rows[0][0] == "Grand Total" and len(rows) == 11
    assert [(r[0].removesuffix("(custody centre)").strip(), r[1]) for r in rows[1:]] == [
        (name, f"{value:.1f}") for name, value in top
    ]


def test_the_balance_sheet_section_says_what_was_known_that_friday(april_report, sample_build):
    """Dealers as of 2 April (published 10 April; the week of 9 April came out on the 17th), SOFR - IORB of
    Thursday 10 April, custody of Wednesday 9 April, the foreign share for January (TIC released 18 March)."""
    section = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _section(april_report.path.read_text(), "balance-sheets")))
    [(dealers,)] = _query(
        sample_build.serving,
        "select value_usd_bn from marts.fct_primary_dealer_positions where bucket = 'total' "
        "and week_ending_wednesday = '2025-04-02'",
    )
    [(spread,)] = _query(
        sample_build.serving,
        "select rate_minus_iorb_bp from marts.fct_funding_rates_daily where rate_type = 'SOFR' and rate_date = '2025-04-10'",
    )
    [(custody,)] = _query(
        sample_build.serving,
        "select custody_usd_bn from marts.fct_foreign_official_custody_weekly where week_ending_wednesday = '2025-04-09'",
    )
    assert f"dealers' net Treasury position {dealers:.1f} $bn (week of 2025-04-02" in section
    assert f"SOFR - IORB {spread:+.1f} bp (2025-04-10)" in section
    assert f"foreign official custody {custody:.1f} $bn" in section
    assert "of marketable debt (2025-01-31, TIC over MSPD)" in section
    assert _section(april_report.path.read_text(), "balance-sheets").count("<svg") == 3  # three charts drawn


def test_the_report_is_self_contained(april_report):
    page = april_report.path.read_text()
    assert len(april_report.charts) == 10 and all(p.stat().st_size > 10_000 for p in april_report.charts)
    assert page.count("<figure") == 10 and page.count("<svg") >= 10
    # Nothing to fetch: no src or href pointing anywhere (SVG's xmlns is a name, not a request).
    assert re.findall(r"""(?:src|href)\s*=\s*["'](?!#|data:)[^"']+""", page) == []
    assert april_report.bytes < 1_000_000


def test_the_build_writes_the_report_after_publishing(sample_build):
    metadata = sample_build.materializations["publish/stress_report"]
    path = Path(metadata["path"])
    assert path.name == "index.html" and path.exists()
    assert metadata["charts"] == 10 and metadata["sample_data"] is True
    assert "| week ending | 2025-06-27 |" in metadata["headline"]


def test_the_episodes_section_keeps_april_2025_after_the_scorecard_moved_on(sample_build):
    """The build's own report (as of 2025-06-30): the 3-year of 8 April has left the last-20 scorecard, but the
    episodes section still shows its week, the alerts of that week and the auction, highlighted."""
    page = Path(sample_build.materializations["publish/stress_report"]["path"]).read_text()
    assert not any(r[0] == "2025-04-08" for r in _rows(_section(page, "auctions")))
    episodes = _section(page, "episodes")
    flagged = _query(
        sample_build.serving,
        "select week_ending::varchar from marts.mart_treasury_stress_weekly where is_stress_week "
        "and week_ending > date '2025-06-27' - interval 2 year and week_ending <= date '2025-06-27' "
        "order by week_ending desc",
    )
    assert re.findall(r'<h3 id="episode-([\d-]+)">', episodes) == [week for (week,) in flagged]
    assert "2025-04-11" in {week for (week,) in flagged}
    april = episodes.split('<h3 id="episode-2025-04-11">')[1].split("<h3")[0]
    alerts = _query(
        sample_build.serving,
        "select rule, message from marts.mart_stress_alerts where event_date between '2025-04-05' and '2025-04-11' "
        "order by event_date, rule, subject",
    )
    items = [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li>(.*?)</li>", april, flags=re.S)]
    assert len(items) == len(alerts) and all(rule in item for item, (rule, _) in zip(items, alerts, strict=True))
    rules = {rule for rule, _ in alerts}
    assert {"weak_auction_dealer_takedown", "yield_level_crossing", "stress_week"} <= rules
    scorecard = _rows(april)
    assert [r[0] for r in scorecard] == sorted(r[0] for r in scorecard) and len(scorecard) >= 3
    marked = re.findall(r"<tr class=weak>(.*?)</tr>", april, flags=re.S)
    assert any("2025-04-08" in row and "Note 3-Year" in row for row in marked)
    [(dealers,)] = _query(
        sample_build.serving,
        "select dealer_share_pct from marts.fct_auctions where auction_date = '2025-04-08' and term_group = '3-Year'",
    )
    three_year = next(r for r in scorecard if r[0] == "2025-04-08" and r[1] == "Note 3-Year")
    assert three_year[7].startswith(f"{dealers:.1f}")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    return found


def _headless(chromium: str, netlog: Path) -> list[str]:
    return [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--disable-background-networking",
        # Any host name fails to resolve, and the net log records every request made.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--log-net-log={netlog}",
        "--window-size=1000,5200",
    ]


def _page_requests(netlog: Path) -> list[str]:
    """What the page asked for: the requests a document initiated (the browser's own background requests, time
    sync and dictionaries, have no origin as their initiator)."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"
    )


def test_the_request_log_catches_what_a_page_fetches(tmp_path):
    """The control for the test below: a page with an image and a stylesheet elsewhere shows both."""
    chromium = _chromium()
    page = tmp_path / "fetches.html"
    page.write_text(
        '<img src="http://img.example.invalid/x.png"><link rel=stylesheet href="https://css.example.invalid/a.css">'
    )
    result = subprocess.run(
        [*_headless(chromium, tmp_path / "netlog.json"), "--dump-dom", page.as_uri()], capture_output=True, timeout=120
    )
    assert result.returncode == 0
    assert _page_requests(tmp_path / "netlog.json") == [
        "http://img.example.invalid/x.png",
        "https://css.example.invalid/a.css",
    ]


def test_chromium_renders_every_chart_offline(april_report, tmp_path):
    chromium = _chromium()
    url = april_report.path.as_uri()
    dom = subprocess.run(
        [*_headless(chromium, tmp_path / "netlog.json"), "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)[1]
    assert 'data-charts="10"' in body and 'data-charts-rendered="10"' in body, body
    # At 1,400 px (and at the 1,000 px of this window) no table cell prints its date over two lines.
    assert int(re.search(r'data-date-cells="(\d+)"', body)[1]) > 25, body
    assert 'data-date-cells-wrapped="0"' in body, body
    wide = subprocess.run(
        [*_headless(chromium, tmp_path / "wide-netlog.json"), "--window-size=1400,5200", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'data-date-cells-wrapped="0"' in re.search(r"<body([^>]*)>", wide.stdout)[1]
    assert _page_requests(tmp_path / "netlog.json") == []  # the report asked for nothing
    shot = tmp_path / "report.png"
    subprocess.run(
        [*_headless(chromium, tmp_path / "shot-netlog.json"), f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 100_000
    print(f"report screenshot: {shot}")


def _poppler() -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("pdftotext is not installed (Debian: apt-get install poppler-utils; .ci/run installs it)")


def _flat(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_a_pdf_printed_by_chromium_keeps_each_chart_on_one_page(april_report, tmp_path):
    """Chromium prints the page to PDF (landscape Letter, the page's print rules): the board's chart is on the first
    page under the title, every section starts a page, and no chart is split: each figure's first and last titles and
    its caption are on the same page (pdftotext reads the charts' text, which stays vector)."""
    chromium = _chromium()
    _poppler()
    pdf = tmp_path / "report.pdf"
    printed = subprocess.run(
        [*_headless(chromium, tmp_path / "netlog.json"), "--no-pdf-header-footer", f"--print-to-pdf={pdf}"]
        + [april_report.path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert printed.returncode == 0 and pdf.stat().st_size > 100_000, printed.stderr[-2000:]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "792 x 612 pts (letter)" in info, info  # landscape
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [_flat(page) for page in text.split("\f") if page.strip()]
    assert 7 <= len(pages) <= 20, len(pages)

    def page_of(fragment: str) -> int:
        found = [number for number, page in enumerate(pages, start=1) if _flat(fragment) in page]
        assert found, f"{fragment!r} is on no page"
        return found[0]

    source = april_report.path.read_text()
    # Each section's heading without its tag (printed in capitals by the style).
    headings = [_flat(h) for h in re.findall(r"<h2>(.*?)<span", source)]
    assert len(headings) == 7
    for heading in headings[1:]:
        number = page_of(heading)
        assert pages[number - 1].startswith(heading), (heading, pages[number - 1][:200])
    figures = re.findall(r'<figure id="chart-([^"]+)">(.*?)</figure>', source, flags=re.S)
    assert len(figures) == 10
    for name, figure in figures:
        titles = re.findall(r"aria-label=\"Title text '([^\"]+)'\"", figure)
        caption = _flat(re.sub(r"<[^>]+>", " ", re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S)[1]))
        assert titles, name
        # The page of the chart's own title (its longest, unique in the report) has every panel's title and the
        # caption too.
        page = pages[page_of(max(titles, key=len)) - 1]
        missing = [t for t in [*titles, caption[:60]] if _flat(t) not in page]
        assert not missing, f"chart {name} does not fit on one page: {missing} are not on the page of its title"
    board = page_of(headings[0])
    assert board == 1 and "flag at 3" in pages[0] and "foreign official selling" in pages[0]


def test_treasury_report_prints_the_last_reports_path(sample_build, tmp_path, capsys):
    from dagster_project.runner.cli import main

    published = Path(sample_build.materializations["publish/stress_report"]["path"])
    serving = published.parent.parent / "serving.duckdb"  # the report sits in report/ beside the serving file
    assert main(["report", "--serving", str(serving)]) == 0
    assert capsys.readouterr().out.strip() == str(published)
    assert main(["report", "--serving", str(tmp_path / "serving.duckdb")]) == 1
    assert "no report at" in capsys.readouterr().err


def test_the_report_opens_with_the_marts_held_back_and_why(sample_build, tmp_path):
    """A build that held marts back (marts._build_status) says so at the top of the report, each with its date and
    reason; a build with every mart fresh says nothing."""
    serving = tmp_path / "serving.duckdb"
    shutil.copy(sample_build.serving, serving)
    assert "held back" not in report.build(serving, tmp_path / "fresh", date(2025, 6, 30), True).path.read_text()
    reason = "source treasury_debt blocked (load failed in run 1a2b3c4d: HTTP 503 Service Unavailable (after retries))"
    with duckdb.connect(str(serving)) as con:
        con.execute(
            "update marts._build_status set status = 'held back', data_as_of = date '2025-06-27', reason = ? "
            "where table_name in ('fct_debt_outstanding_daily', 'fct_marketable_debt_monthly')",
            [reason],
        )
    page = report.build(serving, tmp_path / "held", date(2025, 6, 30), True).path.read_text()
    notice = page.split('<div class="held-back">')[1].split("</div>")[0]
    assert "<strong>2 marts held back</strong>" in notice
    assert f"<code>fct_debt_outstanding_daily</code> as of 2025-06-27: {reason}" in notice
    assert "<code>fct_marketable_debt_monthly</code> as of 2025-06-27" in notice
    assert page.index('class="held-back"') < page.index('<section id="board">')


def test_the_board_chart_draws_without_a_flagged_week_and_names_runs_of_weeks():
    """Two years with no stress week still draw (nothing shaded); consecutive flagged weeks are one named run."""
    import pandas as pd
    import vl_convert as vlc

    from dagster_project.report import charts

    weeks = pd.date_range("2025-01-03", periods=60, freq="W-FRI")
    history = pd.DataFrame(
        {"week_ending": weeks, "composite_stress_score": 1.0, "is_stress_week": False}
        | {column: 0.5 for column in charts.COMPONENTS}
    )
    svg = vlc.vegalite_to_svg(charts._board_chart(history, 800).to_json())
    assert svg.count('class="mark-line role-mark') == 8 and 'class="mark-text' in svg
    history.loc[[10, 11, 12, 40], "is_stress_week"] = True  # 14-28 March 2025, and 3 October 2025
    episodes = charts.flagged_episodes(history)
    assert list(episodes["label"]) == ["Mar 2025", "Oct 2025"] and list(episodes["weeks"]) == [3, 1]


def test_a_build_at_a_time_of_day_says_so_under_the_title(sample_build, tmp_path):
    at_time = report.build(sample_build.serving, tmp_path / "a", EPISODE, True, moment="2025-04-11 10:23 New York")
    assert "as of 2025-04-11 10:23 New York: each source as it had published by then" in at_time.path.read_text()
    end_of_day = report.build(sample_build.serving, tmp_path / "b", EPISODE, True, moment="2025-04-11")
    assert "each source as it had published by then" not in end_of_day.path.read_text()
