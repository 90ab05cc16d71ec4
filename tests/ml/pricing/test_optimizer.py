import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.pricing.optimizer import (
    STRATEGIES,
    PriceBounds,
    demand,
    optimize,
    price_window,
    recommend,
)


def brute_force(strategy, p0, c, e, q0, lo, hi, stock=None, days=30.0, n=20001):
    """The best price on a fine grid of the allowed window, by the strategy's objective."""
    grid = np.linspace(lo, hi, n)
    q = demand(grid, p0, e, q0, 1.0)
    if strategy == "profit":
        return grid[np.argmax((grid - c) * q)]
    if strategy == "revenue":
        return grid[np.argmax(grid * q)]
    if strategy == "volume":
        return grid[np.argmax(q)]
    clears = q * days >= stock
    return grid[clears].max() if clears.any() else grid[np.argmax(q)]


def objective(strategy, p, p0, c, e, q0, stock=None, days=30.0):
    q = demand(p, p0, e, q0, 1.0)
    return {
        "profit": (p - c) * q,
        "revenue": p * q,
        "volume": q,
        "clearance": np.minimum(q * days, stock) if stock is not None else q,
    }[strategy]


CASES = [  # (p0, cost, elasticity, daily demand, stock)
    (5.0, 3.0, -2.5, 4.0, 150.0),
    (5.0, 3.0, -1.6, 4.0, 90.0),
    (10.0, 2.0, -3.5, 1.0, 10.0),
    (2.0, 1.5, -0.7, 20.0, 900.0),
    (8.0, 7.8, -1.2, 0.3, 2.0),
    (3.0, 0.5, -1.0, 5.0, 151.0),
    (4.0, 5.0, -2.0, 2.0, 40.0),
    (6.0, 1.0, -4.0, 2.0, 200.0),
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(("p0", "c", "e", "q0", "stock"), CASES)
def test_closed_form_matches_a_brute_force_grid_search(strategy, p0, c, e, q0, stock):
    bounds = PriceBounds()
    frame = pd.DataFrame(
        [
            {
                "current_price": p0,
                "unit_cost": c,
                "elasticity": e,
                "elasticity_se": 0.2,
                "daily_demand": q0,
                "stock": stock,
            }
        ]
    )
    got = recommend(frame, strategy, bounds).iloc[0]["recommended_price"]
    window = price_window(np.array([p0]), np.array([c]), bounds)
    lo, hi = float(window.lo[0]), float(window.hi[0])
    best = brute_force(strategy, p0, c, e, q0, lo, hi, stock)
    # same price within a cent (rounding), or an equally good one where the objective is flat
    f = lambda p: objective(strategy, p, p0, c, e, q0, stock)  # noqa: E731
    assert abs(got - best) <= 0.011 or f(got) >= f(best) * (1 - 1e-3)


def test_profit_optimum_is_the_markup_rule_inside_a_wide_window():
    bounds = PriceBounds(max_step=0.9, max_price_ratio=10.0)
    result = optimize(5.0, 3.0, -2.5, 4.0, "profit", bounds)
    assert result["recommended_price"] == pytest.approx(5.0, abs=0.01)  # 3 x 2.5 / 1.5
    result = optimize(4.0, 3.0, -2.5, 4.0, "profit", bounds)
    assert result["recommended_price"] == pytest.approx(5.0, abs=0.01)
    assert result["expected_profit"] > result["current_profit"]


def test_clearance_sells_the_stock_with_the_least_markdown():
    result = optimize(10.0, 2.0, -2.0, 5.0, "clearance", stock=165.0, clearance_days=30)
    # 5/day x 30 = 150 at 10.00; 165 needs (150/165)^(1/2) x 10 = 9.53
    assert result["recommended_price"] == pytest.approx(9.53, abs=0.01)
    assert result["expected_units"] >= 165.0 - 0.5
    with pytest.raises(ValueError, match="stock"):
        optimize(10.0, 2.0, -2.0, 5.0, "clearance")


def test_step_wins_when_the_price_is_far_below_cost():
    result = optimize(4.0, 5.0, -2.0, 2.0, "profit")
    assert result["bounds_conflict"] and result["recommended_price"] == pytest.approx(4.4)
    assert "below the price floor" in result["reasoning"]


def test_output_has_reasoning_confidence_and_expectations():
    result = optimize(5.0, 3.0, -1.5, 4.0, "profit", elasticity_se=0.05)
    assert result["confidence_label"] == "high" and 0.8 <= result["confidence"] <= 1.0
    assert result["reasoning"].startswith("profit: ")
    assert result["expected_revenue"] == pytest.approx(
        result["recommended_price"] * result["expected_units"]
    )
    noisy = optimize(5.0, 3.0, -1.5, 4.0, "profit", elasticity_se=3.0)
    assert noisy["confidence"] < result["confidence"]


prices = st.floats(0.05, 500.0, allow_nan=False)
bounds_strategy = st.builds(
    PriceBounds,
    min_markup=st.floats(1.0, 1.5),
    max_price_ratio=st.floats(1.0, 3.0),
    max_step=st.floats(0.01, 0.5),
)


@settings(max_examples=120, deadline=None)
@given(
    p0=prices,
    cost_ratio=st.floats(0.0, 2.0),
    e=st.floats(-6.0, 0.5),
    q0=st.floats(0.0, 1000.0),
    stock=st.floats(0.0, 1e5),
    se=st.floats(0.0, 2.0),
    strategy=st.sampled_from(STRATEGIES),
    bounds=bounds_strategy,
)
def test_every_recommendation_respects_every_bound(
    p0, cost_ratio, e, q0, stock, se, strategy, bounds
):
    cost = p0 * cost_ratio
    r = optimize(p0, cost, e, q0, strategy, bounds, stock=stock, elasticity_se=se)
    p, tol = r["recommended_price"], 0.005 + 1e-9
    assert p0 * (1 - bounds.max_step) - tol <= p <= p0 * (1 + bounds.max_step) + tol
    if not r["bounds_conflict"]:
        assert p >= cost * bounds.min_markup - tol
        assert p <= p0 * bounds.max_price_ratio + tol
    else:  # floor, cap and step do not meet: the step wins, then the floor
        floor, cap = cost * bounds.min_markup, p0 * bounds.max_price_ratio
        step_lo, step_hi = p0 * (1 - bounds.max_step), p0 * (1 + bounds.max_step)
        assert floor > min(cap, step_hi) or cap < step_lo
        if floor > min(cap, step_hi):
            assert p == pytest.approx(min(floor, step_hi), abs=tol)
    assert 0.0 <= r["confidence"] <= 1.0 and np.isfinite(r["expected_units"])


@settings(max_examples=60, deadline=None)
@given(
    p0=prices,
    floor=st.floats(0.01, 600.0),
    width=st.floats(0.0, 200.0),
    strategy=st.sampled_from(STRATEGIES),
    e=st.floats(-6.0, -0.1),
)
def test_explicit_min_and_max_prices_are_respected(p0, floor, width, strategy, e):
    bounds = PriceBounds(min_markup=0.0, min_price=floor, max_price=floor + width)
    r = optimize(p0, 0.0, e, 3.0, strategy, bounds, stock=50.0)
    p, tol = r["recommended_price"], 0.005 + 1e-9
    assert p0 * 0.9 - tol <= p <= p0 * 1.1 + tol
    if not r["bounds_conflict"]:
        assert floor - tol <= p <= floor + width + tol


def test_the_optimiser_never_leaves_the_allowed_price_window():
    """An elastic item whose optimum lies far above the +10 % step: the price is the window's
    edge, to the cent, not the unclipped optimum."""
    from ml.pricing.optimizer import PriceBounds, optimize

    result = optimize(
        current_price=10.0,
        unit_cost=9.0,
        elasticity=-1.5,  # optimum c e / (1 + e) = 27: far outside
        daily_demand=5.0,
        strategy="profit",
        bounds=PriceBounds(max_step=0.10),
    )
    assert result["recommended_price"] == 11.0


def test_a_window_edge_between_cents_rounds_inwards():
    """The +10 % edge of 9.996 is 10.9956: rounding to the cent would give 11.00, outside."""
    from ml.pricing.optimizer import PriceBounds, optimize

    result = optimize(9.996, 9.0, -1.5, 5.0, "profit", PriceBounds(max_step=0.10))
    assert result["recommended_price"] == 10.99


def test_a_window_too_narrow_for_a_cent_keeps_the_price_inside_it():
    """Steps of 0.1 % around 1.002 leave no cent inside [1.000998, 1.003002]: the price is the
    window's edge, unrounded, not the unclipped optimum."""
    from ml.pricing.optimizer import PriceBounds, optimize

    result = optimize(1.002, 0.5, -1.5, 5.0, "profit", PriceBounds(max_step=0.001))
    assert result["price_floor"] <= result["recommended_price"] <= result["price_cap"]
    assert result["recommended_price"] == pytest.approx(1.002 * 1.001)


# -- each rule at its edge (the closed forms switch branch exactly at these elasticities) ----
def price_for(strategy, elasticity, cost=5.0, demand_per_day=1.0, stock=None, **bounds):
    return optimize(
        10.0, cost, elasticity, demand_per_day, strategy, PriceBounds(**bounds), stock=stock
    )["recommended_price"]


@pytest.mark.parametrize(
    "strategy, elasticity, expected",
    [
        ("profit", -1.0, 11.0),  # unit elasticity: no interior optimum, the upper bound
        ("revenue", -1.0, 10.0),  # revenue is flat: no change
        ("revenue", -1.5, 9.0),
        ("revenue", -0.5, 11.0),
        ("volume", 0.0, 11.0),  # demand does not fall with the price: sell at the top
        ("volume", 0.5, 11.0),
        ("volume", -0.5, 9.0),
        ("clearance", 0.0, 11.0),
        ("clearance", 0.5, 11.0),
    ],
)
def test_each_strategy_switches_branch_exactly_at_its_elasticity(strategy, elasticity, expected):
    assert price_for(strategy, elasticity, stock=1.0) == expected


def test_the_profit_optimum_between_minus_two_and_minus_one_is_interior_and_in_cents():
    # c e / (1 + e) = 3.2345 * 3 = 9.7035 -> 9.70 (cents, not 9.704)
    assert price_for("profit", -1.5, cost=3.2345, min_markup=1.0) == 9.7


def test_clearance_prices_where_the_stock_just_clears():
    # 15 units over 30 days at 0.5 a day clear at today's price exactly (elasticity -1)
    assert price_for("clearance", -1.0, demand_per_day=0.5, stock=15.0) == 10.0
    # a tiny stock that also just clears at today's price
    assert price_for("clearance", -1.0, demand_per_day=0.5 / 30, stock=0.5) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "stock, per_day, expected", [(0.0, 1.0, 11.0), (0.0, 0.0, 11.0), (5.0, 0.0, 9.0)]
)
def test_clearance_with_nothing_to_clear_or_no_demand(stock, per_day, expected):
    """No stock: any price clears (the highest); no demand: none does (the one that sells most)."""
    assert price_for("clearance", -2.0, demand_per_day=per_day, stock=stock) == expected


