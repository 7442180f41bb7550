"""What fitting ``tokenizer.json`` and ``lexer.yaml`` needs from a split's texts, gathered where the texts are made.

The tokenizer's vocabulary is every piece of every text and the card reports each text's length in tokens;
CALT's lexer also needs the exponents, how each term starts and the expanded form's words. ``TextSurvey``
gathers these from batches of texts. A run that packages its folder surveys each chunk in the worker that
wrote it (a few microseconds a sample, in parallel), merges the surveys like histograms and keeps them with
the split's other measures (``{split}.survey.json``), so packaging reads no text again; a folder without them
(CALT's, an older run's, one surveyed in the other number mode) is surveyed from its shards at packaging.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path

from calt_hf.quality import Histogram
from calt_hf.files import DamagedFileError, read_json, write_atomically
from calt_hf.formats import INNER_SEP, OUTER_SEP, PROBLEM_SOLUTION_SEP
from calt_hf.run_folder import SURVEY_SUFFIX

#: The tokenizer's pieces: the text form's separators, identifiers, numbers (``whole``: a run of digits;
#: ``digits``: groups of ``DIGIT_GROUP`` from the right), any other character, runs of white space.
_SEPARATORS = (OUTER_SEP, INNER_SEP, PROBLEM_SOLUTION_SEP, " + ", " - ")
#: Digits per number token with ``digits``, grouped from the right (``1234567`` -> ``1 234 567``).
DIGIT_GROUP = 3
_NUMBERS = {"whole": r"\d+", "digits": rf"\d{{1,{DIGIT_GROUP}}}(?=(?:\d{{{DIGIT_GROUP}}})*(?!\d))"}
#: ``<s>`` and ``</s>``, which the tokenizer adds around every text: a text's length is its pieces plus these.
ADDED_TOKENS = 2
#: A term's start: after a text's start, `` + ``, `` - `` or a list separator; an optional leading minus;
#: its coefficient (``7``, ``7/2``, ``1.5``, ``1.5e-05``) or the first letter of its variable.
_TERM_START = re.compile(r"(?:^|([+|-]) )(-?)(\d+(?:\.\d+)?(?:e-?\d+)?(?:/\d+)?|[A-Za-z_])", re.MULTILINE)
_EXPONENT = re.compile(r"\^(\d+)")
logger = logging.getLogger(__name__)

LENGTHS = ("problem_tokens", "solution_tokens")


def pieces_pattern(mode: str) -> str:
    """The regular expression that cuts a text into the tokenizer's pieces in number mode ``mode``."""
    separators = "|".join(map(re.escape, _SEPARATORS))
    return rf"{separators}|[A-Za-z_][A-Za-z0-9_]*|{_NUMBERS[mode]}|\S|\s+"


@lru_cache(maxsize=None)
def _cutter(mode: str):
    return re.compile(pieces_pattern(mode)).findall


