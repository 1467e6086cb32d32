"""The backtest report forecasters open: Markdown tables and PNG figures.

Written next to the backtest CSV: ``<stem>.report.md``, ``<stem>.<figure>.png``
and the score tables as CSV (``<stem>.by_horizon.csv``, ``<stem>.by_station.csv``,
``<stem>.reliability.csv``, ``<stem>.baselines.csv`` with the baselines of every
row). Figures are drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from training.backtest import BacktestResult, iso_hours
from training.baselines import BASELINES
from training.scores import PREDICTORS

logger = logging.getLogger(__name__)

#: Decimals of the Markdown tables.
DECIMALS = 2
#: Horizons drawn in the forecast-against-observed figures.
PLOT_HORIZONS = (1, 6, 12)
LABELS = {
    "model": "model",
    "persistence": "persistence",
    "same_hour_yesterday": "same hour yesterday",
    "climatology": "hour-of-day climatology",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.{DECIMALS}f}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """Return ``frame`` as a GitHub Markdown table (floats to :data:`DECIMALS`).

    Returns
    -------
    str
        Header, separator and one line per row, no trailing newline.
    """
    lines = ["| " + " | ".join(str(c) for c in frame.columns) + " |"]
    lines.append("|" + "|".join("---" for _ in frame.columns) + "|")
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


def horizon_table(result: BacktestResult) -> pd.DataFrame:
    """Return the per-horizon table of the report: MAE of every predictor and more.

    Returns
    -------
    pandas.DataFrame
        ``horizon``, ``mae_<predictor>`` for the model and each baseline, then the
        model's ``skill``, ``coverage``, ``band_hit``, ``csi``, persistence's
        ``csi_persistence`` and the model's ``n_expected``, ``n_scored``.
    """
    table = result.by_horizon
    mae = table.pivot(index="horizon", columns="predictor", values="mae")
    out = pd.DataFrame(index=mae.index)
    for name in PREDICTORS:
        out[f"mae_{name}"] = mae[name]
    model = table.loc[table["predictor"] == "model"].set_index("horizon")
    persistence = table.loc[table["predictor"] == "persistence"].set_index("horizon")
    for column in ("skill", "coverage", "band_hit", "csi"):
        out[column] = model[column]
    out["csi_persistence"] = persistence["csi"]
    out["n_expected"] = model["n_expected"]
    out["n_scored"] = model["n_scored"]
    return out.reset_index()


def station_table(result: BacktestResult) -> pd.DataFrame:
    """Return per-station model MAE, persistence MAE and skill, best first.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``mae``, ``mae_persistence``, ``skill``, ``coverage``,
        ``n_scored``, sorted by skill (highest first), stations with no scored
        rows last.
    """
    table = result.by_station
    model = table.loc[table["predictor"] == "model"].set_index("site_id")
    persistence = table.loc[table["predictor"] == "persistence"].set_index("site_id")
    out = pd.DataFrame(
        {
            "mae": model["mae"],
            "mae_persistence": persistence["mae"],
            "skill": model["skill"],
            "coverage": model["coverage"],
            "n_scored": model["n_scored"],
        }
    )
    return out.sort_values("skill", ascending=False, na_position="last").reset_index()


def _figure_mae(result: BacktestResult, path: Path) -> None:
    plt = _pyplot()
    table = result.by_horizon.pivot(index="horizon", columns="predictor", values="mae")
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in PREDICTORS:
        ax.plot(table.index, table[name], marker="o", label=LABELS[name])
    ax.set_xlabel("horizon (hours ahead)")
    ax.set_ylabel("MAE (AQI)")
    ax.set_xticks(list(table.index))
    ax.set_title("MAE by horizon")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _figure_coverage(result: BacktestResult, path: Path) -> None:
    plt = _pyplot()
    model = result.by_horizon.loc[result.by_horizon["predictor"] == "model"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axhspan(0.7, 0.9, color="tab:green", alpha=0.15, label="goal 70-90 %")
    ax.axhline(0.8, color="tab:green", linestyle="--", linewidth=1)
    ax.bar(model["horizon"], model["coverage"], color="tab:blue", label="p10-p90")
    ax.set_ylim(0, 1)
    ax.set_xlabel("horizon (hours ahead)")
    ax.set_ylabel("share of observations inside p10-p90")
    ax.set_xticks(list(model["horizon"]))
    ax.set_title("Interval coverage by horizon")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _figure_reliability(result: BacktestResult, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for event, part in result.reliability.groupby("event"):
        ax.plot(part["mean_p"], part["observed_freq"], marker="o", label=event)
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability of band probabilities")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _figure_station(result: BacktestResult, site_id: str, path: Path) -> None:
    plt = _pyplot()
    rows = result.scored.loc[result.scored["site_id"] == site_id]
    fig, axes = plt.subplots(len(PLOT_HORIZONS), 1, figsize=(9, 7), sharex=True)
    for ax, horizon in zip(np.atleast_1d(axes), PLOT_HORIZONS, strict=True):
        part = rows.loc[rows["horizon"] == horizon].sort_values("target_time")
        x = part["target_time"].dt.tz_localize(None)
        ax.fill_between(
            x, part["aqi_p10"], part["aqi_p90"], alpha=0.25, label="p10-p90"
        )
        ax.plot(x, part["aqi_pred"], linewidth=1, label="forecast")
        ax.plot(x, part["aqi_obs"], color="black", linewidth=1, label="observed")
        ax.set_ylabel(f"AQI, h={horizon}")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(loc="upper right", ncol=3)
    np.atleast_1d(axes)[0].set_title(f"station {site_id}: forecast vs observed")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chosen_stations(result: BacktestResult, count: int = 3) -> list[str]:
    """Return the stations drawn: the best, the median and the worst by skill.

    Returns
    -------
    list[str]
        Up to ``count`` distinct station ids with scored rows.
    """
    ranked = station_table(result).dropna(subset=["skill"])["site_id"].tolist()
    if not ranked:
        return []
    picks = [ranked[0], ranked[len(ranked) // 2], ranked[-1]]
    return list(dict.fromkeys(picks))[:count]


def write_report(
    result: BacktestResult, csv_path: Path, stations: list[str] | None = None
) -> Path:
    """Write the Markdown report, its figures and score tables next to the CSV.

    Parameters
    ----------
    result:
        A finished backtest.
    csv_path:
        The backtest CSV; the report's files share its folder and stem.
    stations:
        Stations to draw forecast against observed for; default best, median and
        worst by skill.

    Returns
    -------
    pathlib.Path
        The Markdown file.

    Raises
    ------
    OSError
        When the folder cannot be written.
    """
    csv_path = Path(csv_path)
    folder, stem = csv_path.parent, csv_path.stem
    folder.mkdir(parents=True, exist_ok=True)

    figures = {
        "MAE by horizon": folder / f"{stem}.mae_by_horizon.png",
        "Coverage by horizon": folder / f"{stem}.coverage_by_horizon.png",
        "Reliability": folder / f"{stem}.reliability.png",
    }
    _figure_mae(result, figures["MAE by horizon"])
    _figure_coverage(result, figures["Coverage by horizon"])
    _figure_reliability(result, figures["Reliability"])
    for site_id in stations or chosen_stations(result):
        path = folder / f"{stem}.station_{site_id}.png"
        _figure_station(result, site_id, path)
        figures[f"Station {site_id}"] = path

    result.by_horizon.to_csv(folder / f"{stem}.by_horizon.csv", index=False)
    result.by_station.to_csv(folder / f"{stem}.by_station.csv", index=False)
    result.reliability.to_csv(folder / f"{stem}.reliability.csv", index=False)
    baselines = result.scored.loc[
        :,
        ["site_id", "issued_at", "target_time", "horizon", "aqi_obs"] + list(BASELINES),
    ].copy()
    for column in ("issued_at", "target_time"):
        baselines[column] = iso_hours(baselines[column])
    baselines.to_csv(folder / f"{stem}.baselines.csv", index=False, float_format="%.4f")

    path = folder / f"{stem}.report.md"
    path.write_text(_markdown(result, figures, csv_path), encoding="utf-8")
    logger.info("report: %s and %d figures", path, len(figures))
    return path


def _markdown(result: BacktestResult, figures: dict[str, Path], csv: Path) -> str:
    head = result.headline
    info = ", ".join(f"{k} {v}" for k, v in result.model_info.items()) or "no info"
    stations = station_table(result)
    parts = [f"# Backtest of `{result.model_ref}`", ""]
    note = result.in_sample_note()
    if note is not None:
        parts += [f"> **Warning: {note}.**", ""]
    parts += [
        f"- model: `{result.model_ref}` ({info})",
        f"- issue hours: {result.start.isoformat()} to {result.end.isoformat()}",
        f"- stations: {len(result.stations)}; forecasts: `{csv.name}`",
        f"- rows expected: {int(head['n_expected'])}, scored (observed AQI and "
        f"forecast present): {int(head['n_scored'])}",
        "",
        "## Headline",
        "",
        f"- mean MAE over horizons 1-12: model {head['mae_mean']:.2f}, persistence "
        f"{head['persistence_mae_mean']:.2f}, same hour yesterday "
        f"{head['same_hour_yesterday_mae_mean']:.2f}, climatology "
        f"{head['climatology_mae_mean']:.2f}",
        f"- skill against persistence (1 - MAE ratio, on the model's rows, where "
        f"persistence's mean MAE is {head['persistence_mae_model_rows']:.2f}): "
        f"{head['skill_mean']:.3f} (goal >= 0.10)",
        f"- p10-p90 coverage by horizon: {head['coverage_min']:.2f} to "
        f"{head['coverage_max']:.2f} (goal 0.70-0.90)",
        f"- CSI of AQI > 100: model {_fmt(head['csi']) or 'n/a'}, persistence "
        f"{_fmt(head['persistence_csi']) or 'n/a'}"
        + (" (no AQI > 100 observed or forecast)" if np.isnan(head["csi"]) else ""),
        f"- Brier score of the band probabilities: {head['brier']:.3f}",
        "",
        "## By horizon",
        "",
        markdown_table(horizon_table(result)),
        "",
        "## All horizons pooled",
        "",
        markdown_table(result.overall.drop(columns=["group"])),
        "",
        "## Best stations (by skill)",
        "",
        markdown_table(stations.head(5)),
        "",
        "## Worst stations (by skill)",
        "",
        markdown_table(stations.dropna(subset=["skill"]).tail(5)),
        "",
        "## Reliability of band probabilities",
        "",
        markdown_table(result.reliability),
        "",
        "## Figures",
        "",
    ]
    for title, path in figures.items():
        parts += [f"### {title}", "", f"![{title}]({path.name})", ""]
    return "\n".join(parts)
