"""An anatomical lumbar spine phantom in physical patient coordinates (LPS, mm), rendered on any image grid.

The spine follows a lordotic arc in the sagittal plane. Every structure is defined in arc coordinates
(x: left, u: posterior offset from the vertebral-body centre line, s: arc length, head up), so bodies and
discs come out wedge-shaped the way a lordosis makes them. Geometry is sampled once per grid into a tissue
map and a label map; each sequence then maps tissues to signal, blurs slightly (partial volume), applies a
smooth coil bias field and Rician noise.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage, stats

from spinestudy.anatomy import LEVELS, VERTEBRAE, modic_label

# Tissue classes of the tissue map.
AIR, FAT, MUSCLE, VISCERA, VESSEL, MARROW, CORTEX, LIGAMENT, ANNULUS, CSF, NERVE = range(11)
NUCLEUS = {1: 11, 2: 12, 3: 13, 4: 14, 5: 15}  # by Pfirrmann grade
MODIC = {1: 16, 2: 17, 3: 18}  # by Modic type

# Relative signal (T1, T2, STIR) per tissue: typical 1.5 T appearance of TSE T1 (TR ~550/TE ~10 ms), TSE T2
# (TR ~3500/TE ~100 ms) and STIR (TI ~150 ms), scaled to fat on T1 ~ 1. Relaxation basis: Stanisz et al.
# MRM 2005;54:507 and Bottomley et al. Med Phys 1984;11:425; discs: Pfirrmann et al. Spine 2001;26:1873;
# Modic lesions: Modic et al. Radiology 1988;166:193 (I: oedema, II: fat, III: sclerosis).
SIGNAL = {
    AIR: (0.00, 0.00, 0.00),
    FAT: (0.95, 0.80, 0.05),  # TSE keeps fat bright on T2; STIR nulls it
    MUSCLE: (0.35, 0.22, 0.20),
    VISCERA: (0.40, 0.45, 0.35),
    VESSEL: (0.04, 0.04, 0.05),  # flow void
    MARROW: (0.60, 0.42, 0.14),  # adult mixed red/yellow marrow
    CORTEX: (0.05, 0.05, 0.05),
    LIGAMENT: (0.08, 0.08, 0.08),
    ANNULUS: (0.28, 0.14, 0.18),
    CSF: (0.15, 1.00, 0.95),
    NERVE: (0.40, 0.35, 0.30),
    NUCLEUS[1]: (0.32, 0.95, 0.85),  # bright, homogeneous
    NUCLEUS[2]: (0.32, 0.80, 0.70),  # bright, intranuclear cleft
    NUCLEUS[3]: (0.30, 0.50, 0.45),  # grey
    NUCLEUS[4]: (0.28, 0.30, 0.28),  # grey to dark
    NUCLEUS[5]: (0.25, 0.15, 0.15),  # dark, collapsed
    MODIC[1]: (0.30, 0.70, 0.75),  # low T1, high T2, high STIR
    MODIC[2]: (0.88, 0.62, 0.06),  # high T1, iso-high T2, low STIR
    MODIC[3]: (0.12, 0.14, 0.08),  # low everywhere
}
SIGNAL_LUT = np.array([SIGNAL[t] for t in range(len(SIGNAL))], dtype=np.float32)
TEXTURE = np.zeros(len(SIGNAL), np.float32)  # amplitude of the tissue's smooth inhomogeneity
TEXTURE[[FAT, MUSCLE, MARROW, VISCERA]] = 0.03, 0.05, 0.06, 0.35
TEXTURE[[NUCLEUS[g] for g in range(1, 6)]] = 0.0, 0.06, 0.20, 0.25, 0.30
SEQUENCE_COLUMN = {"T1": 0, "T2": 1, "STIR": 2}

# Vertebra templates (cranial to caudal): name, label, height, half-width (x), half-depth (u) in mm.
SEGMENTS = [
    ("T9", 0, 22.0, 16.0, 13.0), ("T10", 0, 23.0, 17.0, 13.5), ("T11", 0, 24.0, 18.0, 14.0), ("T12", 0, 25.0, 19.0, 14.5), ("L1", 1, 25.5, 20.0, 15.0),
    ("L2", 2, 26.5, 21.0, 16.0), ("L3", 3, 27.5, 22.0, 16.5), ("L4", 4, 27.5, 23.0, 17.0),
    ("L5", 5, 26.5, 24.0, 17.0), ("S1", 6, 25.0, 24.0, 17.0), ("S2", 0, 20.0, 18.0, 13.0),
    ("S3", 0, 16.0, 14.0, 10.0), ("S4", 0, 12.0, 10.0, 7.5),
]
DISC_HEIGHTS = [5.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 10.0, 2.5, 2.0, 1.5]  # below each template but the last
CONCAVITY = 1.2  # endplate concavity, mm
CORTEX_MM = 1.3
CANAL_U, CANAL_HALF_U, CANAL_HALF_X = 26.0, 7.0, 10.0

# Modic type -> lesion shape: semi-axes in mm along x, u and depth below the endplate cortex; centre depth as
# a fraction of the depth semi-axis (0: a half ellipsoid on the endplate); boundary irregularity (smooth bumps).
LESION_SHAPES = {
    1: dict(shape="thin band along the endplate", semi_x=12.5, semi_u=13.5, semi_depth=3.5, centre=0.0, irregularity=0.0),
    2: dict(shape="thick ellipsoid", semi_x=8.5, semi_u=8.5, semi_depth=8.0, centre=0.45, irregularity=0.0),
    3: dict(shape="small, irregular, flattened", semi_x=8.0, semi_u=7.5, semi_depth=5.0, centre=0.0, irregularity=0.3),
}
# Mixed Modic I/II lesions (oedematous and fatty marrow side by side, graded by the dominant type; Modic et al.
# 1988): a type I or II lesion's fatty share is Beta-distributed around its type, and both its shape (semi-axes
# and centre interpolated between the type I and type II shapes) and its marrow (fatty patches where a smooth
# random field falls below that share's quantile) follow the share. The overlap of the two Beta laws bounds
# how well any classifier can tell the types: AUC of the share itself ~0.90, balanced accuracy ~0.81, inside
# the range published for Modic type classification (0.75-0.9) rather than a perfectly separable 1.0.
FATTY_SHARE_BETA = {1: (2.0, 4.0), 2: (4.0, 2.0)}
PLANTED_SHAPE_EFFECTS = {
    "grouping": "Modic type of the lesion (1, 2, 3)",
    "test": "Kruskal-Wallis across Modic types, one value per lesion",
    "lesion_shapes": {t: dict(s) for t, s in LESION_SHAPES.items()},
    "size_jitter": "each semi-axis times a seeded factor 0.85-1.15 (overall) and 0.9-1.1 (per axis)",
    "mixed_lesions": {
        "fatty_share_beta": {t: list(ab) for t, ab in FATTY_SHARE_BETA.items()},
        "description": "type I and II lesions are mixtures: shape interpolated between the type I (share 0) and "
        "type II (share 1) shapes, fatty (type II) marrow in that share of the lesion, oedematous (type I) "
        "in the rest",
        "type_auc_of_share": 0.90,
        "expected_nested_balanced_accuracy": [0.7, 0.9],
    },
    "expected_order": {  # Modic types from highest to lowest median (PyRadiomics definitions)
        "original_shape_Flatness": [2, 3, 1],  # thick ellipsoid > small irregular > mixed, band-like type I
    },
    # type II (thick ellipsoids) has the highest median; types I (mixed) and III are close in sphericity
    "type_ii_highest": ["original_shape_Sphericity", "original_shape_Flatness"],
}


@dataclass(frozen=True)
class Grid:
    """A voxel grid in patient LPS coordinates, SimpleITK conventions: index (i, j, k) sits at
    origin + direction @ (spacing * index); direction is row-major with the i, j, k axes as columns;
    size is (ni, nj, nk); arrays on the grid have numpy shape (nk, nj, ni)."""

    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    spacing: tuple[float, float, float]
    size: tuple[int, int, int]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.size[::-1]

    def axis(self, n: int) -> np.ndarray:
        return np.asarray(self.direction, float).reshape(3, 3)[:, n]

    def points(self) -> np.ndarray:
        """Physical coordinates of every voxel centre, shape (3, nk, nj, ni), float32."""
        steps = [np.arange(n) * d for n, d in zip(self.size, self.spacing)]
        out = np.empty((3, *self.shape), np.float32)
        for c in range(3):
            out[c] = (self.origin[c] + steps[2][:, None, None] * self.axis(2)[c]
                      + steps[1][None, :, None] * self.axis(1)[c] + steps[0][None, None, :] * self.axis(0)[c])
        return out

    def image(self, array: np.ndarray) -> sitk.Image:
        """A SimpleITK image of an array on this grid."""
        img = sitk.GetImageFromArray(array)
        img.SetOrigin(self.origin)
        img.SetSpacing(self.spacing)
        img.SetDirection(self.direction)
        return img


@dataclass(frozen=True)
class Body:
    name: str
    label: int
    s0: float
    h: float
    a: float
    b: float


@dataclass(frozen=True)
class Disc:
    label: int
    pfirrmann: int
    upper: Body
    lower: Body


@dataclass(frozen=True)
class Lesion:
    label: int
    modic: int
    body: Body
    endplate: str  # "inferior" or "superior" endplate of body
    centre: tuple[float, float]  # x, u
    semi: tuple[float, float, float]  # x, u, depth
    depth0: float
    waves: np.ndarray  # irregularity: rows (kx, ku, kd, phase, amplitude)
    fatty: float  # share of fatty (type II) marrow in a type I or II lesion
    patches: np.ndarray  # smooth field placing the fatty patches: rows (kx, ku, kd, phase)


@dataclass(frozen=True)
class Phantom:
    """One patient's anatomy: placement of the lordotic arc, bodies, discs, osteophytes, lesions, soft tissue."""

    x0: float
    apex: tuple[float, float]  # (y, z) of the L3 body centre, the apex of the lordosis
    radius: float
    bodies: tuple[Body, ...]
    discs: tuple[Disc, ...]
    osteophytes: dict  # (body name, "inferior"/"superior") -> (anterior, posterior) length, mm
    lesions: tuple[Lesion, ...]
    u_skin: float
    u_front: float
    fat: float
    texture_waves: np.ndarray  # rows (kx, ky, kz, phase)

    def body(self, name: str) -> Body:
        return next(b for b in self.bodies if b.name == name)

    @property
    def centre(self) -> np.ndarray:
        """Physical position (LPS) of the L3 body centre."""
        return np.array([self.x0, *self.apex])

    def arc(self, p: np.ndarray) -> tuple[np.ndarray, ...]:
        """Arc coordinates (x, u, s) of physical points p (3, ...), and w = y - y(L3 centre): the straight
        anterior-posterior coordinate the torso outline uses."""
        dy = p[1] - (self.apex[0] + self.radius)
        dz = p[2] - self.apex[1]
        u = self.radius - np.hypot(dy, dz)
        s = self.radius * np.arctan2(dz, -dy)
        return (p[0] - self.x0).ravel(), u.ravel(), s.ravel(), (p[1] - self.apex[0]).ravel()


