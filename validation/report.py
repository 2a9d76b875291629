"""The report folder of ``gibbs-suite compare``: a self-contained HTML page, JSON and NetCDF."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["number", "write_report"]


def number(v: float) -> str:
    """Format a table entry: four significant digits, and at least one decimal from 100 up.

    With ``.4g`` alone two LOO elpds of -1064.7 and -1065.2 both read -1065.
    """
    return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_report(
    out_dir: str | Path,
    *,
    title: str,
    settings: dict[str, Any],
    comparison,
    idatas: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    figures: list[tuple[Any, str]],
    numbers: dict[str, Any],
) -> Path:
    """Write ``index.html``, ``results.json`` and one NetCDF per posterior; return the HTML path.

    Parameters
    ----------
    out_dir : path
        Folder (created if needed).
    title : str
        Page title.
    settings : dict
        Dataset, priors, scheme, draws, seeds...
    comparison : Comparison
        Result of :func:`validation.compare.compare_posteriors`.
    idatas : dict
        Posteriors to save, by label.
    tables : dict
        Extra tables (e.g. pooling baselines, LOO).
    figures : list of (figure, caption)
        Matplotlib figures, embedded as PNG.
    numbers : dict
        Any other numbers for the JSON.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for label, idata in idatas.items():
        # The pointwise log-likelihood is large (chains x draws x n) and recomputable: not saved.
        import arviz as az

        groups = {g: idata[g] for g in idata.groups() if g != "log_likelihood"}
        az.InferenceData(**groups).to_netcdf(str(out / f"posterior_{label}.nc"))
    results = {
        "title": title,
        "settings": settings,
        "comparison": comparison.to_dict(),
        "tables": {k: v.reset_index().to_dict(orient="records") for k, v in tables.items()},
        **numbers,
    }
    (out / "results.json").write_text(json.dumps(_jsonable(results), indent=2, default=str))

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}figure{margin:1.5em 0}figcaption{color:#555}"
        ".agree{color:#1a7f37}.disagree,.inconclusive{color:#b42318}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<h2 class='{comparison.verdict}'>Verdict: {comparison.verdict.upper()}</h2>",
        f"<pre>{html.escape(str(comparison))}</pre>",
        "<h3>Settings</h3><pre>"
        + html.escape(json.dumps(_jsonable(settings), indent=2))
        + "</pre>",
        "<h3>Parameters, worst first (|z| in Monte Carlo standard errors)</h3>",
        comparison.summary_table(max_rows=None).to_html(float_format=number),
    ]
    for name, table in tables.items():
        parts += [f"<h3>{html.escape(name)}</h3>", table.to_html(float_format=number)]
    for fig, caption in figures:
        parts.append(
            f"<figure><img src='data:image/png;base64,{_png(fig)}' style='max-width:100%'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append(
        "<p>Files: results.json (every number), "
        + ", ".join(f"posterior_{k}.nc" for k in idatas)
        + " (ArviZ NetCDF).</p></body></html>"
    )
    page = out / "index.html"
    page.write_text("\n".join(parts))
    return page
