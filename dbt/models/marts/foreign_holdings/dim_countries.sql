-- The TIC country lines a BI user filters on: the published name, a display name and ISO codes.
select
    country,
    country_display_name,
    iso_alpha2,
    iso_alpha3,
    region,
    is_custody_centre,
    is_aggregate
from {{ ref('tic_country_map') }}
