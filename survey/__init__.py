from survey.views import bp

__all__ = ["bp"]
