"""Remove the lock an interrupted Snakemake run left in a directory: `python -m spinestudy.unlock` (`make run`
does it first).

A run killed outright (out of memory, a lost node, a closed laptop: SIGKILL) cannot release its lock in
.snakemake/locks/, and the next run stops with "Directory cannot be locked". The lock is removed only when no
process on this machine runs Snakemake in the directory, as /proc tells (Linux); otherwise this says in one
line what to do and leaves the lock to Snakemake's own check. The jobs the killed run left unfinished are then
redone by `rerun-incomplete` (profiles/default, profiles/slurm)."""

import os
import shutil
from pathlib import Path

LOCKS = Path(".snakemake/locks")
PROC = Path("/proc")


def _ancestors() -> set[int]:
    """This process and its parents (`make`, a shell): they run Snakemake here only after this returns."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        stat = (PROC / str(pid) / "stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state, past a name with spaces
    return pids


def snakemake_processes(directory: Path) -> list[int]:
    """Processes of this machine, other than this one and its parents, whose command line mentions snakemake and
    whose working directory is `directory` (Snakemake and its jobs run there), or cannot be read (they may)."""
    directory, ours, found = directory.resolve(), _ancestors(), []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            if b"snakemake" not in (entry / "cmdline").read_bytes().lower():
                continue
            if (entry / "cwd").resolve(strict=True) != directory:
                continue
        except (FileNotFoundError, ProcessLookupError):
            continue  # gone meanwhile
        except PermissionError:
            pass  # another user's Snakemake: it may run here
        found.append(int(entry.name))
    return sorted(found)


def release(directory: Path) -> str | None:
    """Remove `directory`'s Snakemake lock if nothing can hold it; the one line to show, None without a lock."""
    locks = directory / LOCKS
    if not any(locks.glob("*.lock")):
        return None
    if not PROC.is_dir():
        return (f"{directory} holds the lock of an earlier Snakemake run: if no run is going on there, "
                "`snakemake --unlock` removes it")
    running = snakemake_processes(directory)
    if running:
        return (f"{directory} is locked and Snakemake runs there (pid {', '.join(map(str, running))}): wait for it "
                "to finish, or stop it and run again")
    shutil.rmtree(locks)
    return f"removed the lock an interrupted Snakemake run left in {directory} (no Snakemake process runs there)"


if __name__ == "__main__":
    message = release(Path.cwd())
    if message:
        print(message)
