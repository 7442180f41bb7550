"""Judge a model's answers on a split as a mathematician would: ``python -m calt_hf.evaluate SAVE_DIR PREDICTIONS``.

Exact string match counts a right answer in another form as wrong (``y + 6`` for ``y - 1`` over GF(7),
``2*x + 2`` for the gcd ``x + 1``, factors in another order). Here every answer is read as a value of the
dataset's ring (``calt_hf.parsing``: the usual notation, no ``eval``) and judged by the problem's own
verifier (``Problem.verify``; a generator of one's own may define ``verify(problem, solution, prediction)``),
beside exact match, with unreadable answers counted apart and the score of always giving the split's most
frequent solution as a baseline, broken down by the per-sample statistics of the true samples.

The ring, the problem and its statistics come from the folder: ``config.yaml`` (a command line run), else
the split's record in ``.calt_hf/`` (a run from Python: backend, generator and its settings), else the
``generator`` given to ``evaluate``; what cannot be known is refused, naming what is missing.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from calt_hf.backends import public_module
from calt_hf.checkpoint import SplitCheckpoint
from calt_hf.config import build_generator
from calt_hf.parsing import EXACT_FIELDS, AnswerReader, Unreadable, shaped
from calt_hf.problems import PROBLEMS, Problem
from calt_hf.files import validate_tag, write_atomically
from calt_hf.run_folder import CONFIG_FILE, RunFolder
from calt_hf.formats import JsonLinesFormat, PickleFormat, TextFormat, readable_suffixes
from calt_hf.writer import DatasetWriter

#: A JSON Lines predictions file (one ``{"prediction": ...}`` a line); any other file holds one answer a line.
JSON_LINES_SUFFIX = ".jsonl"
_TEXT = TextFormat(DatasetWriter.INNER_SEP, DatasetWriter.OUTER_SEP)
#: Statistics categories left out of the breakdown: the problem's size says less of where answers fail.
_NOT_BROKEN_DOWN = ("problem",)


@dataclass
class Judge:
    """How one folder's answers are read and judged. ``verify`` None: by exact match only (``verifier`` says why)."""

    name: str
    verifier: str
    read_problem: Callable[[Any], Any] = lambda value: value
    read_solution: Callable[[Any], Any] = lambda value: value
    verify: Callable[[Any, Any, Any], bool] | None = None
    partial_credit: Callable[[Any, Any, Any], dict[str, bool]] = lambda problem, solution, prediction: {}
    statistics: Callable[[Any, Any], Any] | None = None
    ring: str | None = None
    backend: str | None = None


def evaluate(
    save_dir: str | PathLike,
    predictions: str | PathLike | Sequence[Any],
    split: str = "test",
    *,
    first: int | None = None,
    generator: Any = None,
) -> dict[str, Any]:
    """Judge ``predictions`` against split ``split`` of ``save_dir``; the report as a dict (what ``--out`` writes).

    ``predictions``: a file with one answer a line in the split's order (the solution's text form, lists
    joined with `` | `` and `` || ``), or JSON Lines (``*.jsonl``) with a ``prediction`` field (a string, or
    lists as the solution's nesting; a ``problem`` field, if present, must be the sample's), or a list of
    answers. ``first``: judge the first ``first`` samples only (there must be that many answers).
    ``generator``: the problem generator the folder was made with, when its record does not name one that
    can be rebuilt (your own from Python) or to judge by its ``verify``. Bad input is a ValueError, raised
    before any answer is judged, naming what is wrong.
    """
    save_dir = Path(save_dir)
    if not save_dir.is_dir():
        raise ValueError(f"save_dir={str(save_dir)!r} is not a folder")
    validate_tag(split)
    samples = _split_samples(save_dir, split)
    if first is not None:
        if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= len(samples):
            raise ValueError(f"first={first!r} is not allowed; use an integer from 1 to {len(samples)} (the samples of split {split!r})")
        samples = samples[:first]
    answers, stated_problems, source = _read_predictions(predictions)
    if len(answers) != len(samples):
        scope = f"the first {first} samples of" if first is not None else "the samples of"
        raise ValueError(
            f"{source} holds {len(answers)} answers, but {len(samples)} are expected ({scope} split {split!r} of "
            f"{save_dir}): one answer a line, in the split's order (predictions for another folder or split?)"
        )
    for index, stated in enumerate(stated_problems):
        if stated is not None and _compact(_as_text(stated)) != _compact(_as_text(samples[index][0])):
            raise ValueError(
                f"{source} line {index + 1} answers the problem {_as_text(stated)!r}, but sample {index} of split "
                f"{split!r} of {save_dir} is {_as_text(samples[index][0])!r}: predictions for another folder or order"
            )
    judge = judge_of(generator) if generator is not None else _recorded_judge(save_dir, split)
    return _Scores(judge, save_dir, split).report(samples, answers)


