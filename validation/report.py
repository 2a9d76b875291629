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

from validation.plots import worst_traces, z_qq_plot

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


_STYLE = (
    "body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:right}th{cursor:pointer}figure{margin:1.5em 0}"
    "figcaption{color:#555}summary{cursor:pointer;font-weight:bold;margin:1em 0}"
    ".kv td{text-align:left}.agree{color:#1a7f37}.disagree,.inconclusive{color:#b42318}"
)
# Click a heading to sort its column (numbers as numbers), click again to reverse.
_SORT_JS = (
    "function sortTable(th){const t=th.closest('table'),i=[...th.parentNode.children]"
    ".indexOf(th),b=t.tBodies[0],r=[...b.rows],d=th.dataset.d=th.dataset.d==='1'?'-1':'1';"
    "const v=x=>{const s=x.cells[i].innerText,n=parseFloat(s);return isNaN(n)?s:n};"
    "r.sort((x,y)=>(v(x)>v(y)?1:v(x)<v(y)?-1:0)*d);r.forEach(x=>b.appendChild(x))}"
)


def _figure_html(fig, caption: str) -> str:
    return (
        f"<figure><img src='data:image/png;base64,{_png(fig)}' style='max-width:100%'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _key_value_table(values: dict[str, Any]) -> str:
    """Return a two-column HTML table; nested values as compact JSON."""
    rows = []
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(_jsonable(value), default=str)
        rows.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(text)}</td></tr>")
    return "<table class='kv'>" + "".join(rows) + "</table>"


def _convergence(idatas: dict[str, Any]) -> dict[str, Any]:
    """Return the first posterior's convergence report (gibbs.sample stores it as JSON)."""
    for idata in idatas.values():
        raw = getattr(idata, "posterior", None) is not None and idata.posterior.attrs.get(
            "convergence"
        )
        if raw:
            try:
                return json.loads(raw) if isinstance(raw, str) else dict(raw)
            except (TypeError, ValueError):
                return {"report": str(raw)}
    return {}


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
        f"<style>{_STYLE}</style><script>{_SORT_JS}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<h2 class='{comparison.verdict}'>Verdict: {comparison.verdict.upper()}</h2>",
        f"<pre>{html.escape(str(comparison))}</pre>",
    ]
    table = comparison.table
    if len(table):
        parts += [
            "<h3>The 10 parameters with the largest |z| (Monte Carlo standard errors)</h3>",
            comparison.summary_table(10).to_html(float_format=number),
            _figure_html(*z_qq_plot(table)),
        ]
        worst = list(comparison.summary_table(4).index)
        for label, idata in idatas.items():
            if "posterior" in idata.groups() and all(
                w.partition("[")[0] in idata.posterior for w in worst
            ):
                parts.append(_figure_html(*worst_traces(idata, worst, label)))
        parts += [
            "<details><summary>All "
            f"{len(table)} parameters (click a column heading to sort)</summary>",
            comparison.summary_table(max_rows=None)
            .to_html(float_format=number, table_id="all-parameters")
            .replace("<th>", "<th onclick='sortTable(this)'>"),
            "</details>",
        ]
    parts += ["<h3>Settings</h3>", _key_value_table(settings)]
    convergence = _convergence(idatas)
    if convergence:
        parts += ["<h3>Convergence of the sampler under test</h3>", _key_value_table(convergence)]
    for name, extra in tables.items():
        parts += [f"<h3>{html.escape(name)}</h3>", extra.to_html(float_format=number)]
    for fig, caption in figures:
        parts.append(_figure_html(fig, caption))
    parts.append(
        "<p>Files: results.json (every number), "
        + ", ".join(f"posterior_{k}.nc" for k in idatas)
        + " (ArviZ NetCDF).</p></body></html>"
    )
    page = out / "index.html"
    page.write_text("\n".join(parts))
    return page
