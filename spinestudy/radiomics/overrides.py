"""PyRadiomics internals replaced, during spinestudy's extraction only, by faster computations of their values.

Each replacement computes what PyRadiomics 3.0.1 computes, and hands the cases it cannot prove equal back to
PyRadiomics' own code; `faster()` installs them and restores PyRadiomics afterwards.
- Bin edges (`imageoperations.getBinEdges`) depend only on the values' minimum and maximum: PyRadiomics finds
  them with Python's builtin min and max element by element, numpy gives the same two numbers.
- GLCM sum and difference marginals (`pxAddy`, `pxSuby` of `RadiomicsGLCM._calculateCoefficients`): PyRadiomics
  sums each diagonal with one boolean mask per grey level sum or difference, numpy adding the entries of each
  angle in row-major order; `numpy.bincount` adds the same entries in the same order, one pass for all of them.
- Discretisation (`RadiomicsFeaturesBase._applyBinning`): each of the six feature classes of an image bins the
  same values in the same mask with the same settings; the first one's result is reused while values, mask and
  settings compare equal (`_binned`).
- GLCM MCC (`RadiomicsGLCM.getMCCFeatureValue`), the second largest eigenvalue of
  Q(i, j) = sum_k p(i, k) p(j, k) / (px(i) py(k) + eps) per angle: see `_mcc`.
"""

import contextlib

import numpy as np
from radiomics import base, glcm, imageoperations

_PYRADIOMICS = {
    (imageoperations, "getBinEdges"): imageoperations.getBinEdges,
    (base.RadiomicsFeaturesBase, "_applyBinning"): base.RadiomicsFeaturesBase._applyBinning,
    (glcm.RadiomicsGLCM, "_calculateCoefficients"): glcm.RadiomicsGLCM._calculateCoefficients,
    (glcm.RadiomicsGLCM, "getMCCFeatureValue"): glcm.RadiomicsGLCM.getMCCFeatureValue,
}
# MCC from the symmetric solver only where both solvers' rounding (~1e-14 absolute for Ng <= 300) stays far below
# 1e-9 of sqrt(lambda_2), and where the symmetrised matrix differs from its similar one by less than SKEW: the
# antisymmetric part shifts no eigenvalue to first order, so the shift is below SKEW ** 2 / gap.
MIN_LAMBDA2 = 1e-4
SKEW = 1e-6


def bin_edges(values: np.ndarray, **kwargs) -> np.ndarray:
    """PyRadiomics' getBinEdges given only the values' minimum and maximum, which are all its edges depend on."""
    return _PYRADIOMICS[imageoperations, "getBinEdges"](np.array([np.min(values), np.max(values)]), **kwargs)


_last_binning: list = []  # [(values, mask, settings), (binned, grey levels, Ng)] of the latest binning


def _equal(a: dict, b: dict) -> bool:
    """Settings dictionaries equal (False where a value does not compare to one truth value)."""
    try:
        return bool(a == b)
    except ValueError:
        return False


def _binned(self, matrix: np.ndarray) -> np.ndarray:
    """RadiomicsFeaturesBase._applyBinning, run by PyRadiomics once per (values, mask, settings): a class binning
    values, mask and settings equal to the previous call's gets copies of that call's results."""
    if _last_binning:
        (values, mask, settings), (binned, levels, Ng) = _last_binning
        if _equal(settings, self.settings) and np.array_equal(mask, self.maskArray) and np.array_equal(values, matrix):
            self.coefficients["grayLevels"], self.coefficients["Ng"] = levels.copy(), Ng
            return binned.copy()
    inputs = matrix.copy(), self.maskArray.copy(), dict(self.settings)
    binned = _PYRADIOMICS[base.RadiomicsFeaturesBase, "_applyBinning"](self, matrix)
    _last_binning[:] = [inputs, (binned.copy(), self.coefficients["grayLevels"].copy(), self.coefficients["Ng"])]
    return binned


def _diagonal_sums(P: np.ndarray, index: np.ndarray, length: int) -> np.ndarray:
    """sum of P[0, i, j, a] over the (i, j) with index[i, j] == k, shape (1, length, angles): numpy.bincount adds
    the entries of each k in row-major (i, j) order, as PyRadiomics' numpy.sum over P[:, index == k, :] does."""
    angles = P.shape[3]
    bins = (index[:, :, None] * angles + np.arange(angles)).ravel()
    return np.bincount(bins, weights=P[0].ravel(), minlength=length * angles).reshape(1, length, angles)


