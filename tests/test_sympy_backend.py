"""The SymPy backend: sampler constraints and checks, and the text form of SymPy objects."""

import pickle
import random

import numpy as np
import pytest
from sympy import GF, QQ, RR, ZZ, Matrix, Poly, Rational, symbols
from sympy.polys.rings import ring

from calt_hf.backends.sympy.adapter import SYMPY, element_to_str, poly_to_str
from calt_hf.conversion import to_strings
from calt_hf.sympy import PolynomialSampler, SinglePolynomialSampler


@pytest.mark.parametrize("field_str", ["QQ", "ZZ", "RR", "GF(7)", "GF7", "GF31"])
@pytest.mark.parametrize("order", ["lex", "grlex", "grevlex", "degrevlex"])
def test_strict_sampling_meets_every_constraint(field_str, order):
    sampler = PolynomialSampler("x, y, z", field_str, order, max_num_terms=5, max_degree=4, min_degree=2)
    random.seed(0)
    for poly in sampler.sample(200):
        assert poly.ring is sampler.get_ring()
        assert poly != 0
        assert 2 <= sampler.total_degree(poly) <= 4
        assert 1 <= len(poly) <= 5
        if field_str.startswith("GF"):
            assert poly.ring.domain.characteristic() == int(field_str.strip("GF()"))


def test_order_defaults_to_grevlex_and_is_kept_under_sympys_name():
    assert PolynomialSampler("x, y", "GF7").order == "grevlex"
    assert PolynomialSampler("x, y", "GF7", "degrevlex").order == "grevlex"
    assert PolynomialSampler("x, y", "GF7", "deglex").order == "grlex"
    assert PolynomialSampler("x, y", "GF7").get_ring().order.alias == "grevlex"


def test_fixed_degree_and_terms_are_exact():
    sampler = PolynomialSampler(
        "x, y", "GF7", "grevlex", max_num_terms=6, max_degree=3, degree_sampling="fixed", term_sampling="fixed"
    )
    for poly in sampler.sample(100):
        assert sampler.total_degree(poly) == 3 and len(poly) == 6


def test_non_strict_sampling_respects_bounds_and_coefficients():
    sampler = PolynomialSampler(
        "x", "ZZ", "lex", max_num_terms=3, max_degree=5, max_coeff=2, strictly_conditioned=False, nonzero_coeff=True
    )
    for poly in sampler.sample(200):
        assert poly != 0 and len(poly) <= 3 and sampler.total_degree(poly) <= 5
        assert all(1 <= abs(int(c)) <= 2 for c in poly.coeffs())


def test_qq_coefficients_use_num_bound():
    sampler = PolynomialSampler("x, y", "QQ", "grevlex", num_bound=3)
    for poly in sampler.sample(100):
        assert all(abs(c.numerator) <= 3 and 1 <= c.denominator <= 3 for c in poly.coeffs())


def test_ring_is_built_once_and_rebuilt_after_pickling():
    sampler = PolynomialSampler("x, y", "GF7", "grevlex")
    assert sampler.get_ring() is sampler.get_ring()
    clone = pickle.loads(pickle.dumps(sampler))  # SymPy's GF rings do not pickle: the sampler must
    assert clone._ring is None
    assert poly_to_str(clone.sample(1)[0])


def test_matrices():
    sampler = PolynomialSampler("x, y", "GF7", "grevlex", max_degree=2)
    (matrix,) = sampler.sample(1, size=(3, 3), matrix_type="unimodular_upper_triangular")
    assert isinstance(matrix, np.ndarray) and matrix.shape == (3, 3)
    assert all(matrix[i, i] == 1 for i in range(3)) and all(matrix[i, j] == 0 for i in range(3) for j in range(i))
    sparse = sampler.sample(5, size=(2, 4), density=0.0)
    assert all(entry == 0 for m in sparse for entry in m.flat)
    text = to_strings(matrix, SYMPY, "matrix")
    assert text[0][0] == "1" and text[1][0] == "0" and len(text) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"field_str": "GF(8)"}, "needs n prime"),
        ({"field_str": "GF1"}, "needs n prime"),
        ({"field_str": "CC"}, "QQ, RR, ZZ, GF"),
        ({"order": "revlex"}, "lex, grlex, grevlex"),
        ({"min_degree": 4, "max_degree": 2}, "min_degree=4 is above max_degree=2"),
        ({"max_degree": -1}, "max_degree=-1"),
        ({"max_num_terms": 0}, "max_num_terms=0"),
        ({"degree_sampling": "gauss"}, "'uniform', 'fixed'"),
        ({"term_sampling": None}, "'uniform', 'fixed'"),
        ({"max_attempts": 0}, "max_attempts=0"),
        ({"symbols": ""}, "symbols=''"),
    ],
)
def test_bad_sampler_values_are_named(kwargs, message):
    arguments = {"symbols": "x, y", "field_str": "GF7", "order": "grevlex", **kwargs}
    with pytest.raises(ValueError, match=message):
        PolynomialSampler(**arguments)


