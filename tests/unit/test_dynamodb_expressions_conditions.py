"""Condition and filter expressions, case by case (Developer Guide examples where possible)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from overcast.local.dynamodb.expressions import ExpressionError, parse_condition

# The Developer Guide's ProductCatalog item, as the port stores it.
PRODUCT: dict[str, Any] = {
    "Id": 456,
    "ProductCategory": "Sporting Goods",
    "Price": 650,
    "Title": "18-Bicycle 456",
    "Description": "456 description",
    "BicycleType": "Road",
    "Brand": "Brand-Company C",
    "Color": ["Blue", "Yellow"],
    "InStock": True,
    "Discontinued": None,
    "ProductReviews": {
        "FiveStar": ["Excellent!", "Love it!"],
        "OneStar": ["Terrible product!"],
    },
    "Pictures": {"FrontView": "http://example.com/products/456_front.jpg"},
    "RelatedItems": [341, 472, 649],
    "Unicode": "é",
}

NAMES = {
    "#pr": "ProductReviews",
    "#c": "Color",
    "#dash": "Safety.Warning",
    "#s": "size",
    "#u": "_id",
}


def holds(text: str, values: dict[str, Any] | None = None, item: Any = PRODUCT) -> bool:
    return parse_condition(text, NAMES, values or {}).holds(item)


HOLDING = [
    # comparisons
    ("Price = :p", {":p": 650}),
    ("Price = :p", {":p": 650.0}),
    ("Price <> :p", {":p": 500}),
    ("Price < :p", {":p": 651}),
    ("Price <= :p", {":p": 650}),
    ("Price > :p", {":p": 649.5}),
    ("Price >= :p", {":p": 650}),
    ("Brand < :b", {":b": "Brand-Company D"}),
    ("Unicode > :s", {":s": "z"}),  # UTF-8 bytes: é (0xC3 0xA9) sorts after z
    ("#c = :l", {":l": ["Blue", "Yellow"]}),
    ("Pictures = :m", {":m": {"FrontView": "http://example.com/products/456_front.jpg"}}),
    ("InStock = :t", {":t": True}),
    ("Discontinued = :n", {":n": None}),
    ("Nope <> :p", {":p": 1}),  # NE holds for an absent attribute
    ("Price <> :s", {":s": "650"}),  # and for a value of another type
    # BETWEEN and IN
    ("Price BETWEEN :lo AND :hi", {":lo": 500, ":hi": 650}),
    ("Brand BETWEEN :lo AND :hi", {":lo": "Brand-A", ":hi": "Brand-D"}),
    ("ProductCategory IN (:c1, :c2)", {":c1": "Bicycle", ":c2": "Sporting Goods"}),
    ("RelatedItems[1] IN (:a)", {":a": 472}),
    # document paths
    ("#pr.FiveStar[1] = :v", {":v": "Love it!"}),
    ("ProductReviews.OneStar[0] = :v", {":v": "Terrible product!"}),
    ("#c[0] = :v", {":v": "Blue"}),
    # functions
    ("attribute_exists(Pictures.FrontView)", {}),
    ("attribute_not_exists(Pictures.SideView)", {}),
    ("attribute_not_exists(RelatedItems[3])", {}),
    ("attribute_not_exists(Price.Amount)", {}),
    ("attribute_type(ProductReviews.FiveStar, :t)", {":t": "L"}),
    ("attribute_type(Pictures, :t)", {":t": "M"}),
    ("attribute_type(Price, :t)", {":t": "N"}),
    ("attribute_type(Brand, :t)", {":t": "S"}),
    ("attribute_type(InStock, :t)", {":t": "BOOL"}),
    ("attribute_type(Discontinued, :t)", {":t": "NULL"}),
    ("begins_with(Pictures.FrontView, :v)", {":v": "http://"}),
    ("contains(Brand, :v)", {":v": "Company"}),
    ("contains(#c, :v)", {":v": "Yellow"}),
    ("contains(RelatedItems, :v)", {":v": 649}),
    ("size(Brand) <= :v", {":v": 15}),
    ("size(#c) = :v", {":v": 2}),
    ("size(ProductReviews.FiveStar) > :v", {":v": 1}),
    ("size(Pictures) = :v", {":v": 1}),
    ("size(Unicode) = :v", {":v": 2}),  # a string's size is its UTF-8 length
    ("size(Brand) > size(#c)", {}),
    # logic and precedence: NOT > AND > OR
    ("Price > :p AND InStock = :t", {":p": 1, ":t": True}),
    ("Price < :p OR InStock = :t", {":p": 1, ":t": True}),
    ("NOT Price < :p", {":p": 1}),
    ("NOT attribute_exists(Nope)", {}),
    ("Price < :p AND InStock = :f OR Brand = :b", {":p": 1, ":f": False, ":b": "Brand-Company C"}),
    ("Brand = :b OR Price < :p AND InStock = :f", {":p": 1, ":f": False, ":b": "Brand-Company C"}),
    ("NOT Price < :p AND InStock = :t", {":p": 1, ":t": True}),
    ("NOT (Price < :p OR InStock = :f)", {":p": 1, ":f": False}),
    ("((Price = :p))", {":p": 650}),
    ("Price = :p and InStock = :t", {":p": 650, ":t": True}),  # keywords ignore case
]

FAILING = [
    ("Price = :p", {":p": "650"}),  # different types are never equal
    ("Price < :p", {":p": "700"}),  # nor ordered
    ("Brand > :p", {":p": 1}),
    ("Nope = :p", {":p": None}),  # a missing attribute is not NULL
    ("Nope < :p", {":p": 1}),
    ("Nope BETWEEN :lo AND :hi", {":lo": 1, ":hi": 2}),
    ("Price BETWEEN :lo AND :hi", {":lo": 651, ":hi": 700}),
    ("Price IN (:a, :b)", {":a": 1, ":b": "650"}),
    ("InStock = :one", {":one": 1}),  # BOOL is not a number
    ("#c = :l", {":l": ["Yellow", "Blue"]}),  # list order matters
    ("RelatedItems[9] = :v", {":v": 1}),
    ("Pictures[0] = :v", {":v": 1}),  # an index into a map reaches nothing
    ("attribute_exists(Nope)", {}),
    ("attribute_type(Price, :t)", {":t": "S"}),
    ("attribute_type(Nope, :t)", {":t": "NULL"}),
    ("begins_with(Price, :v)", {":v": "6"}),  # not a string
    ("begins_with(Nope, :v)", {":v": "x"}),
    ("contains(Brand, :v)", {":v": "company"}),  # case-sensitive
    ("contains(RelatedItems, :v)", {":v": "649"}),
    ("contains(Price, :v)", {":v": 6}),
    ("contains(Pictures, :v)", {":v": "FrontView"}),  # not for maps
    ("size(Price) = :v", {":v": 3}),  # numbers have no size
    ("size(InStock) >= :v", {":v": 0}),
    ("size(Nope) >= :v", {":v": 0}),
    ("Price < :p AND InStock = :t OR Brand = :b", {":p": 1, ":t": True, ":b": "x"}),
    ("NOT (Price = :p)", {":p": 650}),
    ("Price < :p AND (InStock = :t OR Brand = :b)", {":p": 1, ":t": True, ":b": "x"}),
]


@pytest.mark.parametrize(("text", "values"), HOLDING)
def test_condition_holds_for_the_product(text: str, values: dict[str, Any]) -> None:
    assert holds(text, values) is True


@pytest.mark.parametrize(("text", "values"), FAILING)
def test_condition_does_not_hold_for_the_product(text: str, values: dict[str, Any]) -> None:
    assert holds(text, values) is False


def test_a_missing_item_has_no_attributes() -> None:
    assert holds("attribute_not_exists(Id)", item=None) is True
    assert holds("attribute_exists(Id)", item=None) is False
    assert holds("Id = :v", {":v": 1}, item=None) is False
    assert holds("Id <> :v", {":v": 1}, item=None) is True


def test_placeholders_reach_names_that_cannot_be_written_bare() -> None:
    item = {"Safety.Warning": "hot", "size": "big", "Safety": {"Warning": "cold"}, "_id": 1}
    assert holds("#u = :v", {":v": 1}, item=item)
    assert holds("Safety.Warning = :v AND Safety.Warning <> :x", {":v": "cold", ":x": 1}, item=item)
    assert holds("#dash = :v", {":v": "hot"}, item=item)
    assert holds("Safety.Warning = :v", {":v": "cold"}, item=item)
    assert holds("#s = :v", {":v": "big"}, item=item)


def test_evaluating_never_changes_the_item() -> None:
    before = copy.deepcopy(PRODUCT)
    holds("size(#c) = :v AND contains(RelatedItems, :x)", {":v": 2, ":x": 1})
    assert before == PRODUCT


def test_a_condition_reports_the_placeholders_it_used() -> None:
    condition = parse_condition(
        "#pr.FiveStar[0] = :a OR #c IN (:b, :c)",
        NAMES,
        {":a": 1, ":b": 2, ":c": 3, ":unused": 4},
    )
    assert condition.names_used == {"#pr", "#c"}
    assert condition.values_used == {":a", ":b", ":c"}


def test_in_takes_at_most_one_hundred_operands() -> None:
    values = {f":v{n}": n for n in range(101)}
    hundred = ", ".join(f":v{n}" for n in range(100))
    assert parse_condition(f"Price IN ({hundred})", {}, values).holds({"Price": 99})
    with pytest.raises(ExpressionError, match="number of operands: 101"):
        parse_condition(f"Price IN ({hundred}, :v100)", {}, values)


ERRORS = [
    (
        "data = :v",
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data",
    ),
    ("Pictures.Size = :v", "reserved keyword: Size"),
    (
        "#nope = :v",
        "Invalid ConditionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #nope",
    ),
    (
        "Price = :nope",
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :nope",
    ),
    ("Price = ", 'Syntax error; token: "<EOF>", near: "= "'),
    ("Price = :v AND", 'Syntax error; token: "<EOF>"'),
    ("Price == :v", 'Syntax error; token: "="'),
    ("(Price = :v", 'Syntax error; token: "<EOF>"'),
    ("Price", 'Syntax error; token: "<EOF>"'),
    ("Price = :v :v", 'Syntax error; token: ":v"'),
    ("a[x] = :v", 'Syntax error; token: "x"'),
    ("Price ! :v", 'Invalid token; token: "!"'),
    ("_id = :v", 'Invalid token; token: "_"'),  # a bare name starts with a letter
    ("a_b = :v", 'Invalid token; token: "_"'),  # and its second character is alphanumeric
    ("Price = Price", "The first operand must be distinct from the remaining operands"),
    ("", "Invalid ConditionExpression: The expression can not be empty;"),
    ("Attribute_Exists(Price)", "Invalid function name; function: Attribute_Exists"),
    ("size(Price)", 'Syntax error; token: "<EOF>"'),
    ("attribute_exists(Price) = :v", 'Syntax error; token: "="'),
    ("if_not_exists(Price, :v)", "function: if_not_exists"),
    ("attribute_exists(:v)", "Operator or function requires a document path"),
    ("size(:v) = :v", "Operator or function requires a document path; operator or function: size"),
    ("attribute_type(Price, :bad)", "Invalid attribute type name found; type: X"),
    ("begins_with(Brand, :v)", "operator or function: begins_with, operand type: N"),
    ("Price < :t", "operator or function: <, operand type: BOOL"),
    ("Price BETWEEN :big AND :v", "The BETWEEN operator requires upper bound to be greater"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_invalid_condition_is_refused_with_dynamodbs_message(text: str, message: str) -> None:
    values = {":v": 1, ":t": True, ":bad": "X", ":big": 2}
    with pytest.raises(ExpressionError) as raised:
        parse_condition(text, {}, values)
    assert message in str(raised.value)


def test_a_filter_names_itself_in_its_errors() -> None:
    with pytest.raises(ExpressionError, match=r"^Invalid FilterExpression: Syntax error"):
        parse_condition("a =", {}, {}, label="FilterExpression")
