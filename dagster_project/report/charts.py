"""The stress report's charts: Altair (Vega-Lite) specifications rendered by vl-convert, which runs Vega in an embedded
JavaScript engine from its PyPI wheel: no browser, no CDN, no network. Each is inlined as SVG and written as a PNG."""

from __future__ import annotations

import pandas as pd

from dagster_project.report.queries import BENCHMARK_TERMS, STRESS_FLAG_THRESHOLD, YIELD_LINE_PCT


def build_charts(data: dict[str, pd.DataFrame]) -> dict[str, tuple[object, pd.DataFrame]]:
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
