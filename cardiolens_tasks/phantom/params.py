"""Parameters of one phantom study: everything that draws pixels, and nothing else.

Labels (findings, items, reports) are derived from these same parameters by
:func:`cardiolens.phantom.labels.findings_from_params`, never set apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardiolens.data import vocabulary as vocab
from cardiolens.data.anatomy import Site

DIAGNOSES = ("normal", "ischemic", "hcm", "dcm", "myocarditis", "amyloidosis", "sarcoidosis",
             "other")

# A referral mix with imbalance (normal 20%, ischemic 25%, non-ischemic 55%: category collapse
# onto the non-ischemic class can show, and no single finding reaches 0.75 etiology accuracy),
# the six non-ischemic subtypes near-even at 9-10%, so that a small default cohort holds at
# least 10 studies of each (docs/phantom.md, "Prevalence and the default cohort").
DEFAULT_PREVALENCE: dict[str, float] = {
    "normal": 0.20, "ischemic": 0.25, "hcm": 0.10, "dcm": 0.09, "myocarditis": 0.09,
    "amyloidosis": 0.09, "sarcoidosis": 0.09, "other": 0.09,
}

_NICM = vocab.ETIOLOGY.nonischemic
DIAGNOSIS_ANSWERS: dict[str, tuple[str, str | None]] = {
    "normal": (vocab.ETIOLOGY.normal, None),
    "ischemic": (vocab.ETIOLOGY.ischemic, None),
    "hcm": (_NICM, vocab.SUBTYPE.hypertrophic),
    "dcm": (_NICM, vocab.SUBTYPE.dilated),
    "myocarditis": (_NICM, vocab.SUBTYPE.myocarditis),
    "amyloidosis": (_NICM, vocab.SUBTYPE.amyloidosis),
    "sarcoidosis": (_NICM, vocab.SUBTYPE.sarcoidosis),
    "other": (_NICM, vocab.SUBTYPE.other),
}
"""The diagnosis_etiology and diagnosis_nicm_subtype answers of each phantom diagnosis
(subtype None: not asked)."""


@dataclass(frozen=True)
class Lesion:
    """A drawn myocardial region: LGE scar, T2 edema or a perfusion defect.

    ``band`` is the radial band of the wall it fills, as fractions from endocardium (0) to
    epicardium (1). ``arcs`` optionally restricts it to angular ranges in degrees (used for
    RV insertion-point enhancement); ``patchy`` draws it with a blotchy texture.
    """

    sites: tuple[Site, ...]
    layer: str
    band: tuple[float, float]
    patchy: bool = False
    arcs: tuple[tuple[float, float], ...] | None = None

    @property
    def extent(self) -> float:
        return self.band[1] - self.band[0]


@dataclass(frozen=True)
class Heart:
    """Geometry and motion of the phantom heart (lengths in mm, angles in degrees)."""

    r_endo: float                 # base end-diastolic endocardial radius
    long_axis: float              # base to endocardial apex
    thickness: tuple[tuple[float, ...], ...]   # [Basal, Mid, Apical][6 walls], end-diastole
    motion: tuple[tuple[float, ...], ...]      # [Basal, Mid, Apical, Apex][6 walls]; 1 normal
    shortening: float             # radial endocardial shortening at end-systole (motion 1)
    rv_depth: float               # RV cavity depth at end-diastole
    rv_arc: tuple[float, float]   # angular extent of the RV crescent
    rv_shortening: float
    effusion: float               # pericardial effusion width (0 = none)
    base_descent: float = 0.0     # systolic descent of the AV plane towards the apex at ES


@dataclass(frozen=True)
class Acquisition:
    """How the study was imaged: matrix, spacing, pose, frames, intensity and noise."""

    matrix: int
    pixel_mm: float
    n_slices: int
    n_phases: int
    es_phase: int
    n_dynamics: int
    centre: tuple[float, float]   # heart centre in pixels (row, col)
    rotation: float               # in-plane rotation of the short-axis images
    scale: float                  # intensity scale of the stored integers
    noise: float                  # noise sigma relative to the brightest tissue
    shading: tuple[float, float, float]   # coil shading: amplitude and direction
    bolus_start: int              # perfusion frame at which contrast reaches the RV


@dataclass(frozen=True)
class Scan:
    """The body around the heart and how each sequence images it (phantom v2).

    Patient coordinates are RAS+ in mm with the origin at the centre of the LV base plane;
    ``apex`` is the unit long-axis direction (base to apex). Contrast fields are tissue
    properties and sequence settings, not intensities: the renderer derives intensities.
    """

    rows: int                     # matrix (rows: anterior-posterior phase direction)
    cols: int
    body_centre: tuple[float, float]      # (x, y) of the body axis, mm
    body_half: tuple[float, float]        # body half-width (left-right) and half-depth
    fat_mm: float                 # subcutaneous fat
    muscle_mm: float              # chest-wall muscle
    epi_fat_mm: float             # epicardial fat in the grooves (thinner elsewhere)
    apex: tuple[float, float, float]
    diaphragm_z: float            # height of the right dome's top (left dome 12 mm lower)
    slice_shift: tuple[tuple[float, float], ...]   # respiratory misregistration, pixels
    lge_ti: float                 # inversion time / myocardial null time (1: well nulled)
    t1_post: tuple[float, float, float]   # post-contrast T1 of blood, myocardium, scar, ms
    snr: float                    # blood (cine) signal over noise sigma
    coil: tuple[float, float, float, float]   # surface arrays: anterior excess at the skin,
    #                               loop radius (mm), posterior share, fall-off per 100 mm depth
    kspace: float                 # acquired share of k-space in the phase direction (cine,
    #                               LGE, T2; the readout keeps 0.15 more)
    perf_kspace: float            # acquired share of k-space in perfusion (Gibbs)


@dataclass(frozen=True)
class StudyParams:
    study_id: str
    diagnosis: str
    heart: Heart
    acq: Acquisition
    rwma_severity: str | None
    rwma_sites: tuple[Site, ...]
    hypertrophy_pattern: str | None
    scar: tuple[Lesion, ...]
    papillary_scar: bool
    edema: tuple[Lesion, ...]
    defect: Lesion | None
    ef_percent: float
    texture_seed: int
    meta: dict[str, str] = field(default_factory=dict)
    atrial_lge: bool = False      # enhancing atrial walls on long-axis LGE (amyloid)
    scan: Scan | None = None      # drawn by :func:`cardiolens.phantom.thorax.draw_scan`
