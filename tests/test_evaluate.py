"""Judging answers (``calt_hf.evaluate``): every library problem on both backends, answers right in another form
(reordered terms, ``**``, parentheses, unit multiples, permuted lists, other representatives over GF(p)), wrong
and unreadable, counted as such; the command as a user runs it on command line folders; the folder's record as
the only source of the ring; refusals naming what is wrong; malicious answers that stay text.

The other forms are written here from SymPy's own reading of the solution (``sympify`` of the dataset's trusted
text), not by the code under test.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import yaml

from calt_hf.evaluate import evaluate, format_table
from calt_hf.parsing import DEGREE_LIMIT, AnswerReader, Unreadable
from calt_hf.problems import PROBLEMS, Problem
from calt_hf.sympy import DatasetGenerator, PolynomialSampler

sage_all = pytest.importorskip("sage.all__sagemath_singular")

MALICIOUS = "__import__('os').system('touch PWNED')"
KINDS = ("exact", "another form", "wrong", "unreadable")
UNREADABLE = (MALICIOUS, "x +", "y | 1 || 2", "1.5*x", "z^2")
#: A unit of each field that is not 1 (what a gcd or a factor may be multiplied by and stay right).
UNITS = {"GF7": 3, "QQ": Fraction(-2, 3), "ZZ": -1}

#: (problem, backend, field, symbols): every library problem, each polynomial one on both backends.
CASES = [
    ("gcd", "sympy", "GF7", "x, y"), ("gcd", "sagemath", "QQ", "x, y"), ("gcd", "sympy", "ZZ", "x"),
    ("gcd", "sagemath", "ZZ", "x, y"),
    ("sum", "sagemath", "GF7", "x, y"), ("sum", "sympy", "QQ", "x, y"),
    ("product", "sympy", "GF7", "x, y"), ("product", "sagemath", "ZZ", "x, y"),
    ("partial_sum", "sympy", "QQ", "x, y"), ("partial_sum", "sagemath", "GF7", "x, y"),
    ("partial_product", "sagemath", "GF7", "x"), ("partial_product", "sympy", "ZZ", "x"),
    ("factor", "sympy", "GF7", "x"), ("factor", "sagemath", "GF7", "x, y"), ("factor", "sympy", "ZZ", "x, y"),
    ("factor", "sagemath", "QQ", "x"),
    ("groebner", "sympy", "GF7", "x, y"), ("groebner", "sagemath", "QQ", "x, y"),
    ("groebner_backward", "sympy", "GF7", "x, y"), ("groebner_backward", "sagemath", "QQ", "x, y"),
    ("border_basis", "sagemath", "GF7", "x, y"), ("border_basis", "sympy", "QQ", "x, y"),
    ("reduction", "sagemath", "GF7", "x, y"), ("reduction", "sympy", "QQ", "x, y"),
    ("integer_sum", "sympy", None, None), ("integer_factorization", "sagemath", None, None),
    ("digit_product", "sympy", None, None),
]


def make_folder(root: Path, name: str, backend: str, field: str | None, symbols: str | None, size: int = 8) -> Path:
    """A split ``test`` of the problem, generated from Python (so the folder's record is its state only)."""
    api = importlib.import_module(f"calt_hf.{backend}")
    problem_class = PROBLEMS[name]
    if problem_class.uses_sampler:
        order = {"order": problem_class.term_order} if problem_class.term_order else {}  # groebner_backward's lex
        problem = problem_class(api.PolynomialSampler(symbols=symbols, field_str=field, max_degree=2, max_num_terms=3, **order))
    else:
        problem = problem_class()
    folder = root / f"{name}_{backend}_{field}_{len(symbols or '')}"
    api.DatasetGenerator(backend="sequential", n_jobs=1, verbose=False).run(
        dataset_sizes={"test": size}, problem_generator=problem, save_dir=str(folder)
    )
    return folder


def samples(folder: Path, split: str = "test") -> list[dict]:
    return [json.loads(line) for line in (folder / f"{split}_data.jsonl").read_text().splitlines()]


class Rewriter:
    """Writes a ring's polynomials in other forms than the dataset's: terms in reverse order, ``**`` for
    powers, every coefficient in parentheses, times a unit, and over GF(p) as another representative."""

    def __init__(self, field: str, symbols: str) -> None:
        self.gens = sympy.symbols(symbols.replace(",", " ").split())
        self.p = int(field[2:]) if field.startswith("GF") else 0
        self.unit = UNITS[field]

    def __call__(self, text: str, unit: int | Fraction = 1) -> str:
        poly = sympy.Poly(sympy.sympify(text.replace("^", "**")), *self.gens, domain=sympy.QQ)
        pieces = []
        for monomial, coefficient in reversed(poly.terms()):
            value = Fraction(int(coefficient.p), int(coefficient.q)) * unit
            if self.p:
                value = int(value) % self.p + self.p  # another representative of the same residue
            powers = [f"{g}**{e}" if e > 1 else str(g) for g, e in zip(self.gens, monomial) if e]
            pieces.append("*".join([f"({value})", *powers]))
        return " + ".join(pieces) or "0"


def answers_for(name: str, solution, rewrite: Rewriter | None) -> dict[str, object]:
    """A right answer in another form and a wrong one, for a solution (JSON's nesting) of the problem."""
    if name == "gcd":
        return {"another form": rewrite(solution, rewrite.unit), "wrong": f"x*({solution})"}
    if name in ("sum", "product", "reduction"):
        return {"another form": rewrite(solution), "wrong": f"{solution} + 1"}
    if name in ("partial_sum", "partial_product"):
        return {"another form": [rewrite(p) for p in solution], "wrong": [*solution[:-1], f"{solution[-1]} + 1"]}
    if name == "factor":  # the pairs reversed, each factor times a unit, as the text form
        another = " || ".join(f"{rewrite(g, rewrite.unit)} | {e}" for g, e in reversed(solution))
        return {"another form": another, "wrong": [[solution[0][0], str(int(solution[0][1]) + 1)], *solution[1:]]}
    if name in ("groebner", "groebner_backward"):  # wrong: a basis, but not the reduced one (an element times 2)
        return {"another form": [rewrite(g) for g in reversed(solution)], "wrong": [f"2*({solution[0]})", *solution[1:]]}
    if name == "border_basis":  # each times a unit, in reverse order; wrong: one polynomial plus 1 (not in the ideal)
        return {"another form": [rewrite(g, rewrite.unit) for g in reversed(solution)],
                "wrong": [*solution[:-1], f"{solution[-1]} + 1"]}
    if name in ("integer_sum", "digit_product"):
        return {"another form": f" +00{solution} ", "wrong": str(int(solution) + 1)}
    if name == "integer_factorization":  # JSON integers, in reverse order
        return {"another form": [int(p) for p in reversed(solution)], "wrong": [*solution, "2"]}
    raise AssertionError(name)


def compact(value) -> str:
    if isinstance(value, list):
        value = " || ".join(" | ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value) \
            if any(isinstance(v, list) for v in value) else " | ".join(map(str, value))
    return "".join(str(value).split())


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    return {case: make_folder(root, *case) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=["-".join(map(str, case[:3])) for case in CASES])
def test_each_problem_counts_other_forms_right_and_wrong_and_unreadable_apart(case, folders, tmp_path, monkeypatch):
    """Samples take turns: the solution itself, a right answer in another form, a wrong one, an unreadable one."""
    name, backend, field, symbols = case
    monkeypatch.chdir(tmp_path)
    rewrite = Rewriter(field, symbols) if field else None
    rows = samples(folders[case])
    answers, kinds = [], []
    for index, row in enumerate(rows):
        kind = KINDS[index % len(KINDS)]
        forms = {"exact": row["solution"], "unreadable": UNREADABLE[index % len(UNREADABLE)],
                 **answers_for(name, row["solution"], rewrite)}
        answers.append(forms[kind])
        kinds.append(kind)
    report = evaluate(folders[case], answers)
    assert report["answers"] == len(rows) == 8
    assert report["correct"]["count"] == kinds.count("exact") + kinds.count("another form") == 4
    assert report["unreadable"]["count"] == kinds.count("unreadable") == 2
    assert report["wrong"]["count"] == kinds.count("wrong") == 2
    exact = sum(compact(answer) == compact(row["solution"]) for answer, row in zip(answers, rows))
    assert report["exact_match"]["count"] == exact >= 2
    assert report["problem"] == name and report["backend"] == backend
    if name in ("groebner", "groebner_backward"):  # the wrong answers are Gröbner bases too, just not the reduced one
        assert report["partial_credit"] == {"groebner_basis": {"count": 6, "share": 0.75}}
    assert not (tmp_path / "PWNED").exists()


def test_the_report_breaks_down_by_the_statistics_with_the_most_frequent_answer_as_baseline(tmp_path):
    """GCD: by solution degree and terms and by degenerate kind, each breakdown covering every answer once."""
    folder = make_folder(tmp_path, "gcd", "sympy", "GF7", "x, y", size=40)
    solutions = [row["solution"] for row in samples(folder)]
    report = evaluate(folder, solutions)
    assert report["correct"]["count"] == report["exact_match"]["count"] == 40
    frequent = max(set(solutions), key=solutions.count)
    assert report["baseline"]["answer"] == frequent == "1"  # gcd 1: the degenerate kind a model learns first
    assert report["baseline"]["exact_match"]["count"] == solutions.count(frequent)
    breakdown = report["breakdown"]
    assert {"solution total_degree", "solution num_terms", "degenerate gcd_is_one"} <= set(breakdown)
    assert not any(statistic.startswith("problem") for statistic in breakdown)
    for entries in breakdown.values():
        assert sum(entry["answers"] for entry in entries) == 40
    ones = {entry["value"]: entry for entry in breakdown["degenerate gcd_is_one"]}
    assert ones[1]["baseline_correct"] == ones[1]["answers"] == solutions.count("1") and ones[0]["baseline_correct"] == 0
    table = format_table(report)
    assert "by degenerate gcd_is_one" in table and "baseline '1': correct" in table


def test_answers_read_in_the_usual_notation_and_nothing_else():
    """The same polynomial of GF(7)[x, y] in many notations; text that is no polynomial of the ring is Unreadable."""
    sampler = PolynomialSampler("x, y", "GF7", "grevlex")
    reader = AnswerReader(sampler.get_ring(), sampler.field_spec)
    target = reader.polynomial("3*x^2*y + x + 6")
    for text in ["6 + x + 3*y*x**2", "x*y*x*3 + x - 1", "(x + 2)*(3*x*y) - 6*x*y + x - 8", "10*x^(2)*y+x+13",
                 " 3 * x ^ 2 * y + x + 6 ", "x*(3*x*y + 1) + 6", "-(-3*x^2*y - x - 6)", "x/1 + 3/1*x^2*y + 12/2",
                 "3*x^2*y + x - 1 + 0*y^5"]:
        assert reader.polynomial(text) == target, text
    for text in [MALICIOUS, "x + + ", "exp(x)", "x y", "2x", "x^-1", "x/y", "1/0", "x^2^3", "0.5*x", "x^y", "", "lambda: 1",
                 "x; import os", "(x + 1", "x)", "(" * 60 + "x" + ")" * 60, f"x^{DEGREE_LIMIT + 1}", "(x + y + 1)^3000",
                 "9" * 5000]:
        with pytest.raises(Unreadable):
            reader.polynomial(text)
    over_zz = PolynomialSampler("x", "ZZ")
    integers = AnswerReader(over_zz.get_ring(), over_zz.field_spec)
    with pytest.raises(Unreadable, match="outside ZZ"):
        integers.polynomial("x/2")
    assert integers.polynomial("(2*x)/2") == integers.polynomial("x")


def test_one_s_own_problem_class_is_judged_by_its_verify_when_given(tmp_path):
    """A generator of one's own made from Python: recorded by name only, so exact match, saying so; given to
    evaluate(), its ring reads the answers and its verify judges them."""
    sampler = PolynomialSampler("x, y", "QQ", max_degree=2, max_num_terms=2)
    problem = Squares(sampler)
    DatasetGenerator(backend="sequential", n_jobs=1, verbose=False).run(
        dataset_sizes={"test": 6}, problem_generator=problem, save_dir=str(tmp_path / "squares")
    )
    rows = samples(tmp_path / "squares")
    answers = [f"({row['problem']})^2" for row in rows[:3]] + [row["solution"] for row in rows[3:5]] + ["x^"]
    by_name = evaluate(tmp_path / "squares", answers)
    assert "exact match" in by_name["verifier"] and "generator=" in by_name["verifier"]
    assert by_name["correct"]["count"] == by_name["exact_match"]["count"] == 2 and by_name["unreadable"]["count"] == 0
    judged = evaluate(tmp_path / "squares", answers, generator=problem)
    assert judged["verifier"] == "Equality: the same polynomials (or integers) as the solution, in the same order."
    assert (judged["correct"]["count"], judged["exact_match"]["count"], judged["unreadable"]["count"]) == (5, 2, 1)


class Squares(Problem):
    """A random polynomial -> its square (a problem class of one's own)."""

    name = "squares"
    nesting = ("string", "string")
    problem_text, solution_text = "a random polynomial f", "f^2"

    def generate(self):
        [f] = self.sampler.sample(1)
        return f, f * f


def test_refusals_name_what_is_wrong(tmp_path):
    folder = make_folder(tmp_path, "sum", "sympy", "GF7", "x, y", size=4)
    rows = samples(folder)
    solutions = [row["solution"] for row in rows]
    with pytest.raises(ValueError, match=r"holds 3 answers, but 4 are expected"):
        evaluate(folder, solutions[:3])
    with pytest.raises(ValueError, match=r"holds 4 answers, but 2 are expected \(the first 2 samples"):
        evaluate(folder, solutions, first=2)
    assert evaluate(folder, solutions[:2], first=2)["correct"]["count"] == 2
    with pytest.raises(ValueError, match=r"split='valid' is not in .*its splits: test"):
        evaluate(folder, solutions, split="valid")
    jsonl = tmp_path / "answers.jsonl"
    other = [{"problem": "x | y", "prediction": solutions[0]}] + [{"prediction": s} for s in solutions[1:]]
    jsonl.write_text("".join(json.dumps(record) + "\n" for record in other))
    with pytest.raises(ValueError, match=r"line 1 answers the problem 'x \| y', but sample 0 .* another folder"):
        evaluate(folder, jsonl)
    jsonl.write_text("".join(json.dumps({"problem": row["problem"], "prediction": row["solution"]}) + "\n" for row in rows))
    assert evaluate(folder, jsonl)["correct"]["count"] == 4
    jsonl.write_text('{"answer": "1"}\n')
    with pytest.raises(ValueError, match=r"line 1 has no 'prediction' field"):
        evaluate(folder, jsonl)
    with pytest.raises(ValueError, match=r"is not a file"):
        evaluate(folder, tmp_path / "missing.txt")
    with pytest.raises(ValueError, match=r"save_dir='.*nowhere' is not a folder"):
        evaluate(tmp_path / "nowhere", solutions)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "test_data.jsonl").write_bytes((folder / "test_data.jsonl").read_bytes())
    with pytest.raises(ValueError, match=r"no record of how it was made \(config.yaml or .calt_hf/test.json\)"):
        evaluate(bare, solutions)


def test_real_coefficients_are_compared_as_text_saying_so(tmp_path):
    folder = make_folder(tmp_path, "sum", "sympy", "RR", "x, y", size=4)
    solutions = [row["solution"] for row in samples(folder)]
    report = evaluate(folder, solutions[:3] + [solutions[3] + " + 0"])
    assert report["verifier"].startswith("exact match (coefficients in RR")
    assert (report["correct"]["count"], report["exact_match"]["count"], report["wrong"]["count"]) == (3, 3, 1)


def test_a_ring_the_record_does_not_name_is_refused_and_the_generator_given_judges(tmp_path):
    """A Sage sampler built from a ring records no symbols and no field: the folder names what is missing."""
    from calt_hf.problems import GCDProblem
    from calt_hf.sagemath import DatasetGenerator as SageGenerator
    from calt_hf.sagemath import PolynomialSampler as SageSampler

    ring = sage_all.PolynomialRing(sage_all.GF(5), ["a", "b"], order="lex")
    problem = GCDProblem(SageSampler(ring=ring, max_degree=2, max_num_terms=2))
    SageGenerator(backend="sequential", n_jobs=1, verbose=False).run(
        dataset_sizes={"test": 4}, problem_generator=problem, save_dir=str(tmp_path / "ring")
    )
    solutions = [row["solution"] for row in samples(tmp_path / "ring")]
    with pytest.raises(ValueError, match=r"names no symbols and no field_str .* pass generator="):
        evaluate(tmp_path / "ring", solutions)
    doubled = [f"2*({s})" for s in solutions]  # a unit of GF(5): still a gcd
    report = evaluate(tmp_path / "ring", doubled, generator=problem)
    assert report["correct"]["count"] == 4 and report["exact_match"]["count"] == 0
    assert report["ring"] == "GF(5)[a, b], order lex"


def run_evaluate(*words: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calt_hf.evaluate", *words], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def run_generate(*words: str, cwd: Path, env: dict | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "calt_hf.generate", "sampler.max_degree=2", "sampler.max_num_terms=3", "hf.package=false",
         "parallel.n_jobs=1", "verbose=false", "dataset_sizes={train: 4, test: 8}", *words],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_command_judges_a_command_line_folder_from_its_config(tmp_path):
    """SymPy, GCD over GF(7): a text file of answers, the table printed, the JSON report written; a file of the
    wrong length refused with status 2, naming both counts; the malicious answer stays text."""
    run_generate("problem=gcd", "save_dir=gcd", cwd=tmp_path)
    assert (tmp_path / "gcd" / "config.yaml").exists()
    rows = samples(tmp_path / "gcd")
    rewrite = Rewriter("GF7", "x, y")
    lines = [rows[0]["solution"], rewrite(rows[1]["solution"], 3), f"x*({rows[2]['solution']})", MALICIOUS,
             *(row["solution"] for row in rows[4:7]), "gcd(f, g)"]
    (tmp_path / "answers.txt").write_text("\n".join(lines) + "\n")
    result = run_evaluate("gcd", "answers.txt", "--out", "report.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^correct +5 +62\.5%$", result.stdout, flags=re.M)
    assert re.search(r"^unreadable +2 +25\.0%$", result.stdout, flags=re.M)
    assert "A gcd of the pair up to a unit" in result.stdout and "by solution total_degree" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["correct"]["count"], report["wrong"]["count"], report["unreadable"]["count"]) == (5, 1, 2)
    assert report["ring"] == "GF(7)[x, y], order grevlex" and report["backend"] == "sympy"
    assert not (tmp_path / "PWNED").exists()
    (tmp_path / "short.txt").write_text("\n".join(lines[:5]) + "\n")
    refused = run_evaluate("gcd", "short.txt", "--out", "refused.json", cwd=tmp_path)
    assert refused.returncode == 2 and not (tmp_path / "refused.json").exists()
    assert "short.txt holds 5 answers, but 8 are expected" in refused.stderr and refused.stderr.startswith("error:")
    (tmp_path / "gcd" / "config.yaml").unlink()  # the split's state records the same config groups
    assert evaluate(tmp_path / "gcd", tmp_path / "answers.txt") == {**report, "save_dir": str(tmp_path / "gcd")}


