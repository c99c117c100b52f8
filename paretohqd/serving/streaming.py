"""One answer's text as its tokens are drawn: the deltas to stream, and where a stop sequence
ends it.

The deltas of an answer, joined, are exactly the text the non-streaming answer returns (the
decoded tokens, stripped, cut before the first stop sequence): leading whitespace is dropped;
trailing whitespace, an unfinished multi-byte character and a tail that may begin a stop
sequence are held back until more text follows; the rest is sent at the end.
"""

from __future__ import annotations

from typing import Sequence

REPLACEMENT = "\ufffd"  # what decoding shows for the first bytes of an unfinished character


def held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` may be the start of a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


class AnswerText:
    """The text of one answer from its drawn tokens, cut at the first of ``stops``."""

    def __init__(self, tokenizer, stops: Sequence[str] = ()) -> None:
        self.tokenizer, self.stops = tokenizer, tuple(stops)
        self.tokens: list[int] = []
        self.sent = ""
        self.stopped = False  # a stop sequence appeared

    def _text(self) -> str:
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True).lstrip()
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            return text[:cut]
        return text

    def push(self, token: int) -> str:
        """Add a drawn token; return the text that is now safe to send (maybe empty). After
        this, ``stopped`` says whether a stop sequence has ended the answer."""
        self.tokens.append(token)
        text = self._text()
        if self.stopped:
            return self.finish()
        text = text.rstrip(REPLACEMENT).rstrip()
        text = text[:len(text) - held_back(text, self.stops)]
        return self._advance(text)

    def finish(self) -> str:
        """The rest of the answer's text (the answer has ended)."""
        return self._advance(self._text().rstrip())

    def _advance(self, text: str) -> str:
        if text.startswith(self.sent) and len(text) > len(self.sent):
            delta, self.sent = text[len(self.sent):], text
            return delta
        return ""

    @property
    def text(self) -> str:
        """The answer's text as sent so far (all of it once ``finish`` has run)."""
        return self.sent
