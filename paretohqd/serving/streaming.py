"""Answers as text deltas while ``generate`` draws them, for server-sent events.

The deltas of a sample, joined, are exactly the text the non-streaming answer returns (the
decoded tokens, stripped): leading whitespace is dropped, trailing whitespace and an unfinished
multi-byte character are held back until more text follows, and the rest is sent at the end.
"""

from __future__ import annotations

from typing import Callable

from transformers.generation.streamers import BaseStreamer

REPLACEMENT = "\ufffd"  # what decoding shows for the first bytes of an unfinished character


class DeltaStreamer(BaseStreamer):
    """Calls ``emit(sample index, text delta)`` as ``n`` samples are drawn in one batch."""

    def __init__(self, tokenizer, n: int, stop_ids: set[int],
                 emit: Callable[[int, str], None]) -> None:
        self.tokenizer, self.stop_ids, self.emit = tokenizer, stop_ids, emit
        self.tokens: list[list[int]] = [[] for _ in range(n)]
        self.sent = [""] * n
        self.done = [False] * n
        self.prompt_seen = False

    def put(self, value) -> None:
        if not self.prompt_seen:  # generate's first call passes the prompt
            self.prompt_seen = True
            return
        for i, token in enumerate(value.reshape(-1).tolist()):
            if self.done[i]:
                continue
            if token in self.stop_ids:
                self.done[i] = True
                self._send(i, final=True)
                continue
            self.tokens[i].append(token)
            self._send(i, final=False)

    def end(self) -> None:
        for i, done in enumerate(self.done):
            if not done:
                self._send(i, final=True)

    def _send(self, i: int, final: bool) -> None:
        text = self.tokenizer.decode(self.tokens[i], skip_special_tokens=True).strip()
        if not final:
            text = text.rstrip(REPLACEMENT).rstrip()
        if text.startswith(self.sent[i]) and len(text) > len(self.sent[i]):
            self.emit(i, text[len(self.sent[i]):])
            self.sent[i] = text
