"""The settings file seen from the app: warnings shown, choices saved back."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

from ollama_tui.demo import DemoServer
from tests.uitools import chat_requests, make_app, replies, send_and_wait, wait_until


async def test_choices_are_saved_back_keeping_comments(server: DemoServer, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# my settings\nread_timeout = 30  # slow disk\n\n[demo]\ntoken_rate = 5\n")
    app = make_app(server)
    app.config_path = path
    app.demo = False  # a real server's model is saved; the demo's is not (below)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        app.theme = "nord"
        await pilot.press("ctrl+t")  # next transport
        app.action_save_choices()
        await pilot.pause()
    text = path.read_text()
    assert "# my settings" in text and "# slow disk" in text
    saved = tomllib.loads(text)
    assert saved["theme"] == "nord" and saved["model"] == "demo"
    assert saved["transport"] == app.transport != "httpx-async"
    assert saved["read_timeout"] == 30 and saved["demo"]["token_rate"] == 5


async def test_the_demos_model_never_becomes_the_real_default(
    server: DemoServer, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('model = "llama3.2"\n')
    app = make_app(server)  # --demo
    app.config_path = path
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("ctrl+t")
        app.action_save_choices()
        await pilot.pause()
        assert any("not the demo's model" in n.message for n in app._notifications)
    saved = tomllib.loads(path.read_text())
    assert saved["model"] == "llama3.2" and saved["transport"] == app.transport


async def test_a_new_settings_file_is_user_only(server: DemoServer, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "config.toml"
    app = make_app(server)
    app.config_path = path
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        app.action_save_choices()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_ignored_settings_are_shown_in_the_app(server: DemoServer) -> None:
    app = make_app(server)
    app.startup_warnings = ["/x/config.toml:3: read_timeout: expected a number; ignored"]
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app._notifications))
        assert any("read_timeout" in n.message for n in app._notifications)


async def test_new_conversations_start_with_the_files_chat_defaults(server: DemoServer) -> None:
    from ollama_tui.core.chat_settings import ChatDefaults

    server.configure(reply="Fine.", token_rate=0)
    app = make_app(server)
    app.session.defaults = ChatDefaults(
        {"system": "Be brief.", "temperature": 0.3},
        {"demo-think:latest": {"temperature": 0.6, "num_ctx": 4096}},
    )
    app.session.new_chat()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await send_and_wait(pilot, app, "one")
        first = json.loads(chat_requests(server, 1)[0].body)
        assert first["messages"][0] == {"role": "system", "content": "Be brief."}
        assert first["options"] == {"temperature": 0.3}
        # A new chat with the model that has its own: those, over the common ones.
        await pilot.press("ctrl+n")
        app.set_model("demo-think:latest")
        await send_and_wait(pilot, app, "two")
        second = json.loads(chat_requests(server, 2)[1].body)
        assert second["messages"][0]["content"] == "Be brief."
        assert second["options"] == {"temperature": 0.6, "num_ctx": 4096}


async def test_a_binding_takes_the_keys_the_file_gives_it(server: DemoServer) -> None:
    server.configure(reply="Fine.", token_rate=0)
    app = make_app(server)
    app.keymap = {"new_chat": "ctrl+k", "no_such_binding": "f12"}
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await send_and_wait(pilot, app, "one")
        app.set_focus(None)  # ^k deletes to the end of the line in the prompt box
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: not replies(app))
        assert any("no_such_binding" in n.message for n in app._notifications)
