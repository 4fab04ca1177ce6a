"""The import report: counts and problems (line number, field, reason), JSON-serialisable for ImportJob.report."""

from dataclasses import asdict, dataclass, field

# An admin page or a JSON column should not hold a million problems: keep the first ones and count the rest.
MAX_PROBLEMS = 2000
# File and entry names in problems are cut to this many characters (a zip entry name can be 64 KiB long).
DISPLAY_NAME_CHARS = 100


def shorten(name: str, limit: int = DISPLAY_NAME_CHARS) -> str:
    """`name` cut in the middle to at most `limit` characters, keeping its start and its extension visible."""
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 3
    return f"{name[: limit - 1 - tail]}…{name[-tail:]}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: `line` is the CSV line number (None for files or zip entries)."""

    line: int | None
    field: str
    reason: str
    external_id: str = ""
    # "error": the row (or file) was not stored; "warning": stored, with something dropped or converted.
    level: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        ident = f" (id {self.external_id})" if self.external_id else ""
        return f"{where}{ident}, {self.field}: {self.reason} [{self.level}]"


@dataclass
class ImportReport:
    """What an import did: row counts, image counts and the problems found."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    deactivated: int = 0
    images_stored: int = 0
    images_failed: int = 0
    images_scheduled: int = 0
    total_rows: int = 0
    layout: str = ""
    problems: list[Problem] = field(default_factory=list)
    problems_dropped: int = 0

    def add(self, problem: Problem) -> None:
        """Record a problem, keeping at most MAX_PROBLEMS of them."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.problems_dropped += 1

    @property
    def processed(self) -> int:
        """Rows accounted for so far."""
        return self.created + self.updated + self.unchanged + self.skipped + self.failed

    def summary(self) -> str:
        """One line with the counts."""
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, skipped {self.skipped}, "
            f"failed {self.failed}, deactivated {self.deactivated}; images stored {self.images_stored}, "
            f"images failed {self.images_failed}, queued for embedding {self.images_scheduled}"
        )

    def to_dict(self) -> dict:
        """The report as plain JSON data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        """Rebuild a report stored with to_dict()."""
        values = dict(data)
        values["problems"] = [Problem(**p) for p in values.get("problems", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})
