"""One quick request before any cell: is the server there, and does it have the model?

Without it, a wrong --host or --model ran every cell to the end and showed a table of
errors. `POST /api/show` answers at once and does not load the model (the first cell's
warm-up does that, outside the measured phase). The standard library's urllib is enough
here and keeps the orchestrating process free of the libraries being measured.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

_SHOW = "/api/show"
_TAGS = "/api/tags"
_MAX_NAMES = 8


class PreflightError(RuntimeError):
    """The reason the bench cannot start, as one sentence."""


def _opener() -> urllib.request.OpenerDirector:
    # No proxies from the environment: the transports are set up the same way
    # (trust_env=False), and a proxy would answer for a server that is not there.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _error_text(body: bytes) -> str | None:
    """Ollama's {"error": "..."} message, or None for any other body."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) and error else None


def installed_models(base_url: str, timeout: float) -> list[str]:
    """The names from /api/tags; empty when they cannot be had (only a hint depends on them)."""
    try:
        with _opener().open(base_url.rstrip("/") + _TAGS, timeout=timeout) as response:
            data = json.loads(response.read())
        return [m["name"] for m in data["models"] if isinstance(m.get("name"), str)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def _missing_model(
    base_url: str, model: str, server_says: str, timeout: float, builtin: bool
) -> str:
    names = installed_models(base_url, timeout)
    more = ", …" if len(names) > _MAX_NAMES else ""
    have = f"it has {', '.join(names[:_MAX_NAMES])}{more}" if names else "it has no models"
    said = "" if "not found" in server_says else f" ({server_says})"
    advice = "choose one with --model"
    if not builtin:
        advice = f"pull it first (ollama pull {model}) or {advice}"
    return f"model {model!r} not found at {base_url}{said}; {have}; {advice}"


def check(base_url: str, model: str, timeout: float, builtin: bool = False) -> None:
    """Raise `PreflightError` unless the server answers /api/show for `model`.

    `timeout` bounds the connect and each read (the bench's connect timeout);
    `builtin` says the server is the bench's own, so no advice about Ollama.
    """
    url = base_url.rstrip("/") + _SHOW
    request = urllib.request.Request(
        url,
        data=json.dumps({"model": model}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            server_says = _error_text(exc.read())
        if exc.code == 404 and server_says is not None:
            message = _missing_model(base_url, model, server_says, timeout, builtin)
            raise PreflightError(message) from None
        detail = server_says or "not an Ollama error message; is it an Ollama server?"
        raise PreflightError(
            f"{base_url} answered HTTP {exc.code} to POST {_SHOW}: {detail}"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            text = "connection refused"
        elif isinstance(reason, TimeoutError):
            text = f"no answer within {timeout:g} s"
        else:
            text = str(reason)
        advice = (
            ""
            if builtin
            else "; is Ollama running there? Start it with `ollama serve`, or leave out "
            "--host to bench the built-in server"
        )
        raise PreflightError(f"cannot reach {base_url} ({text}){advice}") from None
    except (OSError, http.client.HTTPException) as exc:  # while reading: a timeout, a reset
        raise PreflightError(f"{base_url} did not answer POST {_SHOW}: {exc!r}") from None
    if _error_text(body) is not None or not body.strip().startswith(b"{"):
        raise PreflightError(f"{base_url} did not answer POST {_SHOW} like Ollama")