def test_clearance_without_stock_is_refused():
    with pytest.raises(ValueError) as refused:
        price_for("clearance", -2.0)
    assert str(refused.value) == "the clearance strategy needs the stock to clear"


def test_an_unknown_strategy_is_refused_by_name():
    from ml.pricing.optimizer import optimal_price

    message = f"strategy must be one of {STRATEGIES}, got 'cheapest'"
    with pytest.raises(ValueError) as refused:
        optimal_price("cheapest", 10.0, 5.0, -2.0, 1.0, 9.0, 11.0)
    assert str(refused.value) == message
    with pytest.raises(ValueError) as refused:
        price_for("cheapest", -2.0)
    assert str(refused.value) == message


def test_edge_cases_raise_no_numpy_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for strategy in ("profit", "revenue", "volume"):
            price_for(strategy, -1.0)
        for stock, per_day, e in [(0.0, 0.0, -2.0), (5.0, 0.0, -2.0), (1e300, 1e-300, -1e-3)]:
            price_for("clearance", e, demand_per_day=per_day, stock=stock)


def test_a_window_that_starts_on_a_cent_keeps_that_cent():
    assert price_for("volume", -2.0) == 9.0  # lo = 10 x 0.9 exactly, not 9.01


def test_a_window_one_cent_wide_rounds_to_its_cent():
    # lo 9.005 and hi 9.01: 9.01 is the one cent inside, wherever the optimum lies
    for strategy in ("volume", "profit"):
        assert price_for(strategy, -2.0, min_price=9.005, max_price=9.01, min_markup=0) == 9.01


