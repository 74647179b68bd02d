"""One quick request before any cell: is the server there, and does it have the model?

Without it, a wrong --host or --model ran every cell to the end and showed a table of
errors. `POST /api/show` answers at once and does not load the model (the first cell's
warm-up does that, outside the measured phase). The standard library's urllib is enough
here and keeps the orchestrating process free of the libraries being measured.

For the OpenAI-compatible API (`check_openai`): `GET /v1/models`, and when the model is
not listed there, a one-token `POST /v1/chat/completions`.
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


def _reach(
    request: urllib.request.Request, base_url: str, timeout: float, advice: str, what: str
) -> bytes:
    """The body of a successful answer; `urllib.error.HTTPError` passes through, and any
    other failure is a `PreflightError` (`advice` follows a refused connection)."""
    try:
        with _opener().open(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            text = "connection refused"
        elif isinstance(reason, TimeoutError):
            text = f"no answer within {timeout:g} s"
        else:
            text = str(reason)
        raise PreflightError(f"cannot reach {base_url} ({text}){advice}") from None
    except (OSError, http.client.HTTPException) as exc:  # while reading: a timeout, a reset
        raise PreflightError(f"{base_url} did not answer {what}: {exc!r}") from None


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
    advice = (
        ""
        if builtin
        else "; is Ollama running there? Start it with `ollama serve`, or leave out "
        "--host to bench the built-in server"
    )
    try:
        body = _reach(request, base_url, timeout, advice, f"POST {_SHOW}")
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
    if _error_text(body) is not None or not body.strip().startswith(b"{"):
        raise PreflightError(f"{base_url} did not answer POST {_SHOW} like Ollama")


def _openai_error(exc: urllib.error.HTTPError) -> str:
    """An OpenAI-style error body's message, or the status's reason."""
    with exc:
        body = exc.read()
    try:
        error: Any = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    message = error.get("message") if isinstance(error, dict) else error
    return message if isinstance(message, str) and message else str(exc.reason)


def check_openai(
    base_url: str,
    model: str,
    timeout: float,
    builtin: bool = False,
    api_key: str | None = None,
    key_env: str = "OPENAI_API_KEY",
) -> None:
    """Raise `PreflightError` unless the OpenAI-compatible server at `base_url` (its /v1)
    lists its models and either lists `model` or answers it a one-token reply (llama.cpp's
    server lists a file name and answers to any model name). `key_env` names where the
    key comes from, for the sentence when the server refuses it."""
    # Here, not at the top: core.openai loads Pillow, which an Ollama-only run need not.
    from ollama_tui.core.openai import CHAT_PATH, MODELS_PATH, parse_models

    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    advice = "" if builtin else "; is the server running there, and is /v1 its API's path?"
    listing = urllib.request.Request(base_url + MODELS_PATH, headers=headers)
    try:
        listed = _reach(listing, base_url, timeout, advice, f"GET {MODELS_PATH}")
        names = [m.name for m in parse_models(json.loads(listed))]
    except urllib.error.HTTPError as exc:
        key = f" (the key is read from ${key_env})" if exc.code in (401, 403) else ""
        raise PreflightError(
            f"{base_url} answered HTTP {exc.code} to GET {MODELS_PATH}: {_openai_error(exc)}{key}"
        ) from None
    except ValueError:
        raise PreflightError(
            f"{base_url} did not answer GET {MODELS_PATH} like an OpenAI-compatible server"
        ) from None
    if model in names or f"{model}:latest" in names:
        return
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    probe = urllib.request.Request(
        base_url + CHAT_PATH, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        _reach(probe, base_url, timeout, advice, f"POST {CHAT_PATH}")
    except urllib.error.HTTPError as exc:
        more = ", …" if len(names) > _MAX_NAMES else ""
        have = f"it lists {', '.join(names[:_MAX_NAMES])}{more}" if names else "it lists none"
        raise PreflightError(
            f"model {model!r}: {base_url} answered HTTP {exc.code} to POST {CHAT_PATH} "
            f"({_openai_error(exc)}); {have}; choose one with --model"
        ) from None
