"""The stress report's charts: Altair (Vega-Lite) specifications rendered by vl-convert, which runs Vega in an embedded
JavaScript engine from its PyPI wheel: no browser, no CDN, no network. Each is inlined as SVG and written as a PNG."""

from __future__ import annotations

import pandas as pd

from dagster_project.report.queries import BENCHMARK_TERMS, STRESS_FLAG_THRESHOLD, YIELD_LINE_PCT

WIDTH = 1100  # px: the page is about 1,400 px wide at most
COMPOSITE = "composite_stress_score"
COMPONENTS = {
    "auction_demand_z": "auction demand",
    "yield_moves_z": "yield moves",
    "leveraged_deleveraging_z": "leveraged deleveraging",
    "foreign_selling_z": "foreign selling",
    "dealer_balance_sheet_z": "dealer balance sheet",
    "funding_z": "funding",
    "foreign_official_selling_z": "foreign official selling",
}
COMPOSITE_STROKE, COMPONENT_STROKE = 3.0, 1.0  # px: the composite is the one strong line (tests hold it to 2x)


def flagged_episodes(history: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive flagged weeks: first and last week, and a label naming them ("Apr 2025", or "Mar-Apr
    2025" when a run spans months)."""
    flagged = history.loc[history["is_stress_week"].fillna(False).astype(bool), "week_ending"].sort_values()
    runs: list[list[pd.Timestamp]] = []
    for week in pd.to_datetime(flagged):
        if runs and (week - runs[-1][-1]).days <= 7:
            runs[-1].append(week)
        else:
            runs.append([week])
    rows = []
    for run in runs:
        first, last = run[0], run[-1]
        months = first.strftime("%b") if first.month == last.month else f"{first:%b}-{last:%b}"
        rows.append(
            {
                # The shading covers each flagged week, Saturday to Friday.
                "start": first - pd.Timedelta(days=6),
                "end": last,
                "label": f"{months} {last.year}",
                "weeks": len(run),
            }
        )
    return pd.DataFrame(rows, columns=["start", "end", "label", "weeks"])


def _board_chart(history: pd.DataFrame, width: int):
    """The composite on its own (the flag line, flagged weeks shaded and named), then each component as a small panel
    on the same time axis: a reader sees the composite, the threshold and the flagged weeks without a legend."""
    import altair as alt

    x = alt.X("week_ending:T", title=None)
    composite = history[["week_ending", COMPOSITE]].dropna()
    episodes = flagged_episodes(history)
    shade = (
        alt.Chart(episodes).mark_rect(color="#f6ad55", opacity=0.35).encode(x=alt.X("start:T", title=None), x2="end:T")
    )
    # Episodes a few weeks apart would print their names over each other: every other one on a second line.
    episodes["line"] = range(len(episodes))
    names = [
        alt.Chart(episodes)
        .transform_filter(f"datum.line % 2 == {line}")
        .mark_text(
            align="left", baseline="top", dx=3, dy=3 + 14 * line, fontSize=11, fontWeight="bold", color="#9c4221"
        )
        .encode(x="start:T", y=alt.value(0), text="label:N")
        for line in (0, 1)
    ]
    line = (
        alt.Chart(composite)
        .mark_line(strokeWidth=COMPOSITE_STROKE, color="#1a202c")
        .encode(x=x, y=alt.Y(f"{COMPOSITE}:Q", title="composite"))
    )
    rule = alt.Chart(pd.DataFrame({"y": [STRESS_FLAG_THRESHOLD]})).mark_rule(strokeDash=[6, 4], color="#b00020")
    flag_text = (
        alt.Chart(pd.DataFrame({"y": [STRESS_FLAG_THRESHOLD], "text": [f"flag at {STRESS_FLAG_THRESHOLD:g}"]}))
        .mark_text(align="left", baseline="bottom", dy=-2, color="#b00020", fontSize=11)
        .encode(y="y:Q", x=alt.value(4), text="text:N")
    )
    top = alt.layer(shade, line, rule.encode(y="y:Q"), flag_text, *names).properties(
        width=width, height=220, title="Composite stress score, last two years (flagged weeks shaded)"
    )
    parts = history.melt("week_ending", list(COMPONENTS), var_name="component", value_name="z").dropna()
    parts["component"] = parts["component"].map(COMPONENTS)
    panels = (
        alt.layer(
            alt.Chart(episodes).mark_rect(color="#f6ad55", opacity=0.25).encode(x="start:T", x2="end:T"),
            alt.Chart()  # the facet's data: each panel its component
            .mark_line(strokeWidth=COMPONENT_STROKE, color="#4a5568")
            .encode(x=x, y=alt.Y("z:Q", title=None, axis=alt.Axis(tickCount=3))),
            alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#a0aec0", strokeWidth=0.5).encode(y="y:Q"),
            data=parts,
        )
        .properties(width=width, height=46)
        .facet(
            row=alt.Row(
                "component:N",
                sort=list(COMPONENTS.values()),
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=11),
            ),
            spacing=4,
        )
        .resolve_scale(y="independent")
        .properties(title="Its components (z-scores; each panel its own scale)")
    )
    return alt.vconcat(top, panels, spacing=18)


def build_charts(data: dict[str, pd.DataFrame]) -> dict[str, tuple[object, pd.DataFrame]]:
    import altair as alt

    width = WIDTH
    board = _board_chart(data["board_history"], width)
    # One panel per benchmark term, the same time axis: four interleaved dotted series were a tangle.
    tails = (
        alt.Chart(data["tails"])
        .mark_line(point=alt.OverlayMarkDef(size=14), strokeWidth=1, color="#2b6cb0")
        .encode(
            x=alt.X("auction_date:T", title=None),
            y=alt.Y("tail_proxy_prior_close_bp:Q", title="bp"),
        )
        .properties(width=width, height=70)
        .facet(
            row=alt.Row(
                "term_group:N",
                sort=list(BENCHMARK_TERMS),
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            )
        )
        .properties(title="Tail proxy by benchmark term, last three years (bp; above 0: the auction tailed)")
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
        .properties(width=width - 300, height=260, title="Top 10 foreign holders, latest month")
    )
    dealer_chart = (
        alt.Chart(data["dealers"])
        .mark_line()
        .encode(
            x=alt.X("week_ending_wednesday:T", title=None),
            y=alt.Y("value_usd_bn:Q", title="$bn, net"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=0)),
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
    charts = {
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
    # Legends show their labels whole (Vega cuts them at 160 px by default).
    return {name: (chart.configure_legend(labelLimit=0), frame) for name, (chart, frame) in charts.items()}


# --- HTML -----------------------------------------------------------------------------------------------------------
