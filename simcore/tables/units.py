"""Units and value-added classes: which units are yen, which value-added items count as
GDP, and the components losses are reported by."""

from __future__ import annotations


# Documented in simcore/tables/__init__.py, where the API reference reads it.
GDP_EXCLUDED_VA_ITEMS: tuple[str, ...] = ("ohcr", "nadj", "imports")

# Documented in simcore/tables/__init__.py, where the API reference reads it.
YEN_PER_UNIT: dict[str, float] = {"JPY": 1.0, "thousand JPY": 1e3, "million JPY": 1e6,
                                  "billion JPY": 1e9}
_YEN_ALIASES = {"yen": "JPY", "million yen": "million JPY", "mn jpy": "million JPY",
                "jpy million": "million JPY", "thousand yen": "thousand JPY",
                "billion yen": "billion JPY", "bn jpy": "billion JPY"}


def yen_per_unit(unit: str | None) -> float | None:
    """Yen per ``unit`` (case-insensitive, common spellings), or ``None`` if not a yen unit.

    >>> yen_per_unit("million JPY"), yen_per_unit("Million yen"), yen_per_unit("$ million")
    (1000000.0, 1000000.0, None)
    """
    if not isinstance(unit, str):
        return None
    u = unit.strip()
    canon = {k.lower(): k for k in YEN_PER_UNIT}
    key = canon.get(u.lower()) or _YEN_ALIASES.get(u.lower())
    return YEN_PER_UNIT[key] if key else None


# Documented in simcore/tables/__init__.py, where the API reference reads it.
VA_COMPONENTS: dict[str, str] = {
    # 185-sector items
    "wage": "compensation_of_employees",
    "ssce": "compensation_of_employees",
    "othp": "compensation_of_employees",
    # 37-sector item
    "epin": "compensation_of_employees",
    "opse": "operating_surplus",
    "depr": "consumption_of_fixed_capital",
    "drsc": "consumption_of_fixed_capital",
    "idtx": "taxes_less_subsidies",
    "subs": "taxes_less_subsidies",
    "ohcr": "outside_household_consumption",
    "nadj": "negative_input_adjustment",
    "imports": "imports_of_foreign_industries",
    # generic names
    "compensation": "compensation_of_employees",
    "operating_surplus": "operating_surplus",
}
