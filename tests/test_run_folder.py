"""A run owns its save_dir: one run at a time, sound chunks and files, nothing foreign replaced or packaged."""

import logging
import re
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FailWhileMarked, integer_sum_generator

from calt_hf.checkpoint import RunConflictError
from calt_hf.folder import FolderInUseError
from calt_hf.seeding import derive_seed
from calt_hf.sympy import DatasetGenerator, DatasetWriter
from calt_hf.produce import SampleGenerationError

TESTS = Path(__file__).resolve().parent
DATA = ("_data.pkl", "_raw.txt", "_data.jsonl")
HOLD_INDEX = 100


def data_files(directory: Path, splits=("train", "test")) -> dict[str, bytes]:
    files = {f"{s}{x}": (directory / f"{s}{x}").read_bytes() for s in splits for x in DATA if (directory / f"{s}{x}").exists()}
    files.update({f"data/{p.name}": p.read_bytes() for p in sorted((directory / "data").glob("*.parquet"))})
    return files


def cli_env(extra: dict | None = None) -> dict:
    """The environment with ``extra``, tests/ and ``extra``'s PYTHONPATH (if any) on the path."""
    extra = dict(extra or {})
    path = [extra.pop("PYTHONPATH", ""), str(TESTS), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, **extra, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def start_cli(save_dir: Path, *words: str, seed: int = 42, hold: Path | None = None) -> subprocess.Popen:
    """A CLI run of conftest.gated_generator, not packaged (who holds the folder is the question here); with ``hold``, it waits at train sample HOLD_INDEX while that file exists."""
    env = cli_env({"CALT_HF_TEST_HOLD": str(hold), "CALT_HF_TEST_HOLD_SEED": str(derive_seed(seed, "train", HOLD_INDEX))} if hold else None)
    command = [
        sys.executable, "-m", "calt_hf.generate", "problem=custom", "problem.target=conftest.gated_generator",
        "dataset_sizes={train: 300, test: 30}", f"root_seed={seed}", "parallel.n_jobs=2", "verbose=false", "hf.package=false",
        f"save_dir={save_dir}", *words,
    ]
    return subprocess.Popen(
        command, cwd=save_dir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def run_cli(*words: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", "verbose=false", "parallel.n_jobs=2", *words],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=cli_env(env),
    )


def wait_until(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[int, dict[str, bytes]]:
    found = {}
    for seed in (42, 7):
        save_dir = tmp_path_factory.mktemp(f"reference{seed}") / "run"
        process = start_cli(save_dir, seed=seed)
        assert process.wait(timeout=300) == 0, process.communicate()
        found[seed] = data_files(save_dir)
    return found


def contend(save_dir: Path, hold: Path, runs: list[tuple[list[str], int]]) -> tuple[int, str]:
    """Start two runs into ``save_dir`` at once; exactly one must be refused (exit 2) while the other holds
    the folder (waiting at the held sample), then the survivor completes. Returns its seed and all output."""
    hold.touch()
    processes = [start_cli(save_dir, *words, seed=seed, hold=hold) for words, seed in runs]
    wait_until(lambda: any(p.poll() is not None for p in processes), "one of two runs into one folder ending")
    loser = next(i for i, p in enumerate(processes) if p.poll() is not None)
    winner = 1 - loser
    assert processes[winner].poll() is None  # the survivor still waits at its held sample, holding the folder
    with pytest.raises(FolderInUseError, match=rf"in use by another calt_hf run \(PID {processes[winner].pid}\)"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"train": 5}, integer_sum_generator, save_dir=save_dir, overwrite=True)
    hold.unlink()
    outputs = ["".join(p.communicate(timeout=300)) for p in processes]
    assert processes[loser].returncode == 2, outputs[loser]
    assert processes[winner].returncode == 0, outputs[winner]
    assert f"save_dir={str(save_dir)!r} is in use by another calt_hf run (PID {processes[winner].pid})" in outputs[loser]
    return runs[winner][1], "".join(outputs)


def partial_cli_run(save_dir: Path, hold: Path) -> None:
    """A CLI run killed (SIGKILL, workers included) at train sample HOLD_INDEX, its first chunks staged."""
    hold.touch()
    process = start_cli(save_dir, hold=hold)
    wait_until(lambda: len(list((save_dir / ".calt_hf" / "train").glob("*.chunk"))) >= 2, "chunks staged")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_two_fresh_runs_into_one_folder_one_is_refused_at_once(tmp_path, reference):
    save_dir = tmp_path / "run"
    seed, _ = contend(save_dir, tmp_path / "hold", [([], 42), ([], 7)])
    assert data_files(save_dir) == reference[seed]
    again = start_cli(save_dir, "resume=true", seed=seed)
    output = "".join(again.communicate(timeout=300))
    assert again.returncode == 0 and "complete already" in output
    assert data_files(save_dir) == reference[seed]


@pytest.mark.parametrize("second", ["resume=true", "overwrite=true"])
def test_a_resume_and_a_second_resume_or_overwrite_at_once(tmp_path, reference, second):
    save_dir = tmp_path / "run"
    partial_cli_run(save_dir, tmp_path / "hold")
    contend(save_dir, tmp_path / "hold", [(["resume=true"], 42), ([second], 42)])
    assert data_files(save_dir) == reference[42]


# --- staged chunks and final files are checked -------------------------------------------------------------
def stopped_run(save_dir: Path, marker: Path, root_seed: int = 42) -> FailWhileMarked:
    """A run of 600 train samples stopped by a failure at sample 400, its first windows staged."""
    generator = FailWhileMarked(str(marker), derive_seed(root_seed, "train", 400))
    marker.touch()
    with pytest.raises(SampleGenerationError):
        DatasetGenerator(n_jobs=2, verbose=False, root_seed=root_seed).run({"train": 600}, generator, save_dir=save_dir, batch_size=100)
    marker.unlink()
    return generator


def complete_run(save_dir: Path, generator, **options) -> dict[str, bytes]:
    DatasetGenerator(n_jobs=2, verbose=False).run({"train": 600}, generator, save_dir=save_dir, batch_size=100, **options)
    return data_files(save_dir, ["train"])


def test_a_byte_changed_in_a_staged_chunk_is_caught_and_the_chunk_generated_again(tmp_path, caplog):
    generator = stopped_run(tmp_path / "run", tmp_path / "marker")
    chunk = sorted((tmp_path / "run" / ".calt_hf" / "train").glob("*.chunk"))[1]
    data = bytearray(chunk.read_bytes())
    position = data.index(b" # ") + 3  # a solution's first digit in the chunk's text encoding
    data[position] = ord("1") if data[position] != ord("1") else ord("2")
    chunk.write_bytes(bytes(data))
    resumed = complete_run(tmp_path / "run", generator, resume=True)
    assert resumed == complete_run(tmp_path / "reference", generator)
    assert f"staged chunk {chunk.name} is generated again: its checksum does not match" in caplog.text


def test_a_chunk_of_another_run_copied_in_is_rejected(tmp_path, caplog):
    generator = stopped_run(tmp_path / "run", tmp_path / "marker")
    stopped_run(tmp_path / "other", tmp_path / "marker", root_seed=7)  # other samples, same chunk boundaries
    name = "000000000000.chunk"
    shutil.copy(tmp_path / "other" / ".calt_hf" / "train" / name, tmp_path / "run" / ".calt_hf" / "train" / name)
    resumed = complete_run(tmp_path / "run", generator, resume=True)
    assert resumed == complete_run(tmp_path / "reference", generator)
    assert f"staged chunk {name} is generated again: it belongs to another run" in caplog.text


def test_a_complete_split_whose_files_went_missing_or_changed_is_generated_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="calt_hf")
    generator = DatasetGenerator(n_jobs=2, verbose=False)
    generator.run({"train": 200, "test": 20}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True)
    before = data_files(tmp_path)
    (tmp_path / "train_raw.txt").unlink()
    generator.run({"train": 200, "test": 20}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True, resume=True)
    assert "split 'train' was complete, but train_raw.txt is missing since: generated again" in caplog.text
    assert "split 'test' is complete already" in caplog.text
    assert data_files(tmp_path) == before
    shard = next((tmp_path / "data").glob("test-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-100] + bytes(100))
    caplog.clear()
    generator.run({"train": 200, "test": 20}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True, resume=True)
    assert f"split 'test' was complete, but data/{shard.name} changed since: generated again" in caplog.text
    assert data_files(tmp_path) == before


# --- what a resume must share with the run it continues -----------------------------------------------------
GENERATOR_MODULE = '''
def helper():
    return 1


def my_generator(seed):
    return [str(seed % 10), str(seed % 7)], str(seed % 10 + seed % 7)
'''


def test_a_resume_after_editing_the_generator_is_refused_naming_what_changed(tmp_path):
    (tmp_path / "mods").mkdir()
    module = tmp_path / "mods" / "my_module.py"
    module.write_text(GENERATOR_MODULE)
    words = ["problem=custom", "problem.target=my_module.my_generator", "dataset_sizes={train: 40}", "save_dir=out", "hf.package=false"]
    env = {"PYTHONPATH": str(tmp_path / "mods")}
    assert run_cli(*words, cwd=tmp_path, env=env).returncode == 0
    unchanged = run_cli(*words, "resume=true", cwd=tmp_path, env=env)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr  # the fingerprint is stable across processes
    before = (tmp_path / "out" / "train_raw.txt").read_bytes()

    module.write_text(GENERATOR_MODULE.replace("seed % 10 + seed % 7)", "seed % 10 + seed % 7 + 1)"))
    edited = run_cli(*words, "resume=true", cwd=tmp_path, env=env)
    assert edited.returncode == 2 and "generator_code.source:" in edited.stdout + edited.stderr

    module.write_text(GENERATOR_MODULE.replace("return 1", "return 2"))
    helper = run_cli(*words, "resume=true", cwd=tmp_path, env=env)
    output = helper.stdout + helper.stderr
    assert helper.returncode == 2 and "generator_code.module:" in output and "generator_code.source" not in output
    assert (tmp_path / "out" / "train_raw.txt").read_bytes() == before


SCRIPT_WITHOUT_SOURCE = """
import sys
from calt_hf.sympy import DatasetGenerator

def generator(seed):
    return [str(seed % 10)], "even" if seed % 10 in {0, 2, 4, 6, 8} or str(seed)[-1] in {"a", "b"} else "odd"

DatasetGenerator(n_jobs=2, verbose=False).run({"train": 30}, generator, save_dir="out", resume=sys.argv[1] == "resume")
"""


def test_a_generator_without_source_file_resumes_in_a_new_process(tmp_path):
    for word, hash_seed in (("start", "1"), ("resume", "2"), ("resume", "3")):  # string hashing differs each time
        result = subprocess.run(
            [sys.executable, "-", word], input=SCRIPT_WITHOUT_SOURCE, cwd=tmp_path, capture_output=True, text=True,
            timeout=300, env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert result.returncode == 0, result.stderr[-2000:]


def test_a_resume_with_another_data_quality_setting_is_refused(tmp_path):
    generator = DatasetGenerator(n_jobs=1, verbose=False)
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path)
    with pytest.raises(RunConflictError, match="data_quality: True -> False"):
        generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path, resume=True, data_quality=False)


# --- nothing foreign is overwritten or packaged --------------------------------------------------------------
def test_a_folder_with_the_users_own_files_is_refused_unless_overwrite(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    mine = {"README.md": "# my project\n", "config.yaml": "mine: 1\n", "notes.txt": "keep me\n"}
    for name, text in mine.items():
        (project / name).write_text(text)
    words = ["problem=integer_sum", "dataset_sizes={train: 20}", "save_dir=."]
    refused = run_cli(*words, cwd=project)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2 and "no record of a calt_hf run there (README.md, config.yaml, notes.txt)" in output
    assert sorted(p.name for p in project.iterdir()) == sorted(mine)  # untouched, and nothing added
    assert all((project / name).read_text() == text for name, text in mine.items())

    replaced = run_cli(*words, "overwrite=true", cwd=project)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert (project / "notes.txt").read_text() == "keep me\n" and "# my project" not in (project / "README.md").read_text()
    later = run_cli("problem=integer_sum", "dataset_sizes={test: 10}", "save_dir=.", cwd=project)  # the kept file is accepted
    assert later.returncode == 0, later.stdout + later.stderr


def test_a_refused_run_leaves_no_folder_behind(tmp_path):
    result = run_cli("problem=integer_sum", "resume=true", "overwrite=true", "save_dir=new/deeper", cwd=tmp_path)
    assert result.returncode == 2 and "exclude each other" in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_packaged_dataset_without_its_record_is_foreign(tmp_path):
    DatasetGenerator(n_jobs=1, verbose=False).run({"train": 20}, integer_sum_generator, save_dir=tmp_path / "a", hf_dataset=True)
    shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns(".calt_hf"))
    with pytest.raises(RunConflictError, match=r"no record of a calt_hf run there \(README.md, data, images"):
        DatasetGenerator(n_jobs=1, verbose=False).run({"test": 5}, integer_sum_generator, save_dir=tmp_path / "b")


def test_overwrite_clears_the_whole_run_and_only_splits_of_one_task_share_a_folder(tmp_path):
    out = tmp_path / "out"
    gcd = ["problem=gcd", "sampler.field_str=GF31", "save_dir=out"]
    assert run_cli(*gcd, "dataset_sizes={train: 40, valid: 10}", cwd=tmp_path).returncode == 0
    assert (out / "valid_data.pkl").exists() and list((out / "images").glob("*.png"))
    (out / "images" / "from-the-old-run.png").write_bytes(b"\x89PNG")
    result = run_cli(*gcd, "dataset_sizes={train: 30}", "overwrite=true", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    left = [p.relative_to(out).as_posix() for p in out.rglob("*") if "valid" in p.name]
    assert left == []  # its files, shards and state are all gone
    assert "valid" not in (out / "README.md").read_text()
    assert not (out / "images" / "from-the-old-run.png").exists()  # and the old pictures

    result = run_cli(*gcd, "dataset_sizes={test: 10}", cwd=tmp_path)  # CALT's method 3: test in a second run
    assert result.returncode == 0, result.stdout + result.stderr
    card = (out / "README.md").read_text()
    assert "split: train" in card and "split: test" in card
    assert len(DatasetWriter(out).load_dataset("train")) == 30

    result = run_cli("problem=sum", "sampler.field_str=GF31", "save_dir=out", "dataset_sizes={valid: 10}", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "holds split 'test' of another task" in output and "problem.name: 'gcd' -> 'sum'" in output
    assert not list(out.glob("valid*")) and (out / "README.md").read_text() == card


def test_in_its_own_folder_a_run_ignores_the_users_notes_but_not_foreign_split_files(tmp_path):
    """A folder calt_hf made: a README-like note or .gitattributes added later does not block the next
    split; a split file no run recorded (it would be packaged with the rest) does."""
    generator = DatasetGenerator(n_jobs=1, verbose=False)
    generator.run({"train": 20}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True)
    (tmp_path / "NOTES.md").write_text("how I made this\n")
    (tmp_path / ".gitattributes").write_text("*.parquet filter=lfs\n")
    generator.run({"test": 5}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True)
    assert (tmp_path / "test_raw.txt").exists() and (tmp_path / "NOTES.md").read_text() == "how I made this\n"
    (tmp_path / "valid_data.jsonl").write_text('{"problem": "1", "solution": "1"}\n')
    with pytest.raises(RunConflictError, match=r"valid_data\.jsonl"):
        generator.run({"extra": 5}, integer_sum_generator, save_dir=tmp_path, hf_dataset=True)
    assert not (tmp_path / "extra_raw.txt").exists()


# --- the command line's default save_dir: a folder for each configuration, and hints that lead somewhere --------
def hints(output: str) -> list[str]:
    """The command line words a refusal suggests (``... pass overwrite=True (overwrite=true) ...``)."""
    return re.findall(r"\((\w+=true)\)", output)


def test_each_configuration_has_its_default_folder_and_every_hint_there_works(tmp_path):
    """The README's recipes one after another in one folder, without save_dir: the default job, then root_seed=7,
    then the same command again (and with settings that change no sample). No run meets another's folder, a finished
    command typed again keeps its splits; a refusal's hints, followed, all succeed; the command that Ctrl-C prints
    continues the run in its own folder."""
    small = ["dataset_sizes={train: 40, test: 5}", "hf.package=false"]
    first = run_cli(*small, cwd=tmp_path)
    seed7 = run_cli(*small, "root_seed=7", cwd=tmp_path)
    assert first.returncode == 0 and seed7.returncode == 0, seed7.stdout + seed7.stderr
    folders = sorted((tmp_path / "datasets").iterdir())
    assert len(folders) == 2 and all(folder.name.startswith("sympy_gcd_GF7-") for folder in folders)
    made = {folder: data_files(folder) for folder in folders}
    again = run_cli(*small, "root_seed=7", "parallel.n_jobs=1", "hub.timeout=5", cwd=tmp_path)
    assert again.returncode == 0 and "complete already" in again.stdout, again.stdout + again.stderr
    assert sorted((tmp_path / "datasets").iterdir()) == folders and {f: data_files(f) for f in folders} == made

    words = [*small, "save_dir=mine"]  # a folder of the user's choice, then another configuration into it
    assert run_cli(*words, cwd=tmp_path).returncode == 0
    refused = run_cli(*words, "root_seed=7", cwd=tmp_path)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2 and "root_seed: 42 -> 7" in output and "choose another save_dir" in output, output
    for hint in [*hints(output), "save_dir=elsewhere"]:
        followed = run_cli(*words, "root_seed=7", hint, cwd=tmp_path)
        assert followed.returncode == 0, (hint, followed.stdout + followed.stderr)

    hold = tmp_path / "hold"
    hold.touch()
    env = cli_env({"CALT_HF_TEST_HOLD": str(hold), "CALT_HF_TEST_HOLD_SEED": str(derive_seed(42, "train", HOLD_INDEX)),
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})  # `python`: this one
    stopped = subprocess.Popen(
        [sys.executable, "-m", "calt_hf.generate", "problem=custom", "problem.target=conftest.gated_generator",
         "dataset_sizes={train: 300, test: 30}", "hf.package=false", "verbose=false"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    wait_until(lambda: len(list((tmp_path / "datasets").glob("sympy_custom_GF7-*/.calt_hf/train/*.chunk"))) >= 1, "a chunk staged")
    os.killpg(stopped.pid, signal.SIGINT)
    _, stderr = stopped.communicate(timeout=120)
    assert stopped.returncode == 130, stderr
    hold.unlink()
    resumed = subprocess.run(["bash", "-c", stderr.split("continue with: ")[1].strip()], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    [custom] = (tmp_path / "datasets").glob("sympy_custom_GF7-*")
    assert len(DatasetWriter(custom).load_dataset("train")) == 300


def test_a_command_line_run_takes_its_folders_lock_once(tmp_path, monkeypatch):
    """The command line's run claims its RunFolder once, from planning to config.yaml (and a push), and hands that
    object to generate and the writer, which take nothing again (they took the lock a second time before)."""
    import filelock
    from hydra import compose, initialize_config_module

    from calt_hf.config import build_job, register_configs

    taken = []
    acquire = filelock.FileLock.acquire

    def counted(lock, *args, **kwargs):
        if Path(lock.lock_file).is_relative_to(tmp_path):  # not a library's own lock (a cache's)
            taken.append(lock.lock_file)
        return acquire(lock, *args, **kwargs)

    monkeypatch.setattr(filelock.FileLock, "acquire", counted)
    register_configs()
    with initialize_config_module(config_module="calt_hf.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "problem=sum", "dataset_sizes={train: 20, test: 5}", "parallel.backend=sequential", "parallel.n_jobs=1",
            "verbose=false", "hf.package=false", f"save_dir={tmp_path / 'out'}",
        ])
    build_job(cfg).run()
    assert (tmp_path / "out" / "config.yaml").is_file() and (tmp_path / "out" / "train_raw.txt").is_file()
    assert taken == [str(tmp_path / "out" / ".calt_hf" / ".lock")]