def test_sample_arguments_are_checked():
    sampler = PolynomialSampler("x", "QQ", "lex")
    for kwargs, message in [
        ({"size": (0, 2)}, "size="),
        ({"density": 1.5}, "density="),
        ({"matrix_type": "diagonal"}, "matrix_type="),
        ({"num_samples": 0}, "num_samples="),
    ]:
        with pytest.raises(ValueError, match=message):
            sampler.sample(**kwargs)


def test_unmet_conditions_raise_after_max_attempts():
    # One monomial of degree <= 2 with a 0/1 coefficient: degree 2 and non-zero only 1 time in 6.
    sampler = PolynomialSampler(
        "x", "GF2", "lex", min_degree=2, max_degree=2, max_num_terms=1, strictly_conditioned=False, max_attempts=1
    )
    failures = 0
    for seed in range(50):
        random.seed(seed)
        try:
            poly = sampler.sample(1)[0]
        except RuntimeError as error:
            assert "max_attempts=1" in str(error)
            failures += 1
        else:
            assert sampler.total_degree(poly) == 2
    assert failures > 20


def test_single_polynomial_sampler():
    single = SinglePolynomialSampler()
    R, x, y = ring("x, y", QQ, "grevlex")
    random.seed(1)
    poly = single.random_element(R, degree=3, terms=4, non_zero_coeff=True, num_bound=5)
    assert len(poly) == 4 and max(sum(m) for m in poly.monoms()) <= 3
    assert single.random_element(R, degree=3, terms=0) == 0
    assert single.random_element(R, degree=0, non_zero_coeff=True) != 0
    assert len(single.random_element(R, degree=1, terms=10)) <= 3  # only 3 monomials of degree <= 1
    assert len(single.random_element(R, degree=3, choose_degree=True, non_zero_coeff=True)) == 5
    assert all(-2 <= single.random_coeff(ZZ, min=-2, max=2) <= 2 for _ in range(50))
    assert all(single.random_coeff(GF(5), non_zero=True) != 0 for _ in range(50))
    assert isinstance(single.random_coeff(RR), type(RR(1)))
    with pytest.raises(ValueError):
        single.random_coeff(ZZ, min=3, max=1)
    with pytest.raises(ValueError):
        single.random_coeff(ZZ, non_zero=True, min=0, max=0)
    with pytest.raises(ValueError):
        single.random_element(R, degree=-1)


@pytest.mark.parametrize(
    "domain, build, expected",
    [
        (GF(7), lambda x, y, F: 3 * x**2 * y + x + F(6), "3*x^2*y + x + 6"),
        (GF(7), lambda x, y, F: -x - 1, "6*x + 6"),
        (ZZ, lambda x, y, F: -x**2 * y + 2 * x - 1, "-x^2*y + 2*x - 1"),
        (QQ, lambda x, y, F: QQ(3, 4) * x**2 * y - QQ(1, 2) * x + 6, "3/4*x^2*y - 1/2*x + 6"),
        (RR, lambda x, y, F: 3.0 * x - y + 6.5, "3.0*x - y + 6.5"),
        (ZZ, lambda x, y, F: x * 0, "0"),
        (ZZ, lambda x, y, F: y**3 + x, "y^3 + x"),  # grevlex: total degree first
    ],
)
def test_polynomial_text(domain, build, expected):
    R, x, y = ring("x, y", domain, "grevlex")
    text = poly_to_str(build(x, y, domain))
    assert text == expected
    assert "**" not in text and "mod" not in text


def test_term_order_follows_the_ring():
    for order, expected in [("lex", "x + y^3"), ("grevlex", "y^3 + x")]:
        R, x, y = ring("x, y", ZZ, order)
        assert poly_to_str(x + y**3) == expected


def test_other_sympy_objects():
    x, y = symbols("x y")
    assert element_to_str(Poly(6 * x**2 * y + 3 * x + 1, x, y, modulus=7)) == "6*x^2*y + 3*x + 1"
    assert element_to_str(Poly(Rational(3, 4) * x - y, x, y)) == "3/4*x - y"
    assert element_to_str(x**2 + 1) == "x^2 + 1"
    assert element_to_str(12) == "12"
    assert to_strings(Matrix([[1, x], [0, 1]]), SYMPY, "m") == [["1", "x"], ["0", "1"]]


def test_nesting_conversion():
    R, x, y = ring("x, y", GF(5), "grevlex")
    assert to_strings((x, [y, 2 * x]), SYMPY, "p") == ["x", ["y", "2*x"]]
    assert to_strings(np.array([x, y], dtype=object), SYMPY, "p") == ["x", "y"]
    with pytest.raises(ValueError, match="the problem is None"):
        to_strings(None, SYMPY, "the problem")
    with pytest.raises(ValueError, match="contains None"):
        to_strings([x, None], SYMPY, "the problem")
    with pytest.raises(ValueError, match="deeper than 2 levels"):
        to_strings([[[x]]], SYMPY, "the problem")
