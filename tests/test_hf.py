"""Hugging Face packaging: Parquet shards, features that follow the nesting, the card, load_dataset."""

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import integer_sum_generator, mixed_generator, nested_generator
from datasets import Json, List, Value

from calt_hf.hf.package import load_dataset_dict, package_dataset
from calt_hf.hf.parquet import ParquetFormat, split_shards
from calt_hf.problems import GCDProblem, PolynomialStatistics
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter


def front_matter(readme):
    return yaml.safe_load(readme.read_text().split("---")[1])


def shard_bytes(save_dir):
    return {p.name: p.read_bytes() for p in sorted((save_dir / "data").iterdir())}


def test_a_run_is_a_dataset_dict(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=2, verbose=False).run(
        {"train": 400, "test": 50, "valid": 30},
        GCDProblem(gf7_sampler),
        PolynomialStatistics(gf7_sampler),
        save_dir=tmp_path,
        batch_size=128,
        hf_dataset=True,
    )
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
        "valid-00000-of-00001.parquet",
    ]
    dataset = load_dataset_dict(tmp_path)
    assert list(dataset) == ["train", "test", "valid"]
    assert {name: split.num_rows for name, split in dataset.items()} == {"train": 400, "test": 50, "valid": 30}
    assert dataset["train"].features == {"problem": List(Value("string")), "solution": Value("string")}
    writer = DatasetWriter(tmp_path)
    for split in dataset:
        assert [(row["problem"], row["solution"]) for row in dataset[split]] == writer.load_dataset_jsonl(split)


def test_load_works_offline_in_a_fresh_process(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 20}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True)
    script = "from datasets import load_dataset; d = load_dataset(%r); print(d['train'].num_rows)" % str(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "20"


@pytest.mark.parametrize(
    "generator, problem_feature, solution_feature",
    [
        (nested_generator, List(List(Value("string"))), List(Value("string"))),
        (mixed_generator, Json(), Value("string")),
    ],
)
def test_features_follow_the_nesting(tmp_path, generator, problem_feature, solution_feature):
    DatasetGenerator(n_jobs=2, verbose=False).run(
        {"train": 300, "test": 40}, generator, save_dir=tmp_path, batch_size=32, hf_dataset=True
    )
    dataset = load_dataset_dict(tmp_path)
    assert dataset["train"].features == {"problem": problem_feature, "solution": solution_feature}
    writer = DatasetWriter(tmp_path)
    for split in ("train", "test"):
        assert [(r["problem"], r["solution"]) for r in dataset[split]] == writer.load_dataset_jsonl(split)


EMPTY_SEEDS = {derive_seed(42, "test", index) for index in range(5)}


def empty_in_test(seed):
    """Empty lists for the test split (written first, its kind unknown), lists of lists for train."""
    return ([], []) if seed in EMPTY_SEEDS else nested_generator(seed)


def test_empty_lists_keep_their_type_across_splits(tmp_path, caplog):
    generator = DatasetGenerator(n_jobs=1, verbose=False)
    generator.run({"test": 5, "train": 30}, empty_in_test, save_dir=tmp_path, hf_dataset=True)
    dataset = load_dataset_dict(tmp_path)
    assert dataset["test"].features["problem"] == List(List(Value("string")))
    assert dataset["test"][0] == {"problem": [], "solution": []}
    caplog.set_level("INFO", logger="calt_hf")
    generator.run({"test": 5, "train": 30}, empty_in_test, save_dir=tmp_path, hf_dataset=True, resume=True)
    assert "split 'test' is complete already" in caplog.text  # its widened shard was recorded again


def test_shards_are_byte_identical_whatever_the_schedule_and_equal_to_packaging_later(tmp_path):
    runs = {"a": ("loky", 2, 16), "b": ("sequential", 1, 1000), "c": ("threading", 2, 7)}
    for name, (backend, n_jobs, batch) in runs.items():
        DatasetGenerator(backend=backend, n_jobs=n_jobs, verbose=False).run(
            {"train": 250}, mixed_generator, save_dir=tmp_path / name, batch_size=batch, hf_dataset=True
        )
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 250}, mixed_generator, save_dir=tmp_path / "later")
    package_dataset(tmp_path / "later")
    expected = shard_bytes(tmp_path / "a")
    assert all(shard_bytes(tmp_path / name) == expected for name in ("b", "c", "later"))


def test_many_shards_with_fixed_row_groups(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 2500}, integer_sum_generator, save_dir=tmp_path)
    package_dataset(tmp_path, rows_per_shard=1000)
    shards = split_shards(tmp_path / "data", "train")
    assert [p.name for p in shards] == [f"train-0000{i}-of-00003.parquet" for i in range(3)]
    assert [pq.read_metadata(p).num_rows for p in shards] == [1000, 1000, 500]
    assert load_dataset_dict(tmp_path)["train"].num_rows == 2500


def test_packaging_a_calt_directory_without_jsonl(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 40}, integer_sum_generator, save_dir=tmp_path, save_json=False)
    package_dataset(tmp_path)
    rows = load_dataset_dict(tmp_path)["train"]
    assert [(r["problem"], r["solution"]) for r in rows] == DatasetWriter(tmp_path).load_dataset("train")


