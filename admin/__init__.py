from admin.views import bp

__all__ = ["bp"]
