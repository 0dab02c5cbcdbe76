"""Public addresses of survey pages and QR images: kept here for the survey area's imports;
the functions live in :mod:`core.public_urls` (the admin area's setup pages use them too)."""

from core.public_urls import public_base, public_url, qr_caption, receipt_links

__all__ = ["public_base", "public_url", "qr_caption", "receipt_links"]
