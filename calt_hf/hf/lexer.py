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
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

from calt_hf.writer import write_atomically

LEXER_FILE = "lexer.yaml"
#: CALT's ``digit_group`` for ``digits`` (it groups from the left; tokenizer.json groups from the right).
DIGIT_GROUP = 3
#: Above this many vocabulary tokens CALT's lexer takes more than a few seconds to build (see above).
LARGE_VOCABULARY = 20_000
_LEAF_SEPARATOR = re.compile(r" \|\| | \| ")
_TERM_SEPARATOR = re.compile(r" ([+-]) ")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYMBOL = re.compile(r"\|\||[^\w\s]")
_DIGITS = re.compile(r"\d+")
_COEFFICIENT = re.compile(r"(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)(?:/(\d+))?$")
_EXPANDED_TOKEN = re.compile(r"([CE])(-?\d+)$")

logger = logging.getLogger(__name__)


class LexerFit:
    """What the lexer must cover, gathered from the data as it streams past (``observe``)."""

    def __init__(self) -> None:
        self.identifiers: set[str] = set()
        self.symbols: set[str] = set()
        self.numbers: set[int] = set()
        self.padded_numbers: set[str] = set()  # "05" of 1.05: CALT's token for a fraction's digits
        self.floats = False
        self.coefficients: set[int] = set()  # what a C token holds: int(c) (CALT) and exact numerators (ours)
        self.largest_exponent = 0

    def observe(self, batches: Iterable[list[tuple[str, ...]]], expanded: bool = False) -> Iterator[list[tuple[str, ...]]]:
        """Pass ``batches`` of texts (``expanded``: of expanded forms) through, adding each text's tokens."""
        add = self.add_expanded if expanded else self.add_text
        for batch in batches:
            for row in batch:
                for text in row:
                    add(text)
            yield batch

    def add_text(self, text: str) -> None:
        """One text form (``a | b || c``): its vocabulary, and the expanded form's tokens."""
        self.identifiers.update(_IDENTIFIER.findall(text))
        self.symbols.update(_SYMBOL.findall(text))
        self.floats = self.floats or "." in text
        for digits in _DIGITS.findall(text):
            if len(digits) > 1 and digits[0] == "0":
                self.padded_numbers.add(digits)
            else:
                self.numbers.add(int(digits))
        for leaf in _LEAF_SEPARATOR.split(text):  # kept only for polynomial data (see ``config``)
            self._add_polynomial(leaf)

    def _add_polynomial(self, text: str) -> None:
        pieces = _TERM_SEPARATOR.split(text.strip())
        signs = ["+", *pieces[1::2]]
        for sign, term in zip(signs, pieces[::2]):
            if term.startswith("-"):
                sign, term = "-", term[1:]
            factors = term.split("*")
            match = _COEFFICIENT.match(factors[0])
            numerator, denominator = (match.group(1), match.group(2) or "1") if match else ("1", "1")
            if match:
                factors = factors[1:]
            value = float(numerator) if not numerator.isdigit() else Fraction(int(numerator), int(denominator))
            negative = -1 if sign == "-" else 1
            self.coefficients.add(negative * int(value))  # CALT's ExpandedFormLoadPreprocessor writes int(c)
            if numerator.isdigit():
                self.coefficients.add(negative * int(numerator))  # ours writes C<numerator>/<denominator>
            for factor in factors:
                _, _, exponent = factor.partition("^")
                self.largest_exponent = max(self.largest_exponent, int(exponent or 1))

    def add_expanded(self, text: str) -> None:
        """One expanded text (``C3 E2 E1 + C1 E0 E1 || ...``): its C and E tokens, exactly."""
        for token in text.split():
            match = _EXPANDED_TOKEN.match(token)
            if match is None:
                continue
            if match.group(1) == "C":
                self.coefficients.add(int(match.group(2)))
            else:
                self.largest_exponent = max(self.largest_exponent, int(match.group(2)))
        self.symbols.update(token for token in text.split() if token in ("+", "|", "||", "/"))

    def config(self, mode: str) -> dict:
        """The lexer configuration for ``whole`` or ``digits`` numbers (``tokenizer.json``'s mode)."""
        ranges: dict[str, list] = {}
        misc = sorted(self.symbols) + sorted(self.identifiers)
        if mode == "whole":
            misc += _range_or_list(ranges, "numbers", "", self.numbers | {0})
            misc += sorted(self.padded_numbers)
        if self.identifiers:  # polynomial data (integer problems have no variables): the expanded form's tokens
            misc += _range_or_list(ranges, "coefficients", "C", self.coefficients | {0})
            ranges["exponents"] = ["E", 0, self.largest_exponent]
            misc += [symbol for symbol in ("+", "||") if symbol not in self.symbols]
        return {
            "vocab": {
                "range": ranges,
                "misc": misc,
                "special_tokens": {},
                "flags": {"include_base_vocab": True, "include_base_special_tokens": True},
            },
            "number_policy": {
                "attach_sign": False,
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
        "#   lexer_config: lexer.yaml, train_dataset_path: train_raw.txt, test_dataset_path: test_raw.txt",
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
