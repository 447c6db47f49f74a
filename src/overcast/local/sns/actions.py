"""The query-protocol actions SNS serves here (the endpoint routes unsigned form requests
by them; :mod:`overcast.local.sns.app` dispatches them)."""

SNS_ACTIONS = (
    b"ListTopics",
    b"GetTopicAttributes",
    b"ListSubscriptions",
    b"ListSubscriptionsByTopic",
    b"Publish",
    b"PublishBatch",
    b"CreateTopic",
)
