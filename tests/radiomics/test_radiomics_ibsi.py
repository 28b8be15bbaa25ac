"""IBSI-1 digital phantom: PyRadiomics (through spinestudy) against the IBSI consensus reference values.

Reference values are printed to 3 significant digits, mostly with tolerance 0, so a value is in tolerance
when |value - reference| <= tolerance + half a unit of the reference's third significant digit.
Source: IBSI reference manual (Zwanenburg et al., Radiology 2020;295:328), via the z-rad transcription in
shared/data/ibsi. Texture matrices are 3D; GLCM and GLRLM features are averaged over the 13 directions
(IBSI '3D_avg'), as PyRadiomics does.
"""

import math
from pathlib import Path

import pandas as pd
import pytest
import SimpleITK as sitk

from spinestudy.radiomics import extract as rx

REPO = Path(__file__).resolve().parents[2]

# IBSI tag -> PyRadiomics feature ('{class}_{feature}'), for every feature both define.
IBSI_TO_PYRADIOMICS = {
    "morph_volume": "shape_MeshVolume", "morph_vol_approx": "shape_VoxelVolume",
    "morph_area_mesh": "shape_SurfaceArea", "morph_av": "shape_SurfaceVolumeRatio",
    "morph_sphericity": "shape_Sphericity", "morph_diam": "shape_Maximum3DDiameter",
    "morph_pca_maj_axis": "shape_MajorAxisLength", "morph_pca_min_axis": "shape_MinorAxisLength",
    "morph_pca_least_axis": "shape_LeastAxisLength", "morph_pca_elongation": "shape_Elongation",
    "morph_pca_flatness": "shape_Flatness",
    "stat_mean": "firstorder_Mean", "stat_var": "firstorder_Variance", "stat_skew": "firstorder_Skewness",
    "stat_kurt": "firstorder_Kurtosis", "stat_median": "firstorder_Median", "stat_min": "firstorder_Minimum",
    "stat_p10": "firstorder_10Percentile", "stat_p90": "firstorder_90Percentile",
    "stat_max": "firstorder_Maximum", "stat_iqr": "firstorder_InterquartileRange",
    "stat_range": "firstorder_Range", "stat_mad": "firstorder_MeanAbsoluteDeviation",
    "stat_rmad": "firstorder_RobustMeanAbsoluteDeviation", "stat_energy": "firstorder_Energy",
    "stat_rms": "firstorder_RootMeanSquared", "ih_entropy": "firstorder_Entropy",
    "ih_uniformity": "firstorder_Uniformity",
    "cm_joint_max_3D_avg": "glcm_MaximumProbability", "cm_joint_avg_3D_avg": "glcm_JointAverage",
    "cm_joint_var_3D_avg": "glcm_SumSquares", "cm_joint_entr_3D_avg": "glcm_JointEntropy",
    "cm_diff_avg_3D_avg": "glcm_DifferenceAverage", "cm_diff_var_3D_avg": "glcm_DifferenceVariance",
    "cm_diff_entr_3D_avg": "glcm_DifferenceEntropy", "cm_sum_avg_3D_avg": "glcm_SumAverage",
    "cm_sum_entr_3D_avg": "glcm_SumEntropy", "cm_energy_3D_avg": "glcm_JointEnergy",
    "cm_contrast_3D_avg": "glcm_Contrast", "cm_inv_diff_3D_avg": "glcm_Id",
    "cm_inv_diff_norm_3D_avg": "glcm_Idn", "cm_inv_diff_mom_3D_avg": "glcm_Idm",
    "cm_inv_diff_mom_norm_3D_avg": "glcm_Idmn", "cm_inv_var_3D_avg": "glcm_InverseVariance",
    "cm_corr_3D_avg": "glcm_Correlation", "cm_auto_corr_3D_avg": "glcm_Autocorrelation",
    "cm_clust_tend_3D_avg": "glcm_ClusterTendency", "cm_clust_shade_3D_avg": "glcm_ClusterShade",
    "cm_clust_prom_3D_avg": "glcm_ClusterProminence", "cm_info_corr1_3D_avg": "glcm_Imc1",
    "cm_info_corr2_3D_avg": "glcm_Imc2",
    "rlm_sre_3D_avg": "glrlm_ShortRunEmphasis", "rlm_lre_3D_avg": "glrlm_LongRunEmphasis",
    "rlm_lgre_3D_avg": "glrlm_LowGrayLevelRunEmphasis", "rlm_hgre_3D_avg": "glrlm_HighGrayLevelRunEmphasis",
    "rlm_srlge_3D_avg": "glrlm_ShortRunLowGrayLevelEmphasis",
    "rlm_srhge_3D_avg": "glrlm_ShortRunHighGrayLevelEmphasis",
    "rlm_lrlge_3D_avg": "glrlm_LongRunLowGrayLevelEmphasis",
    "rlm_lrhge_3D_avg": "glrlm_LongRunHighGrayLevelEmphasis",
    "rlm_glnu_3D_avg": "glrlm_GrayLevelNonUniformity", "rlm_glnu_norm_3D_avg": "glrlm_GrayLevelNonUniformityNormalized",
    "rlm_rlnu_3D_avg": "glrlm_RunLengthNonUniformity",
    "rlm_rlnu_norm_3D_avg": "glrlm_RunLengthNonUniformityNormalized",
    "rlm_r_perc_3D_avg": "glrlm_RunPercentage", "rlm_gl_var_3D_avg": "glrlm_GrayLevelVariance",
    "rlm_rl_var_3D_avg": "glrlm_RunVariance", "rlm_rl_entr_3D_avg": "glrlm_RunEntropy",
    "szm_sze_3D": "glszm_SmallAreaEmphasis", "szm_lze_3D": "glszm_LargeAreaEmphasis",
    "szm_lgze_3D": "glszm_LowGrayLevelZoneEmphasis", "szm_hgze_3D": "glszm_HighGrayLevelZoneEmphasis",
    "szm_szlge_3D": "glszm_SmallAreaLowGrayLevelEmphasis", "szm_szhge_3D": "glszm_SmallAreaHighGrayLevelEmphasis",
    "szm_lzlge_3D": "glszm_LargeAreaLowGrayLevelEmphasis", "szm_lzhge_3D": "glszm_LargeAreaHighGrayLevelEmphasis",
    "szm_glnu_3D": "glszm_GrayLevelNonUniformity", "szm_glnu_norm_3D": "glszm_GrayLevelNonUniformityNormalized",
    "szm_zsnu_3D": "glszm_SizeZoneNonUniformity", "szm_zsnu_norm_3D": "glszm_SizeZoneNonUniformityNormalized",
    "szm_z_perc_3D": "glszm_ZonePercentage", "szm_gl_var_3D": "glszm_GrayLevelVariance",
    "szm_zs_var_3D": "glszm_ZoneVariance", "szm_zs_entr_3D": "glszm_ZoneEntropy",
    "ngl_lde_3D": "gldm_SmallDependenceEmphasis", "ngl_hde_3D": "gldm_LargeDependenceEmphasis",
    "ngl_lgce_3D": "gldm_LowGrayLevelEmphasis", "ngl_hgce_3D": "gldm_HighGrayLevelEmphasis",
    "ngl_ldlge_3D": "gldm_SmallDependenceLowGrayLevelEmphasis",
    "ngl_ldhge_3D": "gldm_SmallDependenceHighGrayLevelEmphasis",
    "ngl_hdlge_3D": "gldm_LargeDependenceLowGrayLevelEmphasis",
    "ngl_hdhge_3D": "gldm_LargeDependenceHighGrayLevelEmphasis",
    "ngl_glnu_3D": "gldm_GrayLevelNonUniformity", "ngl_dcnu_3D": "gldm_DependenceNonUniformity",
    "ngl_dcnu_norm_3D": "gldm_DependenceNonUniformityNormalized", "ngl_gl_var_3D": "gldm_GrayLevelVariance",
    "ngl_dc_var_3D": "gldm_DependenceVariance", "ngl_dc_entr_3D": "gldm_DependenceEntropy",
    "ngt_coarseness_3D": "ngtdm_Coarseness", "ngt_contrast_3D": "ngtdm_Contrast",
    "ngt_busyness_3D": "ngtdm_Busyness", "ngt_complexity_3D": "ngtdm_Complexity",
    "ngt_strength_3D": "ngtdm_Strength",
}

