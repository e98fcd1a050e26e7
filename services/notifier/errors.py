"""The notifier's named errors: each a fact, mapped to HTTP once (``app.DOMAIN_ERRORS``)."""

from __future__ import annotations


class OrderNotFound(Exception):
    """No such order, or not the caller's."""


class TicketNotFound(Exception):
    """No such ticket, or not the caller's."""


class BannerNotFound(Exception):
    """No such banner, or not the caller's."""


class BannerNotDismissible(Exception):
    """A critical banner stays until its cause ends."""