# --- the folder's generator ---------------------------------------------------------------------------
def judge_of(generator: Any, statistics: Callable | None = None, backend: str | None = None) -> Judge:
    """The judge of a generator's answers: a ``Problem`` (library or subclass) reads them as its ring's values
    and verifies them; another generator with a ``verify`` method gets the texts; any other, exact match."""
    name = getattr(generator, "name", None) or _qualified_name(generator)
    if not isinstance(generator, Problem):
        if callable(getattr(generator, "verify", None)):
            return Judge(name, _first_line(generator.verify) or f"{name}.verify", verify=generator.verify, backend=backend)
        return Judge(name, f"exact match ({name} has no verify method)", backend=backend)
    sampler = generator.sampler
    ring = None
    if sampler is not None:
        spec = sampler.field_spec
        field_name = f"GF({spec.characteristic})" if spec.kind == "GF" else spec.kind
        ring = f"{field_name}[{', '.join(generator.backend.variable_names(sampler.get_ring()))}], order {sampler.order}"
        if spec.kind not in EXACT_FIELDS:
            return Judge(name, f"exact match (coefficients in {field_name}: answers are read as values over "
                               "GF(p), QQ or ZZ only, where equality is exact)", ring=ring, backend=backend)
    reader = AnswerReader(sampler.get_ring(), sampler.field_spec) if sampler is not None else AnswerReader()
    return Judge(
        name,
        _first_line(type(generator).verify),
        read_problem=partial(generator.read_problem, reader=reader),
        read_solution=partial(generator.read_solution, reader=reader),
        verify=generator.verify,
        partial_credit=generator.partial_credit,
        statistics=statistics or generator.default_statistics(),
        ring=ring,
        backend=backend,
    )


def _recorded_judge(save_dir: Path, split: str) -> Judge:
    """The judge of the generator the folder's record names: ``config.yaml``, else the split's state."""
    folder = RunFolder(save_dir)
    config_path = folder.config
    if config_path.exists():
        config = yaml.safe_load(config_path.read_text())
        return _configured_judge(config, f"{config_path}")
    state = SplitCheckpoint(folder, split).recorded()
    if state is None:
        raise ValueError(
            f"{save_dir} has no record of how it was made ({CONFIG_FILE} or {folder.state_file(split).relative_to(save_dir)}): its ring and "
            "problem cannot be known; evaluate a folder calt_hf generated, or pass generator= to evaluate()"
        )
    fingerprint = state["fingerprint"]
    backend = {"name": fingerprint["backend"], "module": _backend_module(fingerprint["backend"])}
    if "problem" in fingerprint:  # a command line run: its config groups are recorded
        return _configured_judge(
            {"backend": backend, "sampler": fingerprint.get("sampler") or {}, "problem": fingerprint["problem"],
             "statistics": fingerprint["statistics"]},
            f"{folder.state_file(split)}",
        )
    recorded = fingerprint["generator"]
    name = recorded["name"] if isinstance(recorded, dict) else recorded
    settings = recorded.get("settings", {}) if isinstance(recorded, dict) else {}
    problem_class = PROBLEMS.get(settings.get("problem"))
    if problem_class is None or _qualified_name(problem_class) != name:
        return Judge(name, f"exact match (the folder records the generator {name} by its name only; pass "
                           "generator= to evaluate() to judge by its verify)", backend=backend["name"])
    return judge_of(_library_problem(problem_class, backend, settings, save_dir), backend=backend["name"])


