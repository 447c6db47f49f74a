"""Invalidation batches are read as CloudFront reads them and kept across restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from overcast.local.cloudfront import errors
from overcast.local.cloudfront.store import Invalidation, InvalidationStore
from overcast.local.cloudfront.xml import parse_batch

BATCH = (
    b'<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<CallerReference>r1</CallerReference><Paths><Quantity>2</Quantity>"
    b"<Items><Path>/a</Path><Path>/b*</Path></Items></Paths></InvalidationBatch>"
)


def test_a_batch_is_read_with_its_claimed_quantity() -> None:
    batch = parse_batch(BATCH)

    assert (batch.caller_reference, batch.quantity, batch.paths) == ("r1", 2, ["/a", "/b*"])


@pytest.mark.parametrize("quantity", ["\u00b2", "-1", "1" * 20])
def test_a_quantity_that_is_not_a_small_ascii_number_is_malformed(quantity: str) -> None:
    body = BATCH.replace(b"<Quantity>2</Quantity>", f"<Quantity>{quantity}</Quantity>".encode())

    with pytest.raises(errors.MalformedInput):
        parse_batch(body)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", errors.MissingBody),
        (b"<InvalidationBatch>", errors.MalformedInput),
        (b"<Other/>", errors.MalformedInput),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><InvalidationBatch/>', errors.MalformedInput),
        (b"<InvalidationBatch><Paths><Quantity>1</Quantity></Paths></InvalidationBatch>",
         errors.InvalidArgument),
    ],
    ids=["empty", "unclosed", "other-root", "entity", "no-reference"],
)  # fmt: skip
def test_a_body_that_is_not_a_batch_is_refused(
    body: bytes, error: type[errors.CloudFrontError]
) -> None:
    with pytest.raises(error):
        parse_batch(body)


def test_invalidations_are_kept_across_a_restart_and_a_reference_is_taken_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "invalidations.sqlite3"
    made = Invalidation("I1", "E1", "ref", ("/a",), datetime(2025, 1, 1, tzinfo=UTC))
    store = InvalidationStore(path)
    store.add(made)
    store.close()

    again = InvalidationStore(path)
    racing = again.add(Invalidation("I2", "E1", "ref", ("/a",), datetime.now(UTC)))

    assert racing == made
    assert again.get("E1", "I1") == made
    assert again.get("E2", "I1") is None
    assert again.count("E1") == 1
    again.close()
