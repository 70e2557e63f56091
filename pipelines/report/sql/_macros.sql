-- Temporary macros the report's queries share (tables.py runs this before its queries).
-- DuckDB turns DECIMAL / integer into DOUBLE, so exact quotients of money are taken in integer
-- pico-dollars (10^-12) and truncated, like the marts' own prices: DECIMAL(38,12) in and out.

-- usd / n, truncated at 10^-12; NULL unless n > 0
create or replace temp macro report_div(usd, n) as
    case when n > 0 then cast(
        cast(cast(usd * 1000000000000 as hugeint) // n as decimal(38, 0)) * 0.000000000001
        as decimal(38, 12)
    ) end;

-- USD per 1M tokens: usd x 10^6 / tokens, truncated at 10^-12; NULL without tokens
create or replace temp macro report_per_1m(usd, tokens) as
    case when tokens > 0 then cast(
        cast((cast(usd * 1000000000000 as hugeint) * 1000000) // tokens as decimal(38, 0))
        * 0.000000000001 as decimal(38, 12)
    ) end;
