"""Every path ends with correct data or a clear refusal (issue 29): damaged state files, foreign or broken
inputs to packaging, folders that cannot be written, a disk that fills, generators that raise what is not an
Exception or return strings no file can hold. Each is taken the way a user meets it: the command line or a
script in a fresh interpreter, on real files."""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from calt_hf.seeding import derive_seed

TESTS = Path(__file__).resolve().parent
SMALL = ["problem=sum", "dataset_sizes={train: 40, test: 10}", "parallel.n_jobs=1", "verbose=false"]


def generate(*words: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calt_hf.generate", *words], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def run_script(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory) -> Path:
    """A complete, packaged run of two splits, through the command line."""
    folder = tmp_path_factory.mktemp("complete")
    result = generate(*SMALL, "save_dir=run", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "run"


# --- a disk that fills inside the NumPy write of a split's hashes -------------------------------------------------
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounts a small tmpfs: needs root (CI runs as root)")
def test_a_disk_that_fills_while_the_hashes_are_written_says_so_and_the_resume_command_works(tmp_path):
    """The disk fills (another program's file) while the last chunk is made: the split's data files still fit,
    its 48 kB of problem hashes do not. NumPy's own write would stop with "N requested and M written" (no file,
    no errno: a traceback) and leave half a file."""
    disk = tmp_path / "disk"
    disk.mkdir()
    size = 6000
    words = ["problem=custom", "problem.target=conftest.disk_filling_generator", f"dataset_sizes={{train: {size}}}",
             "parallel.n_jobs=1", "verbose=false", "hf.package=false", "save_text=false", "save_json=false"]
    script = f"""
set -u
mount -t tmpfs -o size=4m tmpfs {disk}
cd {disk}
python -m calt_hf.generate {shlex.join(words)} save_dir=out 2>err.log
echo "status=$?"
ls out .calt_hf 2>/dev/null; ls out/.calt_hf
rm filler
resume=$(sed -n 's/.*continue with: //p' err.log)
CALT_HF_TEST_FILL_SEED= bash -c "$resume" 2>resume.log; echo "resumed=$?"
cat err.log resume.log >&2
cp -r out {tmp_path}/after
"""
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "CALT_HF_TEST_FILL_SEED": str(derive_seed(42, "train", size - 1)), "CALT_HF_TEST_FILL": str(disk / "filler"),
           "CALT_HF_TEST_LEAVE": str(24 * 1024)}
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=600)
    assert "status=1" in result.stdout, result.stdout + result.stderr
    message = result.stderr.splitlines()[0]
    assert re.match(r"error: no space left on the device writing out/\.calt_hf/train\.hashes\.npy \([\d.]+ MB free "
                    r"there\); nothing unfinished looks complete .* continue with: python -m calt_hf\.generate .* resume=true$",
                    message), result.stderr
    assert "train_data.pkl" not in result.stdout.split("resumed=")[0]  # nothing that looks complete
    assert "resumed=0" in result.stdout, result.stderr
    hashes = np.load(tmp_path / "after" / ".calt_hf" / "train.hashes.npy")
    assert hashes.shape == (size,) and bool(np.all(hashes[1:] >= hashes[:-1]))
    assert len(pickle.loads((tmp_path / "after" / "train_data.pkl").read_bytes())) == size


