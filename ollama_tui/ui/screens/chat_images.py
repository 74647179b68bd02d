"""What reaches the chat screen besides a sent message: keys and pastes meant for the
prompt box while something else has the focus, and images, attached by a paste (a
dropped file), the picker (F10) or `--image`, shown as chips above the prompt box and
checked against the model's capabilities before sending. Every refusal is one
sentence; the prompt and the other attachments stay."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.screen import Screen
from textual.widgets import Input, Select, TextArea

from ollama_tui.core.images import Attachment, ImageError
from ollama_tui.core.sanitize import clean
from ollama_tui.session.attachments import load, pasted_files
from ollama_tui.transports.errors import ApiError
from ollama_tui.ui.screens.image_picker import ImagePicker
from ollama_tui.ui.widgets.attachments import AttachmentChips, Chip
from ollama_tui.ui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from ollama_tui.ui.app import OllamaApp


class ImageAttaching(Screen[None]):
    """Mixed into the chat screen."""

    picker_folder: Path | None = None
    """Where the picker opens: the folder of the last image chosen, else here."""
    checking = False
    """A message waits for the model's capabilities (it has images)."""
    attached_before_edit: list[Attachment] | None = None
    """The images waiting when an edit (F4) began: back in the chips if it is given up."""

    def edit_images(self, images: tuple[Attachment, ...]) -> None:
        """An edit took a question back: its images wait in the chips instead of the
        ones there (set aside, as the typed text is)."""
        if self.attached_before_edit is None:
            self.attached_before_edit = list(self.chips.attachments.items)
        self.run_worker(self.chips.replace(list(images)), exit_on_error=False)

    def edit_ended(self, given_up: bool) -> None:
        """The edit was sent (its images went with it) or given up (the set-aside
        images come back)."""
        before, self.attached_before_edit = self.attached_before_edit, None
        if given_up and before is not None:
            self.run_worker(self.chips.replace(before), exit_on_error=False)

    def on_key(self, event: events.Key) -> None:
        """A printable key no focused widget took (the thinking block's title, the
        transcript had the focus): it was meant for the prompt box."""
        prompt = self.query_one(PromptInput)
        if not event.is_printable or not event.character or self.focused is prompt:
            return
        if isinstance(self.focused, Input | TextArea | Select):
            return  # it types on its own
        event.stop()
        prompt.focus()
        prompt.insert(event.character)

    @property
    def chips(self) -> AttachmentChips:
        return self.query_one(AttachmentChips)

    async def attach_files(self, files: list[Path], text_if_not: str = "") -> bool:
        """Read, check and attach `files` (off the loop: an image may be 20 MB). On a
        refusal: its sentence, and `text_if_not` goes into the prompt box instead."""
        try:
            loaded = await asyncio.to_thread(lambda: [load(f) for f in files])
        except ImageError as error:
            self.notify(clean(str(error)), severity="error", title="Not attached", markup=False)
            if text_if_not:
                self.query_one(PromptInput).insert(text_if_not)
            return False
        await self.add_attachments(loaded)
        return True

    async def add_attachments(self, loaded: list[Attachment]) -> None:
        added = await self.chips.add(loaded)
        if len(added) < len(loaded):
            self.notify("Attached already: the same image is sent once.")

    @on(PromptInput.FilesPasted)
    async def files_pasted(self, event: PromptInput.FilesPasted) -> None:
        await self.attach_files(event.files, event.text)

    async def on_paste(self, event: events.Paste) -> None:
        """A paste (a dropped file) while something else has the focus (a chip, the
        transcript): it was meant for the prompt box."""
        prompt = self.query_one(PromptInput)
        if self.focused is prompt or isinstance(self.focused, Input | TextArea):
            return
        event.stop()
        prompt.focus()
        files = pasted_files(event.text)
        if files:
            await self.attach_files(files, event.text)
        else:
            prompt.insert(event.text)

    @on(Chip.Removed)
    def chip_removed(self) -> None:
        self.query_one(PromptInput).focus()  # the chip is gone: back to typing

    def action_attach_image(self) -> None:
        start = self.picker_folder or Path.cwd()

        async def picked(path: Path | None) -> None:
            if path is not None:
                self.picker_folder = path.parent
                await self.attach_files([path])

        self.app.push_screen(ImagePicker(start), picked)

    async def images_to_send(self, model: str) -> tuple[Attachment, ...] | None:
        """The attachments, taken for the message going to `model`; None if it may not
        go (a sentence said why, they stay) or another send is checking already."""
        if self.checking:
            self.notify(f"Asking the server whether {clean(model)} takes images…", markup=False)
            return None
        self.checking = True
        try:
            if not await self.images_ready(model):
                return None
        finally:
            self.checking = False
        return await self.chips.take()

    async def images_ready(self, model: str) -> bool:
        """Whether the attachments may go to `model`: a model whose `/api/show` names
        capabilities without vision is refused here, with a sentence, not by the server."""
        if not self.chips.attachments:
            return True
        app: OllamaApp = self.app  # type: ignore[assignment]
        session = app.session
        sees = session.vision_known(model)
        if session.should_ask_vision(model):
            try:
                show = await app.runner.call("POST", "/api/show", {"model": model})
            except (ApiError, OSError):
                return True  # the server judges the request itself
            sees = session.learn_vision(model, show)
        if sees is False:
            warning = clean(session.vision_warning(model))
            self.notify(warning, severity="error", title="Not sent", markup=False)
            return False
        return True
