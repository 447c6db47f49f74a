"""S3 request bodies: aws-chunked decoding, chunk signatures, checksums and Content-MD5."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import zlib
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from starlette.types import Message, Receive

from overcast.local.auth import canonical
from overcast.local.auth.chunked import ChunkChain
from overcast.local.auth.sigv4 import Credentials
from overcast.local.iam.principals import Principal, Session
from overcast.local.s3.auth import S3Authenticator, S3Request
from overcast.local.s3.errors import (
    BadDigest,
    EntityTooLarge,
    IncompleteBody,
    InvalidChunkSizeError,
    InvalidDigest,
    InvalidRequest,
    MalformedTrailerError,
    MissingContentLength,
    SignatureDoesNotMatch,
)
from overcast.local.s3.payload import Payload, payload_from_headers
from tests.unit.test_s3_auth import (
    HTTP,
    ROOT_KEYS,
    authenticate,
    boto_credentials,
    client_request,
    drain,
    receive_of,
    received,
    signed,
)

# The S3 API reference's "Example: PUT Object" of a signed chunked upload: 66560
# bytes of "a" in chunks of 65536, 1024 and 0 bytes, with the signatures AWS lists.
EXAMPLE_KEYS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_TIME = datetime(2013, 5, 24, tzinfo=UTC)
EXAMPLE_SCOPE = "20130524/us-east-1/s3/aws4_request"
SEED_SIGNATURE = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE_SESSION = Session(EXAMPLE_KEYS, Principal("arn:aws:iam::111122223333:root", "1", "1"))
EXAMPLE_KEY = canonical.signing_key(EXAMPLE_KEYS.secret_access_key, "20130524", "us-east-1", "s3")


def example_request() -> S3Request:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED_SIGNATURE}"
    )
    headers = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", authorization),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ]
    return S3Request("PUT", "/examplebucket/chunkObject.txt", "", headers, secure=True)


def example_body() -> bytes:
    body = b""
    for size, signature in zip((65536, 1024, 0), CHUNK_SIGNATURES, strict=True):
        body += b"%x;chunk-signature=%s\r\n" % (size, signature.encode()) + b"a" * size + b"\r\n"
    return body


def example_authenticator() -> S3Authenticator:
    sessions = {EXAMPLE_KEYS.access_key_id: EXAMPLE_SESSION}
    return S3Authenticator(sessions.get, region="us-east-1", clock=lambda: EXAMPLE_TIME)


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def crc32_of(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


async def store(payload: Payload, receive: Receive, committed: list[bytes]) -> None:
    """A consumer that commits the object only once the body has been read to its end."""
    parts = [piece async for piece in payload.chunks(receive)]
    committed.append(b"".join(parts))


# --- what botocore sends: aws-chunked with an unsigned trailing checksum --------------


@pytest.mark.parametrize(("algorithm", "digest"), [("CRC32", None), ("SHA256", hashlib.sha256)])
def test_botocore_aws_chunked_upload_with_a_trailing_checksum_decodes_and_verifies(
    algorithm: str, digest: object
) -> None:
    data = os.urandom(300_000)
    request, body = client_request(
        "put_object", Bucket="bucket", Key="big.bin", Body=data, ChecksumAlgorithm=algorithm
    )
    assert request.header("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    payload = authenticate(request).payload

    assert drain(payload, *pieces(body, 65536)) == data
    expected = (
        crc32_of(data)
        if algorithm == "CRC32"
        else base64.b64encode(hashlib.sha256(data).digest()).decode()
    )
    assert payload.checksums == {algorithm: expected}


def test_a_corrupted_byte_in_transit_is_refused_before_the_object_is_committed() -> None:
    data = b"x" * 50_000
    request, body = client_request("put_object", Bucket="bucket", Key="k", Body=data)
    corrupted = body.replace(b"xxxx", b"xxyx", 1)
    payload = authenticate(request).payload
    committed: list[bytes] = []

    with pytest.raises(BadDigest, match="The CRC32 you specified did not match"):
        asyncio.run(store(payload, receive_of(*pieces(corrupted, 4096)), committed))

    assert committed == []
    assert payload.checksums == {}


def test_framing_split_at_every_byte_boundary_decodes_the_same() -> None:
    request, body = client_request("put_object", Bucket="bucket", Key="k", Body=b"hello world")

    for split in range(len(body) + 1):
        payload = authenticate(request).payload
        assert drain(payload, body[:split], body[split:]) == b"hello world", split
        assert payload.checksums == {"CRC32": crc32_of(b"hello world")}
    assert drain(authenticate(request).payload, *pieces(body, 1)) == b"hello world"


def test_a_body_that_ends_before_its_final_chunk_is_incomplete() -> None:
    request, body = client_request("put_object", Bucket="bucket", Key="k", Body=b"a" * 100)

    with pytest.raises(IncompleteBody):
        drain(authenticate(request).payload, body[:60])


def test_a_client_that_disconnects_mid_body_sent_an_incomplete_body() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"5\r\nhel", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    async def run() -> None:
        payload = payload_from_headers([], "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        async for _ in payload.chunks(receive):
            pass

    with pytest.raises(IncompleteBody):
        asyncio.run(run())


def unsigned_trailer_payload(decoded_length: str | None = "11", trailer: str = "") -> Payload:
    headers = [("x-amz-trailer", trailer)] if trailer else []
    if decoded_length is not None:
        headers.append(("x-amz-decoded-content-length", decoded_length))
    return payload_from_headers(headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")


def test_a_decoded_length_other_than_declared_is_an_incomplete_body() -> None:
    body = b"b\r\nhello world\r\n0\r\n\r\n"

    assert drain(unsigned_trailer_payload("11"), body) == b"hello world"
    with pytest.raises(IncompleteBody, match="fewer bytes"):
        drain(unsigned_trailer_payload("12"), body)
    with pytest.raises(IncompleteBody, match="more bytes"):
        drain(unsigned_trailer_payload("10"), body)


def test_a_trailer_that_x_amz_trailer_did_not_announce_is_malformed() -> None:
    body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-sha1:" + b"A" * 28 + b"\r\n\r\n"

    with pytest.raises(MalformedTrailerError, match="x-amz-checksum-sha1"):
        drain(unsigned_trailer_payload(trailer="x-amz-checksum-crc32"), body)


def test_an_announced_trailer_that_never_comes_is_malformed() -> None:
    with pytest.raises(MalformedTrailerError, match="not sent"):
        drain(
            unsigned_trailer_payload(trailer="x-amz-checksum-crc32"),
            b"b\r\nhello world\r\n0\r\n\r\n",
        )


def test_a_chunk_size_that_is_not_hex_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="aws-chunked"):
        drain(unsigned_trailer_payload(None), b"zz\r\nhello world\r\n0\r\n\r\n")


def test_a_checksum_algorithm_this_endpoint_cannot_compute_is_refused_up_front() -> None:
    request, _ = signed("PUT", body=b"data", headers={"x-amz-checksum-crc32c": "AAAAAA=="})

    with pytest.raises(InvalidRequest, match="CRC32C checksum algorithm is not supported"):
        authenticate(request)
    with pytest.raises(InvalidRequest, match="CRC64NVME"):
        unsigned_trailer_payload(trailer="x-amz-checksum-crc64nvme")


def test_a_checksum_header_that_does_not_match_the_body_is_a_bad_digest() -> None:
    request, body = signed("PUT", body=b"data", headers={"x-amz-checksum-crc32": crc32_of(b"date")})

    with pytest.raises(BadDigest) as caught:
        drain(authenticate(request).payload, body)

    assert caught.value.message == "The CRC32 you specified did not match the calculated checksum."


def test_a_checksum_header_that_matches_is_reported_verified() -> None:
    request, body = signed("PUT", body=b"data", headers={"x-amz-checksum-crc32": crc32_of(b"data")})
    payload = authenticate(request).payload

    drain(payload, body)

    assert payload.checksums == {"CRC32": crc32_of(b"data")}


def test_two_checksums_for_one_body_are_an_invalid_request() -> None:
    headers = {"x-amz-checksum-crc32": crc32_of(b"x"), "x-amz-checksum-sha1": "A" * 27 + "="}

    with pytest.raises(InvalidRequest, match="Multiple checksum Types"):
        authenticate(signed("PUT", body=b"x", headers=headers)[0])


# --- Content-MD5 ----------------------------------------------------------------------


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def test_a_matching_content_md5_is_verified() -> None:
    request, body = signed("PUT", body=b"report", headers={"Content-MD5": md5_of(b"report")})
    payload = authenticate(request).payload

    assert drain(payload, body) == b"report"
    assert payload.content_md5 == hashlib.md5(b"report", usedforsecurity=False).hexdigest()


def test_a_content_md5_of_other_bytes_is_a_bad_digest() -> None:
    request, body = signed("PUT", body=b"report", headers={"Content-MD5": md5_of(b"rep0rt")})

    with pytest.raises(BadDigest, match="Content-MD5") as caught:
        drain(authenticate(request).payload, body)

    assert caught.value.details["CalculatedDigest"] == md5_of(b"report")


def test_a_content_md5_that_is_no_md5_is_an_invalid_digest() -> None:
    request, _ = signed("PUT", body=b"report", headers={"Content-MD5": "not-base64!"})

    with pytest.raises(InvalidDigest):
        authenticate(request)


def test_read_all_returns_a_small_body_and_refuses_one_past_its_limit() -> None:
    request, body = signed("PUT", body=b"<Tagging/>")

    assert asyncio.run(authenticate(request).payload.read_all(receive_of(body), 100)) == body
    with pytest.raises(EntityTooLarge):
        asyncio.run(authenticate(request).payload.read_all(receive_of(*pieces(body, 3)), 5))


# --- signed chunks: the documented example, and the rules around it ---------------------


def test_the_documented_chunk_signatures_chain_from_the_seed() -> None:
    chain = ChunkChain(EXAMPLE_KEY, "20130524T000000Z", EXAMPLE_SCOPE, SEED_SIGNATURE)

    for size, signature in zip((65536, 1024, 0), CHUNK_SIGNATURES, strict=True):
        assert chain.chunk(hashlib.sha256(b"a" * size).hexdigest(), signature)


def test_the_trailer_signature_matches_the_aws_crt_vector() -> None:
    # aws-crt's chunk signer tests sign trailers first:1st, second:2nd, third:3rd after
    # the documented final chunk signature; the expected value is theirs.
    chain = ChunkChain(EXAMPLE_KEY, "20130524T000000Z", EXAMPLE_SCOPE, CHUNK_SIGNATURES[2])
    trailers = [("first", "1st"), ("second", "2nd"), ("third", "3rd")]

    assert chain.trailer(
        trailers, "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
    )


@pytest.mark.parametrize("size", [1, 7, 8192, 100_000])
def test_the_documented_signed_chunked_put_is_authenticated_and_decoded(size: int) -> None:
    authentication = example_authenticator().authenticate(example_request())

    assert authentication.session == EXAMPLE_SESSION
    assert drain(authentication.payload, *pieces(example_body(), size)) == b"a" * 66560


def test_a_changed_byte_in_a_signed_chunk_breaks_the_chain() -> None:
    body = bytearray(example_body())
    body[body.index(b"400;chunk-signature") + 100] = ord("b")  # inside the second chunk
    committed: list[bytes] = []
    payload = example_authenticator().authenticate(example_request()).payload

    with pytest.raises(SignatureDoesNotMatch):
        asyncio.run(store(payload, receive_of(*pieces(bytes(body), 8192)), committed))

    assert committed == []


def test_signed_chunks_in_another_order_break_the_chain() -> None:
    chunks = list(zip((65536, 1024, 0), CHUNK_SIGNATURES, strict=True))
    reordered = [chunks[1], chunks[0], chunks[2]]
    body = b"".join(
        b"%x;chunk-signature=%s\r\n%s\r\n" % (size, signature.encode(), b"a" * size)
        for size, signature in reordered
    )

    with pytest.raises(SignatureDoesNotMatch):
        drain(example_authenticator().authenticate(example_request()).payload, body)


def streaming_request(
    content_sha256: str, decoded_length: int, trailer: str | None = None
) -> tuple[S3Request, str, str]:
    """A signed streaming PUT's headers, its seed signature and its timestamp.

    botocore signs no streaming bodies itself; its generic signer signs the
    ``x-amz-content-sha256`` value it is given, which is all a seed signature is.
    """
    headers = {
        "x-amz-content-sha256": content_sha256,
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(decoded_length),
    }
    if trailer is not None:
        headers["x-amz-trailer"] = trailer
    request = AWSRequest(method="PUT", url=HTTP + "/bucket/key", headers=headers)
    SigV4Auth(boto_credentials(ROOT_KEYS), "s3", "us-east-1").add_auth(request)
    s3_request = received(request.prepare())
    seed = (s3_request.header("authorization") or "").rsplit("Signature=", 1)[1]
    return s3_request, seed, s3_request.header("x-amz-date") or ""


def sign_body(
    seed: str, timestamp: str, chunks: list[bytes], trailers: list[tuple[str, str]] | None = None
) -> bytes:
    """Sign chunks (and trailers) as a client does, independently of the server's chain."""
    key = canonical.signing_key(ROOT_KEYS.secret_access_key, timestamp[:8], "us-east-1", "s3")
    scope = f"{timestamp[:8]}/us-east-1/s3/aws4_request"
    previous, body = seed, b""
    for data in [*chunks, b""]:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                timestamp,
                scope,
                previous,
                hashlib.sha256(b"").hexdigest(),
                hashlib.sha256(data).hexdigest(),
            ]
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += b"%x;chunk-signature=%s\r\n%s" % (len(data), previous.encode(), data)
        body += b"\r\n" if data else b""
    if trailers is None:
        return body + b"\r\n"
    text = "".join(f"{name}:{value}\n" for name, value in trailers)
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            timestamp,
            scope,
            previous,
            hashlib.sha256(text.encode()).hexdigest(),
        ]
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    lines = [f"{name}:{value}\r\n" for name, value in trailers]
    return (
        body + "".join(lines).encode() + b"x-amz-trailer-signature:%s\r\n\r\n" % signature.encode()
    )


