"""Templated report sections from the reader's findings (one fixed phrasing per finding)."""

from __future__ import annotations

from cardiolens.data.findings import site_levels, site_walls
from cardiolens.data.vocabulary import EFFUSION, ETIOLOGY, WALL_THICKNESS
from cardiolens.reader.findings import StudyRead, site_territories
from cardiolens.reader.lesions import LesionRead


def _where(sites: tuple) -> str:
    levels = ", ".join(lv.lower() for lv in site_levels(sites))
    walls = ", ".join(w.lower() for w in site_walls(sites))
    return f"{levels} {walls}".strip() + (" segments" if walls else "")


def _lesion(name: str, lesion: LesionRead | None) -> str:
    if lesion is None or not lesion.sites:
        return f"No {name}."
    layers = " and ".join(layer.lower() for layer in lesion.layers) or "patchy"
    return (f"{lesion.distribution.lower()} {layers} {name} in the "
            f"{_where(lesion.sites)}.").capitalize()


def cine_section(r: StudyRead) -> str:
    lines = [f"The left ventricle is {r.lv_size().lower()} in size with "
             f"{r.wall_thickness().lower()} wall thickness."]
    if r.wall_thickness() == WALL_THICKNESS.thickened:
        lines.append(f"The pattern of hypertrophy is {r.hypertrophy_pattern().lower()}.")
    ef = r.ef()
    function = r.lv_function().split(" (")[0].lower()
    lines.append(f"Global systolic function is {function}"
                 + (f" (estimated EF {ef:.0f}%)." if ef is not None else "."))
    sites = r.rwma_sites()
    if sites:
        lines.append(f"There is {r.rwma_severity().lower()} regional wall motion in the "
                     f"{_where(tuple(sites))}.")
    else:
        lines.append("No regional wall motion abnormality.")
    lines.append(f"The right ventricle is {r.rv_status().lower()}.")
    effusion = r.effusion()
    lines.append("No pericardial effusion." if effusion == EFFUSION.none
                 else f"{effusion} pericardial effusion.")
    return " ".join(lines)


def lge_section(r: StudyRead) -> str:
    if not r.has_lge() or r.lge is None:
        return "No myocardial late gadolinium enhancement."
    pattern = "ischemic" if r.lge_ischemic() else "non-ischemic"
    return (_lesion("late gadolinium enhancement", r.lge)
            + f" Greatest transmural extent {r.lge_transmurality()}; {pattern} pattern.")


def t2_section(r: StudyRead) -> str:
    return _lesion("myocardial edema", r.edema) if r.has_edema() else "No myocardial edema."


def perfusion_section(r: StudyRead) -> str:
    if not r.has_defect() or r.defect is None:
        return "No perfusion defect."
    territories = ", ".join(site_territories(r.defect.sites))
    return (f"{r.defect.depth} perfusion defect in the {_where(r.defect.sites)} "
            f"({territories} territory).")


def impression_section(r: StudyRead) -> str:
    etiology = r.etiology()
    if etiology == ETIOLOGY.normal:
        return "Normal cardiac MRI. No evidence of cardiomyopathy."
    if etiology == ETIOLOGY.ischemic:
        return "Findings are consistent with ischemic cardiomyopathy."
    return ("Findings are consistent with non-ischemic cardiomyopathy, most likely "
            f"{r.subtype().lower()}.")


SECTIONS = {"report_cine": cine_section, "report_lge": lge_section, "report_t2": t2_section,
            "report_perfusion": perfusion_section, "report_impression": impression_section}


def write_section(subtask: str | None, read: StudyRead) -> str:
    """The report section of ``subtask`` (the impression when unknown)."""
    return SECTIONS.get(subtask or "", impression_section)(read)
