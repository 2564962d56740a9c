"""Cisco password storage formats, so a simulated device never shows a plaintext secret.

Type 7 is the reversible Vigenère-style encoding IOS uses for ``key 7`` and
``password 7``; type 9 is scrypt (N=16384, r=1, p=1) with Cisco's base64 alphabet;
type 8 is PBKDF2-SHA256 with the same alphabet.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

_XLAT = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_CISCO = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TO_CISCO = str.maketrans(_STD, _CISCO)


def type7_encode(plain: str, seed: int = 2) -> str:
    """Encode like ``service password-encryption`` does.

    >>> type7_encode("cisco", seed=2)
    '02050D480809'
    >>> type7_decode(type7_encode("hemmelig-nøkkel", seed=11)) == "hemmelig-nøkkel"
    True
    """
    seed %= 16
    out = f"{seed:02d}"
    for i, ch in enumerate(plain.encode("utf-8")):
        out += f"{ch ^ ord(_XLAT[(seed + i) % len(_XLAT)]):02X}"
    return out


def type7_decode(encoded: str) -> str:
    """Reverse :func:`type7_encode`.

    >>> type7_decode("02050D480809")
    'cisco'
    """
    seed = int(encoded[:2])
    data = bytes(int(encoded[i:i + 2], 16) ^ ord(_XLAT[(seed + (i - 2) // 2) % len(_XLAT)])
                 for i in range(2, len(encoded), 2))
    return data.decode("utf-8")


def salt_for(text: str) -> str:
    """A stable 14-character salt in Cisco's alphabet, derived from ``text``.

    >>> len(salt_for("radhuset-core01 enable secret"))
    14
    """
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "".join(_CISCO[b % 64] for b in digest[:14])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=").translate(_TO_CISCO)


@lru_cache(maxsize=4096)
def type9_hash(plain: str, salt: str) -> str:
    """Cisco type 9 (scrypt) hash text, as shown after ``secret 9``.

    >>> h = type9_hash("cisco", "abcdefghijklmn")
    >>> h.startswith("$9$abcdefghijklmn$"), len(h.split("$")[3])
    (True, 43)
    """
    raw = hashlib.scrypt(plain.encode("utf-8"), salt=salt.encode("ascii"),
                         n=16384, r=1, p=1, dklen=32)
    return f"$9${salt}${_b64(raw)}"


@lru_cache(maxsize=4096)
def type8_hash(plain: str, salt: str) -> str:
    """Cisco type 8 (PBKDF2-SHA256) hash text.

    >>> type8_hash("x", "abcdefghijklmn").startswith("$8$abcdefghijklmn$")
    True
    """
    raw = hashlib.pbkdf2_hmac("sha256", plain.encode("utf-8"), salt.encode("ascii"), 20000)
    return f"$8${salt}${_b64(raw)}"
