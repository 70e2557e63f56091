select
    gpu_id,
    display_name,
    vendor,
    cast(memory_gib as double) as memory_gib
from {{ source('catalog', 'gpu_catalog') }}
