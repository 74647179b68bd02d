"""Reading `/api/tags`, `/api/ps` and `/api/show` leniently (ollama_tui.core.models)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_tui.core.models import ModelDetails, ModelInfo, is_model_list
from ollama_tui.ui.screens.model_picker import ModelInfo as PickerModelInfo

TAGS = {
    "models": [
        {
            "name": "qwen3:14b",
            "model": "qwen3:14b",
            "modified_at": "2025-09-18T11:30:00.123456789+02:00",
            "size": 9_276_198_565,
            "digest": "bdbd181c33f2" + "0" * 52,
            "details": {
                "format": "gguf",
                "family": "qwen3",
                "families": ["qwen3"],
                "parameter_size": "14.8B",
                "quantization_level": "Q4_K_M",
            },
            "remote_host": "a field from a later Ollama",
        }
    ]
}


def test_an_entry_of_api_tags() -> None:
    (model,) = ModelInfo.from_tags(TAGS)
    assert model == ModelInfo(
        name="qwen3:14b",
        parameter_size="14.8B",
        quantization="Q4_K_M",
        size=9_276_198_565,
        family="qwen3",
        digest="bdbd181c33f2" + "0" * 52,
        modified_at="2025-09-18T11:30:00.123456789+02:00",
    )
    assert model.short_id == "bdbd181c33f2"
    assert ModelInfo("x", digest="sha256:9077fe9d2ae1ffff").short_id == "9077fe9d2ae1"


def test_an_entry_of_api_ps_has_its_memory_and_expiry() -> None:
    ps = {
        "models": [
            {
                "name": "demo:latest",
                "size": 900,
                "size_vram": 800,
                "expires_at": "2025-09-20T12:05:00Z",
                "details": {},
            }
        ]
    }
    (model,) = ModelInfo.from_tags(ps)
    assert (model.size, model.size_vram, model.expires_at) == (900, 800, "2025-09-20T12:05:00Z")


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "a", "size": "big", "details": "none", "digest": 7, "modified_at": None},
        {"name": "a", "size": True, "details": {"parameter_size": 8, "family": ["x"]}},
        {"name": "a", "size": -5},
        {"name": "a", "size": float("inf")},
        {"model": "a"},  # only the newer field
    ],
)
def test_fields_of_the_wrong_type_give_defaults(entry: dict[str, Any]) -> None:
    assert ModelInfo.from_tags({"models": [entry]}) == [ModelInfo("a")]


def test_entries_without_a_name_and_replies_of_another_shape_give_nothing() -> None:
    assert ModelInfo.from_tags({"models": [{"name": ""}, {"size": 1}, "x", None, 3]}) == []
    odd: list[object] = [None, [], "text", {"models": None}, {"models": {"a": 1}}, {}]
    assert [ModelInfo.from_tags(reply) for reply in odd] == [[]] * len(odd)
    assert is_model_list({"models": []}) and is_model_list({}) and is_model_list({"models": None})
    assert not is_model_list([]) and not is_model_list({"models": 5})
    assert size_of(1.9e9) == 1_900_000_000  # JSON has one kind of number: 1.9e9 is a size


def size_of(value: object) -> int:
    (model,) = ModelInfo.from_tags({"models": [{"name": "a", "size": value}]})
    return model.size


# Small on purpose: the values' types matter here, not their size (and big nested
# values make Hypothesis too slow on a loaded machine).
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner, max_size=3)
    ),
    max_leaves=6,
)


def objects(*keys: str) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys are mostly the ones the parser reads."""
    names = st.sampled_from(keys) | st.text(max_size=5)
    return st.dictionaries(names, json_values | objects_of_details, max_size=len(keys))


objects_of_details = st.dictionaries(
    st.sampled_from(["family", "parameter_size", "quantization_level", "llama.context_length"]),
    json_values,
    max_size=3,
)
entry_keys = ("name", "model", "size", "digest", "modified_at", "details", "size_vram")


@given(st.lists(objects(*entry_keys, "expires_at") | json_values, max_size=3))
def test_any_json_is_read_without_an_exception(entries: list[Any]) -> None:
    for model in ModelInfo.from_tags({"models": entries}):
        assert model.name and model.size >= 0 and isinstance(model.quantization, str)


@given(objects("model_info", "capabilities", "parameters", "template", "license") | json_values)
def test_any_show_reply_is_read_without_an_exception(show: Any) -> None:
    details = ModelDetails.from_show(show)
    assert details.context_length >= 0 and isinstance(details.template, str)


def test_api_show() -> None:
    show = {
        "license": "MIT\nlong text",
        "parameters": "stop <|eot_id|>",
        "template": "{{ .Prompt }}",
        "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
        "capabilities": ["completion", "tools"],
    }
    assert ModelDetails.from_show(show) == ModelDetails(
        context_length=131072,
        capabilities=("completion", "tools"),
        parameters="stop <|eot_id|>",
        template="{{ .Prompt }}",
        license="MIT\nlong text",
    )
    assert ModelDetails.from_show("nonsense") == ModelDetails()
    odd = {"model_info": [], "capabilities": "completion", "license": ["MIT"], "template": 3}
    assert ModelDetails.from_show(odd) == ModelDetails()


def test_the_picker_still_exports_the_same_class() -> None:
    assert PickerModelInfo is ModelInfo
