"""scripts/train_example.py as the README gives it: a tiny dataset, its shipped tokenizer, a few steps, the exact match
beside its baseline."""

import math
from collections import Counter
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("torch", reason="the training extra: pip install -e '.[train]'")


def generate(save_dir: Path, *words: str) -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", *words, "verbose=false", f"save_dir={save_dir}"],
        capture_output=True, text=True, timeout=300,
    )
    assert generated.returncode == 0, generated.stderr


def train(save_dir: Path, *words: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_example.py"), str(save_dir), *words, "--batch-size", "8",
         "--log-every", "1", "--max-length", "64"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_few_training_steps_on_a_generated_dataset(tmp_path):
    save_dir = tmp_path / "gcd"
    generate(save_dir, "problem=gcd", "sampler.max_degree=2", "sampler.max_num_terms=3", "dataset_sizes={train: 200, test: 16}")
    result = train(save_dir, "--steps", "6", "--eval-samples", "16")
    losses = [float(value) for value in re.findall(r"^step \d+: loss ([\d.]+)", result.stdout, flags=re.M)]
    assert len(losses) == 6 and all(math.isfinite(loss) and loss > 0 for loss in losses)
    matched, total = map(int, re.search(r"exact match on test: (\d+)/(\d+)", result.stdout).groups())
    assert total == 16 and 0 <= matched <= total
    # The decodes judged by calt_hf.evaluate (gcd up to a unit), its table printed: the same exact matches.
    assert f"split 'test' of {save_dir}: 16 answers, problem gcd" in result.stdout
    scores = {name: int(count) for name, count in re.findall(r"^(exact match|correct|wrong|unreadable) +(\d+) ", result.stdout, flags=re.M)}
    assert scores["exact match"] == matched and scores["correct"] + scores["wrong"] + scores["unreadable"] == 16
    assert re.search(r"^baseline '.+': correct +\d+ ", result.stdout, flags=re.M)
    # beside it, the rate of always answering the most frequent training answer, counted here from the text files
    answers = {split: [line.split(" # ")[1].replace(" ", "") for line in (save_dir / f"{split}_raw.txt").read_text().splitlines()]
               for split in ("train", "test")}
    answer, _ = Counter(answers["train"]).most_common(1)[0]
    expected = sum(given == answer for given in answers["test"])
    assert f"baseline, always answering the most frequent training answer ({answer!r}): {expected}/16 = " in result.stdout


def test_training_on_the_endless_stream_of_a_folder_reports_the_tokens_its_tokenizer_has_not_seen(tmp_path):
    """``--stream``: batches from calt_hf.stream past the 4 stored rows; over QQ with whole-number tokens the
    stream meets integers the 4 rows did not hold, which are counted and shown, not trained on silently as <unk>."""
    save_dir = tmp_path / "sum_qq"
    generate(save_dir, "problem=sum", "sampler.field_str=QQ", "hf.number_tokens=whole", "dataset_sizes={train: 4, test: 4}")
    result = train(save_dir, "--stream", "--steps", "3", "--eval-samples", "4")
    assert len(re.findall(r"^step \d+: loss [\d.]+", result.stdout, flags=re.M)) == 3
    assert "exact match on test: " in result.stdout and "/4 = " in result.stdout
    unseen, total = map(int, re.search(r"tokens of the training texts the tokenizer has not seen: (\d+) of (\d+) \(", result.stdout).groups())
    assert 0 < unseen < total