def _glcm_coefficients(self) -> None:
    """RadiomicsGLCM._calculateCoefficients with pxAddy and pxSuby summed by `_diagonal_sums`. Its other
    coefficients are PyRadiomics' own expressions, repeated here because its method computes them together
    with the slow sums (a hand-written copy, kept to its lines)."""
    if self.P_glcm.shape[0] != 1 or self.P_glcm.shape[3] < 2:  # voxel-based, or one (weighted) angle, whose
        # diagonal sums numpy adds pairwise rather than in order: PyRadiomics' own
        return _PYRADIOMICS[glcm.RadiomicsGLCM, "_calculateCoefficients"](self)
    P_glcm, Ng, eps = self.P_glcm, self.coefficients["Ng"], np.spacing(1)
    levels = self.coefficients["grayLevels"].astype("float")
    i, j = np.meshgrid(levels, levels, indexing="ij", sparse=True)
    self.coefficients.update(
        eps=eps, i=i, j=j, kValuesSum=np.arange(2, (Ng * 2) + 1, dtype="float"),
        kValuesDiff=np.arange(0, Ng, dtype="float"), px=P_glcm.sum(2, keepdims=True), py=P_glcm.sum(1, keepdims=True),
        ux=np.sum(i[None, :, :, None] * P_glcm, (1, 2), keepdims=True),
        uy=np.sum(j[None, :, :, None] * P_glcm, (1, 2), keepdims=True),
        pxAddy=_diagonal_sums(P_glcm, (i + j).astype(int) - 2, 2 * Ng - 1),
        pxSuby=_diagonal_sums(P_glcm, np.abs(i - j).astype(int), Ng),
        HXY=(-1) * np.sum((P_glcm * np.log2(P_glcm + eps)), (1, 2)),
    )


def _mcc(self) -> np.ndarray:
    """RadiomicsGLCM.getMCCFeatureValue by a symmetric eigensolver where it gives PyRadiomics' values.

    Q = A P^T with A(i, k) = p(i, k) / (px(i) py(k) + eps) is formed by one matrix product per angle (the same
    non-negative terms summed in another order: relative difference below Ng * 2.2e-16). Q is similar to
    S = Dx^(1/2) Q Dx^(-1/2) (Dx = diag(px), levels with px > 0; the others are zero rows and columns of Q,
    eigenvalue 0), which without eps would be the symmetric B B^T, B = Dx^(-1/2) P Dy^(-1/2). eps makes S
    asymmetric by at most eps / (px(i) py(k)); numpy.linalg.eigvalsh of (S + S^T) / 2 then gives S's
    eigenvalues within SKEW ** 2 / gap, where PyRadiomics' general solver (numpy.linalg.eigvals of Q) has
    rounding of the same order as the symmetric one. Everything else (voxel-based, a single grey level,
    NaN angles, a second eigenvalue below MIN_LAMBDA2, a larger asymmetry) is PyRadiomics' own method."""
    P, px, py = self.P_glcm, self.coefficients["px"], self.coefficients["py"]
    own = _PYRADIOMICS[glcm.RadiomicsGLCM, "getMCCFeatureValue"]
    if P.shape[0] != 1 or P.shape[1] < 2 or not np.isfinite(P).all():
        return own(self)
    p = np.moveaxis(P[0], 2, 0)  # (angles, Ng, Ng)
    x, y = px[0, :, 0, :].T, py[0, 0, :, :].T  # (angles, Ng)
    q = (p / (x[:, :, None] * y[:, None, :] + self.coefficients["eps"])) @ np.swapaxes(p, 1, 2)
    root = np.sqrt(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(x[:, None, :] > 0, root[:, :, None] * q / root[:, None, :], 0.0)
    skew = np.abs(s - np.swapaxes(s, 1, 2)).max()
    second = np.linalg.eigvalsh((s + np.swapaxes(s, 1, 2)) / 2)[:, -2]
    if skew > SKEW or second.min() < MIN_LAMBDA2:
        return own(self)
    return np.array([np.mean(np.sqrt(second))])


_FASTER = {
    (imageoperations, "getBinEdges"): bin_edges,
    (base.RadiomicsFeaturesBase, "_applyBinning"): _binned,
    (glcm.RadiomicsGLCM, "_calculateCoefficients"): _glcm_coefficients,
    (glcm.RadiomicsGLCM, "getMCCFeatureValue"): _mcc,
}


@contextlib.contextmanager
def faster():
    """PyRadiomics with this module's replacements, for the block only (PyRadiomics is restored afterwards)."""
    before = {key: getattr(*key) for key in _FASTER}
    for (owner, name), replacement in _FASTER.items():
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        _last_binning.clear()
        for (owner, name), original in before.items():
            setattr(owner, name, original)
