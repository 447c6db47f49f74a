"""Update and projection expressions, after the Developer Guide's examples."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from overcast.local.dynamodb.expressions import ExpressionError, parse_projection, parse_update


def product() -> dict[str, Any]:
    return {
        "Id": 789,
        "Price": 52,
        "Title": "Bicycle",
        "Color": ["Red", "Black"],
        "RelatedItems": ["Hammer", "Nails", "Screwdriver"],
        "ProductReviews": {"FiveStar": ["Best ever"], "OneStar": ["Awful"]},
        "Pictures": {"Front": "f.jpg"},
        "Quantity": 1,
    }


def updated(text: str, values: dict[str, Any] | None = None, **names: str) -> dict[str, Any]:
    return parse_update(text, {f"#{k}": v for k, v in names.items()}, values or {}).apply(product())


UPDATES = [
    ("SET Price = :p", {":p": 60}, {"Price": 60}),
    ("SET Brand = :b", {":b": "Acme"}, {"Brand": "Acme"}),
    ("SET Price = Price - :d", {":d": 2}, {"Price": 50}),
    ("SET Price = Price + :d", {":d": 0.5}, {"Price": 52.5}),
    ("SET Price = :a + :b", {":a": 0.1, ":b": 0.2}, {"Price": 0.3}),  # decimal arithmetic
    ("SET Quantity = Price + Quantity", {}, {"Quantity": 53}),
    ("SET Color = list_append(Color, :c)", {":c": ["Blue"]}, {"Color": ["Red", "Black", "Blue"]}),
    ("SET Color = list_append(:c, Color)", {":c": ["Blue"]}, {"Color": ["Blue", "Red", "Black"]}),
    ("SET Price = if_not_exists(Price, :p)", {":p": 100}, {"Price": 52}),
    ("SET Stock = if_not_exists(Stock, :p)", {":p": 100}, {"Stock": 100}),
    ("SET Hits = if_not_exists(Hits, :z) + :one", {":z": 0, ":one": 1}, {"Hits": 1}),
    ("SET Title = Pictures.Front", {}, {"Title": "f.jpg"}),
    (
        "SET RelatedItems[1] = :r",
        {":r": "Glue"},
        {"RelatedItems": ["Hammer", "Glue", "Screwdriver"]},
    ),
    (
        "SET RelatedItems[9] = :r",
        {":r": "Glue"},
        {"RelatedItems": ["Hammer", "Nails", "Screwdriver", "Glue"]},
    ),
    ("SET Pictures.Side = :s", {":s": "s.jpg"}, {"Pictures": {"Front": "f.jpg", "Side": "s.jpg"}}),
    (
        "SET ProductReviews.FiveStar[0] = :r",
        {":r": "Good"},
        {"ProductReviews": {"FiveStar": ["Good"], "OneStar": ["Awful"]}},
    ),
    ("SET Price = :p, Title = :t", {":p": 1, ":t": "T"}, {"Price": 1, "Title": "T"}),
    ("set Price = :p", {":p": 1}, {"Price": 1}),  # clause keywords ignore case
    ("ADD Quantity :n", {":n": 5}, {"Quantity": 6}),
    ("ADD Quantity :n", {":n": -1.5}, {"Quantity": -0.5}),
    ("ADD Visits :n", {":n": 3}, {"Visits": 3}),  # a missing number starts from 0
    (
        "SET Price = :p REMOVE Title ADD Quantity :n",
        {":p": 1, ":n": 1},
        {"Price": 1, "Quantity": 2},
    ),
    ("REMOVE Price, Title ADD Quantity :n", {":n": 1}, {"Quantity": 2}),
]


@pytest.mark.parametrize(("text", "values", "changed"), UPDATES)
def test_update_changes_the_item(
    text: str, values: dict[str, Any], changed: dict[str, Any]
) -> None:
    result = updated(text, values)
    expected = {**product(), **changed}
    for gone in ("Title",) if "REMOVE" in text else ():
        expected.pop(gone)
    if "REMOVE Price" in text:
        expected.pop("Price")
    assert result == expected


REMOVALS = [
    ("REMOVE Title", lambda p: p.pop("Title")),
    ("REMOVE Nope", lambda p: None),  # removing nothing is not an error
    ("REMOVE Pictures.Front", lambda p: p["Pictures"].pop("Front")),
    ("REMOVE RelatedItems[1]", lambda p: p["RelatedItems"].pop(1)),  # later elements shift
    ("REMOVE RelatedItems[9]", lambda p: None),
    ("REMOVE RelatedItems[0], RelatedItems[2]", lambda p: p.update(RelatedItems=["Nails"])),
    ("REMOVE RelatedItems[2], RelatedItems[0]", lambda p: p.update(RelatedItems=["Nails"])),
    ("REMOVE ProductReviews.OneStar[0]", lambda p: p["ProductReviews"].update(OneStar=[])),
]


@pytest.mark.parametrize(("text", "edit"), REMOVALS)
def test_remove_takes_attributes_and_elements_away(text: str, edit: Any) -> None:
    expected = product()
    edit(expected)
    assert updated(text) == expected


def test_every_operand_is_read_from_the_item_before_the_update() -> None:
    result = updated("SET Price = Quantity, Quantity = Price")
    assert (result["Price"], result["Quantity"]) == (1, 52)


def test_update_never_changes_its_input_or_shares_values_with_it() -> None:
    item = product()
    before = copy.deepcopy(item)
    update = parse_update(
        "SET Pictures.Side = :s, Color = list_append(Color, :c) REMOVE RelatedItems[0]",
        {},
        {":s": "s.jpg", ":c": ["Blue"]},
    )
    result = update.apply(item)
    result["ProductReviews"]["FiveStar"].append("mutated")
    assert item == before
    assert update.apply(item) == {**result, "ProductReviews": before["ProductReviews"]}


def test_update_reports_placeholders_and_touched_attributes() -> None:
    update = parse_update(
        "SET #p.#f = :v REMOVE Title ADD Quantity :n",
        {"#p": "Pictures", "#f": "Front", "#x": "unused"},
        {":v": 1, ":n": 2, ":x": 3},
    )
    assert update.names_used == {"#p", "#f"}
    assert update.values_used == {":v", ":n"}
    assert update.touched == {"Pictures", "Title", "Quantity"}


APPLY_ERRORS = [
    (
        "SET Price = Title + :n",
        {":n": 1},
        "An operand in the update expression has an incorrect data type",
    ),
    (
        "SET Price = Nope + :n",
        {":n": 1},
        "The provided expression refers to an attribute that does not exist in the item",
    ),
    ("SET Price = Nope", {}, "refers to an attribute that does not exist"),
    ("SET Color = list_append(Color, :s)", {":s": "Blue"}, "incorrect data type"),
    ("SET Color = list_append(Nope, :c)", {":c": ["Blue"]}, "does not exist in the item"),
    ("ADD Title :n", {":n": 1}, "incorrect data type"),
    (
        "SET Nope.Deep = :n",
        {":n": 1},
        "The document path provided in the update expression is invalid for update",
    ),
    ("SET Title.Deep = :n", {":n": 1}, "invalid for update"),
    ("SET Pictures[0] = :n", {":n": 1}, "invalid for update"),
    ("SET Color.Deep = :n", {":n": 1}, "invalid for update"),
    ("REMOVE Nope.Deep", {}, "invalid for update"),
]


@pytest.mark.parametrize(("text", "values", "message"), APPLY_ERRORS)
def test_update_of_a_wrong_operand_fails_and_changes_nothing(
    text: str, values: dict[str, Any], message: str
) -> None:
    item = product()
    update = parse_update(text, {}, values)
    with pytest.raises(ExpressionError, match=message):
        update.apply(item)
    assert item == product()


PARSE_ERRORS = [
    (
        "SET a = :v SET b = :v",
        'Invalid UpdateExpression: The "SET" section can only be used once in an update '
        "expression;",
    ),
    ("REMOVE a REMOVE b", 'The "REMOVE" section can only be used once'),
    (
        "SET a = :v REMOVE a",
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a]",
    ),
    (
        "SET a.b = :v, a = :v",
        "overlap with each other; must remove or rewrite one of these paths; "
        "path one: [a, b], path two: [a]",
    ),
    ("SET a[0] = :v, a.b = :v", "Two document paths conflict with each other"),
    ("SET a = :v, a[1] = :v", "overlap"),
    ("DELETE a :v", "the local tables store no sets"),
    (
        "ADD a :s",
        "Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
    ),
    ("ADD a :l", "operator: ADD, operand type: LIST"),
    ("ADD a b", 'Syntax error; token: "b"'),
    ("SET a :v", 'Syntax error; token: ":v"'),
    ("SET a = :v,", 'Syntax error; token: "<EOF>"'),
    ("UPSERT a = :v", 'Syntax error; token: "UPSERT"'),
    ("SET a = :v + :v + :v", 'Syntax error; token: "+"'),
    ("SET year = :v", "Attribute name is a reserved keyword; reserved keyword: year"),
    (
        "SET a = :nope",
        "An expression attribute value used in expression is not defined; attribute value: :nope",
    ),
    (
        "SET #nope = :v",
        "An expression attribute name used in the document path is not defined; "
        "attribute name: #nope",
    ),
    ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
    ("SET a = if_not_exists(:v, :v)", "Operator or function requires a document path"),
    ("SET a = nope(b)", "Invalid function name; function: nope"),
    ("  ", "Invalid UpdateExpression: The expression can not be empty;"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS)
def test_invalid_update_is_refused_with_dynamodbs_message(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_update(text, {}, {":v": 1, ":s": "x", ":l": ["x"]})
    assert message in str(raised.value)


# --- projections -----------------------------------------------------------------

PROJECTIONS = [
    ("Title, Price", {"Title": "Bicycle", "Price": 52}),
    ("Title, Nope", {"Title": "Bicycle"}),
    ("Nope", {}),
    ("Pictures.Front", {"Pictures": {"Front": "f.jpg"}}),
    ("Pictures.Nope", {}),
    ("ProductReviews.FiveStar", {"ProductReviews": {"FiveStar": ["Best ever"]}}),
    (
        "ProductReviews.FiveStar[0], Title",
        {"ProductReviews": {"FiveStar": ["Best ever"]}, "Title": "Bicycle"},
    ),
    ("RelatedItems[2]", {"RelatedItems": ["Screwdriver"]}),
    ("RelatedItems[2], RelatedItems[0]", {"RelatedItems": ["Hammer", "Screwdriver"]}),
    ("RelatedItems[0], RelatedItems[7]", {"RelatedItems": ["Hammer"]}),
    ("RelatedItems[7]", {}),
    ("Title[0], Price.Amount", {}),
    ("#p.#f", {"Pictures": {"Front": "f.jpg"}}),
]


@pytest.mark.parametrize(("text", "expected"), PROJECTIONS)
def test_projection_keeps_only_the_named_paths(text: str, expected: dict[str, Any]) -> None:
    projection = parse_projection(text, {"#p": "Pictures", "#f": "Front"})
    assert projection.apply(product()) == expected


def test_projection_returns_a_copy_and_reports_its_names() -> None:
    item = product()
    projection = parse_projection("#c, Title", {"#c": "Color", "#x": "unused"})
    projection.apply(item)["Color"].append("Green")
    assert item["Color"] == ["Red", "Black"]
    assert projection.names_used == {"#c"}


PROJECTION_ERRORS = [
    ("Title, Title", "Two document paths overlap with each other"),
    ("Pictures, Pictures.Front", "path one: [Pictures], path two: [Pictures, Front]"),
    ("a[0], a.b", "Two document paths conflict with each other"),
    ("Title,", 'Invalid ProjectionExpression: Syntax error; token: "<EOF>"'),
    ("Title Price", 'Syntax error; token: "Price"'),
    (
        "Name",
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; "
        "reserved keyword: Name",
    ),
    ("#n", "attribute name: #n"),
    ("Title = :v", 'Syntax error; token: "="'),
]


@pytest.mark.parametrize(("text", "message"), PROJECTION_ERRORS)
def test_invalid_projection_is_refused_with_dynamodbs_message(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_projection(text, {})
    assert message in str(raised.value)
