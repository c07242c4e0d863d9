"""The workshop code the instructor announces for first sign-ins: strong enough, and made when not given.

Sign-in is throttled (``throttle``) to a few tries a minute per client and per name; 10 characters mixing
letters and digits then keep the code out of reach for the length of a workshop."""

from __future__ import annotations

import secrets

MIN_CODE = 10


def code_problem(code: str) -> str | None:
    """Why ``code`` is too weak to be the workshop code; None when it is fine."""
    if len(code) < MIN_CODE:
        return f"the workshop code must have at least {MIN_CODE} characters (e.g. river-orange-42)"
    if not (any(c.isalpha() for c in code) and any(c.isdigit() for c in code)):
        return "the workshop code must mix letters and digits (e.g. river-orange-42)"
    return None


def new_code() -> str:
    """A random workshop code that passes ``code_problem`` (48 bits, easy to read out: ``3fa9-07bc-e1d2``)."""
    while code_problem(code := "-".join(secrets.token_hex(2) for _ in range(3))):
        pass
    return code
