"""Train a tiny encoder-decoder on a calt_hf dataset with the tokenizer it ships, from random weights.

    python scripts/train_example.py datasets/sympy_gcd_GF7 --steps 300
    python scripts/train_example.py me/gcd-gf7 --steps 300          # a dataset on the Hub
    python scripts/train_example.py datasets/sympy_gcd_GF7 --stream  # on the folder's endless stream

Needs the training extra (``pip install -e ".[train]"``: PyTorch and transformers); downloads nothing but
the dataset. Prints the loss as it trains, then the exact-match rate of greedy decoding on the test split,
beside the rate of always answering the training split's most frequent answer (on GCD: "1", a coprime pair's
gcd), which a model reaches before it has learnt anything of the task, and, for a local save_dir,
``calt_hf.evaluate``'s table: the decodes judged by the problem's mathematics. ``--stream`` trains on the
folder's endless stream (``calt_hf.stream``: its stored train split, then the rows a longer run would have
written) instead of samples of the stored split; the tokens of the training texts that the folder's tokenizer
has not seen are counted and reported, never silently trained on as ``<unk>``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any


def as_text(value: Any) -> str:
    """A problem or solution column (string, list, list of lists) in the dataset's text form."""
    from calt_hf.formats import TextFormat

    return TextFormat(" | ", " || ").join(value)


def pair(row: dict[str, Any]) -> tuple[str, str]:
    """A dataset row as (problem, solution) texts."""
    return as_text(row["problem"]), as_text(row["solution"])


def compact(text: str) -> str:
    return "".join(text.split())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python scripts/train_example.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a local save_dir or a Hub dataset repo id")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=256, help="tokens per problem or solution, at most")
    parser.add_argument("--eval-samples", type=int, default=200, help="test samples decoded for exact match")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stream", action="store_true", help="train on the local save_dir's endless stream (calt_hf.stream)")
    return parser.parse_args(argv)


class TrainingRows:
    """The training batches: samples of the stored train split, or (``stream``) the next rows of the folder's
    endless stream; ``rows`` are those trained on (the stored split, or the streamed rows so far: the baseline's)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from datasets import load_dataset

        self.batch_size = args.batch_size
        if args.stream:
            import calt_hf

            self.stream = iter(calt_hf.stream(args.source, split="train"))
            self.rows: list[tuple[str, str]] = []
        else:
            self.stream = None
            self.rows = [pair(row) for row in load_dataset(args.source, split="train")]

    def next_batch(self) -> list[tuple[str, str]]:
        if self.stream is None:
            return random.sample(self.rows, min(self.batch_size, len(self.rows)))
        self.rows.extend(pair(next(self.stream)) for _ in range(self.batch_size))
        return self.rows[-self.batch_size :]


class UnseenTokens:
    """The training texts' tokens, and the pieces the tokenizer maps to its unknown token."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length
        self.pieces: Counter[str] = Counter()
        self.tokens = 0

    def count(self, texts: list[str]) -> None:
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length, return_offsets_mapping=True)
        for text, ids, offsets in zip(texts, encoded.input_ids, encoded.offset_mapping):
            self.tokens += len(ids)
            self.pieces.update(text[a:b] for token, (a, b) in zip(ids, offsets) if token == self.tokenizer.unk_token_id)

    def report(self) -> str:
        shown = ", ".join(f"{piece!r} x{count}" for piece, count in self.pieces.most_common(5))
        return (f"tokens of the training texts the tokenizer has not seen: {sum(self.pieces.values())} of {self.tokens}"
                + (f" ({shown})" if self.pieces else ""))


def tiny_bart(tokenizer: Any, max_length: int) -> Any:
    """A two-layer BART of width 128 with random weights, for the tokenizer's vocabulary."""
    from transformers import BartConfig, BartForConditionalGeneration

    config = BartConfig(
        vocab_size=len(tokenizer), d_model=128, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=256, decoder_ffn_dim=256, max_position_embeddings=max_length + 2,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id, forced_eos_token_id=tokenizer.eos_token_id,
    )
    return BartForConditionalGeneration(config)


def encoder(tokenizer: Any, max_length: int) -> Any:
    def encode(texts: list[str]) -> Any:
        return tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")

    return encode


def train(model: Any, encode: Any, rows: TrainingRows, unseen: UnseenTokens, args: argparse.Namespace) -> None:
    """``args.steps`` AdamW steps on batches of ``rows``, the loss printed every ``args.log_every`` steps."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    began = time.perf_counter()
    model.train()
    for step in range(1, args.steps + 1):
        batch = rows.next_batch()
        unseen.count([text for sample in batch for text in sample])
        inputs, targets = encode([p for p, _ in batch]), encode([s for _, s in batch])
        labels = targets.input_ids.masked_fill(targets.attention_mask == 0, -100)
        loss = model(input_ids=inputs.input_ids, attention_mask=inputs.attention_mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % args.log_every == 0 or step == args.steps:
            print(f"step {step}: loss {loss.item():.4f} ({time.perf_counter() - began:.0f} s)", flush=True)


def decode_test(model: Any, encode: Any, tokenizer: Any, test: list[tuple[str, str]], args: argparse.Namespace) -> list[str]:
    """Greedy decodes of the test problems, in order."""
    import torch

    model.eval()
    decodes = []
    with torch.no_grad():
        for start in range(0, len(test), args.batch_size):
            inputs = encode([p for p, _ in test[start : start + args.batch_size]])
            outputs = model.generate(**inputs, max_length=args.max_length, num_beams=1, do_sample=False)
            decodes += [tokenizer.decode(ids, skip_special_tokens=True) for ids in outputs]
    return decodes


def report_exact_match(decodes: list[str], test: list[tuple[str, str]], train_rows: list[tuple[str, str]]) -> None:
    """The exact-match rate, beside the baseline of always answering the most frequent training answer."""
    correct = sum(compact(decode) == compact(solution) for decode, (_, solution) in zip(decodes, test))
    answer, _ = Counter(compact(solution) for _, solution in train_rows).most_common(1)[0]
    baseline = sum(compact(solution) == answer for _, solution in test)
    print(f"exact match on test: {correct}/{len(test)} = {correct / max(len(test), 1):.3f}; baseline, always answering "
          f"the most frequent training answer ({answer[:40]!r}): {baseline}/{len(test)} = {baseline / max(len(test), 1):.3f}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    import torch
    from datasets import load_dataset
    from transformers import AutoTokenizer

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(args.source)
    test = [pair(row) for row in load_dataset(args.source, split="test")][: args.eval_samples]
    rows = TrainingRows(args)
    unseen = UnseenTokens(tokenizer, args.max_length)
    model, encode = tiny_bart(tokenizer, args.max_length), encoder(tokenizer, args.max_length)
    train(model, encode, rows, unseen, args)
    decodes = decode_test(model, encode, tokenizer, test, args)
    report_exact_match(decodes, test, rows.rows)
    print(unseen.report())
    if Path(args.source).is_dir() and decodes:  # the folder's record tells the ring and the problem
        from calt_hf.evaluate import evaluate, format_table

        print(format_table(evaluate(args.source, decodes, "test", first=len(decodes))))


if __name__ == "__main__":
    main()
