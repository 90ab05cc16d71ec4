"""The file layouts the landing zone accepts, and how a file is matched to one.

A file is recognised by its columns, never by its name. Matching is strict: a layout matches
only when the file has all of its required columns and every other column is one the layout
knows (optional, ignored, or of a known pattern such as ``snap_<STATE>``). A file that matches
no layout is rejected as ``unknown_layout`` with the closest layout, the columns it lacks and the
columns it does not know: a POS export with ``qty`` instead of ``units`` must never land as a
price list because it happens to have a ``price`` column.

Column names are compared after :func:`canonical_column` (case, surrounding space, spaces and
hyphens inside), so ``Store ID`` is ``store_id``; the state code of ``snap_<STATE>`` keeps its
meaning (``snap_tx`` and ``SNAP_TX`` are both ``snap_TX``, matched to stores ``TX_<n>``).

=================  =========================================================  ===============
layout             columns (optional in brackets; aliases after ``=``)        lake table
=================  =========================================================  ===============
sales              date, store_id, item_id, units[, price, dept_id, cat_id]   sales
m5_sales_wide      id, item_id, dept_id, cat_id, store_id, state_id, d_1...   sales
prices             date, store_id, item_id, price                             prices
prices_weekly      week_start, store_id, item_id, price                       prices
prices_by_week     store_id, item_id, wm_yr_wk=week, price=sell_price         prices
calendar           date + any of d, wm_yr_wk=week, event_name_1=event_name,   calendar
                   event_type_1=event_type, event_name_2, event_type_2,
                   snap, snap_<STATE>
products           item_id, dept_id, cat_id[, unit_cost]                      products
sales_monthly      month_start, store_id, item_id, units[, n_days, dept, cat] sales_monthly
=================  =========================================================  ===============
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ml.schema import (
    CAT_ID,
    DATE,
    DEPT_ID,
    EVENT_NAME_1,
    EVENT_NAME_2,
    EVENT_TYPE_1,
    EVENT_TYPE_2,
    ITEM_ID,
    PRICE,
    SNAP,
    STATE_ID,
    STORE_ID,
    UNIT_COST,
    UNITS,
)

WEEK_START = "week_start"
RETAIL_WEEK = "wm_yr_wk"  # the retailer's week number (M5's name); ``week`` is an alias
M5_DAY = "d"
MONTH_START = "month_start"
N_DAYS = "n_days"
SNAP_STATE = re.compile(r"snap_[A-Z0-9]+")
M5_DAY_COLUMN = re.compile(r"d_[0-9]+")
PRICE_ALIASES = {"sell_price": PRICE}
# Names retailers often use for our columns. Never mapped silently (``qty`` could be packs or
# cases, not units): an unknown_layout message suggests the rename instead.
RENAME_HINTS = {
    "qty": UNITS,
    "quantity": UNITS,
    "units_sold": UNITS,
    "sold": UNITS,
    "sales": UNITS,
    "store": STORE_ID,
    "shop": STORE_ID,
    "location": STORE_ID,
    "item": ITEM_ID,
    "sku": ITEM_ID,
    "product_id": ITEM_ID,
    "day": DATE,
    "sale_date": DATE,
    "cost": UNIT_COST,
}


class LayoutError(ValueError):
    """The columns match no layout; ``details`` names the closest one and what it lacks."""

    def __init__(self, message: str, details: dict) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Layout:
    """One accepted file layout (see the module table)."""

    name: str
    table: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()  # accepted and dropped (derivable or not used)
    patterns: tuple[re.Pattern, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    needs_calendar: str | None = None  # the calendar column its keys resolve through
    needs_any_optional: bool = False  # a date column alone is not a calendar

    def rename(self, columns: list[str]) -> list[str]:
        """File columns under this layout's canonical names."""
        return [self.aliases.get(c, c) for c in columns]

    def accepts(self, column: str) -> bool:
        known = column in self.required or column in self.optional or column in self.ignored
        return known or any(p.fullmatch(column) for p in self.patterns)

    def fit(self, columns: list[str]) -> tuple[list[str], list[str]]:
        """(required columns missing, columns this layout does not know)."""
        names = self.rename(columns)
        missing = [c for c in self.required if c not in names]
        unknown = [c for c, n in zip(columns, names, strict=True) if not self.accepts(n)]
        if self.needs_any_optional and not missing and not self._informative(names):
            missing = [f"one of {', '.join(self.optional)} or snap_<STATE>"]
        if self.patterns and not self.optional and not self._informative(names):
            missing.append(f"at least one {self.patterns[0].pattern} column")
        return missing, unknown

    def _informative(self, names: list[str]) -> bool:
        return any(n in self.optional or any(p.fullmatch(n) for p in self.patterns) for n in names)


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "sales",
        "sales",
        "POS sales per store, item and day",
        (DATE, STORE_ID, ITEM_ID, UNITS),
        optional=(PRICE, DEPT_ID, CAT_ID),
        ignored=(STATE_ID,),
        aliases=PRICE_ALIASES,
    ),
    Layout(
        "m5_sales_wide",
        "sales",
        "M5 sales_train_*.csv: one row per item and store, one column per day d_<n>",
        ("id", ITEM_ID, DEPT_ID, CAT_ID, STORE_ID, STATE_ID),
        patterns=(M5_DAY_COLUMN,),
        needs_calendar=M5_DAY,
    ),
    Layout(
        "prices",
        "prices",
        "price list by date (a price holds until the next one)",
        (DATE, STORE_ID, ITEM_ID, PRICE),
        aliases=PRICE_ALIASES,
    ),
    Layout(
        "prices_weekly",
        "prices",
        "price list by week start date",
        (WEEK_START, STORE_ID, ITEM_ID, PRICE),
        aliases=PRICE_ALIASES,
    ),
    Layout(
        "prices_by_week",
        "prices",
        "price list by retail week number (M5 sell_prices.csv), resolved through the calendar",
        (STORE_ID, ITEM_ID, RETAIL_WEEK, PRICE),
        aliases={**PRICE_ALIASES, "week": RETAIL_WEEK},
        needs_calendar=RETAIL_WEEK,
    ),
    Layout(
        "calendar",
        "calendar",
        "calendar days: events, SNAP flags, M5 day and week numbers",
        (DATE,),
        optional=(
            M5_DAY,
            RETAIL_WEEK,
            EVENT_NAME_1,
            EVENT_TYPE_1,
            EVENT_NAME_2,
            EVENT_TYPE_2,
            SNAP,
        ),
        ignored=("weekday", "wday", "month", "year"),
        patterns=(SNAP_STATE,),
        aliases={"event_name": EVENT_NAME_1, "event_type": EVENT_TYPE_1, "week": RETAIL_WEEK},
        needs_any_optional=True,
    ),
    Layout(
        "products",
        "products",
        "product catalogue",
        (ITEM_ID, DEPT_ID, CAT_ID),
        optional=(UNIT_COST,),
    ),
    Layout(
        "sales_monthly",
        "sales_monthly",
        "monthly unit totals per store and item",
        (MONTH_START, STORE_ID, ITEM_ID, UNITS),
        optional=(N_DAYS, DEPT_ID, CAT_ID),
        ignored=(STATE_ID,),
    ),
)
# Order within a batch, so that calendars and catalogues land before what refers to them.
LAYOUT_ORDER = [
    "calendar",
    "products",
    "prices",
    "prices_weekly",
    "prices_by_week",
    "sales",
    "m5_sales_wide",
    "sales_monthly",
]