def test_a_window_exactly_one_price_wide_is_not_a_conflict():
    window = price_window(
        np.array([10.0]), np.array([10.0]), PriceBounds(min_markup=0, min_price=11.0)
    )
    assert window.lo.tolist() == [11.0] and window.hi.tolist() == [11.0]
    assert window.conflict.tolist() == [False]


@pytest.mark.parametrize(
    "fields",
    [
        {"min_markup": -0.1},
        {"max_price_ratio": 0.0},
        {"max_price_ratio": -1.0},
        {"max_step": 0.0},
        {"max_step": 1.0},
        {"max_step": 1.5},
    ],
)
def test_bounds_outside_their_ranges_are_refused(fields):
    with pytest.raises(ValueError) as refused:
        PriceBounds(**fields)
    assert str(refused.value) == "need min_markup >= 0, max_price_ratio > 0 and 0 < max_step < 1"


def test_bounds_at_the_edges_of_their_ranges_are_allowed():
    for fields in (
        {"min_markup": 0.0},
        {"max_price_ratio": 1e-9},
        {"max_step": 0.999},
        {"min_price": 5.0},
        {"max_price": 5.0},
        {"min_price": 5.0, "max_price": 5.0},
    ):
        PriceBounds(**fields)
    with pytest.raises(ValueError) as refused:
        PriceBounds(min_price=6.0, max_price=5.0)
    assert str(refused.value) == "min_price 6.0 exceeds max_price 5.0"


