"""Batch generation: bounded concurrency, download on arrival, a manifest to resume from, clean stops.

The manifest (``DIR/manifest.jsonl``) has one line per finished item, written
in one append once its images are saved. A run first reads it back, keeps the
items that are done and whose files still exist, and rewrites it atomically
without the rest (failed items, a line cut short by a kill), so that a resumed
run ends with exactly one line per item; it also removes temporary files a
killed run left behind. Images are written atomically by
``download``, under names derived from the item, so a retry overwrites rather
than duplicates.

An item whose images were generated but could not be saved (a download
failed) is recorded as failed *with its URLs*; the next run downloads those
URLs again before paying for a new generation, and generates anew only if they
no longer answer (the platform's URLs expire after 30 days).

First Ctrl-C (or SIGTERM): start nothing new, let in-flight items finish and be
recorded. Second Ctrl-C: cancel them; their temporary files are removed and
they are simply not recorded, so the next run does them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from .._async_client import AsyncImagesClient
from .._download import TEMP_PREFIX
from .._exceptions import APIError, ImagesError
from .._results import ContentFilter, GeneratedImage, ImagesResult
from ._inputs import BatchItem

MANIFEST = "manifest.jsonl"


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The manifest's complete records; a line cut short by a kill is ignored."""
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "key" in record:
                records.append(record)
    return records


@frozen
class PreviousRun:
    """What earlier runs left: items done (files present) and items generated but not saved."""

    done: dict[str, dict[str, Any]]
    unsaved: dict[str, dict[str, Any]]


def previous_run(out: Path) -> PreviousRun:
    """Read the manifest back; rewrite it to hold only the items that are done."""
    out.mkdir(parents=True, exist_ok=True)
    # A killed run (SIGKILL, power loss) cannot remove its temporary files; this run does.
    for stale in [*out.glob(f"{TEMP_PREFIX}*.part"), *out.glob(".manifest-*.part")]:
        stale.unlink(missing_ok=True)
    path = out / MANIFEST
    latest = {record["key"]: record for record in read_manifest(path)}
    done = {
        key: record
        for key, record in latest.items()
        if record.get("status") == "done" and all((out / name).is_file() for name in record.get("files", []))
    }
    unsaved = {
        key: record
        for key, record in latest.items()
        if key not in done and record.get("urls") and (record.get("error") or {}).get("type") == "DownloadError"
    }
    if path.exists():
        fd, temp = tempfile.mkstemp(dir=out, prefix=".manifest-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in done.values())
        os.replace(temp, path)
    return PreviousRun(done=done, unsaved=unsaved)


def _recorded_result(item: BatchItem, record: dict[str, Any]) -> ImagesResult:
    """The images an earlier run generated and recorded but could not save."""
    return ImagesResult(
        created=None,
        images=tuple(GeneratedImage(url=url) for url in record["urls"]),
        content_filter=tuple(ContentFilter(*note) for note in record.get("content_filter", [])),
        request=item.request,
        request_ids=tuple(record.get("request_ids", [])),
    )


@define
class Summary:
    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: list[dict[str, Any]] = field(factory=list)
    not_started: int = 0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started and not self.interrupted


def _record(item: BatchItem, status: str, files: list[str], result: ImagesResult | None) -> dict[str, Any]:
    return {
        "key": item.key,
        "line": item.line,
        "status": status,
        "prompt": item.request.prompt,
        "params": {k: v for k, v in item.params.items() if v is not None},
        "request": {"model": item.request.model, "size": item.request.size, "quality": item.request.quality},
        "files": files,
        "urls": [image.url for image in result.images if image.url] if result else [],
        "content_filter": [list(note) for note in result.content_filter] if result else [],
        "request_ids": list(result.request_ids) if result else [],
        "finished_at": int(time.time()),
    }


async def run_batch(
    items: list[BatchItem], out: Path, client: AsyncImagesClient, concurrency: int, *, progress: bool
) -> Summary:
    from tqdm import tqdm

    previous = previous_run(out)
    todo = [item for item in items if item.key not in previous.done]
    summary = Summary(total=len(items), skipped=len(items) - len(todo))
    stopping = asyncio.Event()
    slots = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(todo), unit="item", desc="batch", disable=not progress, dynamic_ncols=True, file=sys.stderr)

    async def save(item: BatchItem, result: ImagesResult) -> tuple[list[str], ImagesError | None]:
        """Save every image it can; the names saved, and the first error if one could not be."""
        names: list[str] = []
        for index, image in enumerate(result.images):
            try:
                names.append((await client.download(image, out, filename=f"{item.key}-{index}")).name)
            except ImagesError as error:
                return names, error
        return names, None

    async def generate_and_save(item: BatchItem) -> tuple[ImagesResult | None, list[str], ImagesError | None]:
        if item.key in previous.unsaved:  # paid for by an earlier run: fetch before paying again
            recorded = _recorded_result(item, previous.unsaved[item.key])
            files, error = await save(item, recorded)
            if error is None:
                return recorded, files, None
        request = item.request
        try:
            result = await client.generate(request.prompt, model=request.model, **request.parameters())
        except ImagesError as error:
            partial = error.partial_result  # images that did succeed were paid for: keep them
            return partial, (await save(item, partial))[0] if partial else [], error
        files, unsaved = await save(item, result)
        return result, files, unsaved

    with (out / MANIFEST).open("a", encoding="utf-8") as manifest:

        def append(record: dict[str, Any]) -> None:
            manifest.write(json.dumps(record, ensure_ascii=False) + "\n")
            manifest.flush()

        async def run_one(item: BatchItem) -> None:
            async with slots:
                if stopping.is_set():
                    summary.not_started += 1
                    return
                result, files, failure = await generate_and_save(item)
                record = _record(item, "done" if failure is None else "failed", files, result)
                if failure is None:
                    summary.done += 1
                else:
                    record["error"] = {
                        "type": type(failure).__name__,
                        "code": failure.code if isinstance(failure, APIError) else None,
                        "message": str(failure),
                    }
                    summary.failed.append(record)
                append(record)
                bar.update(1)
                bar.set_postfix(done=summary.done, failed=len(summary.failed), refresh=False)

        tasks = [asyncio.create_task(run_one(item)) for item in todo]
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            summary.interrupted = True
            if stopping.is_set():
                for task in tasks:
                    task.cancel()
                return
            stopping.set()
            print("\nstopping: finishing in-flight items (Ctrl-C again to abort them)", file=sys.stderr)

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or no signals here
                loop.add_signal_handler(sig, on_signal)
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            bar.close()
    summary.not_started += sum(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    return summary
