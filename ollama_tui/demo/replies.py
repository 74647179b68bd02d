"""Built-in reply texts for the demo server, and a tokenizer that cuts them into stream pieces.

The replies exercise what a Markdown chat view has to render (code in two languages, lists,
a table, headings, emphasis, a blockquote, links, CJK text and emoji, a long answer); each
comes with the reasoning a thinking model sends before it. Which one answers a prompt is
:mod:`.routing`'s choice. The tokenizer only has to look like a model's output: word-sized
pieces that join back to the exact text.
"""

from __future__ import annotations

import re

# CJK ideographs, kana, Hangul, CJK punctuation (not U+3000, which is whitespace) and
# full-width forms: every such character is one token, as real tokenizers mostly do.
CJK = (
    "\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff01-\uffef\U00020000-\U0002fa1f"
)
_EMOJI_CHAR = "\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
# A pictograph with its variation selector / skin tone, joined by ZWJ into one glyph.
_EMOJI = (
    rf"[\U0001f1e6-\U0001f1ff]{{2}}"  # flag: a pair of regional indicators
    rf"|[{_EMOJI_CHAR}][\ufe0f\U0001f3fb-\U0001f3ff]*"
    rf"(?:\u200d[{_EMOJI_CHAR}][\ufe0f\U0001f3fb-\U0001f3ff]*)*"
)
_SPACE = r"[^\S\n]*"  # horizontal whitespace, carried as the prefix of the next token

