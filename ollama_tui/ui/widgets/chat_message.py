"""One turn of the transcript. Text from the model never passes through markup."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from ollama_tui.sanitize import clean
from ollama_tui.ui.widgets.markdown_feed import MarkdownFeed


def _parser() -> MarkdownIt:
    # "html": False shows HTML in a reply as text instead of dropping it silently.
    parser = MarkdownIt("gfm-like", {"html": False})
    parser.core.ruler.push("clean_text", _clean_tokens)
    return parser


def _clean_tokens(state: StateCore) -> None:
    """Entities (`&#x202E;`, `&#27;`) decode after the source was cleaned: clean again."""
    for token in state.tokens:
        token.content = clean(token.content)
        for child in token.children or ():
            child.content = clean(child.content)


class UserMessage(Static):
    def __init__(self, text: str) -> None:
        super().__init__(Content(clean(text)), classes="message user")
        self.text = text


class Notice(Static):
    """A line from the app in the transcript: an error, a note."""

    def __init__(self, text: str, kind: str = "error") -> None:
        super().__init__(Content(clean(text)), classes=f"notice {kind}")


class AssistantMessage(Vertical):
    """Thinking (collapsible, folded once the answer starts), the answer, its figures."""

    def __init__(self, transport: str, model: str) -> None:
        super().__init__(classes="message assistant")
        self.transport = transport
        self.model = model
        self.thinking_text = ""
        self.text = ""
        self._feed: MarkdownFeed | None = None

    def compose(self) -> ComposeResult:
        # Hidden from the start (not in on_mount, which may run after the first events).
        thinking = Collapsible(title="Thinking", collapsed=False, id="thinking")
        thinking.display = False
        with thinking:
            yield Static(id="thinking-text", markup=False)
        yield Markdown(id="answer", parser_factory=_parser, open_links=False)
        footer = Static(id="footer", markup=False)
        footer.display = False
        yield footer

    @property
    def markdown(self) -> Markdown:
        return self.query_one("#answer", Markdown)

    def add_thinking(self, text: str) -> None:
        if not text:
            return
        self.thinking_text += clean(text)
        block = self.query_one("#thinking", Collapsible)
        block.display = True
        self.query_one("#thinking-text", Static).update(Content(self.thinking_text.strip("\n")))

    async def add_content(self, text: str) -> None:
        text = clean(text)
        if not text:
            return
        if not self.text:
            # The answer has started: fold the reasoning away.
            self.query_one("#thinking", Collapsible).collapsed = True
        self.text += text
        if self._feed is None:
            self._feed = MarkdownFeed(self.markdown)
        self._feed.write(text)

    async def on_unmount(self) -> None:
        # The app may close mid-reply: end the stream's task rather than leave it pending.
        if self._feed is not None:
            await self._feed.stop()
            self._feed = None

    async def finish(self, footer: str, state: str) -> None:
        if self._feed is not None:
            await self._feed.stop()
            self._feed = None
        self.add_class(state)
        widget = self.query_one("#footer", Static)
        widget.update(Content(footer))
        widget.display = True
