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
from ingestion.common.warehouse import connect

STRESS_FLAG_THRESHOLD = 3.0  # dbt var stress_flag_threshold (the marts carry the flag; the line is drawn at it)
YIELD_LINE_PCT = 5.0
BENCHMARK_TERMS = ("2-Year", "5-Year", "10-Year", "30-Year")
# An auction scorecard row: each figure with its change against the previous six auctions of its term, and the z-scores
# the weak-auction alert rules read.
SCORECARD_COLUMNS = """auction_date, security_class, term_group, cusip, stop_yield_pct, tail_proxy_prior_close_bp,
    tail_proxy_prior_close_bp_vs_prior_6_avg, tail_proxy_prior_close_bp_z_prior_12, bid_to_cover_recomputed,
    bid_to_cover_recomputed_vs_prior_6_avg, indirect_share_pct, indirect_share_pct_vs_prior_6_avg, direct_share_pct,
    direct_share_pct_vs_prior_6_avg, dealer_share_pct, dealer_share_pct_vs_prior_6_avg"""
SCORECARD_HEADERS = [
    "date", "term", "high yield %", "tail bp (vs 6)", "bid-to-cover (vs 6)", "indirect % (vs 6)", "direct % (vs 6)",
    "dealer % (vs 6)",
]  # fmt: skip


@dataclass(frozen=True)
class Report:
    path: Path
    charts: list[Path]
    headline: dict[str, str]
    seconds: float
    bytes: int


