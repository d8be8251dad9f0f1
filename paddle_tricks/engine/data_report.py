"""``data_report.json``: the image files the loader skipped when the datasets were built or replaced at load time."""
from __future__ import annotations

import os

from ..data.image_list import load_failures
from ..utils.atomic import write_json
from . import run_files

__all__ = ["DataReport"]


def _image_datasets(dataset):
    """The ``ImageListDataset``s inside ``dataset`` (unwrapping subsets)."""
    while dataset is not None:
        if hasattr(dataset, "skipped") and hasattr(dataset, "failed"):
            yield dataset
        dataset = getattr(dataset, "dataset", None)


class DataReport:
    """Collects the skipped and replaced files of a run's datasets.

    Args:
        datasets: ``{split: dataset}``.
        output_dir: the run folder (the report and the workers' failure log go there).
        warn: where the one-line summary goes.
    """

    def __init__(self, datasets: dict, output_dir: str, warn=print):
        self.datasets, self.out, self.warn = datasets, output_dir, warn

    @property
    def path(self) -> str:
        return os.path.join(self.out, run_files.DATA_REPORT)

    def start(self) -> None:
        """Point the image datasets at the failure log and write the report of the files skipped so far."""
        for split, dataset in self.datasets.items():
            for ds in _image_datasets(dataset):
                ds.failure_log = os.path.join(self.out, run_files.FAILURE_LOG)
                ds.split = ds.split or split
        report = self.collect()
        if report["skipped"]:
            write_json(report, self.path)
            self.warn(f"{len(report['skipped'])} unusable file(s) skipped; the list is in {self.path}")

    def collect(self) -> dict:
        """``{'skipped': [...], 'replaced': [...]}``: files skipped when the datasets were built, and files
        replaced at load time (failed to decode or transform), each ``{split, path, reason}``."""
        skipped, replaced, seen = [], [], set()
        for split, dataset in self.datasets.items():
            for ds in _image_datasets(dataset):
                skipped += [{"split": ds.split or split, "path": p, "reason": r} for p, r in ds.skipped]
                for p, r in ds.failed.items():
                    if p not in seen:
                        seen.add(p)
                        replaced.append({"split": ds.split or split, "path": p, "reason": r})
        for split, p, r in load_failures(os.path.join(self.out, run_files.FAILURE_LOG)):
            if p not in seen:
                seen.add(p)
                replaced.append({"split": split, "path": p, "reason": r})
        return {"skipped": skipped, "replaced": replaced}

    def finish(self) -> None:
        """Write the final report and say what it holds (nothing when every file was usable)."""
        report = self.collect()
        if not (report["skipped"] or report["replaced"]):
            return
        write_json(report, self.path)
        names = ", ".join(os.path.basename(r["path"]) for r in report["replaced"][:5])
        more = f" and {len(report['replaced']) - 5} more" if len(report["replaced"]) > 5 else ""
        self.warn(f"data: {len(report['skipped'])} file(s) skipped when the datasets were built, "
                  f"{len(report['replaced'])} replaced at load time" + (f" ({names}{more})" if names else "")
                  + f"; details in {self.path}")