def build_phantom(patient_levels: pd.DataFrame, anatomy_seed: int = 0) -> Phantom:
    """The anatomy of one patient from its per-level grades; sizes and placement vary with anatomy_seed."""
    rng = np.random.default_rng([anatomy_seed, 7301])
    scale = rng.uniform(0.93, 1.07)
    placement = dict(x0=rng.normal(0, 2.0), apex=(rng.uniform(-15, 5), rng.uniform(-5, 5)),
                     radius=rng.uniform(240, 320), u_skin=rng.uniform(112, 135), u_front=-rng.uniform(140, 190),
                     fat=rng.uniform(10, 30), texture_waves=_waves(rng, 16))
    lv = patient_levels.set_index("level").loc[list(LEVELS)]
    heights = []
    for name, h in zip([t[0] for t in SEGMENTS], DISC_HEIGHTS):  # the disc below each vertebra
        if name in VERTEBRAE[:-1]:
            row = lv.iloc[VERTEBRAE.index(name)]
            h *= float(np.clip(1 - 0.2 * row.jarosz_height - 0.04 * max(row.pfirrmann - 2, 0), 0.3, 1.0))
            h = min(h, 4.0) if row.pfirrmann == 5 else h
        heights.append(h * scale)
    tops = np.concatenate([[0.0], -np.cumsum([t[2] * scale + d for t, d in zip(SEGMENTS, heights)])])
    l3 = [t[0] for t in SEGMENTS].index("L3")
    shift = SEGMENTS[l3][2] * scale / 2 - tops[l3]  # puts the L3 centre at s = 0
    bodies = tuple(Body(n, lab, tops[i] + shift - h * scale / 2, h * scale, a * scale, b * scale)
                   for i, (n, lab, h, a, b) in enumerate(SEGMENTS))
    by_name = {b.name: b for b in bodies}
    discs, osteophytes, lesions = [], {}, []
    for i, level in enumerate(LEVELS, start=1):
        row = lv.loc[level]
        up, lo = (by_name[v] for v in level.split("-"))
        discs.append(Disc(10 + i, int(row.pfirrmann), up, lo))
        length = [0.0, 2.5, 5.0, 8.0][int(row.osteophytes)] * rng.uniform(0.85, 1.15)
        osteophytes[(up.name, "inferior")] = osteophytes[(lo.name, "superior")] = (length, 0.6 * length)
        for endplate, body, side in (("upper", up, "inferior"), ("lower", lo, "superior")):
            modic = int(row[f"modic_{endplate}"])
            if modic:
                lesions.append(_lesion(modic_label(level, endplate), modic, body, side, rng))
    return Phantom(bodies=bodies, discs=tuple(discs), osteophytes=osteophytes, lesions=tuple(lesions), **placement)