class TextSurvey:
    """The distinct pieces of a split's texts (number mode ``mode``), their lengths in tokens, and the lexer's
    facts (exponents, term starts, the expanded form's words), as texts stream past (``add``)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.pieces: set[str] = set()
        self.lengths: dict[str, Counter] = {name: Counter() for name in LENGTHS}
        self.exponents: set[str] = set()
        self.term_starts: set[tuple[str, str, str]] = set()  # (operator before, leading minus, coefficient or a letter)
        self.expanded_words: set[str] | None = None  # None: the expanded form was not surveyed

    def add(self, rows: Sequence[tuple[str, str]], expanded: Sequence[tuple[str, str]] | None = None) -> None:
        """A batch of (problem, solution) texts in the text form (``a | b || c``) and, when written, their
        expanded forms. The lexer's facts come from one search over the batch's lines, the pieces from one
        ``findall`` a text (the pre-tokenizer's own pattern: the same pieces, ten times faster)."""
        cut = _cutter(self.mode)
        for name, texts in zip(LENGTHS, zip(*rows)):
            cut_texts = list(map(cut, texts))
            self.pieces.update(chain.from_iterable(cut_texts))
            self.lengths[name].update(map(len, cut_texts))
            lines = "\n".join(texts)
            self.exponents.update(_EXPONENT.findall(lines))
            self.term_starts.update(_TERM_START.findall(lines))
        if expanded is not None:
            if self.expanded_words is None:
                self.expanded_words = set()
            self.expanded_words.update(" ".join(chain.from_iterable(expanded)).split())

    def merge(self, other: TextSurvey) -> None:
        if other.mode != self.mode:
            raise ValueError(f"cannot merge a survey in number mode {other.mode!r} into one in {self.mode!r}")
        self.pieces |= other.pieces
        for name, counts in other.lengths.items():
            self.lengths[name].update(counts)
        self.exponents |= other.exponents
        self.term_starts |= other.term_starts
        if other.expanded_words is not None:
            self.expanded_words = (self.expanded_words or set()) | other.expanded_words

    def token_lengths(self) -> dict[str, Histogram]:
        """``problem_tokens`` and ``solution_tokens``: each text's pieces plus the ``<s>`` and ``</s>`` added."""
        return {name: Histogram({length + ADDED_TOKENS: count for length, count in counts.items()}) for name, counts in self.lengths.items()}

    def to_json(self) -> dict:
        return {
            "mode": self.mode,
            "pieces": sorted(self.pieces),
            "lengths": {name: sorted(counts.items()) for name, counts in self.lengths.items()},
            "exponents": sorted(self.exponents),
            "term_starts": sorted(self.term_starts),
            "expanded_words": None if self.expanded_words is None else sorted(self.expanded_words),
        }

    @classmethod
    def from_json(cls, data: dict) -> TextSurvey:
        survey = cls(data["mode"])
        survey.pieces = set(data["pieces"])
        survey.lengths = {name: Counter(dict(map(tuple, items))) for name, items in data["lengths"].items()}
        survey.exponents = set(data["exponents"])
        survey.term_starts = set(map(tuple, data["term_starts"]))
        survey.expanded_words = None if data["expanded_words"] is None else set(data["expanded_words"])
        return survey


def merged(surveys: Iterable[TextSurvey], mode: str) -> TextSurvey:
    """One survey of all of ``surveys`` (each in ``mode``)."""
    total = TextSurvey(mode)
    for survey in surveys:
        total.merge(survey)
    return total


def survey_path(state_dir: Path, split: str) -> Path:
    return state_dir / f"{split}{SURVEY_SUFFIX}"


def save_survey(state_dir: Path, split: str, survey: TextSurvey | None) -> None:
    """Keep a complete split's survey (None: some of its chunks were not surveyed; any old survey goes)."""
    path = survey_path(state_dir, split)
    if survey is None:
        path.unlink(missing_ok=True)
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(survey.to_json()))


def read_survey(path: Path) -> TextSurvey:
    """A split's kept survey; DamagedFileError if the file is not that."""
    data = read_json(path)
    if not _is_survey(data):
        raise DamagedFileError(path, "not a split's survey")
    return TextSurvey.from_json(data)


def _is_survey(data: object) -> bool:
    """Whether ``data`` has the shape of ``TextSurvey.to_json``'s output."""
    def strings(items: object, size: int | None = None) -> bool:
        return isinstance(items, list) and all(isinstance(item, str) for item in items) and size in (None, len(items))

    return (
        isinstance(data, dict) and isinstance(data.get("mode"), str) and strings(data.get("pieces")) and strings(data.get("exponents"))
        and isinstance(data.get("lengths"), dict) and all(
            isinstance(items, list) and all(isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair) for pair in items)
            for items in data["lengths"].values())
        and isinstance(data.get("term_starts"), list) and all(strings(start, 3) for start in data["term_starts"])
        and (data.get("expanded_words") is None or strings(data.get("expanded_words")))
    )


def load_survey(state_dir: Path, split: str, mode: str, expanded: bool) -> TextSurvey | None:
    """The split's kept survey if it was taken in number mode ``mode`` (and of the expanded form too, when
    ``expanded``); else None, and packaging surveys the shards (also, with a warning, when it is damaged)."""
    path = survey_path(state_dir, split)
    if not path.exists():
        return None
    try:
        survey = read_survey(path)
    except DamagedFileError as error:
        logger.warning("%s; the split's texts are surveyed again from its shards", error.what)
        return None
    if survey.mode != mode or (expanded and survey.expanded_words is None):
        return None
    return survey