# --- save_dir that cannot be written ---------------------------------------------------------------------------------
def test_a_save_dir_that_is_a_file_is_refused_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for save_dir, expected in (
        ("notes.txt", "save_dir='notes.txt' is a file, not a folder; choose a folder"),
        ("notes.txt/run", "save_dir='notes.txt/run' cannot be written (Not a directory: notes.txt/run/.calt_hf); choose a "
                          "folder that you can write to"),
    ):
        result = generate(*SMALL, f"save_dir={save_dir}", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"] and (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="mounts a read-only folder: needs root (CI runs as root)")
def test_a_read_only_save_dir_is_refused_naming_it(tmp_path, complete_run):
    """A new folder on a read-only disk, and a complete run on one (resume=true): status 2, no traceback."""
    disk = tmp_path / "disk"
    shutil.copytree(complete_run, disk / "done")
    words = SMALL
    script = f"""
mount --bind {disk} {disk} && mount -o remount,bind,ro {disk} || exit 9
python -m calt_hf.generate {shlex.join(words)} save_dir={disk}/new; echo "new=$?"
python -m calt_hf.generate {shlex.join(words)} save_dir={disk}/done resume=true; echo "done=$?"
"""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert "new=2" in result.stdout and "done=2" in result.stdout, result.stdout + result.stderr
    assert f"save_dir='{disk}/new' cannot be written (Read-only file system: {disk}/new); choose a folder that you can " \
           "write to" in result.stderr
    assert f"save_dir='{disk}/done' cannot be written (Read-only file system: {disk}/done/.calt_hf/.lock)" in result.stderr
    assert "Traceback" not in result.stderr


# --- damaged files of a run ------------------------------------------------------------------------------------------
#: Files a resume reads back, what their damage says, and files that must come out as before.
OUTPUTS = ("train_data.pkl", "train_raw.txt", "train_data.jsonl", "data/train-00000-of-00001.parquet", "tokenizer.json",
           "lexer.yaml", ".calt_hf/train.hashes.npy", ".calt_hf/train.survey.json")


#: The files a resume reads back, by what their damage is called.
DAMAGED = {".calt_hf/train.hashes.npy": "not a NumPy array file", ".calt_hf/train.order_free_hashes.npy": "not a NumPy array file",
           ".calt_hf/train.histograms.json": "not JSON", ".calt_hf/train.survey.json": "not JSON", "train_stats.yaml": "not YAML"}


@pytest.mark.parametrize("names", [[".calt_hf/train.json"], list(DAMAGED)], ids=["state", "measures and statistics"])
def test_damaged_files_of_a_complete_split_are_named_and_resume_generates_the_split_again(tmp_path, complete_run, names):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    for name in names:
        (run / name).write_bytes(b"\x00garbage\xff")
    result = generate(*SMALL, "save_dir=run", "resume=true", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in names:
        reason = DAMAGED.get(name, "not JSON")
        assert re.search(rf"split 'train'.*{re.escape(name)} is damaged \({reason}.*generated again", result.stderr), result.stderr
    for output in OUTPUTS:
        assert (run / output).read_bytes() == (complete_run / output).read_bytes(), output
    assert "split 'test' is complete already, its files as recorded: skipped" in result.stdout  # not generated again


def test_a_damaged_state_file_says_which_resume_or_overwrite_to_use(tmp_path, complete_run):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    (run / ".calt_hf" / "test.json").write_text("{}")
    refused = generate(*SMALL, "save_dir=run", cwd=tmp_path)
    assert refused.returncode == 2
    assert ("run/.calt_hf/test.json is damaged (not a split's state): what split 'test' holds cannot be checked; pass "
            "resume=True (resume=true) to generate it again, or overwrite=True (overwrite=true)") in refused.stderr
    only_train = [word if not word.startswith("dataset_sizes") else "dataset_sizes={train: 40}" for word in SMALL]
    refused = generate(*only_train, "save_dir=run", "resume=true", cwd=tmp_path)
    assert refused.returncode == 2 and "add it to dataset_sizes and pass resume=True" in refused.stderr
    resumed = generate(*SMALL, "save_dir=run", "resume=true", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "test_raw.txt").read_bytes() == (complete_run / "test_raw.txt").read_bytes()


def test_a_damaged_folder_record_is_named_with_the_ways_out(tmp_path, complete_run):
    run = tmp_path / "run"
    shutil.copytree(complete_run, run)
    (run / ".calt_hf" / ".folder.json").write_bytes(b"\xff\xfe")
    refused = generate(*SMALL, "save_dir=run", "resume=true", cwd=tmp_path)
    assert refused.returncode == 2
    assert ("run/.calt_hf/.folder.json is damaged (not JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid "
            "start byte); delete it to accept the folder's entries as they are now, or pass overwrite=True") in refused.stderr
    (run / ".calt_hf" / ".folder.json").unlink()
    assert generate(*SMALL, "save_dir=run", "resume=true", cwd=tmp_path).returncode == 0


def test_staged_chunks_in_a_damaged_folder_are_generated_again(tmp_path):
    """A run stopped by a failing sample, its chunk folder then replaced by a file: the resume generates them again."""
    (tmp_path / "marker").touch()
    failing = derive_seed(42, "train", 30)
    words = ["problem=custom", "problem.target=conftest.FailWhileMarked", f"+problem.params.marker={tmp_path / 'marker'}",
             f"+problem.params.seed={failing}", "dataset_sizes={train: 40, test: 10}", "parallel.n_jobs=1", "verbose=false",
             "save_dir=run"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    stopped = generate(*words, cwd=tmp_path, env=env)
    assert stopped.returncode == 1 and f"(seed {failing}) failed" in stopped.stderr
    chunks = tmp_path / "run" / ".calt_hf" / "train"
    assert list(chunks.glob("*.chunk"))
    shutil.rmtree(chunks)
    chunks.write_text("not a folder")
    (tmp_path / "marker").unlink()
    resumed = generate(*words, "resume=true", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "is not a folder of staged chunks: removed, its samples generated again" in resumed.stderr
    assert len((tmp_path / "run" / "train_raw.txt").read_text().splitlines()) == 40


# --- package_dataset on files from elsewhere -------------------------------------------------------------------------
GOOD_LINE = '{"problem": ["x + 1", "x"], "solution": "1"}\n'

#: A split's file, what is wrong in it, and what the error must say (the file, the line or sample, the fault).
BROKEN_INPUTS = {
    "bad JSON line": ("train_data.jsonl", (GOOD_LINE + '{"problem": "x", "solution": }\n').encode(),
                      "train_data.jsonl line 2 is not JSON (Expecting value at column 30)"),
    "binary garbage": ("train_data.jsonl", GOOD_LINE.encode() + b"\x89PNG\r\n\x1a\n\x00\x00",
                       "train_data.jsonl line 2 is not UTF-8 text (invalid start byte at byte 0)"),
    "missing key": ("train_data.jsonl", (GOOD_LINE * 2 + '{"problem": "x"}\n').encode(),
                    "train_data.jsonl line 3 has no 'solution'"),
    "three levels": ("train_data.jsonl", (GOOD_LINE + '{"problem": [["a", ["b"]]], "solution": "c"}\n').encode(),
                     "train_data.jsonl line 2: the problem is nested deeper than 2 levels"),
    "truncated pickle": ("train_data.pkl", pickle.dumps([("a", "b")] * 20, protocol=2)[:-9],
                         "train_data.pkl cannot be read as a split's pickle (pickle data was truncated); give the split "
                         "as JSON Lines (train_data.jsonl) instead"),
    "pickle of no samples": ("train_data.pkl", pickle.dumps([("a", "b"), ("c",)], protocol=2),
                             "train_data.pkl sample 1 is not a (problem, solution) pair"),
}

PACKAGE_EACH = """
import sys
from pathlib import Path
from calt_hf.hf.package import package_dataset
for folder in sorted(Path(sys.argv[1]).iterdir()):
    try:
        package_dataset(folder)
        print(folder.name, "packaged")
    except ValueError as error:
        print(folder.name, "refused:", error)
    assert not list(folder.glob("data/*")), "a refused split left shards"
"""


def test_package_dataset_names_the_file_and_line_of_what_is_not_a_sample(tmp_path):
    for case, (name, data, _) in BROKEN_INPUTS.items():
        (tmp_path / "in" / case).mkdir(parents=True)
        (tmp_path / "in" / case / name).write_bytes(data)
    result = subprocess.run([sys.executable, "-c", PACKAGE_EACH, str(tmp_path / "in")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    said = dict(line.split(" refused: ", 1) for line in result.stdout.splitlines() if " refused: " in line)
    for case, (_, _, expected) in BROKEN_INPUTS.items():
        assert said.get(case, "").startswith(f"{tmp_path / 'in' / case}/{expected}"), (case, said.get(case))


def test_a_pickle_from_elsewhere_runs_no_code_when_packaged(tmp_path):
    """A folder holding only a pickle whose unpickling would create a marker file (any code could run there)."""
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "train_data.pkl").write_bytes(pickle.dumps([("x", "1"), Payload()], protocol=2))
    result = run_script(f"""
        from calt_hf.hf.package import package_dataset
        package_dataset({str(folder)!r})
    """, tmp_path)
    assert result.returncode == 1
    assert (f"ValueError: {folder}/train_data.pkl cannot be read as a split's pickle (it names posix.system, which a "
            "dataset's pickle never does (nothing was called))") in result.stderr
    assert not marker.exists()
    assert not list(folder.glob("data/*")) and not (folder / "README.md").exists()


def test_a_calt_pickle_alone_is_packaged_and_splits_of_different_nesting_share_a_json_feature(tmp_path):
    """A CALT folder with only pickles still packages (its pickle holds data only); a split of strings beside one
    mixing strings and lists becomes one Json feature, and the rows read back are the ones written."""
    folder = tmp_path / "calt"
    folder.mkdir()
    train = [("x + 1", "1"), ("x^2", "x")]
    test = [(["a", ["b", "c"]], "mixed"), (["d"], "flat")]
    for split, samples in (("train", train), ("test", test)):
        (folder / f"{split}_data.pkl").write_bytes(pickle.dumps(samples, protocol=2))
    result = run_script(f"""
        import json
        from calt_hf.hf.package import load_dataset_dict, package_dataset
        package_dataset({str(folder)!r})
        dataset = load_dataset_dict({str(folder)!r})
        print(json.dumps({{split: [[row["problem"], row["solution"]] for row in dataset[split]] for split in dataset}}))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout.splitlines()[-1])
    assert rows == {"train": [list(sample) for sample in train], "test": [list(sample) for sample in test]}


# --- generators that raise what is not an Exception, or return strings no file can hold ------------------------------
GENERATORS = textwrap.dedent('''
    class Stop(BaseException):
        """Not an Exception: raised by the generator, it is no signal."""


    def interrupting(seed):
        if seed % 5 == 0:
            raise KeyboardInterrupt("the generator gave up")
        return "a", "b"


    def stopping(seed):
        if seed % 5 == 0:
            raise Stop("a BaseException of the generator's own")
        return "a", "b"


    def surrogate(seed):
        if seed % 5 == 0:
            return "x\\ud800y", "1"
        return "a", "b"
''')


@pytest.mark.parametrize("name, shown", [("interrupting", "KeyboardInterrupt: the generator gave up"),
                                         ("stopping", "Stop: a BaseException of the generator's own"),
                                         ("surrogate", "ValueError: the sample: an element holds the lone surrogate '\\ud800'")])
def test_what_a_generator_raises_or_returns_fails_its_sample_not_the_run(tmp_path, name, shown):
    """Not "stopped by SIGINT" (status 130), not a writer's UnicodeEncodeError: a failing sample, named with its
    index and seed, that on_error=skip drops."""
    (tmp_path / "gens.py").write_text(GENERATORS)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    first = next(index for index in range(100) if derive_seed(42, "train", index) % 5 == 0)
    seed = derive_seed(42, "train", first)
    words = ["problem=custom", f"problem.target=gens.{name}", "dataset_sizes={train: 12}", "parallel.n_jobs=1",
             "verbose=false"]
    failed = generate(*words, "save_dir=raise", cwd=tmp_path, env=env)
    assert failed.returncode == 1, failed.stderr
    assert f"error: sample {first} of split 'train' (seed {seed}) failed: {shown}" in failed.stderr
    assert "stopped by" not in failed.stderr and not list((tmp_path / "raise").glob("train_*"))
    # JSON Lines alone: its check of the strings, not the text format's
    skipped = generate(*words, "on_error=skip", "save_text=false", "hf.package=false", "save_dir=skip", cwd=tmp_path, env=env)
    assert skipped.returncode == 0, skipped.stderr
    rows = (tmp_path / "skip" / "train_data.jsonl").read_text().splitlines()
    assert len(rows) == 12 and all(json.loads(row) == {"problem": "a", "solution": "b"} for row in rows)
