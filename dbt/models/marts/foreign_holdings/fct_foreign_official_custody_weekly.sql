-- One row per Wednesday: Treasuries the New York Fed holds in custody for foreign official and international
-- accounts (FRED WMTSECL1, from the H.4.1), as known on the Thursday it is published.
with

custody as (
    select
        observation_date as week_ending_wednesday,
        value / 1000.0 as custody_usd_bn
    from {{ ref('stg_fed_custody__observations') }}
    where series_id = 'WMTSECL1' and value is not null
),

changes as (
    select
        *,
        -- The H.4.1 comes out on Thursday afternoon with Wednesday's level.
        week_ending_wednesday + 1 as published_on,
        custody_usd_bn - lag(custody_usd_bn) over by_week as change_1w_usd_bn,
        custody_usd_bn - lag(custody_usd_bn, 4) over by_week as change_4w_usd_bn
    from custody
    window by_week as (order by week_ending_wednesday)
),

scored as (
    select
        *,
        {{ z_against_prior('change_1w_usd_bn', 'prior_156', 52) }} as change_1w_z_prior_156w
    from changes
    window prior_156 as (order by week_ending_wednesday rows between 156 preceding and 1 preceding)
)

{{ select_published('scored') }}