def _configured_judge(config: dict[str, Any], where: str) -> Judge:
    """The judge of the generator that a run's config groups (backend, sampler, problem, statistics) name."""
    try:
        problem, statistics, _ = build_generator(config["backend"], config["sampler"], config["problem"], config["statistics"])
    except (ValueError, KeyError) as error:
        raise ValueError(f"{where}: the generator it names cannot be rebuilt: {error}") from None
    return judge_of(problem, statistics, config["backend"]["name"])


def _library_problem(problem_class: type[Problem], backend: dict[str, str], settings: dict[str, Any], save_dir: Path) -> Problem:
    """A library problem rebuilt from the settings a Python run recorded (its parameters and its sampler's)."""
    params = {key: settings[key] for key in _parameters(problem_class) if key in settings}
    if not problem_class.uses_sampler:
        return problem_class(**params)
    sampler_class = importlib.import_module(backend["module"]).PolynomialSampler
    sampler_settings = {key: settings[key] for key in _parameters(sampler_class) if key in settings}
    missing = [key for key in ("symbols", "field_str") if sampler_settings.get(key) is None]
    if missing:
        raise ValueError(
            f"{save_dir}'s record names no {' and no '.join(missing)} for its {problem_class.name} problem (a sampler built "
            "from a Sage ring records neither), so the ring of its answers cannot be known; pass generator=, the "
            "problem the folder was made with, to evaluate()"
        )
    return problem_class(sampler_class(**sampler_settings), **params)


def _parameters(cls: type) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "sampler", "ring")]


def _backend_module(name: str) -> str:
    """The public module of a backend, as the registry (its config file, ``conf/backend/NAME.yaml``) names it."""
    try:
        return public_module(name)
    except ValueError:
        raise ValueError(f"the folder was made with backend {name!r}, which calt_hf does not know") from None


def _qualified_name(obj: Any) -> str:
    named = obj if hasattr(obj, "__qualname__") else type(obj)
    return f"{named.__module__}.{named.__qualname__}"


def _first_line(function: Any) -> str:
    """A docstring's first paragraph on one line: what a verifier counts as right."""
    return " ".join((inspect.getdoc(function) or "").split("\n\n")[0].split())


# --- the split and the predictions --------------------------------------------------------------------
def _split_samples(save_dir: Path, split: str) -> list[tuple[Any, Any]]:
    """The split's (problem, solution) texts, nesting kept: from its JSON Lines, else from its pickle."""
    writer = DatasetWriter(save_dir)
    if (save_dir / f"{split}{JsonLinesFormat.suffix}").exists():
        return writer.load_dataset_jsonl(split)
    if (save_dir / f"{split}{PickleFormat.suffix}").exists():
        return [tuple(sample) for sample in writer.load_dataset(split)]
    found = [path.name.removesuffix(suffix) for suffix in readable_suffixes() for path in save_dir.glob(f"*{suffix}")]
    raise ValueError(
        f"split={split!r} is not in {save_dir} (no complete {split}{JsonLinesFormat.suffix} or {split}{PickleFormat.suffix}); "
        f"its splits: {', '.join(sorted(set(found))) or 'none'}"
    )


def _read_predictions(predictions: Any) -> tuple[list[Any], list[Any], str]:
    """The answers, the problems a JSON Lines file states (None where it states none), and where they came from."""
    if isinstance(predictions, (str, PathLike)):
        path = Path(predictions)
        if not path.is_file():
            raise ValueError(f"PREDICTIONS={str(path)!r} is not a file")
        text = path.read_text(encoding="utf-8")
        if path.suffix == JSON_LINES_SUFFIX:
            return (*_json_lines(text, path), str(path))
        lines = text.split("\n")
        if lines[-1] == "":  # the last line's end, not an answer
            lines.pop()
        return [line.removesuffix("\r") for line in lines], [], str(path)
    if isinstance(predictions, Sequence):
        return list(predictions), [], "predictions"
    raise ValueError(f"predictions={predictions!r} is not allowed; give a file's path or a list of answers")


def _json_lines(text: str, path: Path) -> tuple[list[Any], list[Any]]:
    answers, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} line {number} is not JSON ({error.msg}); a JSON Lines file holds one object a line") from None
        if not isinstance(record, dict) or "prediction" not in record:
            raise ValueError(f"{path} line {number} has no 'prediction' field; each line is {{\"prediction\": ...}}")
        answers.append(record["prediction"])
        problems.append(record.get("problem"))
    return answers, problems


