"""Run every benchmark (make bench); results land in benchmarks/results/."""

import subprocess
import sys

for script in (
    "benchmarks/radon_ess.py",
    "benchmarks/scaling.py",
    "benchmarks/binomial_ess.py",
    "benchmarks/slopes_ess.py",
    "benchmarks/factors_ess.py",
    "benchmarks/counts_ess.py",
    "benchmarks/separation_mixing.py",
    "benchmarks/harness_power.py",
    "benchmarks/sbc_power.py",
):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, script], check=True)
