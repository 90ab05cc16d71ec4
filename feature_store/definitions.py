"""Names, parameters and the version of the RetailIQ feature set.

Every feature column the feature store writes is declared here once, with its family, dtype and
the rule that says where it must be defined (see :class:`FeatureDef`). The families split in
two by *when a value is known*:

* **target-day** features (``calendar``, ``price``) describe the day being predicted and are
  known in advance: the calendar is fixed, and prices are planned by the retailer;
* **state** features (``history``, ``derived``, ``static``) describe the series as of the start
  of a day: they use only sales strictly before that day.

:data:`FEATURE_SET_VERSION` joins a hand-bumped semantic version (bump it when the *logic* of a
feature changes) with a hash of every definition and parameter below (changes on its own when a
feature is added, renamed or re-parameterised). It is recorded on every write of the offline
and online stores, and reads compare it with the running code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal

from ml.schema import SELL_PRICE, SNAP

SEMVER = "1.0.0"

# -- parameters --------------------------------------------------------------------------------
LAGS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 35, 91, 364)
WINDOWS: tuple[int, ...] = (7, 14, 28, 56)
ROLLING_STATS: tuple[str, ...] = ("mean", "std", "min", "max")
WEEKDAY_PROFILE_WEEKS = 4  # same-weekday mean over this many past weeks
PRICE_MEAN_WINDOWS: tuple[tuple[str, int], ...] = (("4w", 28), ("52w", 364))
REGULAR_PRICE_DAYS = 56  # the regular price is the highest price over this trailing window
REGULAR_PRICE_HOLD_DAYS = 28  # ... or any price that has held this long
PROMO_THRESHOLD = 0.05  # a discount of at least 5 % below the regular price counts as a promotion
HOLIDAY_DISTANCE_CAP = 30  # days_to/since_holiday are capped here
DERIVED_PERIOD_DAYS = 28  # derived statistics are recomputed at each period start
DERIVED_WINDOW_DAYS = 364  # ... from this trailing window of sales (a multiple of 7)
DERIVED_MIN_DAYS = 56  # ... when at least this many days of it are known, else NaN
DERIVED_EPOCH = "1970-01-05"  # periods start every 28 days from this Monday
EVENT_TYPES: tuple[str, ...] = ("National", "Religious", "Cultural", "Sporting")

# -- families and their null rules ---------------------------------------------------------------
Family = Literal["calendar", "price", "history", "derived", "static", "horizon"]
NullRule = Literal["never", "warmup", "no_price"]
TARGET_DAY_FAMILIES: tuple[str, ...] = ("calendar", "price")
STATE_FAMILIES: tuple[str, ...] = ("history", "derived", "static")


@dataclass(frozen=True)
class FeatureDef:
    """One feature column.

    ``null_rule`` says where a NaN is a bug: ``never`` (always defined), ``warmup`` (defined once
    the series has ``warmup`` days of history before the row), ``no_price`` (defined wherever
    the day has a sell price; M5 leaves the price empty when an item is not on sale).
    """

    name: str
    family: Family
    dtype: str
    null_rule: NullRule = "never"
    warmup: int = 0
    description: str = ""


def lag_name(k: int) -> str:
    return f"lag_{k}"


def rolling_name(stat: str, window: int) -> str:
    return f"roll_{stat}_{window}"


def weekday_profile_name(offset: int) -> str:
    """Mean of the last weeks' sales on the weekday ``offset`` days before the row."""
    return f"wday_mean_{WEEKDAY_PROFILE_WEEKS}w_{offset}"


def event_type_name(event_type: str) -> str:
    return f"event_{event_type.lower()}"


def price_mean_ratio_name(label: str) -> str:
    return f"price_ratio_{label}"


