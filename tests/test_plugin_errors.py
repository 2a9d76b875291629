"""The regression-test fixture's own errors: a missing golden, two tests writing one golden."""

pytest_plugins = ("pytester",)

TESTS = """
import numpy as np
import arviz as az


def _idata(seed):
    rng = np.random.default_rng(seed)
    return az.from_dict(posterior={"mu": rng.normal(size=(4, 1000))})


def test_one(assert_posterior_agrees):
    assert_posterior_agrees(_idata(1), "goldens/shared.json")


def test_two(assert_posterior_agrees):
    assert_posterior_agrees(_idata(2), "goldens/shared.json")
"""


def test_a_missing_golden_says_how_to_create_it(pytester):
    pytester.makepyfile(test_regression=TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "one")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*golden file goldens/shared.json does not exist*--update-goldens*"]
    )


def test_two_tests_writing_one_golden_are_refused(pytester):
    pytester.makepyfile(test_regression=TESTS)
    # A subprocess: the option comes from the installed plugin's entry point.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--update-goldens")
    result.assert_outcomes(passed=1, errors=0, failed=1)
    result.stdout.fnmatch_lines(["*goldens/shared.json is written by both*test_one*test_two*"])
