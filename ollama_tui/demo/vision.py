"""What the demo's models see of the images in a request, and the errors Ollama gives for them.

Ollama handles images in two places (sources of 0.12.x, the demo's version), and so does this:

- Reading the request. ``images`` is ``[]api.ImageData`` (``[]byte``), which Go's
  encoding/json reads as standard base64: padded, ``\r`` and ``\n`` skipped anywhere.
  Anything else refuses the whole request before the model is looked up: 400
  ``illegal base64 data at input byte N`` (Go's ``base64.CorruptInputError``), or
  ``json: cannot unmarshal …`` for a value of the wrong type. :func:`request_images`.
- Running the model. The runner decodes every image in the prompt with Go's
  ``image.Decode`` (formats registered by model/model.go); one it cannot decode fails the
  request before the first line with the runner's text (runner/ollamarunner/runner.go:
  ``Failed to create new sequence: failed to process inputs: image: unknown format``).
  From 0.12.6 the client gets it as the runner's status, 500, with a JSON body
  (server/routes.go streamResponse; llm/server.go trims the runner's newline); 0.12.3
  sent it as an error line after a 200, and the newer form is the one copied here.
  A model whose Ollama engine is multimodal but which has no vision weights (gemma3:1b)
  fails the same way with model.ErrNoVisionModel; other text models ignore the images
  (the prompt keeps only an ``[img-0]`` tag). :func:`see`.

``demo-vision`` then answers with one line per image of the last user message (format,
size, byte count and sha256 of what it decoded), so a test can tell that an image arrived
intact.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from .catalog import CatalogModel
from .wire import BadRequest

GO_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP")
"""Pillow's names of the formats Ollama's runner decodes (Go's image.Decode, as registered
by model/model.go in 0.12.x); GIF is not among them."""
_SAME_AS = {"MPO": "JPEG"}  # a camera's JPEG with more frames: Go reads the first

UNKNOWN_FORMAT = "image: unknown format"
NO_VISION = "this model is missing data required for image input"
RUNNER_FAILED = "Failed to create new sequence: failed to process inputs: "

_MULTIMODAL_ENGINES = frozenset({"gemma3", "mistral3", "llama4", "qwen25vl"})
"""Families whose Ollama engine model takes images, vision weights or not."""


# --------------------------------------------------------------------------- base64


def decode_base64(text: str) -> bytes:
    """`text` as Go's base64.StdEncoding decodes it, or BadRequest with Go's sentence."""
    raw = text.encode("utf-8", "surrogatepass")  # Go counts bytes of the UTF-8 string
    # Go skips line breaks wherever they are. The fast path takes only what Go takes;
    # the byte-exact reading below decides everything else, and finds the offset.
    compact = raw.replace(b"\r", b"").replace(b"\n", b"") if b"\r" in raw or b"\n" in raw else raw
    # Python's strict mode also takes padding past a whole quantum ("QUJD=="); Go does not.
    if len(compact) % 4 == 0 and not compact.endswith(b"==="):
        try:
            return binascii.a2b_base64(compact, strict_mode=True)
        except binascii.Error:
            pass
    decoded, offset = go_base64(raw)
    if offset is None:
        return decoded
    raise BadRequest(f"illegal base64 data at input byte {offset}")


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}
_LINE_BREAK = (ord("\r"), ord("\n"))
_PAD = ord("=")
_NOT_DATA = re.compile(rb"[^A-Za-z0-9+/]")


def go_base64(src: bytes) -> tuple[bytes, int | None]:
    """Go's Encoding.Decode (encoding/base64, StdEncoding): the bytes decoded and the
    offset of the first corrupt byte (None: no error). Runs of whole quanta of the
    alphabet are decoded at once; the quantum at anything else is read byte by byte."""
    out = bytearray()
    si = 0
    while si < len(src):
        bad = _NOT_DATA.search(src, si)
        clean = (bad.start() if bad else len(src)) - si
        clean -= clean % 4
        if clean:
            out += binascii.a2b_base64(src[si : si + clean])
            si += clean
            if si == len(src):
                break
        si, piece, error = _quantum(src, si)
        out += piece
        if error is not None:
            return bytes(out), error
    return bytes(out), None


def _quantum(src: bytes, si: int) -> tuple[int, bytes, int | None]:
    """decodeQuantum: up to 4 symbols from `si` → (next si, bytes, corrupt offset or None)."""
    values = [0, 0, 0, 0]
    count = 4
    error: int | None = None
    j = 0
    while j < 4:
        if si == len(src):
            if j == 0:
                return si, b"", None
            return si, b"", si - j  # padding is required: a short last quantum is corrupt
        byte = src[si]
        si += 1
        if byte in _B64_VALUE:
            values[j] = _B64_VALUE[byte]
            j += 1
            continue
        if byte in _LINE_BREAK:
            continue
        if byte != _PAD or j < 2:
            return si, b"", si - 1
        if j == 2:  # "==" is due; the first "=" is read
            while si < len(src) and src[si] in _LINE_BREAK:
                si += 1
            if si == len(src):
                return si, b"", len(src)
            if src[si] != _PAD:
                return si, b"", si - 1
            si += 1
        while si < len(src) and src[si] in _LINE_BREAK:
            si += 1
        if si < len(src):
            error = si  # trailing garbage after the padding
        count = j
        break
    value = values[0] << 18 | values[1] << 12 | values[2] << 6 | values[3]
    return si, value.to_bytes(3, "big")[: count - 1], error


# --------------------------------------------------------------------- request fields


@dataclass(frozen=True)
class SentImages:
    """The images of one request, decoded: those of the last user message (generate: all)
    are described; the runner decodes the earlier ones too."""

    earlier: tuple[bytes, ...] = ()
    latest: tuple[bytes, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.earlier or self.latest)


def request_images(body: dict[str, Any], kind: str) -> SentImages:
    """Every ``images`` list of the request decoded, or BadRequest (400) as Ollama refuses."""
    if kind == "generate":
        return SentImages(latest=_decode_list(body.get("images"), "GenerateRequest.images"))
    messages = body.get("messages")
    if not isinstance(messages, list):
        return SentImages()  # prompt_text() refuses what is not a list
    decoded = [
        _decode_list(m.get("images"), "Message.messages.images") if isinstance(m, dict) else ()
        for m in messages
    ]
    users = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]
    last = users[-1] if users else -1
    earlier = tuple(data for i, images in enumerate(decoded) if i != last for data in images)
    return SentImages(earlier, decoded[last] if users else ())


def _decode_list(value: object, field: str) -> tuple[bytes, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest(type_error(value, field, "[]api.ImageData"))
    images = []
    for item in value:
        if item is None:  # Go leaves a null []byte empty
            images.append(b"")
        elif isinstance(item, str):
            images.append(decode_base64(item))
        else:
            raise BadRequest(type_error(item, field, "api.ImageData"))
    return tuple(images)


def type_error(value: object, field: str, go_type: str) -> str:
    return (
        f"json: cannot unmarshal {_json_kind(value)} into Go struct field {field} of type {go_type}"
    )


def _json_kind(value: object) -> str:
    """How Go's UnmarshalTypeError names a JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "string"