def test_one_recommendation_echoes_its_inputs_in_plain_python_types():
    bounds = PriceBounds(max_step=0.2)
    result = optimize(10.0, 5.0, -2.0, 3.0, "revenue", bounds, stock=7.0, elasticity_se=0.5)
    assert result["strategy"] == "revenue"
    assert result["bounds"] == {
        "min_markup": 1.1,
        "max_price_ratio": 2.0,
        "max_step": 0.2,
        "min_price": None,
        "max_price": None,
    }
    assert result["stock"] == 7.0 and result["elasticity_se"] == 0.5
    for key, value in result.items():
        assert type(value) in (float, int, bool, str, dict), (key, type(value))


def test_the_defaults_are_profit_28_days_30_days_to_clear_and_no_uncertainty():
    default = optimize(10.0, 5.0, -2.0, 3.0)
    assert default == {**optimize(10.0, 5.0, -2.0, 3.0, "profit", horizon_days=28.0)}
    assert default["strategy"] == "profit" and default["confidence"] == 1.0
    # units over 28 days at the recommended price (10 -> 10.00 is inside: c e/(1+e) = 10)
    assert default["expected_units"] == pytest.approx(3.0 * 28)
    clearing = optimize(10.0, 5.0, -2.0, 3.0, "clearance", stock=1.0)
    assert "clear in 30 days" in clearing["reasoning"]
    frame = pd.DataFrame(
        {
            "current_price": [10.0],
            "unit_cost": [5.0],
            "elasticity": [-2.0],
            "elasticity_se": [0.0],
            "daily_demand": [3.0],
        }
    )
    table = recommend(frame)  # no stock column: fine for every strategy but clearance
    assert table["recommended_price"].tolist() == [10.0]
    assert table["expected_units"].tolist() == [pytest.approx(84.0)]
    assert table["reasoning"].iloc[0].startswith("profit: ")