# -- names used by the transforms -------------------------------------------------------------
DAY_OF_WEEK, DAY_OF_MONTH, DAY_OF_YEAR = "day_of_week", "day_of_month", "day_of_year"
WEEK_OF_YEAR, MONTH, QUARTER, SEASON = "week_of_year", "month", "quarter", "season"
IS_WEEKEND, IS_MONTH_START, IS_MONTH_END = "is_weekend", "is_month_start", "is_month_end"
IS_HOLIDAY, DAYS_TO_HOLIDAY, DAYS_SINCE_HOLIDAY = (
    "is_holiday",
    "days_to_holiday",
    "days_since_holiday",
)
IS_EVENT, EVENT_NAME_CODE = "is_event", "event_name_code"
PRICE_CHANGE_1W, PRICE_RATIO_DEPT = "price_change_1w", "price_ratio_dept"
DISCOUNT_DEPTH, ON_PROMOTION = "discount_depth", "on_promotion"
WEEKS_SINCE_PRICE_CHANGE = "weeks_since_price_change"
STORE_CODE, ITEM_CODE, DEPT_CODE, CAT_CODE = "store_code", "item_code", "dept_code", "cat_code"
SEASONALITY_STRENGTH, TREND_STRENGTH, ACF_7 = "seasonality_strength", "trend_strength", "acf_7"
ZERO_SHARE, ADI, CV2 = "zero_share", "adi", "cv2"
HORIZON = "horizon"
SAME_WEEKDAY_LAG, SAME_WEEKDAY_MEAN = "same_wday_lag", "same_wday_mean_4w"


def _calendar_defs() -> list[FeatureDef]:
    ints = [
        (DAY_OF_WEEK, "int8", "0 = Monday"),
        (DAY_OF_MONTH, "int8", "1..31"),
        (DAY_OF_YEAR, "int16", "1..366"),
        (WEEK_OF_YEAR, "int8", "ISO week 1..53"),
        (MONTH, "int8", "1..12"),
        (QUARTER, "int8", "1..4"),
        (SEASON, "int8", "0 winter, 1 spring, 2 summer, 3 autumn (meteorological, north)"),
        (IS_WEEKEND, "int8", "Saturday or Sunday"),
        (IS_MONTH_START, "int8", "first day of the month"),
        (IS_MONTH_END, "int8", "last day of the month"),
        (IS_HOLIDAY, "int8", "public holiday of the configured country (holidays package)"),
        (
            DAYS_TO_HOLIDAY,
            "int8",
            f"days until the next public holiday, capped at {HOLIDAY_DISTANCE_CAP}",
        ),
        (
            DAYS_SINCE_HOLIDAY,
            "int8",
            f"days since the last public holiday, capped at {HOLIDAY_DISTANCE_CAP}",
        ),
        (IS_EVENT, "int8", "any retail event in the calendar data"),
        *[(event_type_name(t), "int8", f"a {t} event that day") for t in EVENT_TYPES],
        (EVENT_NAME_CODE, "int32", "stable code of event_name_1 (0 = none)"),
        (SNAP, "int8", "SNAP benefits paid that day in the store's state"),
    ]
    return [FeatureDef(n, "calendar", d, description=desc) for n, d, desc in ints]


def _price_defs() -> list[FeatureDef]:
    rows = [
        (SELL_PRICE, "sell price that day"),
        (PRICE_CHANGE_1W, "price / price a week earlier - 1 (0 when no earlier price)"),
        *[
            (price_mean_ratio_name(lbl), f"price / the item's mean price over the last {days} days")
            for lbl, days in PRICE_MEAN_WINDOWS
        ],
        (PRICE_RATIO_DEPT, "price / mean price of the store's department that day"),
        (DISCOUNT_DEPTH, f"1 - price / regular price (highest of {REGULAR_PRICE_DAYS} days)"),
        (WEEKS_SINCE_PRICE_CHANGE, "weeks since the price last changed (or was first seen)"),
    ]
    defs = [FeatureDef(n, "price", "float32", "no_price", description=d) for n, d in rows]
    promo = f"discount_depth >= {PROMO_THRESHOLD} (0 when not on sale)"
    return [*defs, FeatureDef(ON_PROMOTION, "price", "int8", description=promo)]


