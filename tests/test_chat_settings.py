"""Per-conversation settings: parsing what was typed, and reading back what was kept."""

from __future__ import annotations

from ollama_tui.core.chat_settings import ChatSettings, parse


def test_blank_fields_are_model_defaults_and_numbers_are_checked() -> None:
    settings, errors = parse(
        {"temperature": "0.2", "top_k": "", "seed": "7", "num_ctx": "4096", "system": "Be brief."}
    )
    assert errors == {}
    assert settings.options() == {"temperature": 0.2, "seed": 7, "num_ctx": 4096}
    assert settings.system == "Be brief."
    _, errors = parse({"temperature": "hot", "top_p": "1.5", "top_k": "2.5"})
    assert set(errors) == {"temperature", "top_p", "top_k"}
    assert "between 0.0 and 1.0" in errors["top_p"]


def test_keep_alive_is_a_duration_or_seconds() -> None:
    assert parse({"keep_alive": "5m"})[0].keep_alive_value() == "5m"
    assert parse({"keep_alive": "-1"})[0].keep_alive_value() == -1.0
    assert parse({"keep_alive": " "})[0].keep_alive_value() is None


def test_kept_settings_round_trip_and_bad_rows_are_left_out() -> None:
    settings = ChatSettings(system="s", temperature=0.5, top_k=20, keep_alive="1h", think=False)
    assert ChatSettings.from_dict(settings.to_dict()) == settings
    odd = {"temperature": "warm", "top_k": 2.5, "seed": True, "think": "high", "other": 1}
    assert ChatSettings.from_dict(odd) == ChatSettings()
    assert ChatSettings.from_dict(None) == ChatSettings()
