"""Clinical cut-offs that turn measurements into findings: the one place they are defined.

Dataset labels (importers, via :mod:`cardiolens.importers.cardiac_geometry` and
:mod:`cardiolens.data.findings`) and report metrics (the CMR finding extractor in
``scorers/cmr_vocabulary.py``) read these same numbers, so a reported "LVEDVi 120 ml/m^2" is
judged by the rule that labelled the item. Each value names its source; "project choice"
marks a value chosen for this benchmark where no single published cut-off applies.
The phantom draws its own disease geometry and has its own drawing thresholds
(``phantom/labels.py``); those are not label cut-offs for measured data.
"""

from __future__ import annotations

EF_CUTOFFS: tuple[float, float, float] = (50.0, 40.0, 30.0)
"""Lower LV EF bounds (percent) of the normal, mildly and moderately reduced bands; below
the last is severely reduced. Source: the cine_lv_function option texts in taxonomy.yaml
("Normal (EF >= 50%)", "Mildly reduced (40-49%)", ...)."""

TRANSMURALITY_CUTOFFS: tuple[float, float, float] = (0.25, 0.50, 0.75)
"""Upper bounds (share of the wall, inclusive) of the first three lge_transmurality bands;
above the last is the top band. Source: the lge_transmurality option texts in taxonomy.yaml
("<= 25%", "26-50%", "51-75%", "> 75%")."""

LV_EDV_INDEX_DILATED = 100.0
"""LV end-diastolic volume indexed to BSA (ml/m^2) above which the LV is dilated.
Project choice near the upper end of adult CMR reference ranges (README, importers)."""

LV_EDV_INDEX_SMALL = 45.0
"""Indexed LV EDV (ml/m^2) below which the LV is small. Project choice (README, importers)."""

LV_EDV_DILATED = 210.0
"""Absolute LV EDV (ml) above which the LV is dilated when height or weight is unknown.
Project choice (README, importers)."""

LV_EDV_SMALL = 80.0
"""Absolute LV EDV (ml) below which the LV is small when height or weight is unknown.
Project choice (README, importers)."""

THICKENED_MM = 15.0
"""Maximal end-diastolic wall thickness (mm) of any sector at or above which the wall is
thickened: the usual hypertrophy criterion of >= 15 mm in one or more LV segments (HCM
diagnostic threshold of the ESC guidelines)."""

THINNED_MM = 5.5
"""Mean end-diastolic wall thickness (mm) below which the wall is thinned: the common CMR
cut-off for thinned (chronically infarcted) myocardium of 5.5 mm."""

RV_EF_REDUCED = 45.0
"""RV ejection fraction (percent) below which RV function is reduced. Project choice at the
usual lower limit of normal RVEF (README, importers)."""

RV_EDV_INDEX_DILATED = 110.0
"""Indexed RV EDV (ml/m^2) above which the RV is dilated. Project choice (README,
importers)."""

RV_EDV_DILATED = 250.0
"""Absolute RV EDV (ml) above which the RV is dilated when height or weight is unknown.
Project choice (README, importers)."""
