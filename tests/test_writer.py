import json
from pathlib import Path
import pickle

import pytest
import yaml

from calt_hf.sympy import DatasetWriter

SAMPLES = [
    ("x^2 + 2*x + 1", "(x + 1)^2"),
    (["x + y", "x - y"], ["2*x", "2*y"]),
    ([["x", "y"], ["z", "w"]], [["x", "z"], ["y", "w"]]),
    ([["a", "b"], "c"], [["d", "e"], "f"]),
    ([], ""),
]
EXPECTED_TEXT = [
    "x^2 + 2*x + 1 # (x + 1)^2",
    "x + y | x - y # 2*x | 2*y",
    "x | y || z | w # x | z || y | w",
    "a | b || c # d | e || f",
    " # ",
]


def test_documented_files_and_formats(tmp_path):
    writer = DatasetWriter(save_dir=tmp_path)
    writer.open("train")
    writer.save_batch(SAMPLES[:2], tag="train", batch_idx=0)
    writer.save_batch(SAMPLES[2:], tag="train", batch_idx=1)
    assert not (tmp_path / "train_raw.txt").exists(), "files must not look complete before close"
    writer.close("train")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train_data.jsonl", "train_data.pkl", "train_raw.txt"]
    assert (tmp_path / "train_raw.txt").read_text().splitlines() == EXPECTED_TEXT
    lines = (tmp_path / "train_data.jsonl").read_text().splitlines()
    assert json.loads(lines[1]) == {"problem": ["x + y", "x - y"], "solution": ["2*x", "2*y"]}
    assert writer.load_dataset("train") == [tuple(s) for s in SAMPLES]
    assert writer.load_dataset_jsonl("train") == [tuple(s) for s in SAMPLES]
    with open(tmp_path / "train_data.pkl", "rb") as handle:  # one plain pickle of a list
        assert pickle.load(handle) == [tuple(s) for s in SAMPLES]


def test_save_batch_without_open_creates_then_appends(tmp_path):
    writer = DatasetWriter(save_dir=tmp_path, save_text=True, save_json=False)
    writer.save_batch(SAMPLES[:1], tag="test", batch_idx=0)
    writer.save_batch(SAMPLES[1:3], tag="test", batch_idx=1)
    assert writer.load_dataset("test") == [tuple(s) for s in SAMPLES[:3]]
    assert (tmp_path / "test_raw.txt").read_text().splitlines() == EXPECTED_TEXT[:3]
    assert not (tmp_path / "test_data.jsonl").exists()
    writer.save_batch(SAMPLES[3:4], tag="test", batch_idx=0)  # batch 0 starts afresh
    assert writer.load_dataset("test") == [tuple(SAMPLES[3])]


def test_context_manager_closes_or_discards(tmp_path):
    with DatasetWriter(save_dir=tmp_path) as writer:
        writer.open("dev")
        writer.save_batch(SAMPLES[:2], tag="dev")
    assert writer.load_dataset("dev") == [tuple(s) for s in SAMPLES[:2]]
    with pytest.raises(RuntimeError):
        with DatasetWriter(save_dir=tmp_path / "failed") as writer:
            writer.open("eval")
            writer.save_batch(SAMPLES[:2], tag="eval")
            raise RuntimeError("boom")
    assert list((tmp_path / "failed").iterdir()) == []


def test_close_all_and_warnings(tmp_path, caplog):
    writer = DatasetWriter(save_dir=tmp_path)
    writer.open("a")
    writer.open("a")
    writer.open("b-2")
    writer.save_batch(SAMPLES[:1], "a")
    writer.close_all()
    writer.close("a")
    assert "already open" in caplog.text and "no open files" in caplog.text
    assert writer.load_dataset("a") == [tuple(SAMPLES[0])]
    assert writer.load_dataset("b-2") == []


@pytest.mark.parametrize("tag", ["", "..", "a/b", "a\\b", "tr ain", "x.y", None, 3])
def test_bad_tags_are_rejected(tmp_path, tag):
    writer = DatasetWriter(save_dir=tmp_path)
    with pytest.raises(ValueError, match="letters, digits"):
        writer.open(tag)
    with pytest.raises(ValueError, match="letters, digits"):
        writer.save_batch(SAMPLES[:1], tag=tag)
    with pytest.raises(ValueError, match="letters, digits"):
        writer.save_final_statistics({}, tag=tag)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "sample, message",
    [
        (([[["x"]]], "y"), "deeper than 2 levels"),
        ((["x", 1], "y"), "elements must be strings"),
        ((None, "y"), "must be a string or a list"),
        (("x",), "pair"),
        (("a | b", "c"), "'|', '#'"),
        (("a", "b # c"), "'|', '#'"),
        ((["a\nb"], "c"), "line break"),
    ],
)
def test_invalid_samples_name_the_sample(tmp_path, sample, message):
    writer = DatasetWriter(save_dir=tmp_path)
    with pytest.raises(ValueError, match=message) as error:
        writer.save_batch([("ok", "ok"), sample], tag="train")
    assert "sample 1 of the batch" in str(error.value)
    assert not (tmp_path / "train_data.pkl").exists()


