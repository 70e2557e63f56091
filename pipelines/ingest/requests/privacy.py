"""The requester's identity, pseudonymised: ``user`` is hashed with a secret salt or dropped
(``parse.py`` hashes each distinct user of a file once and joins the hashes back).

The salt comes from the environment (``UNITCOST_USER_HASH_SALT``), never from the repo or
the config file. HMAC-SHA256 rather than a bare hash of salt + id: the salt is a key, so a
leaked table cannot be reversed by hashing guessed user ids without it. Absent salt: the
column is NULL, so nothing identifying reaches the warehouse.
"""

from __future__ import annotations

import hashlib
import hmac
import os

SALT_ENV = "UNITCOST_USER_HASH_SALT"
MIN_SALT_CHARS = 16


def salt_from_env() -> str | None:
    salt = os.environ.get(SALT_ENV) or None
    if salt is not None and len(salt) < MIN_SALT_CHARS:
        raise ValueError(f"{SALT_ENV} must be at least {MIN_SALT_CHARS} characters")
    return salt


def user_hash(user: str, salt: str) -> str:
    return hmac.new(salt.encode(), user.encode(), hashlib.sha256).hexdigest()[:32]