def _waves(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random plane waves (kx, ky, kz, phase) with wavelengths of roughly 4-25 mm: a smooth texture."""
    direction = rng.normal(size=(n, 3))
    k = 2 * np.pi / rng.uniform(4, 25, n)
    return np.column_stack([direction / np.linalg.norm(direction, axis=1, keepdims=True) * k[:, None],
                            rng.uniform(0, 2 * np.pi, n)])


def _lesion(label: int, modic: int, body: Body, endplate: str, rng: np.random.Generator) -> Lesion:
    """A Modic lesion of the given type in the marrow along one endplate, seeded size within the type's shape
    (types I and II: mixed, see FATTY_SHARE_BETA)."""
    fatty = rng.beta(*FATTY_SHARE_BETA[modic]) if modic in FATTY_SHARE_BETA else 0.0
    spec = LESION_SHAPES[modic]
    axes = ("semi_x", "semi_u", "semi_depth", "centre")
    shape = np.array([spec[a] for a in axes], float)
    if modic in FATTY_SHARE_BETA:
        shape = np.array([(1 - fatty) * LESION_SHAPES[1][a] + fatty * LESION_SHAPES[2][a] for a in axes])
    size = rng.uniform(0.85, 1.15) * rng.uniform(0.9, 1.1, 3)
    semi = shape[:3] * size
    semi[:2] = np.minimum(semi[:2], [body.a - 3, body.b - 3])
    n = 4
    waves = np.column_stack([rng.normal(0, 2 * np.pi / 14, (n, 3)), rng.uniform(0, 2 * np.pi, n),
                             np.full(n, spec["irregularity"] / np.sqrt(n))])
    patches = np.column_stack([rng.normal(0, 2 * np.pi / 10, (n, 3)), rng.uniform(0, 2 * np.pi, n)])
    centre = (rng.uniform(-3, 3), rng.uniform(-3, 1))
    return Lesion(label, modic, body, endplate, centre, tuple(semi), shape[3] * semi[2], waves, fatty, patches)


@dataclass
class Scene:
    """A phantom sampled on a grid: tissue class, label, texture and y coordinate per voxel (flat arrays)."""

    grid: Grid
    tissue: np.ndarray
    label: np.ndarray
    texture: np.ndarray
    y: np.ndarray


def sample(phantom: Phantom, grid: Grid) -> Scene:
    """Sample the phantom's tissue classes and labels at the voxel centres of a grid."""
    p = grid.points()
    x, u, s, w = phantom.arc(p)
    tissue = np.zeros(x.size, np.uint8)
    label = np.zeros(x.size, np.uint8)
    _soft_tissue(phantom, x, u, s, w, tissue)
    for body in phantom.bodies:
        _posterior_elements(body, x, u, s, tissue)
    _canal(phantom, x, u, s, tissue)
    for body in phantom.bodies:
        _body(phantom, body, x, u, s, tissue, label)
    for disc in phantom.discs:
        _disc(disc, x, u, s, tissue, label)
    first, last = (phantom.bodies.index(phantom.body(v)) for v in (VERTEBRAE[0], VERTEBRAE[-1]))
    for a, b in zip(phantom.bodies[:first], phantom.bodies[1:first + 1]):  # thoracic discs above L1
        _disc(Disc(0, 1, a, b), x, u, s, tissue, label)
    for a, b in zip(phantom.bodies[last:-1], phantom.bodies[last + 1:]):  # sacral disc remnants
        _disc(Disc(0, 5, a, b), x, u, s, tissue, label)
    for lesion in phantom.lesions:
        _modic(lesion, x, u, s, tissue, label)
    flat = p.reshape(3, -1)
    tex = np.zeros(x.size, np.float32)
    idx = np.flatnonzero(TEXTURE[tissue] > 0)
    pts = flat[:, idx]
    for kx, ky, kz, ph in phantom.texture_waves.tolist():
        tex[idx] += np.cos(kx * pts[0] + ky * pts[1] + kz * pts[2] + ph)
    tex /= np.sqrt(len(phantom.texture_waves))
    return Scene(grid, tissue, label, tex, flat[1])


def _paint(tissue, idx, mask, value, label=None, lab=0):
    sel = idx[mask]
    tissue[sel] = value
    if label is not None:
        label[sel] = lab


def _soft_tissue(ph: Phantom, x, u, s, w, tissue):
    """Torso (straight elliptic cylinder in x, w), subcutaneous fat, viscera, paraspinal and psoas muscles
    hugging the spine, aorta and IVC."""
    wc, half_w, half_x = (ph.u_skin + ph.u_front) / 2, (ph.u_skin - ph.u_front) / 2, 160.0
    r = (x / half_x) ** 2 + ((w - wc) / half_w) ** 2
    inner = (x / (half_x - ph.fat)) ** 2 + ((w - wc) / (half_w - ph.fat)) ** 2
    tissue[r <= 1] = FAT
    tissue[inner <= 1] = VISCERA
    tissue[(inner <= 1) & (u > 12) & (np.abs(x) < 80)] = MUSCLE
    l1 = ph.body("L1")
    grow = np.clip((l1.s0 - s) / 120, 0, 1)
    for side in (-1, 1):
        psoas = ((x - side * 38) / (8 + 14 * grow)) ** 2 + ((u + 2) / (10 + 8 * grow)) ** 2 <= 1
        tissue[psoas & (s < l1.s0)] = MUSCLE
    bifurcation = ph.body("L4").s0
    for xc, rad in ((15.0, 10.0), (-22.0, 11.0)):  # aorta (left), IVC (right)
        vessel = (x - xc) ** 2 + (u + 32) ** 2 <= rad**2
        tissue[vessel & (s > bifurcation)] = VESSEL


def _box(x, u, s, xr, ur, sr):
    return (np.abs(x) >= xr[0]) & (np.abs(x) <= xr[1]) & (u >= ur[0]) & (u <= ur[1]) & (s >= sr[0]) & (s <= sr[1])


def _posterior_elements(body: Body, x, u, s, tissue):
    """Ligaments, pedicles, lamina and spinous process of one vertebra (bone: marrow inside a cortical shell)."""
    lo, hi = body.s0 - body.h / 2 - 12, body.s0 + body.h / 2 + 12
    idx = np.flatnonzero((s > lo) & (s < hi) & (u > 10) & (u < 85) & (np.abs(x) < 22))
    xs, us, ss = np.abs(x[idx]), u[idx], s[idx]
    k = body.h / 27.5
    sr = (body.s0 - body.h / 2 - 4, body.s0 + body.h / 2 + 4)
    _paint(tissue, idx, _box(xs, us, ss, (0, 14), (34, 38), sr), LIGAMENT)  # ligamentum flavum
    _paint(tissue, idx, _box(xs, us, ss, (0, 3), (38, 40 + 30 * k), sr), LIGAMENT)  # interspinous
    parts = [((11, 19), (body.b - 2, 37), (body.s0 - 0.05 * body.h, body.s0 + 0.4 * body.h)),  # pedicles
             ((0, 16), (36, 44), (body.s0 - 0.5 * body.h + 2, body.s0 + 0.3 * body.h)),  # lamina
             ((0, 4 * k), (40, 40 + 30 * k), (body.s0 - 0.45 * body.h - 4, body.s0 + 0.2 * body.h))]  # spinous
    for xr, ur, sr in parts:
        inside = _box(xs, us, ss, xr, ur, sr)
        shell = ~_box(xs, us, ss, (xr[0] + CORTEX_MM if xr[0] else 0, xr[1] - CORTEX_MM),
                      (ur[0] + CORTEX_MM, ur[1] - CORTEX_MM), (sr[0] + CORTEX_MM, sr[1] - CORTEX_MM))
        _paint(tissue, idx, inside, MARROW)
        _paint(tissue, idx, inside & shell, CORTEX)


def _canal(ph: Phantom, x, u, s, tissue):
    """Epidural fat, thecal sac (ending at S2), conus medullaris ending at L1-L2 and the cauda equina."""
    bottom = ph.bodies[-1].s0 - ph.bodies[-1].h / 2
    idx = np.flatnonzero((np.abs(x) < 13) & (u > 16) & (u < 36) & (s > bottom))
    xs, us, ss = x[idx], u[idx], s[idx]
    _paint(tissue, idx, (np.abs(xs) < 12) & (us > ph.body("L1").b + 1.5) & (us < 35), FAT)
    sac_end = ph.body("S2").s0 + ph.body("S2").h / 2
    sac = ((xs / CANAL_HALF_X) ** 2 + ((us - CANAL_U) / CANAL_HALF_U) ** 2 <= 1) & (ss > sac_end)
    _paint(tissue, idx, sac, CSF)
    conus_end = ph.discs[0].upper.s0 - ph.discs[0].upper.h / 2
    taper = np.sqrt(np.clip((ss - conus_end) / 15, 0, 1))
    cord = (xs / (5 * taper + 1e-3)) ** 2 + ((us - CANAL_U) / (4 * taper + 1e-3)) ** 2 <= 1
    _paint(tissue, idx, cord & (ss > conus_end), NERVE)
    for xc, uc in ((-5.5, 29.0), (-2.5, 30.5), (2.5, 30.5), (5.5, 29.0)):
        root = (xs - xc) ** 2 + (us - uc) ** 2 <= 1.1**2
        _paint(tissue, idx, root & (ss <= conus_end) & sac, NERVE)


def _rho(body: Body, x, u, s):
    """Normalised superelliptic radius of the body's cross-section, with a slight waist at mid-height."""
    t = np.clip((s - body.s0) / (body.h / 2), -1, 1)
    waist = 1 - 0.05 * (1 - t**2)
    return ((np.abs(x) / (body.a * waist)) ** 2.4 + (np.abs(u) / (body.b * waist)) ** 2.4) ** (1 / 2.4)


def _surfaces(body: Body, rho):
    """Superior and inferior endplate positions (s) over the cross-section: concave towards the body."""
    dip = CONCAVITY * np.clip(1 - rho**2, 0, 1)
    return body.s0 + body.h / 2 - dip, body.s0 - body.h / 2 + dip


def _body(ph: Phantom, body: Body, x, u, s, tissue, label):
    """Vertebral body: marrow, cortical shell and endplates, plus osteophytes at the endplate corners."""
    idx = np.flatnonzero((np.abs(s - body.s0) < body.h / 2 + 1) & (np.abs(u) < body.b + 10) & (np.abs(x) < body.a + 10))
    xs, us, ss = x[idx], u[idx], s[idx]
    rho = _rho(body, xs, us, ss)
    top, bottom = _surfaces(body, rho)
    inside = (rho <= 1) & (ss <= top) & (ss >= bottom)
    rim = ((1 - rho) * min(body.a, body.b) < CORTEX_MM) | (top - ss < CORTEX_MM) | (ss - bottom < CORTEX_MM)
    _paint(tissue, idx, inside, MARROW, label, body.label)
    _paint(tissue, idx, inside & rim, CORTEX)
    for side, plate in (("superior", body.s0 + body.h / 2), ("inferior", body.s0 - body.h / 2)):
        front, back = ph.osteophytes.get((body.name, side), (0.0, 0.0))
        depth = plate - ss if side == "superior" else ss - plate
        for length, sector in ((front, (us < 0) & (np.abs(xs) < 0.7 * body.a)), (back, (us > 0) & (np.abs(xs) < 0.6 * body.a))):
            if length <= 0:
                continue
            e = (rho - 1) * body.b
            reach = 0.9 * length + 1.5
            spur = sector & (e > -0.5) & (e <= length) & (depth >= -0.35 * e) & (depth <= reach * (1 - e / length))
            margin = np.minimum.reduce([length - e, reach * (1 - e / length) - depth, depth + 0.35 * e])
            _paint(tissue, idx, spur & (rho > 1), CORTEX if length < 4 else MARROW, label, body.label)
            _paint(tissue, idx, spur & (rho > 1) & (margin < CORTEX_MM), CORTEX)


def _disc(disc: Disc, x, u, s, tissue, label):
    """Intervertebral disc between two bodies: annulus and nucleus, bulging and darkening with Pfirrmann grade."""
    up, lo = disc.upper, disc.lower
    idx = np.flatnonzero((s < up.s0 - up.h / 2 + 2) & (s > lo.s0 + lo.h / 2 - 2) & (np.abs(u) < 25) & (np.abs(x) < 30))
    xs, us, ss = x[idx], u[idx], s[idx]
    a, b = (up.a + lo.a) / 2 * 1.02, (up.b + lo.b) / 2 * 1.02
    bulge = np.where(us > 0, 1 + 0.03 * (disc.pfirrmann - 1), 1.0)
    rho = np.hypot(xs / a, us / (b * bulge))
    ceiling = _surfaces(up, _rho(up, xs, us, ss))[1]
    floor = _surfaces(lo, _rho(lo, xs, us, ss))[0]
    inside = (rho <= 1) & (ss < ceiling) & (ss > floor)
    t = (ss - (ceiling + floor) / 2) / np.maximum((ceiling - floor) / 2, 0.5)
    nucleus = inside & (np.hypot(xs / (0.6 * a), (us - 0.1 * b) / (0.6 * b)) ** 2 + (t / 0.8) ** 2 <= 1)
    if disc.pfirrmann == 2:
        nucleus &= np.abs(t) > 0.12  # intranuclear cleft
    _paint(tissue, idx, inside, ANNULUS, label, disc.label)
    _paint(tissue, idx, nucleus, NUCLEUS[disc.pfirrmann])


def _modic(lesion: Lesion, x, u, s, tissue, label):
    """A Modic lesion in the marrow next to an endplate; lesion voxels take over the body's label."""
    body = lesion.body
    idx = np.flatnonzero((np.abs(s - body.s0) < body.h / 2 + 1) & (np.abs(u) < body.b) & (np.abs(x) < body.a))
    idx = idx[tissue[idx] == MARROW]
    xs, us, ss = x[idx], u[idx], s[idx]
    top, bottom = _surfaces(body, _rho(body, xs, us, ss))
    depth = (top - ss if lesion.endplate == "superior" else ss - bottom) - CORTEX_MM  # below the endplate cortex
    q = np.stack([xs - lesion.centre[0], us - lesion.centre[1], depth - lesion.depth0])
    r = np.sqrt(((q / np.asarray(lesion.semi)[:, None]) ** 2).sum(0))
    bumps = sum(w[4] * np.cos(w[:3] @ q + w[3]) for w in lesion.waves)
    inside = (r <= 1 + bumps) & (depth > 0)
    if lesion.modic not in FATTY_SHARE_BETA:
        _paint(tissue, idx, inside, MODIC[lesion.modic], label, lesion.label)
        return
    field = sum(np.cos(w[:3] @ q + w[3]) for w in lesion.patches) / np.sqrt(len(lesion.patches) / 2)  # ~N(0, 1)
    fatty = field < stats.norm.ppf(np.clip(lesion.fatty, 1e-6, 1 - 1e-6))
    _paint(tissue, idx, inside & ~fatty, MODIC[1], label, lesion.label)
    _paint(tissue, idx, inside & fatty, MODIC[2], label, lesion.label)


def signal(scene: Scene, sequence: str, rng: np.random.Generator, noise: float = 0.02, bias: float = 0.15) -> np.ndarray:
    """Signal of a sampled scene for one sequence: tissue table x texture, partial-volume blur,
    multiplicative coil bias (stronger posteriorly, where the spine coil is) and Rician noise."""
    grid = scene.grid
    img = SIGNAL_LUT[scene.tissue, SEQUENCE_COLUMN[sequence]] * (1 + TEXTURE[scene.tissue] * scene.texture)
    img = img.reshape(grid.shape)
    sigma = (0.35 if grid.shape[0] > 1 else 0.0, 0.5, 0.5)
    img = ndimage.gaussian_filter(img, sigma, mode="nearest")
    phase = rng.uniform(0, 2 * np.pi, 3)
    y = scene.y.reshape(grid.shape)
    field = bias * (y - y.mean()) / 150 + 0.5 * bias * np.cos(2 * np.pi * y / 400 + phase[0])
    img *= np.exp(field)
    re = img + noise * rng.standard_normal(img.shape, dtype=np.float32)
    im = noise * rng.standard_normal(img.shape, dtype=np.float32)
    return np.hypot(re, im)


def render(grid: Grid, patient_levels: pd.DataFrame, sequence: str, rng: np.random.Generator, *,
           anatomy_seed: int = 0, noise: float = 0.02, bias: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Signal (float32, ~0..1) and label map (uint8) of a patient's phantom on a grid, arrays of shape grid.shape."""
    scene = sample(build_phantom(patient_levels, anatomy_seed), grid)
    return signal(scene, sequence, rng, noise, bias), scene.label.reshape(grid.shape)
