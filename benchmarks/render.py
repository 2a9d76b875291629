"""Render benchmarks/results/*.json as the tables of docs/benchmarks.md (printed to stdout)."""

import json
from pathlib import Path

RESULTS = Path("benchmarks/results")


def radon_table(r):
    lines = [
        "| sampler | chains | build/compile s | tune s | sample s | end to end s | min bulk ESS "
        "| ESS/s end to end | ESS/s sampling-only |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        compile_s = row.get("compile_s", row.get("build_s", 0.0)) + (
            row.get("build_s", 0.0) if "compile_s" in row and "build_s" in row else 0.0
        )
        tune = f"{row['tune_s']:.2f}" if "tune_s" in row else "(with sample)"
        sample = row.get("sample_s", row.get("tune_plus_sample_s"))
        lines.append(
            f"| {row['sampler']} | {row['chains']} | {compile_s:.2f} | {tune} | {sample:.2f} "
            f"| {row['end_to_end_s']:.2f} | {row['min_ess_bulk']:.0f} "
            f"| {row['ess_per_s_end_to_end']:.0f} | {row['ess_per_s_sampling']:.0f} |"
        )
    lines += [
        "",
        "| Gibbs run | ESS/s end to end / PyMC NUTS | ESS/s sampling-only / nutpie |",
        "|---|---|---|",
    ]
    for name, ratio in r["ratios"].items():
        lines.append(
            f"| {name} | {ratio['end_to_end_vs_pymc']:.1f}x | {ratio['sampling_vs_nutpie']:.2f}x |"
        )
    return "\n".join(lines)


def scaling_table(s):
    lines = ["| n | J | one-off setup s | ms per iteration (4 chains) |", "|---|---|---|---|"]
    for row in s["by_n"] + s["by_J"]:
        lines.append(
            f"| {row['n']:,} | {row['J']:,} | {row['setup_s']:.3f} | {row['iteration_ms']:.2f} |"
        )
    return "\n".join(lines)


def binomial_tables(b):
    out = []
    for family, r in b["families"].items():
        out += [f"### {family}", "", radon_table(r), ""]
    lines = ["| family | n | J | ms per iteration (4 chains) |", "|---|---|---|---|"]
    for family, r in b["families"].items():
        for row in r["by_n"]:
            lines.append(f"| {family} | {row['n']:,} | {row['J']:,} | {row['iteration_ms']:.2f} |")
    return "\n".join(out + lines)


if __name__ == "__main__":
    print(radon_table(json.loads((RESULTS / "radon_ess.json").read_text())))
    print()
    print(scaling_table(json.loads((RESULTS / "scaling.json").read_text())))
    binomial = RESULTS / "binomial_ess.json"
    if binomial.exists():
        print()
        print(binomial_tables(json.loads(binomial.read_text())))