_TOKEN = re.compile(
    rf"""
      \n+                        # line breaks are tokens of their own
    | {_SPACE}(?:{_EMOJI})       # one emoji
    | {_SPACE}[{CJK}]           # one CJK character
    | {_SPACE}[^\W{CJK}]+       # a word (letters, digits, underscore)
    | {_SPACE}[^\w\s]            # one punctuation mark or symbol
    | [^\S\n]+                   # whitespace before a line break or at the very end
    | [\s\S]                     # anything else, so that no character is ever dropped
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[str]:
    """Split text into token-like pieces; ``"".join(tokenize(t)) == t`` always holds."""
    return _TOKEN.findall(text)


# ------------------------------------------------------------------ replies, one a route

# Python code, with a sentence around it
PYTHON_CODE = """Here is a small, readable way to read a file **line by line** in Python:

```python
from pathlib import Path


def count_words(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            for word in line.split():
                counts[word] = counts.get(word, 0) + 1
    return counts


print(count_words(Path("notes.txt")))
```

The `with` block closes the file even if an exception is raised, and iterating over the
handle reads *one line at a time*, so memory stays flat for large files."""

# Rust code and a bullet list
RUST_CODE = """In Rust, each value has exactly **one owner**. Borrowing lets you use a value without
taking ownership:

```rust
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

fn main() {
    let first = String::from("streaming");
    let second = String::from("tokens");
    println!("{}", longest(&first, &second));
}
```

- `&str` is a *borrowed* string slice.
- The lifetime `'a` says the result lives as long as both inputs.
- Nothing is copied: only references move around."""

# a numbered list of steps, a Bash block and a quoted tip
SETUP_STEPS = """## Setting up Ollama on Linux

1. Install it with the official script.
2. Start the server (it listens on port `11434`).
3. Pull a model and chat with it.

```bash
curl -fsSL https://ollama.com/install.sh | sh
ollama serve &
ollama pull qwen3:1.7b
ollama run qwen3:1.7b "Why is the sky blue?"
```

> **Tip:** set `OLLAMA_HOST=0.0.0.0:11434` only if you *really* want other machines to reach it."""

# a table with aligned columns
TABLE = """### Python HTTP clients at a glance

| Client     | Sync | Async | HTTP/2 | Streaming API            |
|------------|:----:|:-----:|:------:|--------------------------|
| `requests` | yes  | no    | no     | `iter_lines()`           |
| `httpx`    | yes  | yes   | yes    | `aiter_lines()`          |
| `aiohttp`  | no   | yes   | no     | `content.readline()`     |
| `urllib3`  | yes  | no    | no     | `stream()`               |

All of them can stream a chunked response; the differences are in **buffering** and in how
they split lines."""

# Chinese text and emoji: every character a token of its own
CJK_AND_EMOJI = """你好！👋 我是一个演示模型，用来测试终端里的流式输出。

**中文**和 English 可以混在一起 🚀：

- 每个汉字都是一个单独的 token ✅
- 表情符号也是：😀 🎉 👩‍💻 🇨🇳
- 标点符号，例如「引号」和。句号

祝你编程愉快！✨"""

# headings, emphasis, a blockquote, links, nested bullets and a rule
MARKDOWN = """# Markdown, rendered

## Emphasis

Text can be **bold**, *italic*, ***both***, ~~struck through~~ or `inline code`.

## A quote

> *Premature optimization is the root of all evil.*
> — Donald Knuth

The full sentence goes on: **yet we should not pass up our opportunities in that
critical 3%**.

## Links and lists

- A link: [the Ollama API](https://github.com/ollama/ollama/blob/main/docs/api.md)
- A bare address: <https://ollama.com>
- Nested items:
  - *measure* first,
  - then optimize the **hot path**.

---

### A smaller heading

That was the tour: headings, emphasis, a quote, links, lists and a rule."""

# a reasoned answer, step by step, ending in a conclusion
REASONING = """Let me reason it through, one step at a time. (I'm the demo, so the question is
always the classic one: *why is the sky blue?*)

1. **Sunlight is white**: it holds every visible wavelength, from violet (about 400 nm)
   to red (about 700 nm).
2. **Air scatters light**: its molecules are far smaller than a wavelength, so they
   scatter it by *Rayleigh scattering*, whose strength goes as 1/λ⁴.
3. **Short waves win**: blue light (450 nm) is scattered (700 / 450)⁴ ≈ 5.9 times more
   than red light.
4. **Why not violet, then?** Sunlight holds less violet, and our eyes are much less
   sensitive to it.

**So:** the sky is blue because air scatters short wavelengths far more than long ones.
The same reason makes sunsets red: near the horizon the light crosses so much air that
most of its blue is scattered away before it reaches you."""

# how to make the demo server fail: faults are chosen when it starts, never by a prompt
FAULTS = """I only fail when I am told to, and a prompt can't tell me: the word *error* breaks
nothing. To see how ollama-tui copes with a failing server, start the built-in server
with a fault, and every reply misbehaves that way:

```sh
ollama-tui --demo --fault error-mid                  # the app with a faulty demo server
ollama-tui serve-demo --fault cut --fault-after 20   # a faulty server for any client
```

| `--fault MODE` | what the server does                                      |
|----------------|-----------------------------------------------------------|
| `not-found`    | answers 404: the model is not found                       |
| `error-mid`    | sends an error line in the middle of the stream           |
| `cut`          | drops the connection without ending the response          |
| `stall`        | goes silent mid-stream and never finishes                 |
| `malformed`    | sends one line that is not JSON, then carries on          |
| `no-done`      | ends the stream without its final `done` line             |
| `rate-limit`   | answers 429: too many requests, try again later           |
| `whole`        | ignores `stream`: the whole reply as one JSON object      |

`--fault-after N` sets how many tokens come before the fault (5 by default)."""

# a long answer (~450 tokens) with headings and a numbered list
LONG_ANSWER = """# How token streaming works

When you send a prompt to a language model server, the model does not produce the whole
answer at once. It generates **one token at a time**, and each token depends on all the
tokens before it. A streaming API sends every token to the client as soon as it exists.

## Why it matters

Without streaming, the user stares at an empty screen until the *entire* answer is ready.
For a long reply on a laptop that can take twenty or thirty seconds. With streaming, the
first words appear after the model has read the prompt, usually within a second or two.
The total time is the same, but the perceived wait is much shorter.

## What happens on the wire

1. The client sends an HTTP `POST` with `"stream": true`.
2. The server answers with `Transfer-Encoding: chunked` and starts writing lines.
3. Each line is a small JSON object holding one token, for example `{"response": "The"}`.
4. The last line has `"done": true` and statistics such as `eval_count` and `eval_duration`.
5. The client parses each line as it arrives and appends the token to the screen.

## Things that go wrong

- **Buffering.** A proxy or an HTTP library may collect several chunks before handing them
  over, which makes the text arrive in bursts instead of smoothly.
- **Split characters.** A Chinese character or an emoji takes several bytes in UTF-8, and a
  network packet can end in the middle of one. Decode whole lines, never partial chunks.
- **Cancelled requests.** When the user presses *Escape*, the client should close the
  connection, so that the server stops generating and frees the GPU for the next request.
- **Errors mid-stream.** The status code is already `200` when the first token is sent, so a
  later failure can only be reported as an `{"error": "..."}` line inside the stream."""

# --------------------------------------------------------- reasoning, one a route

PYTHON_THINKING = (
    "The user wants code. Python makes the clearest small example: a function with type "
    "hints, then a word on why the `with` block matters."
)
RUST_THINKING = (
    "A Rust question, so probably ownership. A tiny function with a lifetime shows "
    "borrowing better than a long explanation."
)
STEPS_THINKING = (
    "This calls for steps in order: a numbered list, then the commands in one block, "
    "and a tip at the end."
)
TABLE_THINKING = (
    "They want a comparison, and a table is the most compact way to show one. Columns: "
    "sync, async, HTTP/2 and the streaming API."
)
CJK_THINKING = (
    "The user wants Chinese text and emoji. Each CJK character and each emoji comes as a "
    "token of its own. 我用中文回答。"
)
MARKDOWN_THINKING = (
    "They want to see Markdown: headings, emphasis, a quote, links, lists and a rule, "
    "each in a short section of its own."
)
REASONING_THINKING = (
    "The user asks why, so they want a cause, not just a fact. Sunlight mixes all "
    "wavelengths; air molecules are far smaller than a wavelength, so Rayleigh scattering "
    "applies, and it goes as 1/λ⁴. Blue is about 450 nm and red about 700 nm: "
    "(700/450)⁴ is roughly 5.9. I should answer the obvious follow-up too: why not violet?"
)
LONG_THINKING = (
    "A long answer, then. Structure: how streaming works, why it matters, what happens "
    "on the wire and what goes wrong. Headings and a numbered list keep it readable."
)
FAULTS_THINKING = (
    "They mention errors. I can't fail on my own: faults are chosen when the server "
    "starts, so I'll explain --fault and list the modes."
)
INTRO_THINKING = (
    "A greeting, or a question about what I am. Introduce myself briefly, then list the "
    "words I react to."
)
DEFAULT_THINKING = (
    "No keyword I know. Keep it short: say what I am and list the words that choose a reply."
)
