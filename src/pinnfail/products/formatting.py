"""How the products print numbers (tables, captions, studies): one format everywhere.
"""
from __future__ import annotations


import math



def format_number(value, nan: str = "nan") -> str:
    """A number for tables and documents: whole numbers below 1e7 as integers, 3
    significant digits from 1e-3 to 1e5, two decimals of scientific notation outside
    that; NaN as ``nan``; anything else as ``str``."""
    if isinstance(value, float):
        if math.isnan(value):
            return nan
        if value.is_integer() and 1 <= abs(value) < 1e7:
            return str(int(value))
        return f"{value:.3g}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.2e}"
    return str(value)
