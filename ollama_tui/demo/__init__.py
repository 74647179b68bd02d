"""A built-in Ollama-compatible server: for tests, ``ollama-tui --demo`` and benchmarks.

It speaks Ollama's wire format (NDJSON streams, one chunk per token, Go-style JSON), and the
OpenAI-compatible API under ``/v1`` (Server-Sent Events) as llama-server, vLLM, LM Studio
and Ollama serve it, and can inject the failures a streaming client must survive (see
:class:`Fault`). :class:`DemoServer` runs it in a thread of its own; :func:`run_standalone`
serves it until SIGINT/SIGTERM.

Modules, from the bytes up:

- ``wire``: Go-style JSON, responses, request fields, NDJSON lines, pacing clock
- ``catalog``, ``replies``: the fake models and the texts they answer with
- ``config``: :class:`DemoConfig`, :class:`Fault`, :class:`RequestRecord`
- ``vision``: the images of a request decoded as Ollama does (Go's base64, the runner's
  formats and errors), and what ``demo-vision`` says of them
- ``generation``: one chat/generate request planned, paced and faulted
- ``openai_wire``, ``openai``: /v1's error bodies, events and chunks; its routes
- ``app``: the aiohttp application (``DemoApp``): routes, request log, handlers
- ``server``: :class:`DemoServer` and :func:`run_standalone`, which run the app
"""

from .config import DemoConfig, Fault, RequestRecord
from .server import DemoServer, run_standalone

__all__ = ["DemoConfig", "DemoServer", "Fault", "RequestRecord", "run_standalone"]
