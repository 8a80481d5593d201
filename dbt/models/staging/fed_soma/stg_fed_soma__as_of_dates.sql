with

source as (
    select * from {{ source('fed_soma', 'as_of_dates') }}
    {{ published_by('as_of_date', 'soma_released_through') }}
),

renamed as (
    select as_of_date
    from source
)

select * from renamed
