"""F10: choose an image file to attach. The tree lists folders and image files only;
the highlighted image is previewed where the terminal can draw it, and named with its
format and size everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Static
from textual.widgets.directory_tree import DirEntry
from textual.widgets.tree import TreeNode

from ollama_tui.core.images import EXTENSIONS, MAX_IMAGE_BYTES, human_size
from ollama_tui.core.sanitize import clean
from ollama_tui.ui import thumbnails


class ImageTree(DirectoryTree):
    """Folders and image files; hidden entries left out. Names are the file system's,
    not ours: shown without their control characters and escape sequences."""

    def render_label(self, node: TreeNode[DirEntry], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        return Text(clean(label.plain), style=label.style, spans=label.spans)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path
            for path in paths
            if not path.name.startswith(".")
            and (path.is_dir() or path.suffix.lower() in EXTENSIONS)
        ]


class ImagePicker(ModalScreen[Path | None]):
    """Dismissed with the chosen file, or None (Esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", tooltip="Attach nothing")]
    DEFAULT_CSS = """
    ImagePicker { align: center middle; }
    ImagePicker > Vertical {
        width: 90%; height: 80%; border: round $primary; background: $surface;
    }
    ImagePicker #picker-help { height: 1; color: $text-muted; padding: 0 1; }
    ImagePicker ImageTree { width: 1fr; }
    ImagePicker #preview { width: 40; padding: 0 1; }
    ImagePicker #preview-label { height: auto; color: $text-muted; }
    ImagePicker #preview-image { width: 38; height: auto; max-height: 20; }
    """

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content("Enter opens a folder or attaches the image · Esc closes"),
                id="picker-help",
            )
            with Horizontal():
                yield ImageTree(self.start, id="picker-tree")
                with Vertical(id="preview"):
                    yield Static(id="preview-label")

    @on(DirectoryTree.FileSelected)
    def chosen(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    @on(DirectoryTree.NodeHighlighted)
    async def highlighted(self, event: DirectoryTree.NodeHighlighted[object]) -> None:
        data = event.node.data
        path = getattr(data, "path", None)
        label = self.query_one("#preview-label", Static)
        await self.query("#preview-image").remove()
        if not isinstance(path, Path) or path.is_dir():
            label.update("")
            return
        try:
            size = path.stat().st_size
        except OSError as error:
            label.update(Content(clean(f"{path.name}: {error.strerror or error}")))
            return
        label.update(Content(clean(f"{path.name} · {human_size(size)}")))
        if size > MAX_IMAGE_BYTES or not thumbnails.available():
            return
        small = await asyncio.to_thread(thumbnails.picture, path)
        picture = thumbnails.widget(small) if small is not None else None
        if picture is not None and self.is_attached:
            await self.query("#preview-image").remove()
            picture.id = "preview-image"
            await self.query_one("#preview").mount(picture)
