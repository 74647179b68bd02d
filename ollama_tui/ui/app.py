"""The Textual application: the session's front end, its screens and what only a terminal
app needs (the garbage collector's timing, the command palette)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from ollama_tui.core.chat_settings import ChatDefaults
from ollama_tui.core.connection import ConnectionSettings, is_remote_plain_http
from ollama_tui.core.images import Attachment
from ollama_tui.core.protocol import Think
from ollama_tui.core.sanitize import clean
from ollama_tui.session.chat import ChatSession
from ollama_tui.session.procrunner import ProcessRunner, can_run
from ollama_tui.session.recorder import Recorder
from ollama_tui.session.runner import Runner, StreamRunner, TransportFactory
from ollama_tui.transports import TRANSPORT_NAMES, create_transport
from ollama_tui.transports.errors import ApiError
from ollama_tui.ui import idle_owed, lazy_strips, scroll_ahead, textual_fixes
from ollama_tui.ui.collector import Collector
from ollama_tui.ui.commands import commands
from ollama_tui.ui.help import FIGURES_HELP, key_rows
from ollama_tui.ui.screens.chat import ChatScreen
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.screens.conversations import ConversationsScreen
from ollama_tui.ui.screens.dialogs import ConfirmScreen, HelpScreen
from ollama_tui.ui.screens.model_picker import ModelInfo, ModelPicker
from ollama_tui.ui.screens.models import ModelsScreen
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.status_bar import StatusBar

# Input that a collection pause would delay: it waits until these pause.
INPUT_EVENTS = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)

NO_MODELS = {
    "ollama": "No models installed. Pull one in a shell, e.g. `ollama pull llama3.2`, then Ctrl+L.",
    "openai": "The server lists no models (/v1/models): load one in it, then Ctrl+L.",
}


def binding_ids() -> set[str]:
    """Every binding a person can give other keys in the settings file's `[keys]`."""
    screens: list[type[DOMNode]] = [OllamaApp, ChatScreen, CompareScreen, ModelsScreen]
    screens.append(ConversationsScreen)
    return {
        binding.id
        for screen in screens
        for binding in screen.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }


