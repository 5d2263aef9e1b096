"""Chaptan: video -> transcript -> YouTube-style chapters, and a voice assistant over them."""

__version__ = "0.1.0"
