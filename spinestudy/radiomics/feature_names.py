"""Which columns of a feature table are radiomics features, and what their names say: a feature column is
'{sequence}_{imagetype}_{class}_{feature}' (radiomics.extract names them so)."""

import pandas as pd

from spinestudy.radiomics.extract import KEYS


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Radiomics feature columns '{sequence}_{imagetype}_{class}_{feature}' of a feature table."""
    return [c for c in frame.columns if c not in KEYS and c.count("_") >= 3]


def split_name(column: str) -> dict:
    """Sequence, image type, feature class and feature name of a feature column."""
    return dict(zip(("sequence", "image_type", "feature_class", "feature_name"), column.split("_", 3)))
