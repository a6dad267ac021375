"""age v1 encryption to X25519 recipients, streamed (a thin wrapper over pyrage).

pyrage's ``encrypt_io``/``decrypt_io`` read the source in 8 KiB ``read()`` calls and write
age's 64 KiB STREAM chunks as they go, so memory stays flat for any file size.

age has no sender authentication: sign first, then encrypt (see :mod:`ketenx.exchange.dsse`).

Streaming decryption writes each 64 KiB chunk once that chunk is authenticated, so when
decryption fails part-way (a truncated or damaged file) ``dst`` already holds a prefix of
the plaintext. Callers of :func:`decrypt_stream` must discard ``dst`` on any error
(``unpack`` decrypts into its private staging folder and shows nothing until it verified).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import pyrage
from pyrage import x25519

from ..errors import KetenxError, KeyMaterialError, OperationalError, VerificationError
from ..storage.keys import parse_age_identity

#: pyrage's messages for a header that is not (or no longer) an age v1 header.
_HEADER_FAILURES = ("header", "unknown age format", "armor", "fill whole buffer")


class _Tap:
    """Forwards ``read``/``write`` to a stream and remembers the first I/O exception.

    pyrage reports an exception raised by the stream in the same way as a cryptographic
    failure (or wraps it into its own exception type); the tap tells the two apart. A
    :class:`KetenxError` raised by the stream itself (a streaming parser refusing what it
    is fed) and a :class:`BaseException` that is no error (an interrupt, the CLI's
    SIGTERM/SIGHUP exception) are raised again as they are (:func:`_reraise`).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.error: BaseException | None = None

    def _guard(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            raise

    def read(self, size: int = -1) -> bytes:
        return bytes(self._guard(lambda: self._stream.read(size)))

    def write(self, data: bytes) -> int:
        result = self._guard(lambda: self._stream.write(data))
        return len(data) if result is None else int(result)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True


def _reraise(*taps: _Tap) -> None:
    """Raise again what a stream raised that is ketenx's own or no error at all."""
    for tap in taps:
        error = tap.error
        if isinstance(error, KetenxError) or not isinstance(error, Exception | None):
            raise error


def _io_failure(which: str, tap: _Tap) -> OperationalError:
    exc = tap.error
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return OperationalError(f"{which} failed: {reason}")


def _recipients(recipients: Sequence[str]) -> list[Any]:
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of strings, not one string")
    if not recipients:
        raise KeyMaterialError("no age recipients given to encrypt to")
    parsed: list[Any] = []
    for index, recipient in enumerate(recipients):
        try:
            parsed.append(x25519.Recipient.from_str(recipient.strip()))
        except Exception:
            raise KeyMaterialError(
                f"age recipient {index} is not a valid age X25519 recipient (age1…)"
            ) from None
    return parsed


def _identity(identity: Any) -> Any:
    if isinstance(identity, x25519.Identity):
        return identity
    if isinstance(identity, str):
        return parse_age_identity(identity)
    raise KeyMaterialError("the age identity is not an X25519 identity")


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: Sequence[str]) -> None:
    """Encrypt everything read from ``src`` to ``recipients`` (``age1…``), binary age format."""
    parsed = _recipients(recipients)
    reader, writer = _Tap(src), _Tap(dst)
    try:
        pyrage.encrypt_io(reader, writer, parsed)
    except BaseException as exc:
        _reraise(reader, writer)
        if not isinstance(exc, Exception):
            raise
        if reader.error is not None:
            raise _io_failure("reading the plaintext", reader) from None
        if writer.error is not None:
            raise _io_failure("writing the ciphertext", writer) from None
        raise OperationalError("age encryption failed") from None


def decrypt_stream(src: BinaryIO, dst: BinaryIO, identity: Any) -> None:
    """Decrypt the age file (binary or armored) read from ``src`` into ``dst``.

    ``identity`` is a ``pyrage.x25519.Identity`` (see :func:`ketenx.storage.keys.load_age_identity`)
    or identity text. On :class:`VerificationError` ``dst`` may hold a partial plaintext
    that must be discarded.
    """
    parsed = _identity(identity)
    reader, writer = _Tap(src), _Tap(dst)
    try:
        pyrage.decrypt_io(reader, writer, [parsed])
    except BaseException as exc:
        _reraise(reader, writer)
        if not isinstance(exc, Exception):
            raise
        if reader.error is not None:
            raise _io_failure("reading the ciphertext", reader) from None
        if writer.error is not None:
            raise _io_failure("writing the plaintext", writer) from None
        raise _decrypt_failure(exc) from None


def _decrypt_failure(exc: Exception) -> VerificationError:
    text = str(exc).lower()
    if isinstance(exc, pyrage.DecryptError):
        if "no matching keys" in text:
            return VerificationError("not encrypted to this identity")
        if "header mac" in text:
            return VerificationError("the age header is damaged (header MAC does not verify)")
        if any(marker in text for marker in _HEADER_FAILURES):
            return VerificationError("not an age-encrypted file, or its header is damaged")
    if isinstance(exc, OSError):
        # The payload STREAM: a chunk failed authentication or the file was truncated.
        return VerificationError("the encrypted payload is damaged or truncated")
    return VerificationError("age decryption failed: the file is damaged or not an age file")
