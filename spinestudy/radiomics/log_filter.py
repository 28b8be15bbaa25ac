"""PyRadiomics' LoG images (getLoGImage) computed only on a box of the image, bit-identical there.

ITK's LaplacianRecursiveGaussianImageFilter (ITK 5, itkLaplacianRecursiveGaussianImageFilter.hxx) sums over
the axes d = x, y, z: 0 + (second-derivative recursive Gaussian along d, then zero-order ones along the other
axes in increasing order) * (1 / spacing_d^2), into a float image (see `_log`). Each recursive Gaussian
filters every image line along its axis independently, so a pass needs only the lines its successors read:
the derivative runs on the whole image, and before each later pass the image is cropped to the box along the
axes already filtered. The same double operations on the same lines give the same values in the box, at about
half the cost for a box a third of the image along each axis (PyRadiomics' padded crops).
"""

import numpy as np
import SimpleITK as sitk

ORDER = sitk.RecursiveGaussianImageFilter


def _along(image: sitk.Image, axis: int, lower: np.ndarray, upper: np.ndarray) -> sitk.Image:
    """The image cropped to [lower, upper) along one axis."""
    index = [slice(None)] * image.GetDimension()
    index[axis] = slice(int(lower[axis]), int(upper[axis]))
    return image[tuple(index)]


def _log(image: sitk.Image, sigma: float, lower: np.ndarray, upper: np.ndarray) -> sitk.Image:
    """LaplacianRecursiveGaussianImageFilter (normalised across scale) of a 3-D image, on the box [lower, upper).
    ITK's internal images are float (InternalRealType): the derivative reads the input, every pass rounds its
    double line computation to float, and each axis' term is added in double to the float sum, rounded to float."""
    source = image if image.GetPixelID() in (sitk.sitkFloat32, sitk.sitkFloat64) else sitk.Cast(image, sitk.sitkFloat64)
    total = np.zeros(tuple(np.subtract(upper, lower)[::-1]), np.float32)
    for axis in range(3):
        spacing = image.GetSpacing()[axis]
        part = sitk.Cast(sitk.RecursiveGaussian(source, sigma, True, ORDER.SecondOrder, axis), sitk.sitkFloat32)
        part = _along(part, axis, lower, upper)
        for other in (a for a in range(3) if a != axis):
            part = _along(sitk.RecursiveGaussian(part, sigma, True, ORDER.ZeroOrder, other), other, lower, upper)
        term = sitk.GetArrayViewFromImage(part).astype(np.float64) * (1.0 / (spacing * spacing))
        total = (total.astype(np.float64) + term).astype(np.float32)
    out = sitk.GetImageFromArray(total)
    out.CopyInformation(image[tuple(map(slice, lower, upper))])
    return out


def log_images(image: sitk.Image, lower: np.ndarray, upper: np.ndarray, **settings):
    """getLoGImage(image) yielded as PyRadiomics yields it ((image, name, settings) per sigma, the same sigmas
    skipped), each image only on the box [lower, upper) (voxels, x y z)."""
    size, spacing = np.array(image.GetSize()), np.array(image.GetSpacing())
    if image.GetDimension() != 3:
        raise ValueError(f"log_images takes 3-D images, not {image.GetDimension()}-D (use getLoGImage)")
    if np.min(size) < 4:  # PyRadiomics yields no LoG image then
        return
    for sigma in settings.get("sigma", []):
        if sigma > 0.0 and np.all(size >= np.ceil(sigma / spacing) + 1):
            yield _log(image, sigma, lower, upper), f"log-sigma-{str(sigma).replace('.', '-')}-mm-3D", settings
