with

auctions as (
    select * from {{ ref('int_auctions_priced_against_curve') }}
),

metrics as (
    select
        cusip,
        auction_date,
        issue_date,
        maturity_date,
        security_type,
        security_class,
        security_term,
        original_security_term,
        term_group,
        tenor_years,
        remaining_maturity_years,
        is_reopening,
        case when is_reopening then 'reopening' else 'new issue' end as issue_kind,
        offering_amount_usd,
        comp_tendered_usd,
        comp_accepted_usd,
        noncomp_accepted_usd,
        fima_noncomp_accepted_usd,
        soma_accepted_usd,
        total_accepted_usd,
        comp_accepted_usd + noncomp_accepted_usd + fima_noncomp_accepted_usd as public_accepted_usd,
        bid_to_cover_published,
        (comp_tendered_usd + noncomp_accepted_usd + fima_noncomp_accepted_usd)
        / nullif(comp_accepted_usd + noncomp_accepted_usd + fima_noncomp_accepted_usd, 0) as bid_to_cover_recomputed,
        100.0 * indirect_bidder_accepted_usd / nullif(comp_accepted_usd, 0) as indirect_share_pct,
        100.0 * direct_bidder_accepted_usd / nullif(comp_accepted_usd, 0) as direct_share_pct,
        100.0 * primary_dealer_accepted_usd / nullif(comp_accepted_usd, 0) as dealer_share_pct,
        case when security_type = 'Bill' then high_investment_rate_pct else high_yield_pct end as stop_yield_pct,
        coupon_rate_pct,
        high_discount_rate_pct,
        high_discount_margin_pct,
        prior_curve_date,
        prior_close_par_yield_pct,
        case
            when security_class in ('TIPS', 'FRN') then null
            else 100.0 * (
                case when security_type = 'Bill' then high_investment_rate_pct else high_yield_pct end
                - prior_close_par_yield_pct
            )
        end as tail_proxy_prior_close_bp
    from auctions
),

compared as (
    select
        *,
        {%- for metric in ['bid_to_cover_recomputed', 'tail_proxy_prior_close_bp', 'indirect_share_pct', 'direct_share_pct', 'dealer_share_pct'] %}
            {{ metric }} - avg({{ metric }}) over prior_6 as {{ metric }}_vs_prior_6_avg,
            case
                when count({{ metric }}) over prior_12 >= 3 and stddev_samp({{ metric }}) over prior_12 > 0
                    then ({{ metric }} - avg({{ metric }}) over prior_12) / stddev_samp({{ metric }}) over prior_12
            end as {{ metric }}_z_prior_12{% if not loop.last %},{% endif %}
        {%- endfor %}
    from metrics
    window
        prior_6 as (
            partition by security_class, term_group order by auction_date, cusip
            rows between 6 preceding and 1 preceding
        ),
        prior_12 as (
            partition by security_class, term_group order by auction_date, cusip
            rows between 12 preceding and 1 preceding
        )
)

{{ select_published("compared") }}
