"""The budget book's pictures, drawn with matplotlib's object API (no pyplot, no global state).

Every function returns PNG bytes. They are deterministic: the same data give the same bytes
(``metadata={"Software": None}`` drops the only varying PNG chunk; the Agg renderer and the
bundled DejaVu fonts do the rest). Numbers on axes are written the way the language writes them
(``1.234,5`` / ``1,234.5``).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence

import numpy as np

from ..core.i18n import format_number
from ..core.lang import Lang, as_lang
from .geo import Boundaries

__all__ = ["share_chart", "task_year_chart", "target_chart", "choropleth", "DPI"]

DPI = 150
_BLUE, _ORANGE = "#2F6DB5", "#E08A2C"
_TASK_COLOURS = ("#2F6DB5", "#E08A2C", "#3C9D5D", "#C4463A", "#8A63B8", "#8C6D46", "#D17BB5", "#7F7F7F", "#B5B83A", "#3AB5C4")


def _figure(width_cm: float, height_cm: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _number_axis(axis, lang: Lang, decimals: int = 0, percent: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(x: float, _pos: int) -> str:
        text = format_number(x, lang, decimals=decimals)
        return f"{text}%" if percent else text

    axis.set_major_formatter(FuncFormatter(fmt))


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def share_chart(names: Sequence[str], allocated: Sequence[float], need: Sequence[float], *, lang: str | Lang,
                title: str, allocated_label: str, need_label: str, axis_label: str) -> bytes:
    """Horizontal bars per unit: its share of the allocation and its share of need (percent)."""
    lang = as_lang(lang)
    n = len(names)
    fig = _figure(17.0, max(7.0, 0.55 * n + 3.0))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)
    h = 0.38
    ax.barh(y - h / 2, allocated, height=h, color=_BLUE, label=allocated_label)
    ax.barh(y + h / 2, need, height=h, color=_ORANGE, label=need_label)
    ax.set_yticks(y, labels=list(names), fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel(axis_label, fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    _number_axis(ax.xaxis, lang, decimals=1, percent=True)
    ax.set_title(_wrap(title, 80), fontsize=9.5)
    ax.legend(fontsize=7.5, loc="lower right")
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _png(fig)


def task_year_chart(years: Sequence[int], tasks: Sequence[str], values: np.ndarray, *, lang: str | Lang, title: str, axis_label: str) -> bytes:
    """Stacked columns: one per year, one colour per task (``values[t, y]`` in display units)."""
    lang = as_lang(lang)
    fig = _figure(17.0, 11.0)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(years))
    bottom = np.zeros(len(years))
    for t, name in enumerate(tasks):
        ax.bar(x, values[t], bottom=bottom, color=_TASK_COLOURS[t % len(_TASK_COLOURS)], label=_wrap(name, 48), width=0.6)
        bottom += values[t]
    ax.set_xticks(x, labels=[str(y) for y in years], fontsize=8)
    ax.set_ylabel(axis_label, fontsize=8)
    ax.tick_params(axis="y", labelsize=7.5)
    _number_axis(ax.yaxis, lang)
    ax.set_title(_wrap(title, 80), fontsize=9.5)
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _png(fig)


def target_chart(labels: Sequence[str], required: Sequence[float], funded: Sequence[float], *, lang: str | Lang,
                 title: str, required_label: str, funded_label: str, axis_label: str) -> bytes:
    """Horizontal bars per target: what must be reached and what the allocation funds."""
    lang = as_lang(lang)
    n = len(labels)
    fig = _figure(17.0, max(6.0, 1.2 * n + 3.0))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)
    h = 0.38
    ax.barh(y - h / 2, required, height=h, color=_ORANGE, label=required_label)
    ax.barh(y + h / 2, funded, height=h, color=_BLUE, label=funded_label)
    for yi, (r, f) in enumerate(zip(required, funded)):
        ax.text(r, yi - h / 2, " " + format_number(r, lang), va="center", fontsize=6.5)
        ax.text(f, yi + h / 2, " " + format_number(f, lang), va="center", fontsize=6.5)
    ax.set_yticks(y, labels=[_wrap(s, 42) for s in labels], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(axis_label, fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    _number_axis(ax.xaxis, lang)
    ax.set_title(_wrap(title, 80), fontsize=9.5)
    ax.legend(fontsize=7.5, loc="lower right")
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.margins(x=0.15)
    fig.tight_layout()
    return _png(fig)


def _ring_area_centroid(ring: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    xs = np.array([p[0] for p in ring])
    ys = np.array([p[1] for p in ring])
    cross = xs[:-1] * ys[1:] - xs[1:] * ys[:-1]
    a = cross.sum() / 2
    if abs(a) < 1e-12:
        return 0.0, float(xs.mean()), float(ys.mean())
    cx = ((xs[:-1] + xs[1:]) * cross).sum() / (6 * a)
    cy = ((ys[:-1] + ys[1:]) * cross).sum() / (6 * a)
    return abs(float(a)), float(cx), float(cy)


def _label_point(polygons: Sequence[Sequence[Sequence[tuple[float, float]]]]) -> tuple[float, float]:
    """Centroid of the largest outer ring (labels sit on the main land of a district)."""
    best = max((_ring_area_centroid(p[0]) for p in polygons if p and len(p[0]) >= 3), default=(0.0, 0.0, 0.0))
    return best[1], best[2]


def _short(name: str) -> str:
    for prefix in ("Quận ", "Huyện ", "Thị xã ", "Thành phố ", "Thành Phố ", "Thị trấn ", "Xã ", "Phường "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _outliers(boundaries: Boundaries, codes: Sequence[str]) -> list[str]:
    """Units far away from the others (an island district): drawn in an inset."""
    centres = {c: _label_point(boundaries.shapes[c]) for c in codes}
    if len(centres) < 4:
        return []
    xs = np.array([p[0] for p in centres.values()])
    ys = np.array([p[1] for p in centres.values()])
    mx, my = np.median(xs), np.median(ys)
    d = np.hypot(xs - mx, ys - my)
    spread = np.median(d) or 1e-9
    return [c for c, dist in zip(centres, d) if dist > 6 * spread]


def _quantile_breaks(values: Sequence[float], classes: int) -> list[float]:
    """Class limits at the quantiles of ``values`` (rounded to 2 significant digits, distinct)."""
    if not values:
        return [0.0, 1.0]
    lo, hi = float(values[0]), float(values[-1])
    if hi <= lo:
        return [lo, lo + 1.0]
    qs = np.quantile(np.asarray(values, dtype=float), np.linspace(0, 1, min(classes, len(values)) + 1))
    out = [lo]
    for q in qs[1:-1]:
        r = float(f"{q:.2g}")
        if out[-1] < r < hi:
            out.append(r)
    out.append(hi)
    return out


def choropleth(boundaries: Boundaries, values: dict[str, float | None], names: dict[str, str], *, lang: str | Lang,
               title: str, legend: str, source_note: str, missing_label: str) -> bytes:
    """A map of the units in ``values`` shaded by their value (units without a value hatched)."""
    from matplotlib.colors import BoundaryNorm, Normalize
    from matplotlib.patches import Polygon as Patch

    lang = as_lang(lang)
    codes = [c for c in values if c in boundaries.shapes]
    known = sorted(v for c in codes if (v := values[c]) is not None and math.isfinite(v))
    from matplotlib import colormaps

    # Classes by quantiles (five, fewer for few units): one island district with a handful of
    # inhabitants must not wash every other district out to the palest shade.
    breaks = _quantile_breaks(known, 5)
    cmap = colormaps["YlGnBu"].resampled(max(len(breaks) - 1, 1))
    norm = BoundaryNorm(breaks, cmap.N) if len(breaks) > 2 else Normalize(vmin=breaks[0], vmax=breaks[-1])
    inset_codes = _outliers(boundaries, codes)
    main_codes = [c for c in codes if c not in inset_codes]
    x0, y0, x1, y1 = boundaries.bounds(main_codes)
    aspect = 1 / math.cos(math.radians((y0 + y1) / 2))
    width_cm = 17.0
    map_h = width_cm * 0.78 * (y1 - y0) * aspect / max(x1 - x0, 1e-9)
    fig = _figure(width_cm, min(max(map_h + 4.0, 10.0), 22.0))
    ax = fig.add_axes((0.02, 0.10, 0.78, 0.82))

    def draw(axes, selected: Sequence[str], fontsize: float) -> None:
        for code in selected:
            value = values[code]
            colour = cmap(norm(value)) if value is not None and math.isfinite(value) else "#FFFFFF"
            for polygon in boundaries.shapes[code]:
                patch = Patch(polygon[0], closed=True, facecolor=colour, edgecolor="#404040", linewidth=0.5,
                              hatch=None if value is not None else "///")
                axes.add_patch(patch)
            x, y = _label_point(boundaries.shapes[code])
            label = _short(names.get(code) or boundaries.names.get(code, code))
            axes.text(x, y, "\n".join(textwrap.wrap(label, 12)), ha="center", va="center", fontsize=fontsize, color="#111111",
                      bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "alpha": 0.6, "linewidth": 0})
        axes.set_aspect(aspect)
        axes.set_xticks([])
        axes.set_yticks([])
        for spine in axes.spines.values():
            spine.set_visible(False)

    draw(ax, main_codes, 6.0)
    pad_x, pad_y = (x1 - x0) * 0.03, (y1 - y0) * 0.03
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    ax.set_ylim(y0 - pad_y, y1 + pad_y)
    for i, code in enumerate(inset_codes):
        inset = fig.add_axes((0.03 + 0.17 * i, 0.11, 0.15, 0.15))
        draw(inset, [code], 5.5)
        ix0, iy0, ix1, iy1 = boundaries.bounds([code])
        px, py = max((ix1 - ix0) * 0.4, 0.01), max((iy1 - iy0) * 0.4, 0.01)
        inset.set_xlim(ix0 - px, ix1 + px)
        inset.set_ylim(iy0 - py, iy1 + py)
        for spine in inset.spines.values():
            spine.set_visible(True)
            spine.set_color("#808080")
    from matplotlib.cm import ScalarMappable

    cax = fig.add_axes((0.84, 0.20, 0.025, 0.6))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, ticks=breaks, spacing="uniform")
    bar.set_label(legend, fontsize=7.5)
    bar.ax.tick_params(labelsize=7)
    _number_axis(bar.ax.yaxis, lang)
    fig.suptitle(_wrap(title, 90), fontsize=9.5, y=0.985)
    fig.text(0.02, 0.02, _wrap(source_note, 140), fontsize=5.5, color="#444444", va="bottom")
    if missing_label:
        fig.text(0.02, 0.06, _wrap(missing_label, 140), fontsize=6, color="#444444", va="bottom")
    return _png(fig)
