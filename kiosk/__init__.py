from kiosk.views import bp

__all__ = ["bp"]
