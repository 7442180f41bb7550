"""The dataset's own tokenizer: ``tokenizer.json`` and ``tokenizer_config.json``, fitted to the text form.

A ``tokenizers`` WordLevel model over a pre-tokenizer that cuts the text form into its pieces
(coefficients or digit groups, variables, ``^``, ``*``, ``/``, `` + ``, `` - ``, `` | ``, `` || ``, the
problem/solution boundary `` # ``): the vocabulary is every piece of every split, so no line encodes to
``<unk>`` (with ``digits``, every digit group too, so any integer encodes), and the pieces keep their
spaces, so decoding (a ``Fuse`` decoder) gives back the text.
``transformers.AutoTokenizer.from_pretrained(save_dir)`` loads it (transformers is not needed to write it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from calt_hf.hf.survey import DIGIT_GROUP, TextSurvey, pieces_pattern
from calt_hf.sampling import check_choice, parse_field
from calt_hf.files import write_atomically
from calt_hf.formats import PROBLEM_SOLUTION_SEP
# The expanded columns' tokenizer: ``AutoTokenizer.from_pretrained(save_dir / "expanded")``.
from calt_hf.run_folder import EXPANDED_DIR, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]
NUMBER_TOKENS = ("auto", "whole", "digits")


def number_mode(choice: str, settings: Mapping[str, Any]) -> str:
    """``whole`` or ``digits``: ``auto`` is one token per coefficient over GF(p) (a small field), digit
    groups otherwise (QQ, ZZ, RR, integer problems), from the run's ``field_str`` setting."""
    check_choice("description.number_tokens", choice, NUMBER_TOKENS)
    if choice != "auto":
        return choice
    return "whole" if str(settings.get("field_str") or "").upper().startswith("GF") else "digits"


#: Up to this characteristic, a GF(p) dataset's tokenizers hold every element 0..p-1 (``C0``..``C{p-1}`` in the
#: expanded form), seen in the data or not, so a model can write any coefficient; larger fields keep what was seen.
COMPLETE_FIELD_LIMIT = 20_000


def field_elements(settings: Mapping[str, Any]) -> range:
    """Every element of the run's GF(p) as integers 0..p-1 (empty for other fields, or p above the limit)."""
    try:
        field = parse_field(settings.get("field_str"))
    except ValueError:  # integer problems, custom generators: no field
        return range(0)
    return range(field.characteristic) if field.kind == "GF" and field.characteristic <= COMPLETE_FIELD_LIMIT else range(0)


def new_tokenizer(mode: str, vocabulary: Iterable[str] = ()):
    """A tokenizer with the text form's pre-tokenizer (``expanded``: one token a word, decoded with spaces
    between), ``<s> ... </s>`` around every text, and this vocabulary (after the special tokens, ids 0-3)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for token in vocabulary:
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    if mode == EXPANDED_DIR:
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(pieces_pattern(mode)), behavior="isolated")
        tokenizer.decoder = decoders.Fuse()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", pair=f"{BOS} $A {EOS} $B:1 {EOS}:1", special_tokens=[(BOS, 1), (EOS, 2)]
    )
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    return tokenizer


def _order(piece: str) -> tuple:
    """Numbers first, by value; then the other pieces by text (a stable vocabulary, whatever the data's order)."""
    return (0, int(piece), piece) if piece.isascii() and piece.isdigit() else (1, 0, piece)


def fit_tokenizer(survey: TextSurvey, numbers: Iterable[int] = ()):
    """The tokenizer whose vocabulary is every piece of the surveyed texts (of every split: a merged survey),
    plus, with ``whole`` numbers, the field's elements ``numbers`` the data happens to lack, and with
    ``digits`` every digit group (so that any integer encodes, and a model can write it)."""
    pieces = survey.pieces | {PROBLEM_SOLUTION_SEP}
    if survey.mode == "whole":
        pieces.update(map(str, numbers))
    if survey.mode == "digits":
        pieces.update(str(n) for n in range(10**DIGIT_GROUP))
        pieces.update(str(n).zfill(DIGIT_GROUP) for n in range(10 ** (DIGIT_GROUP - 1)))
    return new_tokenizer(survey.mode, sorted(pieces, key=_order))


def _expanded_order(token: str) -> tuple:
    """C tokens by value, then E tokens by value, then the separators (a stable vocabulary)."""
    if token[:1] in "CE" and token[1:].lstrip("-").isdigit():
        return (token[0], int(token[1:]), token)
    return ("Z", 0, token)


def fit_expanded_tokenizer(words: Iterable[str], numbers: Iterable[int] = ()):
    """The expanded columns' tokenizer: every word (``C3``, ``C-7/2``, ``E2``, ``+``, ``|``, ``||``, a
    multiplicity) of every split's expanded problem and solution (a survey's ``expanded_words``), the field's
    elements as C tokens, and every exponent up to the largest seen."""
    words = set(words) | {f"C{number}" for number in numbers}
    exponents = [int(word[1:]) for word in words if word[:1] == "E" and word[1:].isdigit()]
    words.update(f"E{e}" for e in range(max(exponents, default=-1) + 1))
    return new_tokenizer(EXPANDED_DIR, sorted(words, key=_expanded_order))


def write_tokenizer(save_dir: Path, tokenizer) -> list[Path]:
    """``tokenizer.json`` and the ``tokenizer_config.json`` that ``AutoTokenizer.from_pretrained`` reads."""
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": PAD,
        "bos_token": BOS,
        "eos_token": EOS,
        "unk_token": UNK,
        "clean_up_tokenization_spaces": False,  # the spaces are part of the pieces: decode gives the text back
        "model_max_length": 1_000_000_000,
    }
    paths = [save_dir / TOKENIZER_FILE, save_dir / TOKENIZER_CONFIG_FILE]
    write_atomically(paths[0], tokenizer.to_str(pretty=True) + "\n")
    write_atomically(paths[1], json.dumps(config, indent=2) + "\n")
    return paths