def canonical_column(name: object) -> str:
    """A column name as the layouts spell it: ``" Store ID"`` -> ``store_id``,
    ``snap_tx`` -> ``snap_TX``."""
    text = re.sub(r"[\s\-]+", "_", str(name).strip().lstrip("\ufeff").strip()).lower()
    if text.startswith("snap_") and len(text) > len("snap_"):
        return "snap_" + text[len("snap_") :].upper()
    return text


def detect_layout(columns: list[str]) -> Layout:
    """The one layout these (canonical) columns follow, or :class:`LayoutError`."""
    matches = [layout for layout in LAYOUTS if layout.fit(columns) == ([], [])]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:  # the layouts are disjoint by construction (tested); never silent
        raise LayoutError(
            f"columns fit several layouts: {[m.name for m in matches]}",
            {"columns": columns[:30], "layouts": [m.name for m in matches]},
        )
    raise _no_layout(columns)


def _no_layout(columns: list[str]) -> LayoutError:
    # closeness as if the hinted renames were made: qty/sku/shop/day are a sales file, not a
    # calendar with four unknown columns; what it lacks is still said of the columns as sent
    hinted = [RENAME_HINTS.get(c, c) for c in columns]

    def closeness(layout: Layout) -> tuple[int, int]:
        missing, unknown = layout.fit(hinted)
        matched = len(set(layout.rename(hinted)) & set(layout.required))
        return (matched - len(missing) - len(unknown), -len(missing))

    closest = max(LAYOUTS, key=closeness)
    missing, unknown = closest.fit(columns)
    parts = []
    if missing:
        parts.append(f"lacks {', '.join(missing)}")
    if unknown:
        parts.append(f"does not accept {', '.join(unknown[:10])}")
    hints = [f"{c} -> {RENAME_HINTS[c]}" for c in columns if c in RENAME_HINTS]
    message = (
        f"columns match no accepted layout; the closest is {closest.name!r} "
        f"({closest.description}), which {' and '.join(parts)}"
        + (f". If they mean ours, rename: {', '.join(hints)}" if hints else "")
    )
    details = {
        "columns": columns[:30],
        "closest_layout": closest.name,
        "missing_columns": missing,
        "unexpected_columns": unknown[:30],
        "rename_hints": dict(h.split(" -> ") for h in hints),
    }
    return LayoutError(message, details)
