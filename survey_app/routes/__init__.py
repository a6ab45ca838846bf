"""Routers split by audience; each carries its own access rule."""