class OllamaApp(idle_owed.IdleOwed, App[None]):
    TITLE = "ollama-tui"
    # Screen styles live beside their screens; the default screen does not load its own.
    CSS_PATH = [
        "app.tcss",
        "screens/chat.tcss",
        "screens/dialogs.tcss",
        "screens/compare.tcss",
        "screens/models.tcss",
    ]
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="Every key, explained"),
        Binding(
            "f2",
            "compare",
            "Compare",
            id="compare",
            tooltip="Compare transports on one prompt",
        ),
        Binding(
            "f9",  # F6 and F7 belong to the prompt box (select line / all)
            "models",
            "Models",
            id="models",
            tooltip="Installed and loaded models: details, pull, delete",
        ),
        Binding(
            "f3",
            "conversations",
            "History",
            id="conversations",
            tooltip="Kept conversations: search, open, rename, delete",
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        # Not a priority: with text selected, the focused box copies it instead.
        Binding("ctrl+c", "quit", "Quit", id="quit_c", show=False, tooltip="Quit, too"),
    ]

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        model: str | None = None,
        transport: str = "httpx-async",
        demo: bool = False,
        think: bool | None = None,
        theme: str | None = None,
        data_dir: Path | None = None,
        config_path: Path | None = None,
        warnings: Iterable[str] = (),
        transports: TransportFactory = create_transport,
        chat_defaults: ChatDefaults | None = None,
        keymap: Mapping[str, str] | None = None,
        images: Sequence[Attachment] = (),
    ) -> None:
        """`transports` makes a transport by name (tests replay recorded replies)."""
        super().__init__()
        self.settings = settings
        if theme:
            self.theme = theme
        self.data_dir = data_dir
        """Where conversations are kept (None: nothing is kept, as in tests)."""
        self.config_path = config_path
        """The settings file choices made in the UI are saved back to."""
        self.startup_images = list(images)
        """`--image`: attached to the first message."""
        self.startup_warnings = list(warnings)
        """Settings that were ignored (printed on stderr too, where the screen hides them)."""
        self.demo = demo
        # One clock for the transports' timestamps and the ticking elapsed time.
        self.clock = settings.clock
        self.remote_plain_http = is_remote_plain_http(settings.base_url)
        # Streams run below the UI, on the runner's threads and network loop.
        self.runner = StreamRunner(settings, transports)
        self.recorder = Recorder(
            report=lambda text: self.notify(text, severity="error", markup=False)
        )
        self.session = ChatSession(
            self.runner,
            self.recorder,
            model=model,
            transport=transport,
            think=think,
            defaults=chat_defaults,
        )
        self.keymap = dict(keymap or {})
        """The settings file's `[keys]`: binding id → keys."""
        # The compare view times several transports while it draws their columns: its
        # streams run in a worker process, where the UI cannot hold up their clocks (a
        # custom clock or transport factory cannot cross a process: then in this one).
        self.compare_runner: Runner = (
            ProcessRunner(settings)
            if can_run(settings) and transports is create_transport
            else self.runner
        )
        self.collector = Collector(
            lambda: self.runner.busy or self.compare_runner.busy,
            lambda: self.screen_stack == [self.chat],
        )
        self.runner.on_start = self.compare_runner.on_start = self.collector.stream_started
        self.models: list[ModelInfo] = []
        self.chat = ChatScreen()

    # The session holds the choices; the screens read them here.
    @property
    def model(self) -> str | None:
        return self.session.model

    @property
    def transport(self) -> str:
        return self.session.transport

    @property
    def think(self) -> Think | None:
        return self.session.think

    @think.setter
    def think(self, value: Think | None) -> None:
        self.session.think = value

    @property
    def where(self) -> str:
        """The server, as headers name it."""
        where = "demo server" if self.demo else self.settings.base_url
        if self.settings.api == "openai":
            where += " · OpenAI API (SSE)"
        if self.remote_plain_http:
            where += " · unencrypted remote host"
        return where

    def get_default_screen(self) -> Screen[Any]:
        return self.chat

    def on_load(self) -> None:
        textual_fixes.apply()
        scroll_ahead.apply()
        lazy_strips.apply()
        if self.keymap:
            self.apply_keymap()

    def apply_keymap(self) -> None:
        """The settings file's `[keys]`, through Textual's keymap (bindings by id)."""
        known = binding_ids()
        unknown = sorted(set(self.keymap) - known)
        if unknown:
            self.startup_warnings.append(
                f"[keys]: no binding called {', '.join(unknown)}; ignored "
                f"(the ids: {', '.join(sorted(known))})"
            )
        self.set_keymap({name: keys for name, keys in self.keymap.items() if name in known})

    async def on_mount(self) -> None:
        self.run_worker(self.start_up(), exit_on_error=False)
        for warning in self.startup_warnings:
            self.notify(warning, title="Settings", severity="warning", markup=False, timeout=15)
        # Full garbage collections wait for a moment with no stream (ui/collector.py).
        self.call_after_refresh(self.collector.start)
        self.set_interval(0.25, self.collector.tick)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, INPUT_EVENTS):
            self.collector.input_seen()  # no collection pause while someone types or scrolls
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.collector.stop()
        # Quitting mid-reply: keep what arrived, not only the last timed save.
        self.session.save_now()
        await self.recorder.aclose()
        # Wakes every blocked read, so no thread (and no worker) outlives the app.
        self.runner.close()
        if self.compare_runner is not self.runner:
            self.compare_runner.close()

    # ------------------------------------------------------------------ server calls

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        transport: str | None = None,
    ) -> Any:
        """A non-streamed request on `transport` or the current one (`ApiError` on failure)."""
        return await self.runner.call(method, path, body, transport or self.transport)

    async def start_up(self) -> None:
        """History first (a few ms), so that the model last used can be chosen again
        when none was asked for; then the server's models."""
        choose = self.model is None
        if self.data_dir is not None:
            await self.open_history(self.data_dir)
        await self.load_models(choose=choose)

    async def last_used_model(self) -> str | None:
        history = self.recorder.history
        if history is None:
            return None
        latest = await history.list_conversations(limit=1)
        return latest[0].model if latest else None

    async def load_models(self, choose: bool = False) -> list[ModelInfo]:
        status = self.chat.query_one(StatusBar)
        try:
            tags = await self.call("GET", self.session.models_path())
        except ApiError as error:
            status.reachable(False)
            self.notify(str(error), title="Models", severity="error", markup=False)
            return []
        status.reachable(True)
        self.models = self.session.read_models(tags)
        if not self.models:
            hint = NO_MODELS[self.session.api]
            self.notify(hint, title="Models", severity="warning", markup=False)
        elif choose and self.model is None:
            # --model and the settings file win; then the model last used; then the first.
            last = await self.last_used_model()
            names = [m.name for m in self.models]
            self.set_model(last if last in names else names[0])
        return self.models

    async def open_history(self, data_dir: Path) -> None:
        from ollama_tui.history.aio import AsyncHistory

        try:
            history, warning = await AsyncHistory.open(data_dir)
        except Exception as error:  # the chat works without history: say so and go on
            self.notify(f"History is off: {error}", severity="error", markup=False, timeout=10)
            return
        if warning:
            self.notify(warning, title="History", severity="warning", markup=False, timeout=15)
        self.recorder.attach(history)

    def action_models(self) -> None:
        if not isinstance(self.screen, ModelsScreen | ModalScreen):
            self.push_screen(ModelsScreen())

    def action_save_choices(self) -> None:
        """Theme, transport and model of this session become the settings file's; with
        --demo, not the model: it exists only in the built-in server, and would be asked
        of the real one next time."""
        from ollama_tui.config import save_choices

        if self.config_path is None:
            self.notify("No settings file is in use.", severity="warning")
            return
        choices: dict[str, str | None] = {"theme": self.theme, "transport": self.transport}
        if not self.demo:
            choices["model"] = self.model
        try:
            save_choices(self.config_path, **choices)
        except (OSError, ValueError) as error:
            self.notify(f"Not saved: {error}", severity="error", markup=False, timeout=10)
            return
        what = (
            "theme and transport (not the demo's model)"
            if self.demo
            else ("theme, transport and model")
        )
        self.notify(f"Saved {what} to {self.config_path}", markup=False)

    def action_conversations(self) -> None:
        history = self.recorder.history
        if history is None:
            self.notify("History is off (no data directory).", severity="warning")
            return
        if isinstance(self.screen, ModalScreen):
            return  # not over a dialog (rename, settings, this list itself)

        async def choose() -> None:
            chosen = await self.push_screen_wait(ConversationsScreen(history))
            if chosen is not None:
                try:
                    conversation = await history.load(chosen)
                except KeyError:
                    self.notify("That conversation was deleted.", severity="warning")
                    return
                await self.chat.show_conversation(conversation)

        self.run_worker(choose(), exit_on_error=False)

    # ------------------------------------------------------------------ choices

    def set_transport(self, name: str) -> None:
        if name in TRANSPORT_NAMES and name != self.transport:
            self.session.transport = name
            self.chat.transport_changed()

    def set_model(self, name: str) -> None:
        self.session.set_model(name)
        self.chat.refresh_labels()

    def action_pick_model(self) -> None:
        async def pick() -> None:
            models = await self.load_models()
            if not models:
                return
            chosen = await self.push_screen_wait(ModelPicker(models, self.model))
            if chosen:
                self.set_model(chosen)
                self.notify(f"Model: {clean(chosen)}", markup=False)

        self.run_worker(pick(), exit_on_error=False)

    def action_compare(self) -> None:
        if isinstance(self.screen, CompareScreen | ModalScreen):
            return
        typed = self.chat.query_one(PromptInput).text.strip()
        prompt = typed or self.session.conversation.last_prompt()
        if self.chat.chips.attachments:
            self.notify(
                "The compare view sends the text only: the attached images wait for the chat.",
                markup=False,
            )
        self.push_screen(CompareScreen(prompt))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_rows(self), FIGURES_HELP))

    def confirm_open_link(self, href: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.open_url(href)

        self.push_screen(ConfirmScreen(f"Open this link in your browser?\n\n{href}"), answered)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands(self)

    async def regenerate_with(self, name: str) -> None:
        self.set_transport(name)
        await self.chat.action_regenerate()
