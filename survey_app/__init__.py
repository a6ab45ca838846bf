"""Khảo sát sự hài lòng của người dân — the web application."""

__version__ = "0.1.0"
