"""Need attributes of administrative units that budgetlib knows by name.

A unit's ``attributes`` may hold any named number; these well-known ones have labels in every
language (``population`` is ``Dân số``), so an officer can write a need formula with the column
names of the Địa bàn sheet (``Dân số + 50*Số xã, phường``) as well as with the keys.
Labels and explanations are in the catalogue (``attribute.<key>``, ``attribute_help.<key>``).
"""

from __future__ import annotations

from functools import cache

from ..core.i18n import catalogue
from ..core.lang import Lang
from ..core.text import fold

__all__ = ["KNOWN_ATTRIBUTES", "resolve_attribute", "attribute_label"]

KNOWN_ATTRIBUTES: tuple[str, ...] = (
    "population",
    "area_km2",
    "communes",
    "healthy_communes",
    "unhealthy_communes",
    "coastal",
    "border",
    "hotspots",
    # capacities and baselines of costed targets (TargetConstraint.capacity_attribute / baseline_attribute)
    "managed_persons_est",
    "done_before",
)


def _strip_paren(text: str) -> str:
    return text.split("(")[0].strip()


@cache
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for key in KNOWN_ATTRIBUTES:
        out[fold(key)] = key
        for lang in Lang:
            label = catalogue(lang)[f"attribute.{key}"]
            out[fold(label)] = key
            out[fold(_strip_paren(label))] = key
    return out


def resolve_attribute(name: str) -> str:
    """The attribute key for a key or a label in any language (``Dân số`` → ``population``);
    other names are returned as written."""
    return _aliases().get(fold(name), name.strip())


def attribute_label(key: str, lang: str | Lang) -> str:
    """The column header of a known attribute (``Dân số`` / ``Population``); else the key."""
    return catalogue(lang).get(f"attribute.{key}", key)
