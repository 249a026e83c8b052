"""skfashion's version: one place, read without importing the package."""

__version__ = "0.2.0.dev0"
