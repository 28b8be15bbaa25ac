"""Lumbar levels, endplates, sequences and the label table shared by every stage.

Label values (used by the demo label maps and the default config):
  vertebral bodies  L1..S1                 -> 1..6
  discs             L1-L2..L5-S1           -> 11..15
  Modic lesions     upper endplate of level i (inferior endplate of the upper vertebra) -> 20 + i
                    lower endplate of level i (superior endplate of the lower vertebra) -> 30 + i
with i = 1 for L1-L2 ... 5 for L5-S1.
"""

VERTEBRAE = ("L1", "L2", "L3", "L4", "L5", "S1")
LEVELS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
ENDPLATES = ("upper", "lower")  # upper = inferior endplate of the cranial vertebra
SEQUENCES = ("T1", "T2", "STIR")


def endplate_vertebra(level: str, endplate: str) -> str:
    """Name the vertebral endplate behind a level's upper or lower endplate, e.g. 'L5 superior'."""
    upper, lower = level.split("-")
    return f"{upper} inferior" if endplate == "upper" else f"{lower} superior"


def label_table() -> dict[int, str]:
    """Label value -> structure name, for every structure the demo label maps carry."""
    table = {i + 1: f"{v} vertebral body" for i, v in enumerate(VERTEBRAE)}
    for i, level in enumerate(LEVELS, start=1):
        table[10 + i] = f"{level} disc"
        table[20 + i] = f"{endplate_vertebra(level, 'upper')} endplate Modic lesion"
        table[30 + i] = f"{endplate_vertebra(level, 'lower')} endplate Modic lesion"
    return table


def modic_label(level: str, endplate: str) -> int:
    """Label value of the Modic lesion at a level's upper or lower endplate."""
    i = LEVELS.index(level) + 1
    return (20 if endplate == "upper" else 30) + i
