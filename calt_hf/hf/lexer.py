"""The dataset's CALT lexer: ``lexer.yaml``, fitted to the text form, for CALT's own training pipeline.

CALT (calt-x 1.5) trains from ``IOPipeline.from_config({"lexer_config": "lexer.yaml", ...})``: its
``UnifiedLexer`` cuts each text into tokens and its tokenizer is a WordLevel model over the lexer's
``vocab`` (ranges ``[prefix, min, max]`` plus ``misc``), so every token of every line must be in that
vocabulary. The vocabulary written here holds what the data uses: its variables, operators and
separators (``|``, ``||``), the numbers (with ``whole``: every integer from 0 to the largest seen; with
``digits``: CALT's ``digit_group: 3``, which adds every group of 1 to 3 digits itself) and, for
polynomial data, the tokens of the expanded form that CALT's ``ExpandedFormLoadPreprocessor`` writes
(``C<coefficient>`` over the coefficients' range, ``E<exponent>`` from 0 to the largest exponent), so the
same file serves training on the text and on the expanded form. Signs are separate tokens
(``attach_sign: false``), as in ``tokenizer.json``.

CALT's lexer compiles one regular expression alternative per vocabulary token: building it took 0.005 s
for ~200 tokens but 52 s for ~96,000 (GF(32003) with whole numbers), so large fields are slow to lex there.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

from calt_hf.hf.survey import DIGIT_GROUP, TextSurvey
from calt_hf.hf.tokenizer import SPECIAL_TOKENS
from calt_hf.files import write_atomically
from calt_hf.formats import PROBLEM_SOLUTION_SEP, TextFormat
from calt_hf.run_folder import LEXER_FILE

#: Above this many vocabulary tokens CALT's lexer takes more than a few seconds to build (see above).
LARGE_VOCABULARY = 20_000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPANDED_TOKEN = re.compile(r"[CE]-?\d+")
_EXPANDED_SYMBOLS = {"+", "|", "||"}

logger = logging.getLogger(__name__)


class LexerFit:
    """What the lexer must cover: variables, operators and numbers from the fitted tokenizer's vocabulary
    (its pieces are the text's), exponents, term starts and the expanded form's words from the texts' survey
    (``calt_hf.hf.survey``: sets of distinct strings, read as numbers here)."""

    def __init__(self, survey: TextSurvey, vocabulary: Iterable[str]) -> None:
        self.identifiers: set[str] = set()
        self.symbols: set[str] = set()
        self.digits: set[str] = set()  # with whole numbers every run of digits, "05" of 1.05 too (a token of its own)
        self.exponents = survey.exponents
        self.term_starts = survey.term_starts  # (operator before, leading minus, coefficient or a letter)
        self.expanded_words = survey.expanded_words or set()
        for piece in vocabulary:  # special tokens and the problem/solution boundary are no pieces of a text
            if piece in SPECIAL_TOKENS or piece == PROBLEM_SOLUTION_SEP:
                continue
            piece = piece.strip()
            if piece.isdigit():
                self.digits.add(piece)
            elif _IDENTIFIER.fullmatch(piece):
                self.identifiers.add(piece)
            else:
                self.symbols.add(piece)

    @property
    def floats(self) -> bool:
        return "." in self.symbols

    @property
    def largest_exponent(self) -> int:
        """Of the text (``^k``, a bare variable's 1) and of the expanded words (``E<k>``)."""
        exponents = {int(e) for e in self.exponents} | {1 if self.identifiers else 0}
        exponents |= {int(word[1:]) for word in self.expanded_words if _EXPANDED_TOKEN.fullmatch(word) and word[0] == "E"}
        return max(exponents)

    @property
    def coefficients(self) -> set[int]:
        """What a C token holds: CALT's ``int(c)`` (truncated) and the signed numerator (ours: ``C-7/2``)."""
        values = {0}
        for operator, minus, body in self.term_starts:
            sign = -1 if (operator == "-") != (minus == "-") else 1
            numerator, _, denominator = body.partition("/")
            if not numerator[0].isdigit():  # a term that starts with its variable: coefficient 1
                values.add(sign)
            elif numerator.isdigit():
                values.update({sign * int(numerator), sign * int(Fraction(int(numerator), int(denominator or 1)))})
            else:  # a real
                values.add(sign * int(float(numerator)))
        values |= {int(word[1:]) for word in self.expanded_words if _EXPANDED_TOKEN.fullmatch(word) and word[0] == "C"}
        return values

    def config(self, mode: str) -> dict:
        """The lexer configuration for ``whole`` or ``digits`` numbers (``tokenizer.json``'s mode)."""
        ranges: dict[str, list] = {}
        symbols = self.symbols | (self.expanded_words & _EXPANDED_SYMBOLS) | (_EXPANDED_SYMBOLS if self.identifiers else set())
        misc = sorted(symbols) + sorted(self.identifiers)  # no token twice: CALT's tokenizer would give two the same id
        if mode == "whole":
            padded = {digits for digits in self.digits if len(digits) > 1 and digits[0] == "0"}
            misc += _range_or_list(ranges, "numbers", "", {int(digits) for digits in self.digits - padded} | {0})
            misc += sorted(padded)
        if self.identifiers:  # polynomial data (integer problems have no variables): the expanded form's tokens
            misc += _range_or_list(ranges, "coefficients", "C", self.coefficients)
            ranges["exponents"] = ["E", 0, self.largest_exponent]
        return {
            "vocab": {
                "range": ranges,
                "misc": misc,
                "special_tokens": {},
                "flags": {"include_base_vocab": True, "include_base_special_tokens": True},
            },
            "number_policy": {
                "attach_sign": False,
                # CALT's lexer groups from the left, tokenizer.json from the right: the same group size
                "digit_group": DIGIT_GROUP if mode == "digits" else 0,
                "allow_float": self.floats,
            },
            "strict": True,
            "include_base_vocab": True,
        }


def _range_or_list(ranges: dict[str, list], name: str, prefix: str, values: set[int]) -> list[str]:
    """Every integer from the smallest to the largest seen as ``ranges[name]``, when that is at most
    ``LARGE_VOCABULARY`` tokens (a model may then write values the data lacks); else only the values
    seen, returned as ``misc`` tokens (products over QQ or ZZ reach coefficients of millions)."""
    low, high = min(values), max(values)
    if high - low < LARGE_VOCABULARY:
        ranges[name] = [prefix, low, high]
        return []
    return [f"{prefix}{value}" for value in sorted(values)]


def write_lexer(save_dir: Path, config: dict) -> Path:
    """``lexer.yaml`` (YAML flow lists, one key a line), with a header saying how CALT reads it."""
    vocab, policy = config["vocab"], config["number_policy"]
    size = sum(high - low + 1 for _, low, high in vocab["range"].values()) + len(vocab["misc"])
    if size > LARGE_VOCABULARY:
        logger.warning("lexer.yaml has %d tokens: CALT's UnifiedLexer will take long to build (one regex "
                       "alternative per token)", size)
    lines = [
        "# CALT lexer fitted to this dataset by calt_hf: every line of every split, as text and in the expanded",
        "# form (C<coefficient> E<exponent> ...), lexes to tokens of this vocabulary. In CALT's data config:",
        f"#   lexer_config: {LEXER_FILE}, train_dataset_path: train{TextFormat.suffix}, test_dataset_path: test{TextFormat.suffix}",
        "vocab:",
        "  range:",
        *(f"    {name}: {json.dumps(value)}" for name, value in vocab["range"].items()),
        f"  misc: {json.dumps(vocab['misc'])}",
        "  special_tokens: {}",
        f"  flags: {json.dumps(vocab['flags'])}",
        "number_policy:",
        *(f"  {key}: {json.dumps(value)}" for key, value in policy.items()),
        f"strict: {json.dumps(config['strict'])}",
        f"include_base_vocab: {json.dumps(config['include_base_vocab'])}",
    ]
    if not vocab["range"]:
        lines[4] = "  range: {}"
    path = save_dir / LEXER_FILE
    write_atomically(path, "\n".join(lines) + "\n")
    return path
