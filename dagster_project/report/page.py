"""The weekly stress report: one self-contained HTML file (and a PNG per chart) from the serving file's marts.

Charts are Altair (Vega-Lite) specifications rendered by vl-convert, which runs Vega in an embedded JavaScript engine
from its PyPI wheel: no browser, no CDN, no network. Each chart is inlined in the HTML as SVG (sharp, searchable, a
few tens of kB) and also written as a PNG beside it for mail and slides. Tables are plain HTML with the project's
own formatting: the report needs no table library. The page loads nothing from anywhere, so it opens offline, and it
marks itself rendered (`data-charts-rendered` on <body>) once every chart has a size, which the browser test reads.
"""

from __future__ import annotations

import html
import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.lib.build_status import HELD_BACK, published_statuses
from dagster_project.report.charts import build_charts
from dagster_project.report.queries import SCORECARD_HEADERS, STRESS_FLAG_THRESHOLD, load


@dataclass(frozen=True)
class Report:
    path: Path
    charts: list[Path]
    headline: dict[str, str]
    seconds: float
    bytes: int


# --- data -----------------------------------------------------------------------------------------------------------
def _fmt(value, places: int = 2, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    return f"{number:+.{places}f}" if signed else f"{number:.{places}f}"


def _table(headers: list[str], rows: list[list[str]], marked: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        f"<tr{' class=weak' if i in marked else ''}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, svg: str, reading: str) -> str:
    return f'<figure id="chart-{name}">{svg}<figcaption>{html.escape(reading)}</figcaption></figure>'


REPORT_DIR_ENV = "TREASURY_REPORT_DIR"


def report_dir(serving: Path) -> Path:
    """TREASURY_REPORT_DIR, default report/ beside the serving file (data/report)."""
    return Path(os.environ.get(REPORT_DIR_ENV) or serving.parent / "report").absolute()


def _moment(moment: str) -> str:
    if "New York" not in moment:  # a build as of a date's end: the title's date says it all
        return ""
    return f', as of {html.escape(moment)}: each source as it had published by then (README, "Within the day")'


def build(
    serving: Path,
    out_dir: Path,
    as_of: date,
    sample: bool,
    hosts: tuple[str, ...] = (),
    mirror: bool = False,
    moment: str = "",
) -> Report:
    """Write out_dir/index.html and a PNG per chart; returns the paths and the headline figures. `sample`: the
    built-in emulator's synthetic data (said once at the top, and a small tag on each section; the emulator's
    loopback URLs are not worth a reader's time). Otherwise `hosts` are where the data came from, named once at the
    top: a mirror's (`mirror`: not the public APIs, tagged on each section too) or the public APIs'. `moment`: the
    build's point in time when it was a time of day ("2026-12-04 10:23 New York"), said under the title."""
    import vl_convert as vlc

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        data = load(serving, as_of)
    except duckdb.CatalogException as exc:
        # A mart held back before it was ever published is not in the serving file (marts._build_status says why).
        reason = str(exc).splitlines()[0].removeprefix("Catalog Error: ")
        return _no_week_yet(
            serving, out_dir, as_of, started, f"a mart the report reads is not published yet ({reason})"
        )
    if data["board"].empty:
        return _no_week_yet(serving, out_dir, as_of, started)
    charts = build_charts(data)
    no_data = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="60" role="img">'
        '<text x="10" y="35" font-size="14" fill="#4a5568">No data in this period in the serving file.</text></svg>'
    )
    svgs, pngs = {}, []
    for name, (chart, frame) in charts.items():
        if frame.empty:
            svgs[name] = no_data
            continue
        spec = chart.to_json()
        try:
            svgs[name] = vlc.vegalite_to_svg(spec)
            png_bytes = vlc.vegalite_to_png(spec, scale=2)
        except ValueError as exc:
            # Rows whose plotted values are all NULL (a component not yet computable) leave Vega nothing to size.
            if "invalid size" not in str(exc):
                raise
            svgs[name] = no_data
            continue
        png = out_dir / f"{name}.png"
        png.write_bytes(png_bytes)
        pngs.append(png)

    board = data["board"]
    latest = board.iloc[0]
    week = latest["week_ending"].date() if hasattr(latest["week_ending"], "date") else latest["week_ending"]
    flag = bool(latest["is_stress_week"])
    headline = {
        "week ending": str(week),
        "composite stress score": _fmt(latest["composite_stress_score"]),
        "stress flag": "ON" if flag else "off",
        "auction demand z": _fmt(latest["auction_demand_z"]),
        "yield moves z": _fmt(latest["yield_moves_z"]),
        "leveraged deleveraging z": _fmt(latest["leveraged_deleveraging_z"]),
        "foreign selling z": _fmt(latest["foreign_selling_z"]),
        "dealer balance sheet z": _fmt(latest["dealer_balance_sheet_z"]),
        "funding z": _fmt(latest["funding_z"]),
        "foreign official selling z": _fmt(latest["foreign_official_selling_z"]),
    }
    board_rows = [
        [
            str(r.week_ending.date()),
            _fmt(r.composite_stress_score),
            "<b>STRESS</b>" if r.is_stress_week else "",
            f"{_fmt(r.auction_demand_z)} <small>({int(r.coupon_auctions) if pd.notna(r.coupon_auctions) else 0} auctions, "
            f"tail {_fmt(r.avg_tail_proxy_prior_close_bp)} bp, cover {_fmt(r.avg_bid_to_cover)}, "
            f"indirect {_fmt(r.avg_indirect_share_pct, 1)}%)</small>",
            f"{_fmt(r.yield_moves_z)} <small>(10y {_fmt(r.yield_10y_close_pct)}%, 30y {_fmt(r.yield_30y_close_pct)}%, "
            f"largest 1w move {_fmt(r.largest_abs_change_1w_bp, 0)} bp)</small>",
            f"{_fmt(r.leveraged_deleveraging_z)} <small>(gross short DV01 {_fmt(_millions(r.leveraged_gross_short_dv01_change_1w_usd), 1, True)}m/bp)</small>",
            f"{_fmt(r.foreign_selling_z)} <small>(TIC {_day(r.foreign_latest_month_known)}: total "
            f"{_fmt(r.foreign_total_change_1m_usd_bn, 1, True)} $bn)</small>",
            f"{_fmt(r.dealer_balance_sheet_z)} <small>(net {_fmt(r.dealer_net_position_usd_bn, 1)} $bn on "
            f"{_day(r.dealer_position_as_of)})</small>",
            f"{_fmt(r.funding_z)} <small>(SOFR-IORB {_fmt(r.sofr_minus_iorb_bp, 1, True)} bp, "
            f"p99-p1 {_fmt(r.sofr_percentile_99_minus_1_bp, 1)} bp)</small>",
            f"{_fmt(r.foreign_official_selling_z)} <small>(custody {_fmt(r.custody_change_1w_usd_bn, 1, True)} $bn "
            "in the week)</small>",
        ]
        for r in board.itertuples()
    ]
    auctions = data["auctions"]
    tail_z = auctions["tail_proxy_prior_close_bp_z_prior_12"].astype(float)
    weakest = {int(tail_z.idxmax())} if tail_z.notna().any() else set()  # none when no auction has a z yet
    auction_rows = [_scorecard_row(r) for r in auctions.itertuples()]
    episodes = _episodes(data)
    latest_funding = data["funding_latest"].iloc[0]
    foreign = data["foreign"]
    month = foreign["month_end"].iloc[0].date() if len(foreign) else None
    released = foreign["expected_release_date"].iloc[0].date() if len(foreign) else None
    foreign_rows = [
        [
            html.escape(r.country_display_name) + (" <small>(custody centre)</small>" if r.is_custody_centre else ""),
            _fmt(r.holdings_usd_bn, 1),
            _fmt(r.change_1m_usd_bn, 1, True),
            _fmt(r.change_12m_usd_bn, 1, True),
        ]
        for r in foreign.itertuples()
    ]
    curve = data["curve"]
    crossings = int(curve["is_10y_5pct_crossing"].sum() + curve["is_30y_5pct_crossing"].sum())
    banner, label = _provenance(sample, hosts, mirror)
    as_of_text = f"as of {as_of}"
    sections = [
        f"""<section id="board"><h2>1. The board{label}</h2>
<p class="reading">Week ending {week}: composite {_fmt(latest["composite_stress_score"])}
({"a stress week" if flag else "below the flag"} at {STRESS_FLAG_THRESHOLD}); each component is a z-score, its inputs
below it; the composite is their sum over the square root of how many there are. Data {as_of_text}.</p>
{_figure("board", svgs["board"], "The composite over two years against the flag threshold (dashed), flagged weeks shaded and named; below it, each of the seven components on its own scale, the same weeks shaded.")}
{_table(["week ending", "composite", "flag", "auction demand z", "yield moves z", "deleveraging z", "foreign selling z", "dealer balance sheet z", "funding z", "foreign official selling z"], board_rows)}
</section>""",
        f"""<section id="auctions"><h2>2. Auctions{label}</h2>
<p class="reading">The last 20 nominal coupon auctions to {as_of}: each figure with its change against the previous six
auctions of its term in brackets; the highlighted row has the highest tail z-score.</p>
{_table(SCORECARD_HEADERS, auction_rows, weakest)}
{_figure("tails", svgs["tails"], "Tail proxy (stop yield minus the prior close at the same maturity) per benchmark term, three years.")}
</section>""",
        f"""<section id="curve"><h2>3. Curve{label}</h2>
<p class="reading">{crossings} close(s) at or above 5% after a close below in the year to {as_of} (triangles).</p>
{_figure("yields", svgs["yields"], "10-year and 30-year par yields against the 5% line.")}
{_figure("spreads", svgs["spreads"], "Curve slopes in basis points: 2s10s and 5s30s.")}
</section>""",
        f"""<section id="positioning"><h2>4. Positioning{label}</h2>
<p class="reading">CFTC Traders in Financial Futures, Treasury futures only, in 10-year equivalents, to {as_of}. Caveat:
leveraged funds' gross short is the usual basis-trade proxy and overstates it (not every short is a basis leg).</p>
{_figure("nets", svgs["nets"], "Leveraged funds' and asset managers' net positions in 10-year equivalents.")}
{_figure("gross_short", svgs["gross_short"], "Leveraged funds' gross short DV01, $ millions per bp.")}
</section>""",
        f"""<section id="foreign"><h2>5. Foreign holdings{label}</h2>
<p class="reading">TIC holdings for {month}, released {released} (TIC publishes about seven weeks after month end):
the top 10 holders and the total; custody centres hold largely for investors elsewhere.</p>
{_table(["holder", "holdings $bn", "1-month change", "12-month change"], foreign_rows)}
{_figure("holders", svgs["holders"], "Top 10 holders' latest level; custody centres in grey.")}
</section>""",
        f"""<section id="balance-sheets"><h2>6. Dealers, funding and foreign official demand{label}</h2>
<p class="reading">As known on {as_of}: dealers' net Treasury position {_fmt(latest_funding["dealer_net_usd_bn"], 1)} $bn
(week of {_day(latest_funding["dealer_as_of"])}, published the Thursday after next); SOFR - IORB
{_fmt(latest_funding["sofr_minus_iorb_bp"], 1, True)} bp ({_day(latest_funding["sofr_date"])}); Standing Repo Facility
take-up in the last 7 days ${_fmt(_billions(latest_funding["srf_take_up_7d_usd"]), 2)}bn, ON RRP
${_fmt(_billions(latest_funding["on_rrp_usd"]), 1)}bn; foreign official custody {_fmt(latest_funding["custody_usd_bn"], 1)} $bn
({_fmt(latest_funding["custody_change_4w_usd_bn"], 1, True)} $bn in 4 weeks); foreign holders
{_fmt(latest_funding["foreign_share_pct"], 1)}% of marketable debt ({_day(latest_funding["foreign_share_month"])}, TIC over MSPD).</p>
{_figure("dealers", svgs["dealers"], "The NY Fed's published total (not the sum of its buckets) and bills, $bn net.")}
{_figure("funding", svgs["funding"], "SOFR minus interest on reserve balances, and SOFR's 99th minus 1st percentile, bp.")}
{_figure("custody", svgs["custody"], "FRED WMTSECL1 (H.4.1), weekly Wednesday level, $bn.")}
</section>""",
        f"""<section id="episodes"><h2>7. Stress episodes{label}</h2>
<p class="reading">{len(data["episodes"])} flagged week(s) in the two years to week ending {week}, newest first: the
week's composite and components, every alert on an event in that week (as known on {as_of}), and the week's coupon
auctions scored as in section 2, the auctions an alert named highlighted.</p>
{episodes}
</section>""",
    ]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Treasury stress report, {as_of}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1.5rem; max-width: 1400px; color: #1a202c; }}
h1 {{ font-size: 1.6rem; }} h2 {{ border-bottom: 2px solid #2b6cb0; padding-bottom: .2rem; }}
table {{ border-collapse: collapse; font-size: .85rem; margin: .8rem 0; width: 100%; }}
th, td {{ border-bottom: 1px solid #e2e8f0; padding: .3rem .5rem; text-align: right; vertical-align: top; }}
th {{ font-weight: 600; vertical-align: bottom; }}
td {{ white-space: nowrap; font-variant-numeric: tabular-nums; }}
th:first-child, td:first-child, td:nth-child(2) {{ text-align: left; }}
/* A figure's inputs go on a second line, muted, and may wrap; the figure and the dates never do. */
td small {{ display: block; white-space: normal; font-size: .75rem; color: #718096; }}
tr.weak {{ background: #fff5f5; }} small {{ color: #4a5568; }} figure {{ margin: 1rem 0; }}
figure svg {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: .8rem; color: #4a5568; }} .sample {{ background: #fefcbf; padding: .3rem .6rem; }}
.hosts {{ color: #4a5568; font-size: .85rem; }}
.tag {{ font-size: .7rem; font-weight: 600; vertical-align: middle; margin-left: .6rem; padding: .1rem .4rem;
  border-radius: .2rem; background: #fefcbf; color: #744210; text-transform: uppercase; letter-spacing: .03em; }}
/* Printed (a PDF from the browser): landscape Letter, each section from a new page; a chart, a table row and a heading
   never split across pages, a heading never last on its page; tables may continue on the next page. */
@page {{ size: letter landscape; margin: 12mm; }}
@media print {{
  body {{ max-width: none; margin: 0; padding: 0; font-size: 12px; }}
  section {{ break-before: page; }} section:first-of-type {{ break-before: auto; }}
  figure, tr, h2, h3, .reading {{ break-inside: avoid; }}
  h2, h3, .reading {{ break-after: avoid; }}
  figure svg {{ max-height: 150mm; width: auto; }}
  /* The board's chart fits on the first page under the title, as on the first screen. */
  #board figure svg {{ max-height: 118mm; }}
}}
.reading {{ font-size: .95rem; }} .held-back {{ background: #fed7d7; padding: .3rem .6rem; }}
</style></head>
<body data-charts="{len(svgs)}">
<h1>Treasury stress report, {as_of}</h1>
{banner}
{_held_back_notice(serving)}
<p>From the serving file's marts ({html.escape(serving.name)}), built {time.strftime("%Y-%m-%d %H:%M")}{_moment(moment)}.</p>
{"".join(sections)}
<script>
// The browser tests read these once the page has laid out: every chart present with a size, and how many table
// cells that hold a date print it on more than one line (a date's text split over two lines' boxes).
window.addEventListener("load", () => {{
  const sized = [...document.querySelectorAll("figure svg")].filter(s => s.getBoundingClientRect().width > 0);
  document.body.dataset.chartsRendered = String(sized.length);
  const dates = [...document.querySelectorAll("td")].map(td => td.firstChild)
    .filter(n => n && n.nodeType === Node.TEXT_NODE && /^\\d{{4}}-\\d{{2}}-\\d{{2}}/.test(n.textContent.trim()));
  const wrapped = dates.filter(n => {{ const r = document.createRange(); r.selectNodeContents(n);
    return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size > 1; }});
  document.body.dataset.dateCells = String(dates.length);
  document.body.dataset.dateCellsWrapped = String(wrapped.length);
}});
</script>
</body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return Report(path, pngs, headline, time.perf_counter() - started, path.stat().st_size)


def _no_week_yet(serving: Path, out_dir: Path, as_of: date, started: float, why: str = "") -> Report:
    """A first build whose sources have answered no rows yet (or an as-of date before the board's history): a short
    page that says so, instead of a failed step."""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Treasury stress report, {as_of}</title></head>
<body data-charts="0">
<h1>Treasury stress report, {as_of}</h1>
{_held_back_notice(serving)}
<p>No stress week on or before {as_of} in the serving file ({html.escape(serving.name)}):
{html.escape(why) if why else "the sources have published no data for it yet"}. The next build with data writes the
full report.</p>
</body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    headline = {"week ending": "none yet", "composite stress score": "n/a", "stress flag": "n/a"}
    return Report(path, [], headline, time.perf_counter() - started, path.stat().st_size)


SAMPLE_BANNER = (
    'Sample data: synthetic figures from the built-in emulator, not market data (README, "Sample mode"). '
    "Every section below is drawn from it."
)


def _provenance(sample: bool, hosts: tuple[str, ...], mirror: bool) -> tuple[str, str]:
    """(the line at the top of the page, the tag on each section's title) for where the figures came from."""
    if sample:
        return f'<p class="sample">{html.escape(SAMPLE_BANNER)}</p>', '<span class="tag">sample data</span>'
    named = html.escape(", ".join(hosts))
    if mirror:
        return (
            f'<p class="sample">Not read from the public APIs: from {named}.</p>',
            '<span class="tag">not the public APIs</span>',
        )
    return (f'<p class="hosts">Data from {named}.</p>' if hosts else ""), ""


def _held_back_notice(serving: Path) -> str:
    """Which marts this report reads at an earlier version, and why (the serving file's marts._build_status)."""
    held = [s for s in published_statuses(serving) if s.status == HELD_BACK and s.schema_name == "marts"]
    if not held:
        return ""
    items = "".join(
        f"<li><code>{html.escape(s.table_name)}</code> as of {s.data_as_of or 'no earlier version'}: "
        f"{html.escape(s.reason or '')}</li>"
        for s in held
    )
    return (
        f'<div class="held-back"><p><strong>{len(held)} marts held back</strong>: a source they depend on failed '
        f"this build, so they keep their last good version and the figures below that come from them are older "
        f"than the rest.</p><ul>{items}</ul></div>"
    )


def _scorecard_row(r) -> list[str]:
    return [
        str(r.auction_date.date()),
        f"{r.security_class} {r.term_group}",
        _fmt(r.stop_yield_pct, 3),
        f"{_fmt(r.tail_proxy_prior_close_bp)} <small>({_fmt(r.tail_proxy_prior_close_bp_vs_prior_6_avg, 2, True)})</small>",
        f"{_fmt(r.bid_to_cover_recomputed)} <small>({_fmt(r.bid_to_cover_recomputed_vs_prior_6_avg, 2, True)})</small>",
        f"{_fmt(r.indirect_share_pct, 1)} <small>({_fmt(r.indirect_share_pct_vs_prior_6_avg, 1, True)})</small>",
        f"{_fmt(r.direct_share_pct, 1)} <small>({_fmt(r.direct_share_pct_vs_prior_6_avg, 1, True)})</small>",
        f"{_fmt(r.dealer_share_pct, 1)} <small>({_fmt(r.dealer_share_pct_vs_prior_6_avg, 1, True)})</small>",
    ]


def _episodes(data: dict[str, pd.DataFrame]) -> str:
    """One block per flagged week: the components, the alerts of the week, the week's coupon auctions."""
    blocks = []
    for w in data["episodes"].itertuples():
        alerts = data["episode_alerts"][data["episode_alerts"]["week_ending"] == w.week_ending]
        auctions = data["episode_auctions"][data["episode_auctions"]["week_ending"] == w.week_ending].reset_index()
        # An auction alert's subject ends with the auction's CUSIP in brackets.
        weak = {i for i, c in enumerate(auctions["cusip"]) if any(s.endswith(f"({c})") for s in alerts["subject"])}
        alert_items = "".join(
            f"<li><b>{html.escape(a.rule)}</b> {a.event_date.date()}: {html.escape(a.message)}</li>"
            for a in alerts.itertuples()
        )
        blocks.append(
            f"""<h3 id="episode-{w.week_ending.date()}">Week ending {w.week_ending.date()}: composite
{_fmt(w.composite_stress_score)} <small>(auction {_fmt(w.auction_demand_z)}, yields {_fmt(w.yield_moves_z)},
deleveraging {_fmt(w.leveraged_deleveraging_z)}, foreign selling {_fmt(w.foreign_selling_z)},
dealers {_fmt(w.dealer_balance_sheet_z)}, funding {_fmt(w.funding_z)},
foreign official {_fmt(w.foreign_official_selling_z)})</small></h3>
<ul class="alerts">{alert_items or "<li>No alert on an event of this week.</li>"}</ul>
{_table(SCORECARD_HEADERS, [_scorecard_row(r) for r in auctions.itertuples()], weak) if len(auctions) else "<p>No coupon auction this week.</p>"}"""
        )
    return "".join(blocks) or "<p>No week reached the flag in these two years.</p>"


def _day(value) -> str:
    return "–" if value is None or pd.isna(value) else str(pd.Timestamp(value).date())


def _billions(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value) / 1e9


def _millions(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value) / 1e6
