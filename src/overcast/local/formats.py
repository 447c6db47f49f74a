"""Small text formats the local cloud's endpoints share with AWS."""

from __future__ import annotations

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def uuid4_from(entropy: bytes) -> str:
    """A version-4 UUID string from (at least) 16 random bytes; cheaper than ``uuid.UUID``."""
    h = entropy[:16].hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[entropy[8] & 3]}{h[17:20]}-{h[20:32]}"
