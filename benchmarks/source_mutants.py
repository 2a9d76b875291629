"""Mutation testing of the harness: one-line bugs in the source, through ``gibbs-suite compare``.

Usage: python benchmarks/source_mutants.py [NAME ...] [--out FILE.jsonl]
       python benchmarks/source_mutants.py --table

Results: ``benchmarks/results/source_mutants.jsonl`` unless ``--out`` says otherwise (naming
some bugs re-runs those and keeps the stored rows of the others).

The catalogues (validation/*mutants.py) are broken *blocks* swapped into a sweep; these are edits
of the shipped source, as a slip in a real change would be: each copies ``gibbs``,
``validation`` and ``reference_models`` to a temporary folder, replaces one exact line, and runs
the command a user runs, ``gibbs-suite compare --no-report`` on radon with the configuration the
edited code serves (``PYTHONPATH`` puts the copy first). A bug is caught when the command exits
1. None of these bugs was used to design a check; they were written to measure the harness on
classes of bugs (the fully collapsed scheme, the centered blocks, scales and degrees of freedom,
prior handling, the driver and its output, the binomial kernels, varying slopes). A bug that
makes the sampler exactly right on radon (``kappa_ignores_trials``: radon has one trial per row)
cannot be caught on radon by any battery; ``gibbs-suite verify`` runs the designs that expose it.
The binomial latent draws exist twice, in the varying-intercept kernel
(``gibbs/kernels/binomial.py``) and in the families' augmentation that the general kernel uses
(``gibbs/families/binomial.py``, reached here by the varying-slopes logistic model): a slip in one
is invisible to configurations that run the other.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "source_mutants.jsonl"
DATA_DIRS = {
    "GIBBS_SUITE_RADON_DIR": "shared/data/radon",
    "GIBBS_SUITE_POLICE_STOPS_DIR": "shared/data/police_stops",
    "GIBBS_SUITE_ELECTION88_DIR": "shared/data/election88",
}

# name, class, file, old line(s), new line(s), compare arguments
BUGS = [
    (
        "marginal_log_det_without_groups",
        "fully collapsed scheme",
        "gibbs/kernels/marginal.py",
        "log_det_s = (model.data.n - ms.n_groups) * log_vy",
        "log_det_s = model.data.n * log_vy",
        [],
    ),
    (
        "marginal_without_sigma_alpha_jacobian",
        "fully collapsed scheme",
        "gibbs/kernels/marginal.py",
        "        + x[..., 0]\n        + x[..., 1]\n",
        "        + x[..., 0]\n",
        [],
    ),
    (
        "isir_stay_against_fresh_weights_only",
        "fully collapsed scheme",
        "gibbs/kernels/marginal.py",
        "return math.log(u_stay) < log_w_current - log_sum",
        "return math.log(u_stay) < log_w_current - log_total",
        [],
    ),
    (
        "theta_solved_with_untransposed_factor",
        "fully collapsed scheme",
        "gibbs/kernels/marginal.py",
        "theta = np.linalg.solve(np.swapaxes(L, -1, -2), (w + z_theta)[..., None])[..., 0]",
        "theta = np.linalg.solve(L, (w + z_theta)[..., None])[..., 0]",
        [],
    ),
    (
        "run_ahead_hands_out_previous_alpha",
        "driver and output",
        "gibbs/kernels/marginal.py",
        "alpha=ahead.alpha[:, k],",
        "alpha=ahead.alpha[:, k - 1],",
        [],
    ),
    (
        "driver_keeps_last_warmup_sweep",
        "driver and output",
        "gibbs/driver.py",
        "if it >= tune and (it - tune) % thin == thin - 1:",
        "if it >= tune - 1 and (it - tune + 1) % thin == thin - 1 and kept < draws:",
        [],
    ),
    (
        "alpha_prior_precision_from_sd",
        "centered blocks",
        "gibbs/kernels/gaussian.py",
        "prec_a = sigma_alpha[..., None] ** -2.0",
        "prec_a = sigma_alpha[..., None] ** -1.0",
        [],
    ),
    (
        "flat_gamma_noise_scaled_by_sigma_y",
        "centered blocks",
        "gibbs/kernels/gaussian.py",
        "gamma = chain_dot(r, model.UtU_inv.T) + state.sigma_alpha[:, None] * chain_dot(",
        "gamma = chain_dot(r, model.UtU_inv.T) + state.sigma_y[:, None] * chain_dot(",
        ["--scheme", "componentwise"],
    ),
    (
        "sigma_y_degrees_of_freedom_minus_p",
        "scales and degrees of freedom",
        "gibbs/kernels/gaussian.py",
        "residual_ss(state, model), model.data.n, state.aux_y",
        "residual_ss(state, model), model.data.n - model.data.p, state.aux_y",
        ["--scheme", "blocked"],
    ),
    (
        "uniform_sigma_shape_of_log_uniform",
        "scales and degrees of freedom",
        "gibbs/priors.py",
        "        return (m - 1) / 2.0",
        "        return m / 2.0",
        ["--scheme", "blocked"],
    ),
    (
        "half_t_density_without_scale",
        "prior handling",
        "gibbs/priors.py",
        "return _LOG2 + _t_logpdf(np.asarray(sigma) / self.sigma, self.nu) - np.log(self.sigma)",
        "return _LOG2 + _t_logpdf(np.asarray(sigma), self.nu) - np.log(self.sigma)",
        ["--priors", "weakly-informative"],
    ),
    (
        "kappa_ignores_trials",
        "binomial kernels",
        "gibbs/kernels/binomial.py",
        'object.__setattr__(self, "kappa", Y - 0.5 * self.trials)',
        'object.__setattr__(self, "kappa", Y - 0.5)',
        ["--family", "logistic"],
    ),
    (
        "polya_gamma_tilt_halved",
        "binomial kernels",
        "gibbs/kernels/binomial.py",
        "random_polyagamma(model.trials, eta[c], out=omega[c], random_state=gen)",
        "random_polyagamma(model.trials, eta[c] / 2.0, out=omega[c], random_state=gen)",
        ["--family", "logistic"],
    ),
    (
        "albert_chib_failure_mean_unsigned",
        "binomial kernels",
        "gibbs/kernels/binomial.py",
        "z = sign * truncated_normal_positive(sign * eta_t, 1.0, u)",
        "z = sign * truncated_normal_positive(eta_t, 1.0, u)",
        ["--family", "probit"],
    ),
    (
        "general_polya_gamma_tilt_halved",
        "binomial kernels",
        "gibbs/families/binomial.py",
        "random_polyagamma(trials, eta[c], out=omega[c], random_state=gen)",
        "random_polyagamma(trials, eta[c] / 2.0, out=omega[c], random_state=gen)",
        ["--family", "logistic", "--model", "M3"],
    ),
    (
        "slopes_prior_mean_times_sigma",
        "varying slopes",
        "gibbs/kernels/slopes.py",
        'rhs = np.einsum("cab,cjb->cja", S_inv, group_means(state, model)) + resid / s2',
        'rhs = np.einsum("cab,cjb->cja", state.Sigma, group_means(state, model)) + resid / s2',
        ["--model", "M3"],
    ),
    (
        "slopes_data_term_over_sd",
        "varying slopes",
        "gibbs/kernels/slopes.py",
        "    precision = S_inv[:, None] + model.G[None, :, :K, :K] / s2[..., None]\n",
        "    precision = S_inv[:, None] + model.G[None, :, :K, :K] / np.sqrt(s2)[..., None]\n",
        ["--model", "M3"],
    ),
    # Written after the group level's identities were extended to every family and to the
    # factors, to measure them where they were new: scales and group levels of the binomial,
    # count and multi-factor configurations.
    (
        "collapsed_scale_slice_without_jacobian",
        "scales and degrees of freedom",
        "gibbs/kernels/scales.py",
        "out = x - 0.5 * (np.log(v) + resid2 / v).sum(axis=-1)",
        "out = -0.5 * (np.log(v) + resid2 / v).sum(axis=-1)",
        ["--family", "logistic"],
    ),
    (
        "binomial_collapsed_noise_precision_as_variance",
        "binomial kernels",
        "gibbs/kernels/binomial.py",
        "streams, model.priors.sigma_alpha, state.sigma_alpha, resid, 1.0 / W_obs",
        "streams, model.priors.sigma_alpha, state.sigma_alpha, resid, W_obs",
        ["--family", "logistic"],
    ),
    (
        "factor_scale_one_term_too_many",
        "scales and degrees of freedom",
        "gibbs/kernels/factors.py",
        "            len(f.levels),\n",
        "            len(f.levels) + 1,\n",
        ["--dataset", "police-stops", "--family", "poisson"],
    ),
    (
        "noncentered_factor_scale_drops_own_effect",
        "count families' group level",
        "gibbs/structures/mixed.py",
        "R = _level_sums(r - w * (eta - b[:, f.codes]), f.codes, J_f)",
        "R = _level_sums(r - w * eta, f.codes, J_f)",
        ["--dataset", "police-stops", "--family", "poisson"],
    ),
    (
        "half_normal_gig_index_off_by_half",
        "prior handling",
        "gibbs/kernels/scales.py",
        "variance = _draw_gig(streams, -(m - 1) / 2.0, prior.sigma**-2.0, ss)",
        "variance = _draw_gig(streams, -m / 2.0, prior.sigma**-2.0, ss)",
        ["--dataset", "police-stops", "--family", "poisson"],
    ),
]


def run_bug(name, cls, path, old, new, args, timeout: float = 900.0) -> dict:
    """Apply one bug to a copy of the packages and run compare on it."""
    with tempfile.TemporaryDirectory() as tmp:
        for package in ("gibbs", "validation", "reference_models"):
            shutil.copytree(ROOT / package, Path(tmp) / package)
        target = Path(tmp) / path
        source = target.read_text()
        if source.count(old) != 1:
            raise SystemExit(f"{name}: the line to replace occurs {source.count(old)} times")
        target.write_text(source.replace(old, new))
        env = dict(os.environ, PYTHONPATH=tmp)
        # The copy lives in a temporary folder: point the loaders at the data beside this
        # checkout, where they would have looked for it.
        for var, folder in DATA_DIRS.items():
            if var not in env and (ROOT.parent / folder).is_dir():
                env[var] = str(ROOT.parent / folder)
        start = time.perf_counter()
        cli = [sys.executable, "-m", "validation.cli", "compare", "--no-report"]
        try:
            done = subprocess.run(
                [*cli, *args], env=env, capture_output=True, text=True, cwd=tmp, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            # No verdict in the time a user would wait: not counted as caught.
            done = subprocess.CompletedProcess(cli, None, "", f"no verdict after {timeout:.0f} s")
    seconds = time.perf_counter() - start
    verdict = next(
        (ln for ln in done.stdout.splitlines() if ln.startswith("verdict:")),
        (done.stderr.strip().splitlines() or ["(no output)"])[-1],
    )
    return {
        "name": name,
        "class": cls,
        "args": " ".join(args) or "(defaults)",
        "exit": done.returncode,
        "caught": done.returncode == 1,
        "verdict": verdict[:160],
        "seconds": round(seconds, 1),
    }


def table(rows) -> str:
    """The rows as a markdown table, in the order of BUGS."""
    order = {b[0]: k for k, b in enumerate(BUGS)}
    rows = sorted(rows, key=lambda r: order.get(r["name"], len(order)))
    lines = ["| class | bug | compare arguments | caught | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        verdict = r["verdict"].split(" (")[0].removeprefix("verdict: ")
        lines.append(
            f"| {r['class']} | {r['name']} | `{r['args']}` | "
            f"{'**caught**' if r['caught'] else 'missed'} | {verdict} |"
        )
    caught = sum(r["caught"] for r in rows)
    lines.append(f"\n{caught} of {len(rows)} caught by `gibbs-suite compare` on the shipped data.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per bug")
    args = parser.parse_args()
    if args.table:
        print(table([json.loads(s) for s in args.out.read_text().splitlines()]))
        return
    rows = []
    for bug in BUGS:
        if args.names and bug[0] not in args.names:
            continue
        row = run_bug(*bug, timeout=args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.names and args.out.exists():
        # Re-run some bugs: keep the stored rows of the others.
        done = {r["name"] for r in rows}
        kept = [json.loads(s) for s in args.out.read_text().splitlines()]
        rows = [r for r in kept if r["name"] not in done] + rows
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(table(rows))


if __name__ == "__main__":
    main()
