"""Mint a bearer token for the local stack.

    uv run python -m services.kit.mint_token --role customer --sub c-1 --name "Ada" \\
        --email ada@example.com [--locale de] [--ttl-hours 24]

Signed with ``JWT_SECRET`` (the local secret when unset) for ``JWT_AUDIENCE``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from services.kit.auth import Role, mint_token
from services.kit.settings import ServiceSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.kit.mint_token",
        description="Print a bearer token signed with JWT_SECRET, for local use.",
    )
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--sub", required=True, help="the subject: customer, staff or service id")
    parser.add_argument("--name", required=True, help="display name")
    parser.add_argument("--email", default=None)
    parser.add_argument("--locale", default="en")
    parser.add_argument("--ttl-hours", type=float, default=24.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, print the token on stdout, return the exit status."""
    args = _parser().parse_args(argv)
    settings = ServiceSettings()
    if settings.jwt_jwks_url:
        print("JWT_JWKS_URL is set: tokens come from the identity provider", file=sys.stderr)
        return 1
    token = mint_token(
        settings.jwt_secret.get_secret_value(),
        sub=args.sub,
        role=args.role,
        name=args.name,
        email=args.email,
        locale=args.locale,
        ttl=timedelta(hours=args.ttl_hours),
        audience=settings.jwt_audience,
    )
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
