"""SQS's digests are computed as SQS computes them (vectors published for SQS's
algorithm), and declarations of queues and topics check SQS's and SNS's rules."""

from __future__ import annotations

import pytest

from overcast import spec
from overcast.ports.queues import MessageAttribute
from overcast.ports.queues.exceptions import InvalidMessage
from overcast.ports.queues.validation import check_attributes, md5_of_attributes, md5_of_body
from overcast.spec import DeclarationError


@pytest.mark.parametrize(
    ("attributes", "digest"),
    [
        (
            {"attribName1": MessageAttribute("String", "attribValue 1")},
            "19e27d4e946b072f3f58da80d94fd778",
        ),
        (
            {
                "customNumberTypeAttrib": MessageAttribute(
                    "Number.float", "4563442423554324324264524243.32543234"
                )
            },
            "9fe1b90bbd9965bdf77bac517c7d2495",
        ),
        (
            {"binaryAttribute": MessageAttribute("Binary", binary_value=b"Hello binary world!")},
            "31a92b15d92f8db860eda32aceb656c3",
        ),
    ],
)
def test_the_attribute_digest_follows_sqs_algorithm(
    attributes: dict[str, MessageAttribute], digest: str
) -> None:
    assert md5_of_attributes(attributes) == digest


def test_no_attributes_have_no_digest_and_the_body_digest_is_its_md5() -> None:
    assert md5_of_attributes({}) is None
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"


fn = spec.Function("worker", handler="tests.fixtures.handlers:echo", timeout_seconds=30)
fifo_topic = spec.Topic("t", fifo=True)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: spec.Queue("q", visibility_timeout_seconds=43_201), "visibility_timeout"),
        (lambda: spec.Queue("q", delay_seconds=901), "delay_seconds"),
        (lambda: spec.Queue("q", retention_seconds=59), "retention_seconds"),
        (lambda: spec.Queue("q", receive_wait_seconds=21), "receive_wait_seconds"),
        (lambda: spec.Queue("q", content_based_deduplication=True), "fifo=True"),
        (lambda: spec.Topic("t", content_based_deduplication=True), "fifo=True"),
        (lambda: spec.DeadLetter(spec.Queue("d"), max_receive_count=0), "max_receive_count"),
        (
            lambda: spec.Queue("q", fifo=True, dead_letter=spec.DeadLetter(spec.Queue("d"))),
            "must be a FIFO queue too",
        ),
        (lambda: spec.Subscription(fifo_topic, spec.Queue("q")), "FIFO topic can only feed"),
        (
            lambda: spec.Subscription(spec.Topic("t"), spec.Queue("q"), filter_policy="{"),
            "invalid filter policy",
        ),
        (lambda: spec.QueueTrigger(spec.Queue("q", visibility_timeout_seconds=60), fn, 11), "1 s"),
        (lambda: spec.QueueTrigger(spec.Queue("q", fifo=True), fn, batch_size=11), "1-10"),
        (
            lambda: spec.QueueTrigger(spec.Queue("q", visibility_timeout_seconds=10), fn),
            "shorter than the function.s timeout",
        ),
        (
            lambda: spec.QueueTrigger(
                spec.Queue("q", visibility_timeout_seconds=60), fn, maximum_concurrency=1
            ),
            "2-1000",
        ),
    ],
)
def test_invalid_messaging_declarations_are_refused(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(DeclarationError, match=message):
        build()


def test_a_service_refuses_undeclared_queues_and_names_fifo_ones_with_the_suffix() -> None:
    dead = spec.Queue("dead", fifo=True)
    line = spec.Queue("line", fifo=True, dead_letter=spec.DeadLetter(dead))
    with pytest.raises(DeclarationError, match="does not declare in queues="):
        spec.Service("shop", queues=(line,))
    service = spec.Service("shop", queues=(line, dead), topics=(fifo_topic,))
    assert service.queue_name(line) == "shop-line.fifo"
    assert service.topic_name(fifo_topic) == "shop-t.fifo"
    publisher = spec.Function("pub", handler="m:f", topics=(spec.Topic("other"),))
    with pytest.raises(DeclarationError, match="does not declare in topics="):
        spec.Service("shop", functions=(publisher,))


def test_a_queue_triggers_function_is_one_of_the_services_functions() -> None:
    queue = spec.Queue("jobs", visibility_timeout_seconds=180)
    service = spec.Service("shop", queues=(queue,), queue_triggers=(spec.QueueTrigger(queue, fn),))
    assert [function.name for function in service.all_functions] == ["worker"]


def test_a_too_long_queue_name_is_refused() -> None:
    queue = spec.Queue("q" * 63)
    with pytest.raises(DeclarationError, match="80 characters"):
        spec.Service("s" * 20, queues=(queue,))


@pytest.mark.parametrize("text", ["1e127", "-1e127", "1e-129", "-2.5e-130"])
def test_a_number_attribute_outside_sqs_range_is_refused(text: str) -> None:
    # SQS: Number values range "from 10^-128 to 10^+126" in magnitude
    with pytest.raises(InvalidMessage, match="range"):
        check_attributes({"n": MessageAttribute("Number", text)})


@pytest.mark.parametrize("text", ["0", "1e126", "-1e126", "1e-128", "-42.5"])
def test_a_number_attribute_within_sqs_range_is_accepted(text: str) -> None:
    assert check_attributes({"n": MessageAttribute("Number", text)}) > 0