# -- what a person reads: one line of reasoning per recommendation ----------------------------
@pytest.mark.parametrize(
    "strategy, cost, e, per_day, stock, bounds, price, reasoning",
    [
        ("profit", 5.0, -2.0, 1.0, None, {}, 10.0,
         "profit: elasticity -2.00 puts the profit-maximising price at 10.00 "
         "(cost 5.00 x e/(1+e)); no change."),
        ("profit", 3.2345, -1.5, 1.0, None, {"min_markup": 1.0}, 9.7,
         "profit: elasticity -1.50 puts the profit-maximising price at 9.70 "
         "(cost 3.23 x e/(1+e)); inside the bounds."),
        ("profit", 5.0, -0.5, 1.0, None, {}, 11.0,
         "profit: demand is inelastic (elasticity -0.50 >= -1), so a higher price earns more; "
         "limited to one step of 10 %."),
        ("revenue", 5.0, -1.5, 1.0, None, {}, 9.0,
         "revenue: elastic demand (elasticity -1.50 < -1): a lower price earns more revenue; "
         "limited to one step of 10 %."),
        ("revenue", 1.0, -0.5, 1.0, None, {"max_price": 10.5}, 10.5,
         "revenue: elasticity -0.50 > -1: a higher price earns more revenue; "
         "held at the price cap 10.50."),
        ("volume", 8.5, -2.0, 1.0, None, {}, 9.35,
         "volume: the lowest allowed price sells the most (elasticity -2.00); "
         "held at the price floor 9.35."),
        ("volume", 0.5, -2.0, 1.0, None, {"max_step": 0.9}, 1.0,
         "volume: the lowest allowed price sells the most (elasticity -2.00); "
         "limited to one step of 90 %."),
        ("volume", 20.0, -2.0, 1.0, None, {}, 11.0,
         "volume: the lowest allowed price sells the most (elasticity -2.00); the price floor "
         "22.00 lies above the cap 20.00; the floor wins within one step (10 %)."),
        ("volume", 15.0, -2.0, 1.0, None, {}, 11.0,
         "volume: the lowest allowed price sells the most (elasticity -2.00); the current price "
         "is below the price floor, so it moves one full step (10 %)."),
        ("volume", 1.0, -2.0, 1.0, None, {"max_price": 5.0}, 9.0,
         "volume: the lowest allowed price sells the most (elasticity -2.00); the current price "
         "is above the price cap, so it moves one full step (10 %)."),
        # floor and cap equal (5.00) but both below the step: the cap side, not "floor above cap"
        ("volume", 0.0, -2.0, 1.0, None, {"min_price": 5.0, "max_price": 5.0}, 9.0,
         "volume: the lowest allowed price sells the most (elasticity -2.00); the current price "
         "is above the price cap, so it moves one full step (10 %)."),
        ("revenue", 5.0, -1.0, 1.0, None, {}, 10.0,
         "revenue: unit elasticity (-1.00): revenue is the same at any price; no change."),
        ("clearance", 5.0, -1.0, 0.5, 17.0, {}, 9.0,
         "clearance: 17 units cannot clear in 30 days within the bounds (about 17 sell); "
         "limited to one step of 10 %."),
        ("clearance", 5.0, -1.0, 0.5, 15.0, {}, 10.0,
         "clearance: 15 units clear in 30 days at this price; no change."),
        ("clearance", 5.0, -2.0, 1.0, 1000.0, {}, 9.0,
         "clearance: 1000 units cannot clear in 30 days within the bounds (about 37 sell); "
         "limited to one step of 10 %."),
    ],
)  # fmt: skip
def test_the_reasoning_names_the_rule_and_the_bound_that_decided(
    strategy, cost, e, per_day, stock, bounds, price, reasoning
):
    result = optimize(10.0, cost, e, per_day, strategy, PriceBounds(**bounds), stock=stock)
    assert result["recommended_price"] == pytest.approx(price)
    assert result["reasoning"] == reasoning