# --- data -----------------------------------------------------------------------------------------------------------
def _frame(con, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def load(serving: Path, as_of: date) -> dict[str, pd.DataFrame]:
    with connect(serving) as con:
        latest_week = con.execute(
            "select max(week_ending) from marts.mart_treasury_stress_weekly where week_ending <= ?", [as_of]
        ).fetchone()[0]
        return {
            "board": _frame(
                con,
                """select week_ending, composite_stress_score, is_stress_week, components_available,
                          auction_demand_z, coupon_auctions, avg_tail_proxy_prior_close_bp, avg_bid_to_cover,
                          avg_indirect_share_pct, yield_moves_z, yield_10y_close_pct, yield_30y_close_pct,
                          largest_abs_change_1w_bp, leveraged_deleveraging_z, leveraged_gross_short_dv01_change_1w_usd,
                          foreign_selling_z, foreign_latest_month_known, foreign_total_change_1m_usd_bn,
                          dealer_balance_sheet_z, dealer_position_as_of, dealer_net_position_usd_bn, funding_z,
                          sofr_minus_iorb_bp, sofr_percentile_99_minus_1_bp, foreign_official_selling_z,
                          custody_change_1w_usd_bn
                   from marts.mart_treasury_stress_weekly where week_ending <= ? order by week_ending desc limit 5""",
                [latest_week],
            ),
            "board_history": _frame(
                con,
                """select week_ending, composite_stress_score, auction_demand_z, yield_moves_z,
                          leveraged_deleveraging_z, foreign_selling_z, dealer_balance_sheet_z, funding_z,
                          foreign_official_selling_z
                   from marts.mart_treasury_stress_weekly where week_ending > ?::date - interval 2 year
                   and week_ending <= ? order by week_ending""",
                [latest_week, latest_week],
            ),
            "auctions": _frame(
                con,
                f"""select {SCORECARD_COLUMNS}
                   from marts.fct_auctions where security_class in ('Note', 'Bond') and auction_date <= ?
                   order by auction_date desc, cusip desc limit 20""",
                [as_of],
            ),
            # Flagged weeks of the board's two years, newest first, with what fired in each week and its auctions.
            "episodes": _frame(
                con,
                """select week_ending, composite_stress_score, auction_demand_z, yield_moves_z,
                          leveraged_deleveraging_z, foreign_selling_z, dealer_balance_sheet_z, funding_z,
                          foreign_official_selling_z
                   from marts.mart_treasury_stress_weekly where is_stress_week
                   and week_ending > ?::date - interval 2 year and week_ending <= ? order by week_ending desc""",
                [latest_week, latest_week],
            ),
            "episode_alerts": _frame(
                con,
                """select w.week_ending, a.rule, a.subject, a.event_date, a.message
                   from marts.mart_treasury_stress_weekly as w
                   join marts.mart_stress_alerts as a
                     on a.event_date between w.week_ending - 6 and w.week_ending and a.public_at_et::date <= ?
                   where w.is_stress_week and w.week_ending > ?::date - interval 2 year and w.week_ending <= ?
                   order by a.event_date, a.rule, a.subject""",
                [as_of, latest_week, latest_week],
            ),
            "episode_auctions": _frame(
                con,
                f"""select w.week_ending, {SCORECARD_COLUMNS}
                   from marts.mart_treasury_stress_weekly as w
                   join marts.fct_auctions as f on f.auction_date between w.week_ending - 6 and w.week_ending
                   where w.is_stress_week and w.week_ending > ?::date - interval 2 year and w.week_ending <= ?
                   and f.security_class in ('Note', 'Bond') order by f.auction_date, f.cusip""",
                [latest_week, latest_week],
            ),
            "tails": _frame(
                con,
                f"""select auction_date, term_group, tail_proxy_prior_close_bp
                   from marts.fct_auctions where security_class in ('Note', 'Bond')
                   and term_group in {BENCHMARK_TERMS} and auction_date > ?::date - interval 3 year
                   and auction_date <= ? and tail_proxy_prior_close_bp is not null order by auction_date""",
                [as_of, as_of],
            ),
            "curve": _frame(
                con,
                """select curve_date, yield_10y_pct, yield_30y_pct, spread_2s10s_bp, spread_5s30s_bp,
                          is_10y_5pct_crossing, is_30y_5pct_crossing
                   from marts.mart_yield_curve_daily where curve_date > ?::date - interval 1 year
                   and curve_date <= ? order by curve_date""",
                [as_of, as_of],
            ),
            "positioning": _frame(
                con,
                """select report_date, leveraged_net_10y_equivalents, asset_manager_net_10y_equivalents,
                          leveraged_gross_short_dv01_usd
                   from marts.fct_basis_trade_proxy_weekly where report_date > ?::date - interval 3 year
                   and report_date <= ? order by report_date""",
                [as_of, as_of],
            ),
            "dealers": _frame(
                con,
                """select week_ending_wednesday, bucket_label as series, value_usd_bn
                   from marts.fct_primary_dealer_positions
                   where bucket in ('total', 'bills') and week_ending_wednesday > ?::date - interval 3 year
                   and public_at_et::date <= ? and value_usd_bn is not null order by week_ending_wednesday""",
                [as_of, as_of],
            ),
            "funding": _frame(
                con,
                """select rate_date, rate_minus_iorb_bp, percentile_99_minus_1_bp
                   from marts.fct_funding_rates_daily where rate_type = 'SOFR'
                   and rate_date > ?::date - interval 1 year and rate_date < ? order by rate_date""",
                [as_of, as_of],
            ),
            "custody": _frame(
                con,
                """select week_ending_wednesday, custody_usd_bn from marts.fct_foreign_official_custody_weekly
                   where week_ending_wednesday > ?::date - interval 3 year and published_on <= ?
                   order by week_ending_wednesday""",
                [as_of, as_of],
            ),
            "funding_latest": _frame(
                con,
                """select
                       (select max_by(value_usd_bn, week_ending_wednesday) from marts.fct_primary_dealer_positions
                        where bucket = 'total' and public_at_et::date <= $as_of) as dealer_net_usd_bn,
                       (select max(week_ending_wednesday) from marts.fct_primary_dealer_positions
                        where bucket = 'total' and public_at_et::date <= $as_of) as dealer_as_of,
                       (select max_by(rate_minus_iorb_bp, rate_date) from marts.fct_funding_rates_daily
                        where rate_type = 'SOFR' and rate_date < $as_of) as sofr_minus_iorb_bp,
                       (select max(rate_date) from marts.fct_funding_rates_daily
                        where rate_type = 'SOFR' and rate_date < $as_of) as sofr_date,
                       (select sum(srf_take_up_usd) from marts.fct_fed_repo_operations_daily
                        where operation_date > $as_of::date - 7 and operation_date <= $as_of) as srf_take_up_7d_usd,
                       (select max_by(on_rrp_take_up_usd, operation_date) from marts.fct_fed_repo_operations_daily
                        where operation_date <= $as_of) as on_rrp_usd,
                       (select max_by(custody_usd_bn, week_ending_wednesday) from marts.fct_foreign_official_custody_weekly
                        where published_on <= $as_of) as custody_usd_bn,
                       (select max_by(change_4w_usd_bn, week_ending_wednesday) from marts.fct_foreign_official_custody_weekly
                        where published_on <= $as_of) as custody_change_4w_usd_bn,
                       (select max_by(foreign_share_of_marketable_pct, month_end) from marts.fct_marketable_debt_monthly
                        where month_end < $as_of and tic_release_date <= $as_of) as foreign_share_pct,
                       (select max(month_end) from marts.fct_marketable_debt_monthly
                        where month_end < $as_of and tic_release_date <= $as_of) as foreign_share_month""",
                {"as_of": as_of},
            ),
            "foreign": _frame(
                con,
                """with latest as (
                       select max(month_end) as month_end from marts.fct_foreign_holdings
                       where expected_release_date <= ?
                   )
                   select h.month_end, h.country, h.country_display_name, h.row_type, h.is_custody_centre,
                          h.holdings_usd_bn, h.change_1m_usd_bn, h.change_12m_usd_bn, h.expected_release_date
                   from marts.fct_foreign_holdings as h join latest using (month_end)
                   where h.row_type in ('country', 'grand_total') and h.holdings_usd_bn is not null
                   order by h.row_type = 'grand_total' desc, h.holdings_usd_bn desc limit 11""",
                [as_of],
            ),
        }


# --- charts ---------------------------------------------------------------------------------------------------------
def _charts(data: dict[str, pd.DataFrame]) -> dict[str, tuple[object, pd.DataFrame]]:
    import altair as alt

    width = 760
    history = data["board_history"].melt("week_ending", var_name="series", value_name="z").dropna()
    history["series"] = history["series"].str.replace("_", " ")
    board = alt.layer(
        alt.Chart(history)
        .mark_line(strokeWidth=1.2)
        .encode(
            x=alt.X("week_ending:T", title=None),
            y=alt.Y("z:Q", title="z-score"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", columns=3)),
            strokeWidth=alt.condition(alt.datum.series == "composite stress score", alt.value(2.6), alt.value(1.0)),
        ),
        alt.Chart(pd.DataFrame({"y": [STRESS_FLAG_THRESHOLD]}))
        .mark_rule(strokeDash=[6, 4], color="#b00020")
        .encode(y="y:Q"),
    ).properties(width=width, height=260, title="Composite stress score and its components, last two years")

    tails = (
        alt.Chart(data["tails"])
        .mark_line(point=True, strokeWidth=1)
        .encode(
            x=alt.X("auction_date:T", title=None),
            y=alt.Y("tail_proxy_prior_close_bp:Q", title="tail proxy (bp)"),
            color=alt.Color("term_group:N", title=None, sort=list(BENCHMARK_TERMS)),
        )
        .properties(width=width, height=220, title="Tail proxy by benchmark term, last three years")
    )

    curve = data["curve"]
    levels = curve.melt("curve_date", ["yield_10y_pct", "yield_30y_pct"], var_name="tenor", value_name="pct")
    levels["tenor"] = levels["tenor"].map({"yield_10y_pct": "10-year", "yield_30y_pct": "30-year"})
    crossings = pd.concat(
        [
            curve.loc[curve["is_10y_5pct_crossing"], ["curve_date", "yield_10y_pct"]].rename(
                columns={"yield_10y_pct": "pct"}
            ),
            curve.loc[curve["is_30y_5pct_crossing"], ["curve_date", "yield_30y_pct"]].rename(
                columns={"yield_30y_pct": "pct"}
            ),
        ]
    )
    yields = alt.layer(
        alt.Chart(levels)
        .mark_line()
        .encode(
            x=alt.X("curve_date:T", title=None),
            y=alt.Y("pct:Q", title="yield (%)", scale=alt.Scale(zero=False)),
            color=alt.Color("tenor:N", title=None),
        ),
        alt.Chart(pd.DataFrame({"y": [YIELD_LINE_PCT]})).mark_rule(strokeDash=[6, 4], color="#b00020").encode(y="y:Q"),
        alt.Chart(crossings)
        .mark_point(shape="triangle-up", size=90, filled=True, color="#b00020")
        .encode(x="curve_date:T", y="pct:Q"),
    ).properties(width=width, height=240, title="10-year and 30-year yields, last year, against 5% (crossings marked)")
    spreads_long = curve.melt("curve_date", ["spread_2s10s_bp", "spread_5s30s_bp"], var_name="spread", value_name="bp")
    spreads_long["spread"] = spreads_long["spread"].map({"spread_2s10s_bp": "2s10s", "spread_5s30s_bp": "5s30s"})
    spreads = (
        alt.Chart(spreads_long)
        .mark_line()
        .encode(
            x=alt.X("curve_date:T", title=None), y=alt.Y("bp:Q", title="bp"), color=alt.Color("spread:N", title=None)
        )
        .properties(width=width, height=200, title="2s10s and 5s30s, last year")
    )

    positions = data["positioning"]
    nets = positions.melt(
        "report_date",
        ["leveraged_net_10y_equivalents", "asset_manager_net_10y_equivalents"],
        var_name="group",
        value_name="n",
    )
    nets["group"] = nets["group"].map(
        {"leveraged_net_10y_equivalents": "leveraged funds", "asset_manager_net_10y_equivalents": "asset managers"}
    )
    net_chart = (
        alt.Chart(nets)
        .mark_line()
        .encode(
            x=alt.X("report_date:T", title=None),
            y=alt.Y("n:Q", title="net, 10-year equivalents"),
            color=alt.Color("group:N", title=None),
        )
        .properties(width=width, height=220, title="Net Treasury futures positions, last three years")
    )
    dv01 = positions.assign(dv01_musd=positions["leveraged_gross_short_dv01_usd"].astype(float) / 1e6)
    short_chart = (
        alt.Chart(dv01)
        .mark_area(opacity=0.5, line=True)
        .encode(x=alt.X("report_date:T", title=None), y=alt.Y("dv01_musd:Q", title="$m per bp"))
        .properties(width=width, height=200, title="Leveraged funds' gross short DV01 (basis-trade proxy)")
    )

    foreign = data["foreign"]
    top = foreign[foreign["row_type"] == "country"].copy()
    top["holder"] = top["country_display_name"] + top["is_custody_centre"].map({True: " (custody centre)", False: ""})
    top["holdings"] = top["holdings_usd_bn"].astype(float)
    holders = (
        alt.Chart(top)
        .mark_bar()
        .encode(
            x=alt.X("holdings:Q", title="$bn"),
            y=alt.Y("holder:N", sort="-x", title=None),
            color=alt.condition(alt.datum.is_custody_centre, alt.value("#9aa5b1"), alt.value("#2b6cb0")),
        )
        .properties(width=width - 200, height=260, title="Top 10 foreign holders, latest month")
    )
    dealer_chart = (
        alt.Chart(data["dealers"])
        .mark_line()
        .encode(
            x=alt.X("week_ending_wednesday:T", title=None),
            y=alt.Y("value_usd_bn:Q", title="$bn, net"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        )
        .properties(width=width, height=220, title="Primary dealers' net Treasury positions (excl. TIPS), three years")
    )
    funding_long = data["funding"].melt(
        "rate_date", ["rate_minus_iorb_bp", "percentile_99_minus_1_bp"], var_name="spread", value_name="bp"
    )
    funding_long["spread"] = funding_long["spread"].map(
        {"rate_minus_iorb_bp": "SOFR - IORB", "percentile_99_minus_1_bp": "SOFR 99th - 1st percentile"}
    )
    funding_chart = (
        alt.Chart(funding_long.dropna())
        .mark_line(strokeWidth=1)
        .encode(
            x=alt.X("rate_date:T", title=None), y=alt.Y("bp:Q", title="bp"), color=alt.Color("spread:N", title=None)
        )
        .properties(width=width, height=200, title="Funding: SOFR against IORB and the width of SOFR, last year")
    )
    custody_chart = (
        alt.Chart(data["custody"])
        .mark_line()
        .encode(
            x=alt.X("week_ending_wednesday:T", title=None),
            y=alt.Y("custody_usd_bn:Q", title="$bn", scale=alt.Scale(zero=False)),
        )
        .properties(width=width, height=200, title="Treasuries in custody for foreign official accounts, three years")
    )
    # Each chart with the frame it draws: a period without data gets a note in its place instead of a chart.
    return {
        "board": (board, data["board_history"]),
        "tails": (tails, data["tails"]),
        "yields": (yields, curve),
        "spreads": (spreads, curve),
        "nets": (net_chart, positions),
        "gross_short": (short_chart, positions),
        "holders": (holders, foreign),
        "dealers": (dealer_chart, data["dealers"]),
        "funding": (
            funding_chart,
            data["funding"].dropna(subset=["rate_minus_iorb_bp", "percentile_99_minus_1_bp"], how="all"),
        ),
        "custody": (custody_chart, data["custody"]),
    }


# --- HTML -----------------------------------------------------------------------------------------------------------
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


def build(serving: Path, out_dir: Path, as_of: date, sample: bool, hosts: tuple[str, ...] = ()) -> Report:
    """Write out_dir/index.html and a PNG per chart; returns the paths and the headline figures. `sample`: the data
    came from other hosts than the public APIs (`hosts`: which), the built-in emulator's synthetic data in sample mode
    or a mirror; every section says so."""
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
    charts = _charts(data)
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
    where = f" ({html.escape(', '.join(hosts))})" if hosts else ""
    label = (
        f'<p class="sample">SAMPLE DATA: not read from the public APIs{where}: synthetic figures from the built-in '
        "emulator in sample mode (or a mirror), not market data.</p>"
        if sample
        else ""
    )
    as_of_text = f"as of {as_of}"
    sections = [
        f"""<section id="board"><h2>1. The board</h2>{label}
<p class="reading">Week ending {week}: composite {_fmt(latest["composite_stress_score"])}
({"a stress week" if flag else "below the flag"} at {STRESS_FLAG_THRESHOLD}); each component is a z-score, its inputs in
brackets; the composite is their sum over the square root of how many there are. Data {as_of_text}.</p>
{_table(["week ending", "composite", "flag", "auction demand z", "yield moves z", "deleveraging z", "foreign selling z", "dealer balance sheet z", "funding z", "foreign official selling z"], board_rows)}
{_figure("board", svgs["board"], "The composite (thick) and its seven components over two years; the dashed line is the flag threshold.")}
</section>""",
        f"""<section id="auctions"><h2>2. Auctions</h2>{label}
<p class="reading">The last 20 nominal coupon auctions to {as_of}: each figure with its change against the previous six
auctions of its term in brackets; the highlighted row has the highest tail z-score.</p>
{_table(SCORECARD_HEADERS, auction_rows, weakest)}
{_figure("tails", svgs["tails"], "Tail proxy (stop yield minus the prior close at the same maturity) per benchmark term, three years.")}
</section>""",
        f"""<section id="curve"><h2>3. Curve</h2>{label}
<p class="reading">{crossings} close(s) at or above 5% after a close below in the year to {as_of} (triangles).</p>
{_figure("yields", svgs["yields"], "10-year and 30-year par yields against the 5% line.")}
{_figure("spreads", svgs["spreads"], "Curve slopes in basis points: 2s10s and 5s30s.")}
</section>""",
        f"""<section id="positioning"><h2>4. Positioning</h2>{label}
<p class="reading">CFTC Traders in Financial Futures, Treasury futures only, in 10-year equivalents, to {as_of}. Caveat:
leveraged funds' gross short is the usual basis-trade proxy and overstates it (not every short is a basis leg).</p>
{_figure("nets", svgs["nets"], "Leveraged funds' and asset managers' net positions in 10-year equivalents.")}
{_figure("gross_short", svgs["gross_short"], "Leveraged funds' gross short DV01, $ millions per bp.")}
</section>""",
        f"""<section id="foreign"><h2>5. Foreign holdings</h2>{label}
<p class="reading">TIC holdings for {month}, released {released} (TIC publishes about seven weeks after month end):
the top 10 holders and the total; custody centres hold largely for investors elsewhere.</p>
{_table(["holder", "holdings $bn", "1-month change", "12-month change"], foreign_rows)}
{_figure("holders", svgs["holders"], "Top 10 holders' latest level; custody centres in grey.")}
</section>""",
        f"""<section id="balance-sheets"><h2>6. Dealers, funding and foreign official demand</h2>{label}
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
        f"""<section id="episodes"><h2>7. Stress episodes</h2>{label}
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
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 900px; color: #1a202c; }}
h1 {{ font-size: 1.6rem; }} h2 {{ border-bottom: 2px solid #2b6cb0; padding-bottom: .2rem; }}
table {{ border-collapse: collapse; font-size: .85rem; margin: .8rem 0; width: 100%; }}
th, td {{ border-bottom: 1px solid #e2e8f0; padding: .25rem .4rem; text-align: right; }}
th:first-child, td:first-child, td:nth-child(2) {{ text-align: left; }}
tr.weak {{ background: #fff5f5; }} small {{ color: #4a5568; }} figure {{ margin: 1rem 0; }}
figcaption {{ font-size: .8rem; color: #4a5568; }} .sample {{ background: #fefcbf; padding: .3rem .6rem; font-weight: 600; }}
.reading {{ font-size: .95rem; }} .held-back {{ background: #fed7d7; padding: .3rem .6rem; }}
</style></head>
<body data-charts="{len(svgs)}">
<h1>Treasury stress report, {as_of}</h1>
{label}
{_held_back_notice(serving)}
<p>From the serving file's marts ({html.escape(serving.name)}), built {time.strftime("%Y-%m-%d %H:%M")}.</p>
{"".join(sections)}
<script>
// The browser test reads this: every chart present with a size once the page has laid out.
window.addEventListener("load", () => {{
  const sized = [...document.querySelectorAll("figure svg")].filter(s => s.getBoundingClientRect().width > 0);
  document.body.dataset.chartsRendered = String(sized.length);
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
