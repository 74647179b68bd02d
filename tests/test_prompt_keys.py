"""Keys that reach the prompt box together are applied in the order they were typed
(ui/widgets/prompt.py): a fast typist's backspace and the next key arrive in one read."""

from __future__ import annotations

from textual import events

from ollama_tui.demo import DemoServer
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import make_app, wait_until


async def test_a_backspace_and_the_next_key_in_one_read_both_count(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test() as pilot:
        prompt = app.chat.query_one(PromptInput)
        await pilot.press(*"abc")
        await wait_until(pilot, lambda: prompt.text == "abc")
        # As the driver hands them over from one read: both queued before either runs.
        for key, character in (("backspace", "\x7f"), ("X", "X"), ("Y", "Y")):
            prompt.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: "Y" in prompt.text)
        await pilot.pause()
        assert prompt.text == "abXY", prompt.text
