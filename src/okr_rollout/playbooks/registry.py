"""Every playbook found in the playbook directories, by (id, version).

Several versions of one playbook live side by side, each in its own file (``standard.yaml``,
``standard/v2.yaml``, ...): the ``version`` field inside the file is what counts, not the file's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from okr_rollout.playbooks.loader import LoadedPlaybook, PlaybookError, PlaybookInvalid, load


class UnknownPlaybook(LookupError):
    def __init__(self, playbook_id: str, version: int | None) -> None:
        self.playbook_id = playbook_id
        self.version = version
        wanted = playbook_id if version is None else f"{playbook_id} version {version}"
        super().__init__(f"no playbook {wanted}")


class PlaybookRegistry:
    def __init__(self, playbooks: Iterable[LoadedPlaybook]) -> None:
        self._by_key: dict[tuple[str, int], LoadedPlaybook] = {}
        errors: list[PlaybookError] = []
        for playbook in playbooks:
            key = (playbook.id, playbook.version)
            if key in self._by_key:
                errors.append(
                    PlaybookError(
                        playbook.source, 1, 1, "version",
                        f"playbook {playbook.id} version {playbook.version} is also defined in "
                        f"{self._by_key[key].source}",
                    )
                )
            self._by_key[key] = playbook
        if errors:
            raise PlaybookInvalid(errors)

    @classmethod
    def from_directory(cls, directory: str | Path) -> PlaybookRegistry:
        return cls.from_directories([directory])

    @classmethod
    def from_directories(cls, directories: Iterable[str | Path | None]) -> PlaybookRegistry:
        """Every playbook file under each directory (``None`` entries are skipped: an unset setting).

        One (id, version) defined in two files is an error naming both, whichever directories they are in.
        """
        files: list[Path] = []
        for directory in directories:
            if directory is None:
                continue
            root = Path(directory)
            if not root.is_dir():
                raise PlaybookInvalid([PlaybookError(str(root), 0, 0, "<directory>",
                                                     f"no such playbook directory: {root}")])
            files += sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.yml"))
        loaded: list[LoadedPlaybook] = []
        errors: list[PlaybookError] = []
        for file in files:
            try:
                loaded.append(load(file))
            except PlaybookInvalid as invalid:
                errors.extend(invalid.errors)
        if errors:
            raise PlaybookInvalid(errors)
        return cls(loaded)

    def get(self, playbook_id: str, version: int | None = None) -> LoadedPlaybook:
        if version is None:
            versions = self.versions(playbook_id)
            if not versions:
                raise UnknownPlaybook(playbook_id, None)
            version = versions[-1]
        try:
            return self._by_key[(playbook_id, version)]
        except KeyError:
            raise UnknownPlaybook(playbook_id, version) from None

    def versions(self, playbook_id: str) -> list[int]:
        return sorted(version for (pid, version) in self._by_key if pid == playbook_id)

    def ids(self) -> list[str]:
        return sorted({pid for pid, _ in self._by_key})

    def all(self) -> list[LoadedPlaybook]:
        return [self._by_key[key] for key in sorted(self._by_key)]

    def find(self, playbook_id: str, version: int) -> LoadedPlaybook | None:
        return self._by_key.get((playbook_id, version))
