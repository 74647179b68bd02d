"""Built-in reply texts for the demo server, and a tokenizer that cuts them into stream pieces.

The replies exercise what a Markdown chat view has to render (code in several languages,
lists, a table, a blockquote, CJK text and emoji, a long answer). The tokenizer only has to
look like a model's output: word-sized pieces that join back to the exact text.
"""

from __future__ import annotations

import re
import zlib

# CJK ideographs, kana, Hangul, CJK punctuation (not U+3000, which is whitespace) and
# full-width forms: every such character is one token, as real tokenizers mostly do.
_CJK = (
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
    | {_SPACE}[{_CJK}]           # one CJK character
    | {_SPACE}[^\W{_CJK}]+       # a word (letters, digits, underscore)
    | {_SPACE}[^\w\s]            # one punctuation mark or symbol
    | [^\S\n]+                   # whitespace before a line break or at the very end
    | [\s\S]                     # anything else, so that no character is ever dropped
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[str]:
    """Split text into token-like pieces; ``"".join(tokenize(t)) == t`` always holds."""
    return _TOKEN.findall(text)


REPLIES: tuple[str, ...] = (
    # 0: Python code
    """Here is a small, readable way to read a file **line by line** in Python:

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
handle reads *one line at a time*, so memory stays flat for large files.""",
    # 1: Rust code
    """In Rust, each value has exactly **one owner**. Borrowing lets you use a value without
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
- Nothing is copied: only references move around.""",
    # 2: Bash and a numbered list
    """## Setting up Ollama on Linux

1. Install it with the official script.
2. Start the server (it listens on port `11434`).
3. Pull a model and chat with it.

```bash
curl -fsSL https://ollama.com/install.sh | sh
ollama serve &
ollama pull qwen3:1.7b
ollama run qwen3:1.7b "Why is the sky blue?"
```

> **Tip:** set `OLLAMA_HOST=0.0.0.0:11434` only if you *really* want other machines to reach it.""",
    # 3: a table
    """### Python HTTP clients at a glance

| Client     | Sync | Async | HTTP/2 | Streaming API            |
|------------|:----:|:-----:|:------:|--------------------------|
| `requests` | yes  | no    | no     | `iter_lines()`           |
| `httpx`    | yes  | yes   | yes    | `aiter_lines()`          |
| `aiohttp`  | no   | yes   | no     | `content.readline()`     |
| `urllib3`  | yes  | no    | no     | `stream()`               |

All of them can stream a chunked response; the differences are in **buffering** and in how
they split lines.""",
    # 4: Chinese text and emoji
    """你好！👋 我是一个演示模型，用来测试终端里的流式输出。

**中文**和 English 可以混在一起 🚀：

- 每个汉字都是一个单独的 token ✅
- 表情符号也是：😀 🎉 👩‍💻 🇨🇳
- 标点符号，例如「引号」和。句号

祝你编程愉快！✨""",
    # 5: blockquote, bold, italic, bullets
    """> *Premature optimization is the root of all evil.*
> — Donald Knuth

That quote is often cut short. The full sentence continues: **yet we should not pass up our
opportunities in that critical 3%**. In practice:

- **Measure first**: profile before you change anything.
- *Optimize the hot path*, not the whole program.
- Keep the slow-but-clear version around as a ___reference___ for tests.""",
    # 6: short plain answer
    """Sure! The short answer is **yes**: a streaming response lets you show the first words
*long before* the model has finished. Just remember to flush after every line.""",
    # 7: a long answer (~400 tokens) with headings and a numbered list
    """# How token streaming works

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
  later failure can only be reported as an `{"error": "..."}` line inside the stream.""",
)

THINKING: tuple[str, ...] = (
    "Okay, the user wants a clear answer. Let me think about the structure first: a short "
    "introduction, then the details, then a brief summary. I should use Markdown so it "
    "renders nicely, and keep it concise.",
    "Hmm, let me break this down. What is actually being asked? I think a small example "
    "will help more than a long explanation, so I'll show one and explain the key points.",
)


def _pick(texts: tuple[str, ...], prompt: str) -> str:
    # crc32 rather than hash(): stable across processes (hash() is salted per run).
    return texts[zlib.crc32(prompt.encode("utf-8", "surrogatepass")) % len(texts)]


def choose_reply(prompt: str) -> str:
    """The built-in reply for a prompt: the same prompt always gets the same reply."""
    return _pick(REPLIES, prompt)


def choose_thinking(prompt: str) -> str:
    """The built-in reasoning text sent before the reply when thinking is on."""
    return _pick(THINKING, prompt)
