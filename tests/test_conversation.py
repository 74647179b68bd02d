"""The conversation model: what each request carries, and which kept rows an edit or a
regeneration replaces. Pure: no server, no UI."""

from __future__ import annotations

from ollama_tui.core.chat_settings import ChatSettings
from ollama_tui.session.conversation import Conversation, Kept
from ollama_tui.session.recorder import Saved


def answered(conversation: Conversation, prompt: str, reply: str) -> list[Saved | None]:
    exchange = conversation.ask(prompt)
    exchange.saved_user, exchange.saved_reply = Saved(), Saved()
    conversation.answered(exchange, reply, None)
    return [exchange.saved_user, exchange.saved_reply]


def test_each_question_carries_the_conversation_so_far() -> None:
    conversation = Conversation()
    answered(conversation, "one", "1")
    exchange = conversation.ask("two")
    assert [m.content for m in exchange.context] == ["one", "1", "two"]
    assert exchange.kept == conversation.rows and not exchange.regenerate


def test_regenerating_replaces_the_last_answer_and_keeps_the_question() -> None:
    conversation = Conversation()
    answered(conversation, "one", "1")
    rows = answered(conversation, "two", "2")
    exchange = conversation.regenerate()
    assert exchange is not None and exchange.regenerate and exchange.prompt == "two"
    assert [m.content for m in exchange.context] == ["one", "1", "two"]
    assert exchange.replaced == [rows[1]]  # the old answer; the question stays
    exchange.saved_reply = Saved()
    conversation.answered(exchange, "2 again", None)
    assert [m.content for m in conversation.messages] == ["one", "1", "two", "2 again"]
    assert conversation.rows[-2:] == [rows[0], exchange.saved_reply]


def test_an_edit_takes_the_exchange_back_and_its_answer_replaces_it() -> None:
    conversation = Conversation()
    answered(conversation, "one", "1")
    rows = answered(conversation, "two", "2")
    assert conversation.edit_last() == "two"
    assert [m.content for m in conversation.messages] == ["one", "1"]
    exchange = conversation.ask("two, better")
    assert exchange.replaced == rows
    # Nothing came back: a retry still replaces what the edit took back.
    conversation.unanswered(exchange)
    retry = conversation.ask("two, better")
    assert retry.replaced == rows
    conversation.answered(retry, "2", None)
    assert conversation.editing == []


def test_regenerate_after_an_edit_replaces_both() -> None:
    conversation = Conversation()
    answered(conversation, "one", "1")
    rows = answered(conversation, "two", "2")
    conversation.edit_last()
    exchange = conversation.regenerate()
    assert exchange is not None and exchange.prompt == "one"
    assert exchange.replaced[:2] == rows  # the edited exchange, then the old answer
    assert conversation.editing == []


def test_a_kept_conversation_becomes_the_context_with_its_settings() -> None:
    conversation = Conversation()
    settings = ChatSettings(system="Be brief.", temperature=0.2)
    conversation.load([Kept("user", "q", None, 7), Kept("assistant", "a", "hmm", 8)], settings)
    exchange = conversation.ask("next")
    assert [(m.role, m.content, m.thinking) for m in exchange.context] == [
        ("user", "q", None),
        ("assistant", "a", "hmm"),
        ("user", "next", None),
    ]
    assert [row.id for row in exchange.kept if row] == [7, 8]
    assert conversation.settings is settings
    assert conversation.last_prompt() == "q" and conversation.last_reply() == "a"
