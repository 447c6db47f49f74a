"""Bucket notifications to topics and queues, as declared: S3's rules checked when built."""

from __future__ import annotations

import pytest

from overcast import spec

PHOTOS = spec.Bucket("photos")
UPLOADS = spec.Queue("uploads")
ARRIVALS = spec.Topic("arrivals")
THUMBNAILS = spec.Function("thumbnails", "thumbs.handler:handler")


def _service(
    *notifications: spec.ObjectCreatedNotification,
    triggers: tuple[spec.ObjectCreatedTrigger, ...] = (),
    queues: tuple[spec.Queue, ...] = (UPLOADS,),
    topics: tuple[spec.Topic, ...] = (ARRIVALS,),
) -> spec.Service:
    return spec.Service(
        "blog",
        buckets=(PHOTOS,),
        queues=queues,
        topics=topics,
        object_triggers=triggers,
        object_notifications=notifications,
    )


def test_a_bucket_notifies_a_queue_and_a_topic_of_different_keys() -> None:
    to_queue = spec.ObjectCreatedNotification(PHOTOS, UPLOADS, prefix="uploads/", suffix=".jpg")
    to_topic = spec.ObjectCreatedNotification(PHOTOS, ARRIVALS, prefix="inbox/")
    service = _service(to_queue, to_topic)
    assert service.object_notifications == (to_queue, to_topic)
    assert to_queue.matches("uploads/a.jpg")
    assert not to_queue.matches("uploads/a.png")
    assert not to_queue.matches("inbox/a.jpg")


@pytest.mark.parametrize(
    "target", [spec.Queue("ledger", fifo=True), spec.Topic("entries", fifo=True)]
)
def test_a_fifo_destination_is_refused_as_s3_refuses_it(target: spec.Topic | spec.Queue) -> None:
    with pytest.raises(spec.DeclarationError, match="FIFO"):
        spec.ObjectCreatedNotification(PHOTOS, target)


def test_a_notification_overlapping_a_function_trigger_is_refused() -> None:
    trigger = spec.ObjectCreatedTrigger(PHOTOS, THUMBNAILS, prefix="uploads/")
    overlapping = spec.ObjectCreatedNotification(PHOTOS, UPLOADS, prefix="uploads/raw/")
    with pytest.raises(spec.DeclarationError, match="overlap"):
        _service(overlapping, triggers=(trigger,))
    # ... while one of other keys is welcome
    apart = spec.ObjectCreatedNotification(PHOTOS, UPLOADS, prefix="inbox/")
    assert _service(apart, triggers=(trigger,)).object_triggers == (trigger,)


def test_two_notifications_that_can_match_one_key_are_refused() -> None:
    jpgs = spec.ObjectCreatedNotification(PHOTOS, UPLOADS, suffix=".jpg")
    uploads = spec.ObjectCreatedNotification(PHOTOS, ARRIVALS, prefix="uploads/")
    with pytest.raises(spec.DeclarationError, match="overlap"):
        _service(jpgs, uploads)
    # ... as are two of the same filter, even to one destination
    with pytest.raises(spec.DeclarationError, match="overlap"):
        _service(jpgs, spec.ObjectCreatedNotification(PHOTOS, UPLOADS, suffix=".jpg"))


def test_notifications_of_different_buckets_never_overlap() -> None:
    other = spec.Bucket("other")
    one = spec.ObjectCreatedNotification(PHOTOS, UPLOADS)
    two = spec.ObjectCreatedNotification(other, ARRIVALS)
    service = spec.Service(
        "blog",
        buckets=(PHOTOS, other),
        queues=(UPLOADS,),
        topics=(ARRIVALS,),
        object_notifications=(one, two),
    )
    assert len(service.object_notifications) == 2


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"queues": ()}, "queues="),
        ({"topics": ()}, "topics="),
    ],
)
def test_an_undeclared_destination_is_refused(kwargs: dict[str, tuple[()]], missing: str) -> None:
    target: spec.Topic | spec.Queue = UPLOADS if missing == "queues=" else ARRIVALS
    with pytest.raises(spec.DeclarationError, match=missing):
        _service(spec.ObjectCreatedNotification(PHOTOS, target), **kwargs)  # type: ignore[arg-type]


def test_an_undeclared_bucket_is_refused() -> None:
    stray = spec.ObjectCreatedNotification(spec.Bucket("stray"), UPLOADS)
    with pytest.raises(spec.DeclarationError, match="buckets="):
        _service(stray)