def test_separators_are_fine_without_text(tmp_path):
    writer = DatasetWriter(save_dir=tmp_path, save_text=False)
    writer.save_batch([("a | b # c\nd", ["|"])], tag="train")
    assert writer.load_dataset_jsonl("train") == [("a | b # c\nd", ["|"])]


def test_statistics_yaml(tmp_path):
    writer = DatasetWriter(save_dir=tmp_path)
    stats = {"total_time": 1.5, "num_samples": 3, "generation_time": {"mean": 0.1, "std": 0.0, "min": 0.1, "max": 0.1}}
    writer.save_final_statistics(stats, tag="train")
    text = (tmp_path / "train_stats.yaml").read_text()
    assert text.startswith("total_time: 1.5\nnum_samples: 3\ngeneration_time:\n    mean: 0.1\n")
    assert yaml.safe_load(text) == stats


def test_missing_files(tmp_path):
    writer = DatasetWriter(save_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        writer.load_dataset("train")
    with pytest.raises(FileNotFoundError):
        writer.load_dataset_jsonl("train")


def test_default_save_dir_is_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    DatasetWriter().save_batch(SAMPLES[:1], "train")
    assert (tmp_path / "train_data.pkl").exists()


class StatisticsOnAFullDisk(DatasetWriter):
    """A user's writer whose statistics file cannot be written (as on a full disk), after the data files closed."""

    def save_final_statistics(self, statistics, tag="train"):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device", f"{self.save_dir}/{tag}_stats.yaml")


def test_a_split_whose_finishing_fails_leaves_no_file_that_looks_complete(tmp_path):
    """Finishing a split can fail after its data files were closed (the statistics file, a full disk): the run
    raises and none of that split's files stays, under a final name or as .part (staged chunks remain to resume)."""
    from calt_hf.problems import GCDProblem, PolynomialStatistics
    from calt_hf.sympy import DatasetGenerator, PolynomialSampler

    sampler = PolynomialSampler(symbols="x, y", field_str="GF7", max_degree=2, max_num_terms=2)
    writer = StatisticsOnAFullDisk(tmp_path)
    with pytest.raises(OSError, match="No space left"):
        DatasetGenerator(backend="sequential", verbose=False).run(
            {"train": 30}, GCDProblem(sampler), PolynomialStatistics(sampler), dataset_writer=writer, hf_dataset=True
        )
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and ".calt_hf" not in p.parts)
    assert left == [], left
    assert list((tmp_path / ".calt_hf" / "train").glob("*.chunk"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_files_the_disk_refuses_to_flush_are_removed_all_of_them(tmp_path):
    """Each .part of a split is a link to /dev/full, whose every write-out fails with ENOSPC, as a full disk's does
    once Python's buffer is flushed: closing the split raises that error and removes every unfinished file (the
    first refused close used to stop the clean-up, leaving .part files behind)."""
    writer = DatasetWriter(save_dir=tmp_path)
    names = ["train_raw.txt", "train_data.pkl", "train_data.jsonl"]
    for name in names:
        (tmp_path / f"{name}.part").symlink_to("/dev/full")
    writer.open("train")
    writer.save_batch([("1 + 2", "3")] * 100, tag="train")
    with pytest.raises(OSError, match="No space left"):
        writer.close("train")
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "unfinished files left behind"


def test_json_lines_are_json_dumps_byte_for_byte():
    """JSON Lines are json.dumps's bytes (ensure_ascii=False) for every shape of sample and for strings that need
    escaping: what any faster encoder put in its place must keep."""
    from calt_hf.formats import JsonLinesFormat

    tricky = ['say "hi"', "back\\slash", "tab\tand\nnewline\r", "\x00\x1f\x7f", "é ∑ 𝔽₇ 😀", "\u2028\u2029", "", " "]
    samples = [
        ("x + 1", "1"),
        (["x", "y"], "x*y"),
        ([["x", "y"], "z", []], ["1", ["2", "3"]]),
        ([], []),
        *((text, [text, [text]]) for text in tricky),
    ]
    expected = "".join(json.dumps({"problem": p, "solution": s}, ensure_ascii=False) + "\n" for p, s in samples).encode()
    assert JsonLinesFormat().encode(samples) == expected


def test_a_format_registers_itself_and_every_list_of_a_splits_files_follows(tmp_path):
    """A new data file format is hashed at completion, owned by its run, cleared by overwrite and pushed as a raw
    file, with no list to extend by hand."""
    from calt_hf.checkpoint import final_files
    from calt_hf.folder import foreign_entries
    from calt_hf.formats import FORMATS, OutputFormat, data_suffixes
    from calt_hf.hf.hub import raw_files

    class ShoutFormat(OutputFormat):
        name, suffix = "shout", "_shout.txt"

        def encode(self, samples):
            return "".join(f"{problem}!\n" for problem, _ in samples).encode()

    try:
        assert FORMATS["shout"] is ShoutFormat and "_shout.txt" in data_suffixes() and "*_shout.txt" in raw_files()
        for name in ("train_shout.txt", "test_shout.txt"):
            (tmp_path / name).write_text("x!\n")
        assert tmp_path / "train_shout.txt" in final_files(tmp_path, "train")
        assert foreign_entries(tmp_path, ["train"]) == ["test_shout.txt"]
    finally:
        del FORMATS["shout"]
    assert "_shout.txt" not in data_suffixes()
