"""The requester's identity, pseudonymised: ``user`` is hashed with a secret salt or dropped.

The salt comes from the environment (``UNITCOST_USER_HASH_SALT``), never from the repo or
the config file. HMAC-SHA256 rather than a bare hash of salt + id: the salt is a key, so a
leaked table cannot be reversed by hashing guessed user ids without it. Absent salt: the
column is NULL, so nothing identifying reaches DuckDB.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import polars as pl

SALT_ENV = "UNITCOST_USER_HASH_SALT"
MIN_SALT_CHARS = 16


def salt_from_env() -> str | None:
    salt = os.environ.get(SALT_ENV) or None
    if salt is not None and len(salt) < MIN_SALT_CHARS:
        raise ValueError(f"{SALT_ENV} must be at least {MIN_SALT_CHARS} characters")
    return salt


def user_hash(user: str, salt: str) -> str:
    return hmac.new(salt.encode(), user.encode(), hashlib.sha256).hexdigest()[:32]


def hash_users(frame: pl.DataFrame, salt: str | None) -> pl.DataFrame:
    """Replace the ``user`` column by ``user_hash`` (NULL for everyone without a salt)."""
    if salt is None or frame.height == 0:
        return frame.drop("user").with_columns(user_hash=pl.lit(None, dtype=pl.String))
    users = frame["user"].drop_nulls().unique()
    mapping = pl.DataFrame(
        {"user": users, "user_hash": [user_hash(u, salt) for u in users]},
        schema={"user": pl.String, "user_hash": pl.String},
    )
    return frame.join(mapping, on="user", how="left").drop("user")
