"""The files of one patient as a hospital sends them: a folder (symbolic links followed, loops guarded), ZIP
archives inside it, or the whole patient as one ZIP archive at the centre root.

Each file is named in the outputs by a keyed label ("file 3fa2c1d9e0"), never by its path: folder and file
names often carry patient names, birth dates or record numbers. The lookup from label to path is written
outside results/ so that a user can find the file.
"""

import gzip
import hmac
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import pandas as pd

LOOKUP_COLUMNS = ["centre", "patient", "file", "path"]
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Item:
    label: str  # keyed label for outputs, e.g. "file 3fa2c1d9e0"
    path: str  # where it is (ZIP members as archive!member), for the local lookup only
    archive: Path | None = None  # the ZIP archive holding the member, or None for a plain file
    member: str = ""

    def open(self):
        """A binary file object: the file itself, or the ZIP member read into memory; gzip-compressed content
        (a `.dcm.gz`, or a `.dcm` that is gzip inside) is inflated in memory."""
        if self.archive is None:
            fh = open(self.path, "rb")
        else:
            with zipfile.ZipFile(self.archive) as archive:
                fh = io.BytesIO(archive.read(self.member))
        if fh.read(2) != GZIP_MAGIC:
            fh.seek(0)
            return fh
        with fh:
            try:
                return io.BytesIO(gzip.decompress(GZIP_MAGIC + fh.read()))
            except (EOFError, OSError, zlib.error) as exc:  # truncated or damaged gzip stream
                raise gzip.BadGzipFile(f"gzip-compressed content that cannot be inflated ({exc})") from None


@dataclass(frozen=True)
class Skipped:
    label: str
    path: str
    reason: str


def label(key: bytes, patient: str, relative: str) -> str:
    """Keyed label of a file: stable for a key, meaningless without it."""
    return "file " + hmac.new(key, f"{patient}/{relative}".encode(), sha256).hexdigest()[:10]


def walk(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files under folder, following symbolic links; and the paths not read, with the reason (a folder reached
    a second time, e.g. through a link loop, or a broken link)."""
    files, skipped, seen = [], [], {os.path.realpath(folder)}
    for root, dirs, names in os.walk(folder, followlinks=True):
        for d in sorted(dirs):
            real = os.path.realpath(os.path.join(root, d))
            if real in seen:
                skipped.append((Path(root, d), "folder already read through another path (a symbolic link loop "
                                               "or a second link): not read again"))
                dirs.remove(d)
            else:
                seen.add(real)
        for n in names:
            path = Path(root, n)
            if path.is_file():
                files.append(path)
            else:
                skipped.append((path, "broken symbolic link: not read"))
    return sorted(files), sorted(skipped)


def _zip_items(archive: Path, shown: str, key: bytes, patient: str) -> Iterator[Item | Skipped]:
    try:
        with zipfile.ZipFile(archive) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        yield Skipped(label(key, patient, shown), str(archive), f"unreadable ZIP archive ({type(exc).__name__})")
        return
    for info in sorted(infos, key=lambda i: i.filename):
        name = f"{shown}!{info.filename}"
        tag, where = label(key, patient, name), f"{archive}!{info.filename}"
        if info.flag_bits & 0x1:
            yield Skipped(tag, where, "encrypted ZIP member: not read")
        elif info.filename.lower().endswith(".zip"):
            yield Skipped(tag, where, "ZIP archive inside a ZIP archive: not read (unpack the outer archive)")
        else:
            yield Item(tag, where, archive, info.filename)


def items(source: Path, key: bytes, patient: str) -> tuple[list[Item], list[Skipped]]:
    """Every file of a patient source (folder or ZIP archive), with the links and archive members not read."""
    source = Path(source)
    if source.is_file():
        found = list(_zip_items(source, source.suffix, key, patient))
    else:
        files, not_read = walk(source)
        found = [Skipped(label(key, patient, p.relative_to(source).as_posix()), str(p), why) for p, why in not_read]
        for path in files:
            rel = path.relative_to(source).as_posix()
            if zipfile.is_zipfile(path):
                found += _zip_items(path, rel, key, patient)
            else:
                found.append(Item(label(key, patient, rel), str(path)))
    return [i for i in found if isinstance(i, Item)], [s for s in found if isinstance(s, Skipped)]


def lookup(centre: str, patient: str, entries: list[Item | Skipped]) -> pd.DataFrame:
    """Label -> path table of a patient's files, for the local log (never under results/)."""
    return pd.DataFrame([(centre, patient, e.label, e.path) for e in entries], columns=LOOKUP_COLUMNS)
