from overcast.local.trigger_ids import trigger_ids


def test_each_trigger_is_named_after_its_source_and_function() -> None:
    # Given two triggers of different pairs
    pairs = [("signups", "welcome"), ("articles", "pages")]

    # When they are named
    names = trigger_ids(pairs)

    # Then each name is <source>-><function>
    assert names == ["signups->welcome", "articles->pages"]


def test_a_repeated_pair_is_numbered_in_declaration_order() -> None:
    # Given the same queue triggering the same function three times, among others
    pairs = [("jobs", "worker"), ("other", "worker"), ("jobs", "worker"), ("jobs", "worker")]

    # When they are named
    names = trigger_ids(pairs)

    # Then the first keeps the plain name and the later ones are numbered from 2
    assert names == ["jobs->worker", "other->worker", "jobs->worker#2", "jobs->worker#3"]
