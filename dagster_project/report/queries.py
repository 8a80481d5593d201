"""What the stress report reads: one query per section over the published serving file's marts, as pandas frames."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

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
                """select week_ending, composite_stress_score, is_stress_week, auction_demand_z, yield_moves_z,
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
                """select week_ending, composite_stress_score, is_stress_week, auction_demand_z, yield_moves_z,
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