def test_the_card(tmp_path, gf7_sampler):
    DatasetGenerator(n_jobs=1, verbose=False, root_seed=5).run(
        {"train": 120, "test": 10},
        GCDProblem(gf7_sampler),
        PolynomialStatistics(gf7_sampler),
        save_dir=tmp_path,
        hf_dataset=True,
    )
    readme = tmp_path / "README.md"
    meta = front_matter(readme)
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*.parquet"},
                {"split": "test", "path": "data/test-*.parquet"},
            ],
        }
    ]
    splits = {s["name"]: s for s in meta["dataset_info"]["splits"]}
    assert splits["train"]["num_examples"] == 120 and splits["test"]["num_examples"] == 10
    loaded = load_dataset_dict(tmp_path)
    for name, split in loaded.items():  # the sizes `datasets` itself records when it loads the split
        assert splits[name]["num_bytes"] == split.info.splits[name].num_bytes == split.data.nbytes
    assert meta["dataset_info"]["features"] == [{"name": "problem", "list": "string"}, {"name": "solution", "dtype": "string"}]
    assert meta["size_categories"] == ["n<1K"] and "license" not in meta  # the user's choice: hf.license
    assert meta["task_categories"] and "computer-algebra" in meta["tags"] and meta["pretty_name"] == "gcd over GF7"
    body = readme.read_text()
    stats = yaml.safe_load((tmp_path / "train_stats.yaml").read_text())
    assert f"| problem total_degree | {stats['problem_stats']['total_degree']['mean']:.4g} |" in body
    assert "| solution num_terms |" in body and "| generation time (s) |" in body
    assert "| root_seed | `5` |" in body and "| field_str | `GF7` |" in body and "| backend | `sympy` |" in body
    first = DatasetWriter(tmp_path).load_dataset("train")[0]
    assert f"| `{first[0][0]} \\| {first[0][1]}` | `{first[1]}` |" in body
    assert "sympy 1." in body and "two polynomials" in body


def test_parquet_format_refuses_append(tmp_path):
    with pytest.raises(ValueError, match="cannot be appended"):
        ParquetFormat().open_sink(tmp_path, "train", append=True)


def test_mixed_json_rows_decode(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 30}, mixed_generator, save_dir=tmp_path, hf_dataset=True)
    raw = pq.read_table(split_shards(tmp_path / "data", "train")[0]).column("problem").to_pylist()
    assert all(isinstance(json.loads(value), list) for value in raw)


@pytest.mark.parametrize("problem_kind", ["string", "empty", "list", "nested", "json"])
@pytest.mark.parametrize("solution_kind", ["string", "list", "nested", "json"])
def test_the_shard_schema_is_what_datasets_makes_of_the_features(problem_kind, solution_kind):
    """Shards are written without importing datasets: their schema, Hugging Face metadata included, is byte for
    byte what ``datasets.Features.arrow_schema`` gives for the same features."""
    import json

    from calt_hf.hf.parquet import schema_of

    kinds = {"problem": problem_kind, "solution": solution_kind}
    expected = features_of(kinds).arrow_schema
    expected = expected.with_metadata({**expected.metadata, b"calt_hf_kinds": json.dumps(kinds).encode()})
    assert schema_of(kinds).equals(expected, check_metadata=True)


@pytest.mark.parametrize("kind", ["string", "empty", "list", "nested", "json"])
def test_the_card_writes_the_features_as_datasets_does(kind):
    """The card's dataset_info and feature names are written without importing datasets: the same YAML as
    ``DatasetInfosDict.to_dataset_card_data``, and feature texts that are the features themselves."""
    import datasets
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    from calt_hf.hf.card import _FEATURE_TEXT, card_data
    from calt_hf.hf.description import DatasetDescription

    kinds = {"problem": kind, "solution": "string"}
    sizes = {"train": (10, 1000, 500, 1), "test": (2, 200, 100, 1)}
    ours = card_data(sizes, kinds, DatasetDescription()).to_dict()["dataset_info"]
    info = datasets.DatasetInfo(
        features=features_of(kinds),
        splits=datasets.SplitDict({s: datasets.SplitInfo(name=s, num_bytes=n[1], num_examples=n[0]) for s, n in sizes.items()}),
        download_size=600,
        dataset_size=1200,
    )
    expected = DatasetCardData()
    DatasetInfosDict({"default": info}).to_dataset_card_data(expected)
    assert ours == expected.to_dict()["dataset_info"]
    assert eval(_FEATURE_TEXT[kind], vars(datasets)) == feature_of(kind)


# The datasets features of each column kind: the reference that the shard schema and the card are checked against.
def feature_of(kind: str):
    """The ``datasets`` feature of a kind: Value, List(Value), List(List(Value)) or Json()."""
    from datasets import Json, List, Value

    from calt_hf.hf.parquet import EMPTY, JSON, LIST, NESTED, STRING

    return {
        STRING: Value("string"),
        EMPTY: List(Value("string")),
        LIST: List(Value("string")),
        NESTED: List(List(Value("string"))),
        JSON: Json(),
    }[kind]


def features_of(kinds: dict[str, str]):
    """``datasets.Features`` for the problem and solution kinds (and the expanded columns, if any)."""
    from datasets import Features

    from calt_hf.hf.parquet import columns_of

    return Features({column: feature_of(kinds[column]) for column in columns_of(kinds)})