# -- confidence: how many of the elasticity's 19 quantiles move the price the same way -------
def test_confidence_counts_the_quantiles_that_agree_with_the_move():
    from ml.pricing.optimizer import confidence

    def share(price, se):  # profit at e = -2, cost 5: the optimum is today's price, 10
        return confidence("profit", [price], [10.0], [5.0], [-2.0], [se], [1.0], [9.0], [11.0])

    # with se 0.5 the nine lower quantiles say "down", the middle "flat", the nine upper "up"
    assert share(10.0, 0.5).tolist() == [pytest.approx(1 / 19)]
    assert share(11.0, 0.5).tolist() == [pytest.approx(9 / 19)]
    assert share(9.0, 0.5).tolist() == [pytest.approx(9 / 19)]
    assert share(10.0, 0.0).tolist() == [1.0]
    assert share(10.04, 0.0).tolist() == [1.0]  # within half a percent counts as no change
    assert share(10.06, 0.0).tolist() == [0.0]
    assert share(9.94, 0.0).tolist() == [0.0]


def test_confidence_of_a_clearance_uses_the_stock_demand_and_days():
    from ml.pricing.optimizer import confidence

    # 15 units at 0.5 a day clear at 10 over 30 days (e = -1); over 20 days they need 9
    args = ([10.0], [5.0], [-1.0], [0.0], [0.5], [9.0], [11.0], [15.0])
    assert confidence("clearance", [10.0], *args).tolist() == [1.0]
    assert confidence("clearance", [10.0], *args, clearance_days=20.0).tolist() == [0.0]
    assert confidence("clearance", [9.0], *args, clearance_days=20.0).tolist() == [1.0]


@pytest.mark.parametrize(
    "value, label", [(1.0, "high"), (0.8, "high"), (0.79, "medium"), (0.5, "medium"),
                     (0.49, "low"), (0.0, "low")]
)  # fmt: skip
def test_confidence_labels_at_their_thresholds(value, label):
    from ml.pricing.optimizer import confidence_label

    assert confidence_label(np.array([value])).tolist() == [label]


def test_the_figures_of_a_recommendation_follow_from_its_price():
    result = optimize(3.37, 0.5, -2.0, 1.0, "volume")
    assert result["recommended_price"] == 3.04
    assert result["change_pct"] == -9.79  # two decimals
    units = 1.0 * 28 * (3.04 / 3.37) ** -2.0
    assert result["expected_units"] == pytest.approx(units)
    assert result["expected_revenue"] == pytest.approx(3.04 * units)
    assert result["expected_profit"] == pytest.approx((3.04 - 0.5) * units)
    assert result["current_units"] == pytest.approx(28.0)
    assert result["current_profit"] == pytest.approx((3.37 - 0.5) * 28.0)


def test_clearance_days_and_stock_reach_the_price_and_its_confidence():
    # 15 units at 0.5 a day clear at 10 within 30 days but need 9 within 20
    in_30 = optimize(10.0, 5.0, -1.0, 0.5, "clearance", stock=15.0)
    in_20 = optimize(10.0, 5.0, -1.0, 0.5, "clearance", stock=15.0, clearance_days=20.0)
    assert (in_30["recommended_price"], in_30["confidence"]) == (10.0, 1.0)
    assert (in_20["recommended_price"], in_20["confidence"]) == (9.0, 1.0)
    assert in_20["expected_units"] == pytest.approx(0.5 * 20 / 0.9)


@pytest.mark.parametrize(
    "current, cost, elasticity", [(0.0, 1.0, -2.0), (-1.0, 1.0, -2.0), (10.0, -0.5, -2.0),
                                  (10.0, 1.0, float("nan")), (10.0, 1.0, float("inf"))]
)  # fmt: skip
def test_impossible_inputs_are_refused(current, cost, elasticity):
    with pytest.raises(ValueError) as refused:
        optimize(current, cost, elasticity, 1.0)
    assert str(refused.value) == ("current_price must be > 0, unit_cost >= 0 and elasticity finite")


def test_rounding_to_cents_never_leaves_the_window():
    # 9.004 rounds to 9.00, below the window: the first cent inside it is 9.01
    assert price_for("volume", -2.0, min_price=9.004, max_price=9.01, min_markup=0) == 9.01
    assert price_for("volume", -2.0, min_price=9.004, max_price=9.5, min_markup=0) == 9.01
