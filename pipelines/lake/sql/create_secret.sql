-- The lake's S3 secret: credentials from the AWS SDK's default chain (environment, profile,
-- SSO, web identity, instance role), never a key in config or code. The placeholder after
-- the provider takes the optional CHAIN/PROFILE/REGION/ENDPOINT/URL_STYLE/USE_SSL entries and
-- the SCOPE, as validated, quoted literals (CREATE SECRET takes no prepared parameters).
create or replace secret unitcost_lake (
    type s3,
    provider credential_chain{options}
)