def _as_text(value: Any) -> str | None:
    """A problem, solution or answer in the text form (JSON integers as their digits); None if it has none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [_as_text(item) if not isinstance(item, list) else [_as_text(inner) for inner in item] for item in value]
        if all(item is not None and (not isinstance(item, list) or None not in item) for item in items):
            return _TEXT.join(items)
    return None


def _compact(text: str | None) -> str | None:
    return None if text is None else "".join(text.split())


# --- scoring ------------------------------------------------------------------------------------------
@dataclass
class _Tally:
    """Counts of one group of answers."""

    answers: int = 0
    exact_match: int = 0
    correct: int = 0
    unreadable: int = 0
    baseline_exact_match: int = 0
    baseline_correct: int = 0
    partial_credit: Counter = field(default_factory=Counter)

    def add(self, exact: bool, correct: bool, unreadable: bool, baseline_exact: bool, baseline_correct: bool,
            credit: dict[str, bool]) -> None:
        self.answers += 1
        self.exact_match += exact
        self.correct += correct
        self.unreadable += unreadable
        self.baseline_exact_match += baseline_exact
        self.baseline_correct += baseline_correct
        self.partial_credit.update({name: int(value) for name, value in credit.items()})


class _Scores:
    """One evaluation: reads every sample and answer, verifies, tallies overall and by statistic value."""

    def __init__(self, judge: Judge, save_dir: Path, split: str) -> None:
        self.judge, self.save_dir, self.split = judge, save_dir, split

    def _read_sample(self, index: int, problem: Any, solution: Any) -> tuple[Any, Any]:
        try:
            return self.judge.read_problem(problem), self.judge.read_solution(solution)
        except Unreadable as error:
            raise ValueError(
                f"sample {index} of split {self.split!r} of {self.save_dir} does not read as data of "
                f"{self.judge.name} over {self.judge.ring} ({error}): the folder's record does not describe its data"
            ) from None

    def _verify(self, index: int, problem: Any, solution: Any, prediction: Any) -> bool:
        try:
            return bool(self.judge.verify(problem, solution, prediction))
        except Unreadable:
            raise
        except Exception as error:
            raise RuntimeError(f"verifying answer {index} of split {self.split!r} failed: {error!r}") from error

    def report(self, samples: list[tuple[Any, Any]], answers: list[Any]) -> dict[str, Any]:
        judge = self.judge
        texts = [_TEXT.join(solution) for _, solution in samples]
        baseline_text, _ = Counter(texts).most_common(1)[0]
        first_seen = texts.index(baseline_text)
        baseline = self._read_sample(first_seen, *samples[first_seen])[1] if judge.verify is not None else None
        total = _Tally()
        groups: dict[str, dict[Any, _Tally]] = {}
        for index, ((problem_text, solution_text), answer, text) in enumerate(zip(samples, answers, texts)):
            exact = _compact(_as_text(answer)) == _compact(text)
            baseline_exact = text == baseline_text
            credit: dict[str, bool] = {}
            if judge.verify is None:
                correct, unreadable, baseline_correct = exact, False, baseline_exact
                problem = solution = None
            else:
                problem, solution = self._read_sample(index, problem_text, solution_text)
                baseline_correct = self._verify(index, problem, solution, baseline)
                try:
                    prediction = judge.read_solution(shaped(answer, solution_text))
                    correct, unreadable = self._verify(index, problem, solution, prediction), False
                except Unreadable:  # from reading, or from a verifier of texts that cannot read the answer
                    correct, unreadable = False, True
                else:
                    credit = judge.partial_credit(problem, solution, prediction)
            tallies = [total]
            if judge.statistics is not None and solution is not None:
                for statistic, value in _statistics(judge.statistics(problem, solution)):
                    tallies.append(groups.setdefault(statistic, {}).setdefault(value, _Tally()))
            for tally in tallies:
                tally.add(exact, correct, unreadable, baseline_exact, baseline_correct, credit)
        count = total.answers

        def score(k: int) -> dict[str, Any]:
            return {"count": k, "share": k / count if count else 0.0}

        return {
            "save_dir": str(self.save_dir),
            "split": self.split,
            "problem": judge.name,
            "backend": judge.backend,
            "ring": judge.ring,
            "verifier": judge.verifier,
            "answers": count,
            "exact_match": score(total.exact_match),
            "correct": score(total.correct),
            "wrong": score(count - total.correct - total.unreadable),
            "unreadable": score(total.unreadable),
            "partial_credit": {name: score(k) for name, k in sorted(total.partial_credit.items())},
            "baseline": {"answer": baseline_text, "exact_match": score(total.baseline_exact_match),
                         "correct": score(total.baseline_correct)},
            "breakdown": {
                statistic: [
                    {"value": value, "answers": t.answers, "exact_match": t.exact_match, "correct": t.correct,
                     "unreadable": t.unreadable, "baseline_correct": t.baseline_correct}
                    for value, t in sorted(by_value.items())
                ]
                for statistic, by_value in groups.items() if len(by_value) > 1
            },
        }


def _statistics(values: Any) -> list[tuple[str, Any]]:
    """``(category metric, value)`` of one sample's statistics, the problem's own category left out."""
    found = []
    for category, metrics in (values or {}).items():
        if category in _NOT_BROKEN_DOWN:
            continue
        items = metrics.items() if isinstance(metrics, dict) else [(None, metrics)]
        for metric, value in items:
            found.append((category if metric is None else f"{category} {metric}", int(value) if isinstance(value, bool) else value))
    return found


# --- the table ----------------------------------------------------------------------------------------
def format_table(report: dict[str, Any]) -> str:
    """The report as the command prints it: the scores, then one table per statistic the answers vary by."""
    count = report["answers"]
    about = ", ".join(str(part) for part in (report["ring"], report["backend"]) if part)
    baseline = repr(report["baseline"]["answer"])
    rows = [
        ("exact match", report["exact_match"]),
        ("correct", report["correct"]),
        ("wrong", report["wrong"]),
        ("unreadable", report["unreadable"]),
        *((f"partial credit: {name}", score) for name, score in report["partial_credit"].items()),
        (f"baseline {baseline}: exact match", report["baseline"]["exact_match"]),
        (f"baseline {baseline}: correct", report["baseline"]["correct"]),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [
        f"split {report['split']!r} of {report['save_dir']}: {count} answers, problem {report['problem']}"
        + (f" ({about})" if about else ""),
        f"correct: {report['verifier']}",
        "",
        f"{'':{width}}  {'answers':>8}  {'share':>7}",
        *(f"{name:{width}}  {score['count']:>8}  {score['share']:>7.1%}" for name, score in rows),
    ]
    columns = ("answers", "exact_match", "correct", "unreadable", "baseline_correct")
    headers = ("answers", "exact", "correct", "unreadable", "baseline")
    for statistic, entries in report["breakdown"].items():
        value_width = max(len("value"), *(len(str(entry["value"])) for entry in entries))
        lines += ["", f"by {statistic}", f"{'value':>{value_width}}  " + "  ".join(f"{h:>10}" for h in headers)]
        for entry in entries:
            cells = [f"{entry['answers']:>10}"] + [f"{entry[c] / entry['answers']:>10.1%}" for c in columns[1:]]
            lines.append(f"{str(entry['value']):>{value_width}}  " + "  ".join(cells))
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """``python -m calt_hf.evaluate SAVE_DIR PREDICTIONS [--split test] [--out report.json] [--first N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m calt_hf.evaluate",
        description="Judge a model's answers on a split of a calt_hf dataset by the problem's mathematics: exact "
                    "match, correct by the problem's verifier, unreadable answers apart, the most frequent "
                    "solution's score as a baseline, broken down by the samples' statistics.",
    )
    parser.add_argument("save_dir", help="the dataset's folder (save_dir)")
    parser.add_argument("predictions", help="one answer a line in the split's order, or JSON Lines (*.jsonl) with a "
                                            "'prediction' field")
    parser.add_argument("--split", default="test", help="the split the answers are for (default: test)")
    parser.add_argument("--out", help="also write the report as JSON to this file")
    parser.add_argument("--first", type=int, metavar="N", help="judge the first N samples of the split only")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args.save_dir, args.predictions, args.split, first=args.first)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.out:
        write_atomically(Path(args.out), json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