# Features outside IBSI tolerance, each with the PyRadiomics deviation that explains it (docstrings of
# radiomics 3.0.1, https://pyradiomics.readthedocs.io/en/v3.0.1/features.html, or its source).
PCA_NOTE = ("not in PyRadiomics' docs; radiomics/shape.py divides the coordinate covariance by N, the IBSI "
            "reference by N - 1: all three axes are sqrt(73/74) = 0.9932 x the reference (N = 74 voxels)")
DEVIATIONS = {
    "stat_kurt": "documented (firstorder Kurtosis note): PyRadiomics reports kurtosis, IBSI excess kurtosis "
                 "(PyRadiomics = IBSI + 3: 2.645 vs -0.355)",
    "morph_pca_min_axis": PCA_NOTE,
    "morph_pca_least_axis": PCA_NOTE,  # the major axis (11.33 vs 11.4 +- 0.1) stays within tolerance
}


def _within(value: float, reference: float, tolerance: float) -> bool:
    rounding = 0.5 * 10 ** (math.floor(math.log10(abs(reference))) - 2) if reference else 0.0
    return abs(value - reference) <= tolerance + rounding + 1e-12


@pytest.fixture(scope="module")
def comparison(shared_data):
    ibsi = shared_data / "ibsi"
    reference = pd.read_csv(ibsi / "ibsi_1_reference_values_digital_phantom.csv", encoding="utf-8-sig")
    reference = reference[reference.tag.isin(IBSI_TO_PYRADIOMICS)].set_index("tag")
    image = sitk.ReadImage(str(ibsi / "digital_phantom/nifti/image/phantom.nii.gz"))
    mask = sitk.ReadImage(str(ibsi / "digital_phantom/nifti/mask/mask.nii.gz"))
    features = rx.extract_roi(rx.extractor(REPO / "config/radiomics/ibsi_phantom.yaml"), image, mask)
    reference["pyradiomics"] = [features[f"original_{IBSI_TO_PYRADIOMICS[t]}"] for t in reference.index]
    reference["within"] = [_within(v, float(r), float(t)) for v, r, t in
                           zip(reference.pyradiomics, reference["reference value"], reference.tolerance)]
    return reference


def test_every_mapped_feature_has_a_reference(comparison):
    assert set(comparison.index) == set(IBSI_TO_PYRADIOMICS)


def test_in_tolerance_set_is_exactly_the_features_without_documented_deviation(comparison):
    outside = comparison[~comparison.within]
    report = outside[["reference value", "tolerance", "pyradiomics"]].to_string()
    assert set(outside.index) == set(DEVIATIONS), report
