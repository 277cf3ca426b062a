"""The task set: shell tasks with seeded setups and hidden verifiers (see :mod:`.base`).

Everything here is read by the environment and its verifier, never by the agent:
the shell runs confined away from this package.
"""

from __future__ import annotations

from openenv.tasks import TaskSet

from .base import SetupWorkspace, Task
from .files import (
    ChecksumMismatch,
    CleanupTmpFiles,
    DirTree,
    FindStringFile,
    FixFailingTest,
    FixPermissions,
    LargestFile,
    RenameByPattern,
    SymlinkLatest,
    TarArchive,
)
from .git import (
    GitBisect,
    GitBranchMerge,
    GitMergeConflict,
    GitRestoreDeleted,
    GitRevert,
    GitTwoCommits,
)
from .text import (
    CommRemovedUsers,
    CountScript,
    CsvFilterEmails,
    CsvGroupSum,
    JsonExtract,
    LogTopIp,
    RegexLines,
    SedReplace,
    WordFrequency,
)

__all__ = ["TASKS", "SetupWorkspace", "Task"]

TASKS: TaskSet[Task] = TaskSet.of(
    task()
    for task in (
        GitTwoCommits,
        FindStringFile,
        FixFailingTest,
        CsvFilterEmails,
        CountScript,
        WordFrequency,
        LargestFile,
        RenameByPattern,
        DirTree,
        FixPermissions,
        SedReplace,
        GitBranchMerge,
        GitRevert,
        JsonExtract,
        TarArchive,
        ChecksumMismatch,
        RegexLines,
        LogTopIp,
        SymlinkLatest,
        CommRemovedUsers,
        CleanupTmpFiles,
        CsvGroupSum,
        GitBisect,
        GitMergeConflict,
        GitRestoreDeleted,
    )
)
