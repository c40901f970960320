"""Vigile: the layer between support agents and customer data."""

__all__ = ["__version__"]

__version__ = "0.1.0"
