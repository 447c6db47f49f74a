"""What the S3 endpoint tells about each object it creates (the event's name and who).

S3 names an object-created event after the API that created it: ``ObjectCreated:Put``
(PutObject), ``:Post`` (a browser-based POST upload), ``:Copy`` (CopyObject) and
``:CompleteMultipartUpload``. ``userIdentity.principalId`` is the requester
("AWS:<user id>", the caller's unique id), ``requestParameters.sourceIPAddress`` its
address, ``responseElements`` the request's ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from overcast.local.iam.principals import Principal
from overcast.local.s3.requests import Operation, S3Call
from overcast.ports.objects.filesystem_events import Creation, creating

EVENT_NAMES = {
    Operation.PUT_OBJECT: "ObjectCreated:Put",
    Operation.COPY_OBJECT: "ObjectCreated:Copy",
    Operation.COMPLETE_MULTIPART_UPLOAD: "ObjectCreated:CompleteMultipartUpload",
}
POST = "ObjectCreated:Post"


def creation_of(
    call: S3Call, principal: Principal | None, request_id: str, host_id: str, event_name: str
) -> Creation:
    who = "" if principal is None else f"AWS:{principal.user_id}"
    return Creation(event_name, who, call.source_ip, request_id, host_id)


@contextmanager
def objects_created_by(
    call: S3Call, principal: Principal | None, request_id: str = "", host_id: str = ""
) -> Iterator[None]:
    """Objects written inside are created by ``call`` (its event name, caller, address)."""
    event_name = EVENT_NAMES.get(call.operation, "ObjectCreated:Put")
    with creating(creation_of(call, principal, request_id, host_id, event_name)):
        yield