def _history_defs() -> list[FeatureDef]:
    defs = [
        FeatureDef(lag_name(k), "history", "float32", "warmup", k, f"sales {k} days before")
        for k in LAGS
    ]
    for w in WINDOWS:
        for stat in ROLLING_STATS:
            desc = f"{stat} of sales over the {w} days before"
            defs.append(FeatureDef(rolling_name(stat, w), "history", "float32", "warmup", w, desc))
    weeks = WEEKDAY_PROFILE_WEEKS
    for offset in range(1, 8):
        warmup = offset + 7 * (weeks - 1)
        desc = f"mean sales of the last {weeks} same weekdays as {offset} days before"
        defs.append(
            FeatureDef(weekday_profile_name(offset), "history", "float32", "warmup", warmup, desc)
        )
    return defs


def _derived_defs() -> list[FeatureDef]:
    # Defined for sure once the period start has DERIVED_MIN_DAYS days of history behind it.
    warmup = DERIVED_MIN_DAYS + DERIVED_PERIOD_DAYS - 1
    rows = [
        (SEASONALITY_STRENGTH, "weekly seasonality strength 1 - Var(R)/Var(S+R), trailing year"),
        (TREND_STRENGTH, "trend strength 1 - Var(R)/Var(T+R), trailing year"),
        (ACF_7, "autocorrelation at lag 7, trailing year"),
        (ZERO_SHARE, "share of zero-sales days, trailing year"),
        (ADI, "average demand interval: days per day with sales, trailing year"),
        (CV2, "squared coefficient of variation of non-zero sales, trailing year"),
    ]
    return [FeatureDef(n, "derived", "float32", "warmup", warmup, d) for n, d in rows]


def _static_defs() -> list[FeatureDef]:
    desc = "stable 31-bit code of the {} (crc32 of the id)"
    names = [
        (STORE_CODE, "store"),
        (ITEM_CODE, "item"),
        (DEPT_CODE, "department"),
        (CAT_CODE, "category"),
    ]
    return [FeatureDef(n, "static", "int32", description=desc.format(what)) for n, what in names]


FEATURES: tuple[FeatureDef, ...] = (
    *_calendar_defs(),
    *_price_defs(),
    *_history_defs(),
    *_derived_defs(),
    *_static_defs(),
)


def feature_names(*families: str) -> list[str]:
    """Feature columns of the given families (all when none given), in table order."""
    return [f.name for f in FEATURES if not families or f.family in families]


TARGET_DAY_FEATURES = feature_names(*TARGET_DAY_FAMILIES)
STATE_FEATURES = feature_names(*STATE_FAMILIES)
HORIZON_FEATURES = [HORIZON, SAME_WEEKDAY_LAG, SAME_WEEKDAY_MEAN]
# The model inputs of a training or inference set, in column order.
MODEL_FEATURES = [*HORIZON_FEATURES, *TARGET_DAY_FEATURES, *STATE_FEATURES]


def _definition_hash() -> str:
    params = {
        "lags": LAGS,
        "windows": WINDOWS,
        "stats": ROLLING_STATS,
        "weekday_weeks": WEEKDAY_PROFILE_WEEKS,
        "price_windows": PRICE_MEAN_WINDOWS,
        "regular_price": (REGULAR_PRICE_DAYS, REGULAR_PRICE_HOLD_DAYS),
        "promo": PROMO_THRESHOLD,
        "holiday_cap": HOLIDAY_DISTANCE_CAP,
        "derived": (DERIVED_PERIOD_DAYS, DERIVED_WINDOW_DAYS, DERIVED_MIN_DAYS, DERIVED_EPOCH),
        "features": [asdict(f) for f in FEATURES],
        "horizon_features": HORIZON_FEATURES,
    }
    blob = json.dumps(params, sort_keys=True, default=list).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


FEATURE_SET_VERSION = f"{SEMVER}+{_definition_hash()}"


class FeatureVersionError(RuntimeError):
    """Stored features were written by a different feature-set version than the running code."""
