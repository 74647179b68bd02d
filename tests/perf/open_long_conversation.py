"""Time to show a reopened long conversation: 50 replies, ~500,000 characters of Markdown
with code blocks and tables. Prints when the latest reply is ready and when all are.

    PYTHONPATH=. python tests/perf/open_long_conversation.py
"""

import asyncio
import tempfile
import time
from pathlib import Path

from ollama_tui.demo import DemoServer
from ollama_tui.history.store import History
from tests.uitools import make_app, replies, wait_until

PARA = "Streaming replies render as Markdown while they arrive, with code and tables. " * 6
CODE = "```python\n" + "\n".join(f"def f{i}(x):\n    return x * {i}" for i in range(20)) + "\n```\n"
REPLY = "\n\n".join([PARA, CODE, PARA, "| a | b |\n|---|---|\n| 1 | 2 |", PARA] * 5)


async def main() -> None:
    d = Path(tempfile.mkdtemp())
    h, _ = History.open(d)
    c = h.create_conversation(title="long", model="demo", transport="aiohttp")
    for i in range(50):
        h.add_message(c, role="user", content=f"question {i}")
        h.add_message(
            c, role="assistant", content=REPLY, figures={"ttfc": 0.01, "total": 1.0, "tokens": 100}
        )
    h.close()
    print("chars", 50 * len(REPLY))
    with DemoServer() as server:
        app = make_app(server)
        app.data_dir = d
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.recorder.on and bool(app.models))
            history = app.recorder.history
            assert history is not None
            conv = await history.load(c)
            t = time.perf_counter()
            task = asyncio.create_task(app.chat.show_conversation(conv))
            await wait_until(
                pilot,
                lambda: bool(replies(app)) and replies(app)[-1].query_one("#footer").display,
                timeout=60,
            )
            t_last = time.perf_counter() - t
            await task
            t_all = time.perf_counter() - t
            print(f"latest reply painted-ready {t_last:.2f}s, all {t_all:.2f}s")


asyncio.run(main())