def test_a_signed_chunk_smaller_than_8_kib_before_another_is_refused() -> None:
    request, seed, timestamp = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 9216)
    body = sign_body(seed, timestamp, [b"a" * 1024, b"a" * 8192])

    with pytest.raises(InvalidChunkSizeError) as caught:
        drain(authenticate(request).payload, body)

    assert caught.value.details == {"Chunk": "1", "BadChunkSize": "1024"}


def test_signed_chunks_split_at_every_byte_boundary_decode_the_same() -> None:
    request, seed, timestamp = streaming_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 11)
    body = sign_body(seed, timestamp, [b"hello world"])

    for split in range(len(body) + 1):
        assert drain(authenticate(request).payload, body[:split], body[split:]) == b"hello world"


def test_signed_chunks_with_a_signed_checksum_trailer_are_verified() -> None:
    data = b"q" * 20_000
    request, seed, timestamp = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", len(data), "x-amz-checksum-crc32"
    )
    trailer = [("x-amz-checksum-crc32", crc32_of(data))]
    payload = authenticate(request).payload

    assert (
        drain(payload, sign_body(seed, timestamp, [data[:10_000], data[10_000:]], trailer)) == data
    )
    assert payload.checksums == {"CRC32": crc32_of(data)}


def test_a_signed_trailer_changed_in_transit_does_not_match() -> None:
    data = b"q" * 100
    request, seed, timestamp = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", len(data), "x-amz-checksum-crc32"
    )
    body = sign_body(seed, timestamp, [data], [("x-amz-checksum-crc32", crc32_of(data))])
    forged = body.replace(crc32_of(data).encode(), crc32_of(b"other").encode())

    with pytest.raises(SignatureDoesNotMatch):
        drain(authenticate(request).payload, forged)


def test_a_correctly_signed_but_wrong_trailing_checksum_is_a_bad_digest() -> None:
    data = b"q" * 100
    request, seed, timestamp = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", len(data), "x-amz-checksum-crc32"
    )
    body = sign_body(seed, timestamp, [data], [("x-amz-checksum-crc32", crc32_of(b"other"))])

    with pytest.raises(BadDigest):
        drain(authenticate(request).payload, body)


def test_signed_chunks_need_their_decoded_length() -> None:
    chain = ChunkChain(EXAMPLE_KEY, "20130524T000000Z", EXAMPLE_SCOPE, SEED_SIGNATURE)

    with pytest.raises(MissingContentLength):
        payload_from_headers([], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chain)


def test_signed_streaming_without_a_signature_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="needs a signed request"):
        payload_from_headers([], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


def test_an_anonymous_upload_passes_its_body_through() -> None:
    request = S3Request("PUT", "/bucket/key", "", [("host", "h")], secure=True)

    authentication = authenticate(request)

    assert authentication.session is None
    assert drain(authentication.payload, b"a", b"b") == b"ab"
