"""Train a tiny encoder-decoder on a calt_hf dataset with the tokenizer it ships, from random weights.

    python scripts/train_example.py datasets/sympy_gcd_GF7 --steps 300
    python scripts/train_example.py me/gcd-gf7 --steps 300          # a dataset on the Hub

Needs the training extra (``pip install -e ".[train]"``: PyTorch and transformers); downloads nothing but
the dataset. Prints the loss as it trains, then the exact-match rate of greedy decoding on the test split,
beside the rate of always answering the training split's most frequent answer (on GCD: "1", a coprime pair's
gcd), which a model reaches before it has learnt anything of the task, and, for a local save_dir,
``calt_hf.evaluate``'s table: the decodes judged by the problem's mathematics.
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


def compact(text: str) -> str:
    return "".join(text.split())


def main(argv: list[str] | None = None) -> None:
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
    args = parser.parse_args(argv)

    import torch
    from datasets import load_dataset
    from transformers import AutoTokenizer, BartConfig, BartForConditionalGeneration

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    dataset = load_dataset(args.source)
    tokenizer = AutoTokenizer.from_pretrained(args.source)
    train = [(as_text(row["problem"]), as_text(row["solution"])) for row in dataset["train"]]
    test = [(as_text(row["problem"]), as_text(row["solution"])) for row in dataset["test"]][: args.eval_samples]

    config = BartConfig(
        vocab_size=len(tokenizer), d_model=128, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=256, decoder_ffn_dim=256, max_position_embeddings=args.max_length + 2,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id, forced_eos_token_id=tokenizer.eos_token_id,
    )
    model = BartForConditionalGeneration(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)

    def encode(texts: list[str]) -> Any:
        return tokenizer(texts, padding=True, truncation=True, max_length=args.max_length, return_tensors="pt")

    began = time.perf_counter()
    model.train()
    for step in range(1, args.steps + 1):
        batch = random.sample(train, min(args.batch_size, len(train)))
        inputs, targets = encode([p for p, _ in batch]), encode([s for _, s in batch])
        labels = targets.input_ids.masked_fill(targets.attention_mask == 0, -100)
        loss = model(input_ids=inputs.input_ids, attention_mask=inputs.attention_mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % args.log_every == 0 or step == args.steps:
            print(f"step {step}: loss {loss.item():.4f} ({time.perf_counter() - began:.0f} s)", flush=True)

    model.eval()
    correct = 0
    decodes = []
    with torch.no_grad():
        for start in range(0, len(test), args.batch_size):
            chunk = test[start : start + args.batch_size]
            inputs = encode([p for p, _ in chunk])
            outputs = model.generate(**inputs, max_length=args.max_length, num_beams=1, do_sample=False)
            for (_, solution), ids in zip(chunk, outputs):
                decodes.append(tokenizer.decode(ids, skip_special_tokens=True))
                correct += compact(decodes[-1]) == compact(solution)
    answer, _ = Counter(compact(solution) for _, solution in train).most_common(1)[0]
    baseline = sum(compact(solution) == answer for _, solution in test)
    print(f"exact match on test: {correct}/{len(test)} = {correct / max(len(test), 1):.3f}; baseline, always answering "
          f"the most frequent training answer ({answer[:40]!r}): {baseline}/{len(test)} = {baseline / max(len(test), 1):.3f}")
    if Path(args.source).is_dir() and decodes:  # the folder's record tells the ring and the problem
        from calt_hf.evaluate import evaluate, format_table

        print(format_table(evaluate(args.source, decodes, "test", first=len(decodes))))


if __name__ == "__main__":
    main()