# --------------------------------------------------------------------------- seeing


@dataclass(frozen=True)
class SeenImage:
    """One image as the demo's vision model decoded it."""

    format: str
    width: int
    height: int
    size: int
    sha256: str

    def line(self, number: int) -> str:
        """`Image 1: PNG 640×480, 12345 bytes, sha256 3f2a9c01b7de.`"""
        return (
            f"Image {number}: {self.format} {self.width}×{self.height}, "
            f"{self.size} bytes, sha256 {self.sha256[:12]}."
        )


def look(data: bytes) -> SeenImage:
    """Decode one image whole, as the runner does; BadRequest (500) with Go's reason."""
    Image.init()  # every plugin registered: preinit() leaves out TIFF and WebP
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # huge declared sizes and odd chunks only warn
            with Image.open(io.BytesIO(data), formats=GO_FORMATS) as image:
                kind = _SAME_AS.get(image.format or "", image.format or "")
                width, height = image.size
                try:
                    image.load()
                    if kind == "PNG":
                        _verify_png(data)
                except (OSError, SyntaxError, ValueError, EOFError) as exc:
                    raise BadRequest(RUNNER_FAILED + _decode_error(kind, exc), 500) from None
    except UnidentifiedImageError:
        raise BadRequest(RUNNER_FAILED + UNKNOWN_FORMAT, 500) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise BadRequest(RUNNER_FAILED + _decode_error("", exc), 500) from None
    return SeenImage(kind, width, height, len(data), hashlib.sha256(data).hexdigest())


def _verify_png(data: bytes) -> None:
    """Go's PNG decoder reads on to IEND, checking each chunk's CRC; load() stops after
    the pixels, so a PNG cut short past them would pass."""
    with Image.open(io.BytesIO(data), formats=("PNG",)) as again:
        again.verify()
    if _IEND not in data:  # verify() lets the last chunk's CRC go short; Go reads it whole
        raise EOFError


_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # length 0, type, CRC: the same in every PNG


def _decode_error(kind: str, exc: BaseException) -> str:
    """Go's wording where the cause is the same: a cut-short stream is io.ErrUnexpectedEOF;
    otherwise the decoder's FormatError with Pillow's reason."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or any(w in reason.lower() for w in ("truncated", "incomplete")):
        return "unexpected EOF"
    if kind == "JPEG":
        return f"invalid JPEG format: {reason}"
    return f"{kind.lower() or 'image'}: invalid format: {reason}"


def see(model: CatalogModel, images: SentImages) -> list[str]:
    """The lines a model answers about `images` first (none for a text model); BadRequest
    (500) where Ollama's runner fails. Decodes everything: run it off the event loop."""
    if not images:
        return []
    if "vision" not in model.capabilities:
        if model.family in _MULTIMODAL_ENGINES:
            raise BadRequest(RUNNER_FAILED + NO_VISION, 500)
        return []
    for data in images.earlier:
        look(data)
    return [look(data).line(n) for n, data in enumerate(images.latest, start=1)]


def with_images(lines: Sequence[str], reply: str) -> str:
    """The reply after the image lines and a blank line."""
    return "\n".join(lines) + "\n\n" + reply if lines else reply