def test_the_command_judges_sage_factorizations_given_as_json_lines(tmp_path):
    """SageMath, factor over GF(7)[x, y], from a command line folder: JSON Lines with the problems stated,
    pairs permuted and factors times units, the nesting as lists or as the text form."""
    run_generate("backend=sagemath", "problem=factor", "problem.max_count=2", "sampler.symbols='x, y'",
                 "sampler.min_degree=1", "save_dir=factor", cwd=tmp_path)
    rows = samples(tmp_path / "factor")
    rewrite = Rewriter("GF7", "x, y")
    predictions = []
    for index, row in enumerate(rows):
        pairs = row["solution"]
        if index % 3 == 0:
            prediction = [[rewrite(g, 5), int(e)] for g, e in reversed(pairs)]
        elif index % 3 == 1:
            prediction = " || ".join(f"{g} | {e}" for g, e in pairs)
        else:
            prediction = [[g, str(int(e) + 1)] for g, e in pairs]
        predictions.append({"problem": row["problem"], "prediction": prediction})
    (tmp_path / "answers.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    result = run_evaluate("factor", "answers.jsonl", "--out", "report.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["backend"] == "sagemath" and report["problem"] == "factor"
    assert report["correct"]["count"] == 6 and report["wrong"]["count"] == 2 and report["unreadable"]["count"] == 0
    assert report["exact_match"]["count"] == 3 + sum(compact(p["prediction"]) == compact(r["solution"])
                                                     for p, r in zip(predictions[::3], rows[::3]))


def test_the_command_uses_the_verify_of_one_s_own_generator(tmp_path):
    """``problem=custom``: the target's ``verify(problem, solution, prediction)`` judges the texts; raising
    Unreadable counts an answer apart."""
    (tmp_path / "semiprimes.py").write_text(textwrap.dedent('''
        import random

        from calt_hf.parsing import Unreadable


        class Semiprimes:
            """A product of two primes -> the two primes (any factorization into two factors above 1 is right)."""

            def __call__(self, seed):
                rng = random.Random(seed)
                p, q = sorted(rng.choice([2, 3, 5, 7, 11, 13]) for _ in range(2))
                return str(p * q), [str(p), str(q)]

            def verify(self, problem, solution, prediction):
                """Two factors above 1 whose product is the problem, in any order."""
                if not all(text.strip().isdigit() for text in prediction):
                    raise Unreadable(f"not two numbers: {prediction}")
                return len(prediction) == 2 and min(map(int, prediction)) > 1 and int(prediction[0]) * int(prediction[1]) == int(problem)
    '''))
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run_generate("problem=custom", "problem.target=semiprimes.Semiprimes", "save_dir=semi", cwd=tmp_path, env=env)
    rows = samples(tmp_path / "semi")
    lines = [" | ".join(reversed(rows[0]["solution"])), " | ".join(rows[1]["solution"]), "1 | " + rows[2]["problem"],
             "a | b", *(" | ".join(row["solution"]) for row in rows[4:])]
    (tmp_path / "answers.txt").write_text("\n".join(lines) + "\n")
    result = run_evaluate("semi", "answers.txt", "--out", "report.json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verifier"] == "Two factors above 1 whose product is the problem, in any order."
    assert (report["correct"]["count"], report["wrong"]["count"], report["unreadable"]["count"]) == (6, 1, 1)
    config = yaml.safe_load((tmp_path / "semi" / "config.yaml").read_text())
    assert config["problem"]["target"] == "semiprimes.Semiprimes"
