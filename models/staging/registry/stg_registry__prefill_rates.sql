select
    deployment_id,
    cast(modelled_prefill_seconds_per_token as double) as modelled_prefill_seconds_per_token
from {{ source('registry', 'registry_prefill_rates') }}
