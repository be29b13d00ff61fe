"""Batch generation: a bounded pool of workers over a stream of items, nothing paid twice, clean stops.

Memory does not grow with the input: the items are read from the file as the
workers take them (through a queue of a few items), and the manifest is read
back as offsets, not records (``_manifest``).

Money first:

- an item whose model has the task API (glm-image) is submitted as a task by
  default: its task id is recorded (a ``submitted`` record) the moment the
  submission is answered, before it is polled, so no kill, signal or broken
  connection while the platform generates loses what was paid for. A run first
  waits for every task an earlier run recorded, and submits anew only for a
  task that ended ``FAIL``, that the platform does not know, or whose image URL
  has expired. A task holds one of the batch's slots until it is done: the
  platform counts processing tasks against the account's concurrency;
- the image URLs of an answer are recorded (a ``generated`` record) the moment
  it arrives, before anything is downloaded; a later run fetches recorded URLs
  before generating, and an ``n > 1`` item that kept some images generates only
  the missing ones. It generates anew only for a URL that no longer answers
  (404/410, as after the platform's 30 days);
- an error of the account (no balance, a rejected key, a quota: ``scope ==
  "account"``) stops the batch: nothing new starts, in-flight items finish,
  the rest are counted as not started, and one message names the cause;
- a full disk (``scope == "disk"``, or the manifest cannot be written) stops it
  too, keeping the URLs of what was paid for but not saved;
- rate limits (1302/1305) are waited out with backoff, up to
  ``rate_limit_wait`` seconds per item, rather than failing the item.

Generation requests are capped (``batch.slots`` and the client's
``max_concurrency``); there are three times as many workers, so that downloads,
which go to the image host, and waits to retry hold none of the account's
generation slots.

At the end, ``index.html`` beside the images shows every item in input order
(``_contact_sheet``).

First Ctrl-C (or SIGTERM, or SIGHUP): start nothing new, let in-flight items finish and be
recorded. Second Ctrl-C: cancel them; their temporary files are removed, and
what they were paid for is in the manifest already.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Container, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from attrs import define, field

from .._async_client import AsyncImagesClient
from .._client import merge
from .._exceptions import APIError, DownloadError, ImagesError, RateLimitError, TaskFailedError, TaskNotFoundError
from .._results import GeneratedImage, ImagesResult
from .._retry import RetryPolicy
from ._contact_sheet import SHEET, sweep_contact_sheet, write_contact_sheet
from ._download_loop import DownloadLoop
from ._inputs import BatchItem, InputChanged, ItemSource
from ._manifest import MANIFEST, Appender, LineMarks, PreviousRun, drop_lines, previous_run, saved_files

#: Failures kept for the summary table (all are counted, and all are in the manifest).
SHOWN_FAILURES = 1000
#: Download answers after which a recorded URL is given up and the image generated anew.
EXPIRED_STATUSES = frozenset({403, 404, 410})
#: Module-level so tests can observe the waits without waiting.
_sleep = asyncio.sleep
_T = TypeVar("_T")
#: The client's own retry policy, applied by the batch (whose client does not retry: see ``_generate``).
RETRY = RetryPolicy()
#: Stop signals: Ctrl-C, a service manager's stop, a closed terminal or a dropped ssh session.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How long one item waits for its task before it is failed (its task id stays recorded for the next run).
TASK_WAIT = 3600.0


@define
class Summary:
    total: int = 0
    skipped: int = 0
    #: items an earlier run's content filter refused (1301), not sent again (``retry_filtered``)
    filtered: int = 0
    done: int = 0
    failed: int = 0
    #: the first ``SHOWN_FAILURES`` failed records, for the table
    failures: list[dict[str, Any]] = field(factory=list)
    not_started: int = 0
    interrupted: bool = False
    #: why the batch stopped early: an account-level error, or the disk
    stopped_by: ImagesError | None = None
    #: (manifest line, problem) for each manifest line that was skipped
    manifest_problems: list[tuple[int, str]] = field(factory=list)
    #: URLs of paid images that could be recorded nowhere (the disk was full)
    unrecorded_urls: list[str] = field(factory=list)
    #: the contact sheet (``index.html``) written at the end, or why it could not be
    contact_sheet: Path | str | None = None

    @property
    def ok(self) -> bool:
        return not (self.failed or self.filtered or self.not_started or self.interrupted or self.stopped_by)


def image_name(item: BatchItem, index: int) -> str:
    """The file name (without extension) of an item's image: its input line first, for people."""
    return f"L{item.line:06d}-{item.key}-{index}"


def _record(
    item: BatchItem,
    status: str,
    urls: list[str],
    files: dict[int, str],
    result: ImagesResult | None,
    tasks: list[str] | None = None,
) -> dict[str, Any]:
    record = {
        "key": item.key,
        "line": item.line,
        "status": status,
        "prompt": item.request.prompt,
        "params": {k: v for k, v in item.params.items() if v is not None},
        "request": {"model": item.request.model, "size": item.request.size, "quality": item.request.quality},
        "files": [files[i] for i in sorted(files)],
        "urls": urls,
        "content_filter": [list(note) for note in result.content_filter] if result else [],
        "request_ids": list(result.request_ids) if result else [],
        "finished_at": int(time.time()),
    }
    if tasks and any(tasks):
        record["tasks"] = tasks
    return record


def _error_entry(error: ImagesError) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "code": error.code if isinstance(error, APIError) else None,
        "message": str(error),
    }


class _Retries:
    """One item's retries and the seconds it waited, counted apart for rate limits and for other failures:
    waiting out 1302s used up the quick retries of the rest, and with 5% faults about one item in ten thousand
    failed after 1302, 500, dropped connection."""

    def __init__(self, decide: Callable[[ImagesError, int, float], float | None]) -> None:
        self._decide = decide  # (error, retries so far, seconds waited so far) -> the next wait, or None
        self._attempts = {"rate limits": 0, "other failures": 0}
        self._waits = {"rate limits": 0.0, "other failures": 0.0}
        self._kind = "other failures"

    def delay(self, error: ImagesError) -> float | None:
        """Seconds before the next attempt after ``error``, or None to give up."""
        self._kind = "rate limits" if isinstance(error, RateLimitError) else "other failures"
        return self._decide(error, self._attempts[self._kind], self._waits[self._kind])

    def waited(self, delay: float) -> None:
        self._attempts[self._kind] += 1
        self._waits[self._kind] += delay


class NotStarted(Exception):
    """The batch stopped before this item's request was sent: it is simply not recorded."""


class _Batch:
    """One run: the workers' shared state."""

    def __init__(
        self,
        out: Path,
        client: AsyncImagesClient,
        previous: PreviousRun,
        summary: Summary,
        concurrency: int,
        rate_limit_wait: float,
        allow_unknown_model: bool,
        use_tasks: bool = True,
    ) -> None:
        self.out = out
        self.use_tasks = use_tasks
        self.client = client
        self.previous = previous
        self.summary = summary
        self.rate_limit_wait = rate_limit_wait
        self.allow_unknown_model = allow_unknown_model
        self.stopping = asyncio.Event()
        self.concurrency = concurrency
        self.slots = asyncio.Semaphore(concurrency)
        self.manifest = Appender(out / MANIFEST, previous.line_count)
        self.downloads = DownloadLoop(client)
        #: manifest lines a later record of their item replaced (dropped at the end): a bit per line
        self.superseded = LineMarks()

    def stop(self, reason: ImagesError) -> None:
        if self.summary.stopped_by is None:
            self.summary.stopped_by = reason
        self.stopping.set()

    def append(self, record: dict[str, Any], supersedes: list[int]) -> int | None:
        """Record, and note that the lines at ``supersedes`` are out of date once this one is in (the end of
        the run drops them). On a full disk, stop the batch and keep the record's URLs for the summary."""
        try:
            line = self.manifest.append(record)
        except OSError as error:
            failure = DownloadError(f"cannot write {self.out / MANIFEST}: {error.strerror or error}")
            failure.scope = "disk"
            self.stop(failure)
            self.summary.unrecorded_urls.extend(url for url in record["urls"] if url)
            return None
        for index in supersedes:
            self.superseded.add(index)
        return line

    async def run_one(self, item: BatchItem) -> None:
        pending = self.previous.pending.get(item.key)
        urls = list(pending.urls) if pending else []
        tasks = list(pending.tasks) if pending else []
        files = saved_files(self.out, pending) if pending else {}
        result: ImagesResult | None = None
        earlier = self.previous.pending_lines.get(item.key)
        outdated = [] if earlier is None else [earlier]  # this item's lines the next record replaces
        error = await self._fetch_recorded(item, urls, files, tasks)
        missing = [i for i in range(item.request.n) if i not in files and (i >= len(urls) or not urls[i])]
        if error is None and missing:
            if self._by_task(item):
                result, error = await self._generate_by_tasks(item, missing, urls, files, tasks, outdated)
            else:
                result, error = await self._generate(item, len(missing))
            if result is not None:  # paid for: recorded before anything is downloaded
                for index, image in zip(missing, result.images, strict=False):
                    _place(urls, index, image.url or "")
                generated = self.append(_record(item, "generated", urls, files, result, tasks), outdated)
                outdated = [] if generated is None else [generated]
                for index, image in zip(missing, result.images, strict=False):
                    if self._disk_full():
                        error = error or self.summary.stopped_by
                        break
                    saved = await self._save(item, index, image)
                    if isinstance(saved, str):
                        files[index] = saved
                    elif error is None:
                        error = saved
        if error is None and len(files) < item.request.n:
            error = ImagesError(f"{len(files)} of {item.request.n} images were generated and saved")
        self._finish(item, urls, files, result, error, outdated, tasks)

    def _disk_full(self) -> bool:
        return self.summary.stopped_by is not None and self.summary.stopped_by.scope == "disk"

    async def _fetch_recorded(
        self, item: BatchItem, urls: list[str], files: dict[int, str], tasks: list[str]
    ) -> ImagesError | None:
        """Save what an earlier run paid for and recorded; a URL that no longer answers is cleared for a new one
        (and so is the task that made it: its result holds the same URL)."""
        for index, url in enumerate(urls):
            if index in files or not url:
                continue
            saved = await self._save(item, index, GeneratedImage(url=url))
            if isinstance(saved, str):
                files[index] = saved
            elif saved.scope == "disk":
                return saved
            elif isinstance(saved, DownloadError) and saved.status_code in EXPIRED_STATUSES:
                urls[index] = ""  # expired: generated anew
                if index < len(tasks):
                    tasks[index] = ""
            else:
                return saved  # the host may be down for now: keep the URL for the next run
        return None

    async def _generate(self, item: BatchItem, count: int) -> tuple[ImagesResult | None, ImagesError | None]:
        """Generate ``count`` images of ``item``; what was paid for, and the error if it fell short.

        The retries are here, not in the client (whose ``max_retries`` is 0): a wait to retry holds no
        generation slot, so other items keep the account's slots busy meanwhile. Each attempt takes one of
        the batch's slots and checks, once it has one, that the batch is not stopping: after an account
        error, items waiting for a slot send nothing. An ``n > 1`` item keeps the images an attempt got and
        asks only for the rest.
        """
        request = item.request
        paid: list[ImagesResult] = []
        retries = _Retries(self._after_failure)
        while True:
            wanted = count - sum(len(result.images) for result in paid)
            parameters = request.parameters() | {"n": wanted, "allow_unknown_model": self.allow_unknown_model}
            async with self.slots:
                if self.stopping.is_set():
                    if not paid:
                        raise NotStarted
                    return merge(paid, request), self.summary.stopped_by or ImagesError("stopped before every image")
                try:
                    paid.append(await self.client.generate(request.prompt, model=request.model, **parameters))
                    return merge(paid, request), None
                except ImagesError as error:
                    if error.partial_result is not None:  # images that did succeed were paid for: keep them
                        paid.append(error.partial_result)
                    delay = retries.delay(error)
                    if delay is None:
                        return (merge(paid, request) if paid else None), error
            await self._pause(delay)  # without a slot: others may use it meanwhile
            retries.waited(delay)

    def _by_task(self, item: BatchItem) -> bool:
        from .._tasks import task_models

        return self.use_tasks and item.request.model in task_models()

    async def _generate_by_tasks(
        self,
        item: BatchItem,
        missing: list[int],
        urls: list[str],
        files: dict[int, str],
        tasks: list[str],
        outdated: list[int],
    ) -> tuple[ImagesResult | None, ImagesError | None]:
        """The ``missing`` images of ``item``, a task each: a task an earlier run recorded is waited for, the others
        are submitted, and each id is recorded (``submitted``) before it is sent."""

        def submitted(task_id: str, index: int) -> None:
            _place(tasks, index, task_id)
            line = self.append(_record(item, "submitted", urls, files, None, tasks), outdated)
            outdated[:] = [] if line is None else [line]

        outcomes = await asyncio.gather(
            *(self._task_image(item, index, tasks, submitted) for index in missing), return_exceptions=True
        )
        results: list[ImagesResult] = []
        error: ImagesError | None = None
        for outcome in outcomes:
            if isinstance(outcome, ImagesResult):
                results.append(outcome)
            elif isinstance(outcome, ImagesError):
                error = error or outcome
            elif isinstance(outcome, NotStarted):
                error = error or self.summary.stopped_by or ImagesError("stopped before every image")
            elif isinstance(outcome, BaseException):
                raise outcome
        if not results and all(isinstance(o, NotStarted) for o in outcomes):
            raise NotStarted
        # the images in the order of `missing`: a failed one leaves its place empty
        images = []
        for index, outcome in zip(missing, outcomes, strict=True):
            if isinstance(outcome, ImagesResult):
                images.append(outcome.images[0])
            else:
                images.append(GeneratedImage(url=urls[index] if index < len(urls) else None))
        if not results:
            return None, error
        merged = merge(results, item.request)
        return ImagesResult(
            created=merged.created,
            images=tuple(images),
            content_filter=merged.content_filter,
            request=item.request,
            request_ids=merged.request_ids,
        ), error

    async def _task_image(self, item: BatchItem, index: int, tasks: list[str], submitted: Any) -> ImagesResult:
        """One image by the task API, holding a slot from its submission until its task is done."""
        request = item.request
        retries = _Retries(self._after_failure)
        while True:
            async with self.slots:
                task_id = tasks[index] if index < len(tasks) else ""
                if task_id:
                    return await self._waited(task_id, index, tasks)
                if self.stopping.is_set():
                    raise NotStarted
                # Recorded before it is sent: killed before the answer arrives, the next run asks for the task by
                # this id (the platform takes it as the task's request id) instead of paying again.
                request_id = uuid.uuid4().hex
                submitted(request_id, index)
                try:
                    task = await self.client.submit(
                        request.prompt,
                        model=request.model,
                        size=request.size,
                        quality=request.quality,
                        user_id=request.user_id,
                        watermark_enabled=request.watermark_enabled,
                        request_id=request_id,
                    )
                except ImagesError as error:
                    if error.may_be_billed:  # it may have been accepted: look for it rather than pay again
                        return await self._waited(request_id, index, tasks)
                    tasks[index] = ""
                    delay = retries.delay(error)
                    if delay is None:
                        raise
                else:
                    if task.id != request_id:
                        submitted(task.id, index)
                    return await self._waited(task, index, tasks)
            await self._pause(delay)  # without a slot: others may use it meanwhile
            retries.waited(delay)

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds, or less: a stop signal ends the wait (a container's grace is short)."""
        await self._until_stopped(_sleep(delay))

    async def _until_stopped(self, work: Coroutine[Any, Any, _T]) -> _T | None:
        """``work``'s outcome, or None once the batch is stopping (``work`` is then cancelled)."""
        if self.stopping.is_set():
            work.close()
            return None
        running, stop = asyncio.ensure_future(work), asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not running.done():
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        return running.result() if not running.cancelled() else None

    async def _waited(self, task: Any, index: int, tasks: list[str]) -> ImagesResult:
        """The task's images. A stop signal ends the wait at once: the task id is recorded, and the next run
        fetches what it made (nothing to finish here, and a container's grace is short)."""
        try:
            result = await self._until_stopped(self.client.wait(task, timeout=TASK_WAIT))
        except (TaskFailedError, TaskNotFoundError):
            tasks[index] = ""  # nothing more can come of it: the next run submits it anew
            raise
        except ImagesError as error:
            if error.scope == "account":
                self.stop(error)
            raise
        if result is None:
            raise NotStarted
        return result

    def _after_failure(self, error: ImagesError, attempt: int, waited: float) -> float | None:
        """After a failed attempt: stop the batch on an account's error; else the wait before the next, or None."""
        if error.scope == "account":
            self.stop(error)
            return None
        return self._retry_delay(error, attempt, waited)

    async def collect_recorded_tasks(self) -> None:
        """Wait for every task an earlier run recorded without its image URL, before anything new is submitted:
        each one's URL is recorded (``generated``) the moment it is known; a task that failed or that the platform
        does not know is cleared, so that its item is submitted anew."""
        waiting = [
            (key, index, task_id)
            for key, record in self.previous.pending.items()
            for index, task_id in enumerate(record.tasks)
            if task_id and (index >= len(record.urls) or not record.urls[index])
        ]
        queue: asyncio.Queue[tuple[str, int, str]] = asyncio.Queue()
        for entry in waiting:
            queue.put_nowait(entry)

        async def collect() -> None:
            while not queue.empty() and not self.stopping.is_set():
                key, index, task_id = queue.get_nowait()
                async with self.slots:
                    try:
                        result = await self._until_stopped(self.client.wait(task_id, timeout=TASK_WAIT))
                    except (TaskFailedError, TaskNotFoundError):
                        self._recorded_task(key, index, None)
                    except ImagesError as error:
                        if error.scope == "account":
                            self.stop(error)
                    else:
                        if result is not None:  # (None: stopping; it stays recorded for the next run)
                            self._recorded_task(key, index, result.images[0].url or "")

        await asyncio.gather(*(collect() for _ in range(min(len(waiting), self.concurrency))))

    def _recorded_task(self, key: str, index: int, url: str | None) -> None:
        """Note what came of a recorded task: its URL (recorded at once), or None (cleared, to be submitted anew)."""
        import attrs

        record = self.previous.pending[key]
        tasks, urls = list(record.tasks), list(record.urls)
        if url is None:
            tasks[index] = ""
        else:
            _place(urls, index, url)
        self.previous.pending[key] = attrs.evolve(record, tasks=tasks, urls=urls)
        if url is None:
            return
        earlier = self.previous.pending_lines.get(key)
        entry = {"key": key, "line": record.line, "status": "generated", "files": record.files, "urls": urls}
        line = self.append(
            {**entry, "tasks": tasks, "finished_at": int(time.time())}, [] if earlier is None else [earlier]
        )
        if line is not None:
            self.previous.pending_lines[key] = line

    def _retry_delay(self, error: ImagesError, attempt: int, waited: float) -> float | None:
        """Seconds before the next attempt, or None to give up: the client's policy (a few quick retries of
        what may succeed), and for rate limits, longer waits after it, up to ``rate_limit_wait`` in all."""
        quick = RETRY.delay(error, attempt, waited)
        if quick is not None or not isinstance(error, RateLimitError):
            return quick
        delay = error.retry_after if error.retry_after is not None else min(30.0, 2.0**attempt)
        delay *= random.uniform(0.8, 1.2)
        return None if waited + delay > self.rate_limit_wait else delay

    async def _save(self, item: BatchItem, index: int, image: GeneratedImage) -> str | ImagesError:
        try:
            path = await self.downloads.download(image, self.out, image_name(item, index))
        except ImagesError as error:
            if error.scope == "disk":
                self.stop(error)
            return error
        return path.name

    def _finish(
        self,
        item: BatchItem,
        urls: list[str],
        files: dict[int, str],
        result: ImagesResult | None,
        error: ImagesError | None,
        outdated: list[int],
        tasks: list[str] | None = None,
    ) -> None:
        record = _record(item, "done" if error is None else "failed", urls, files, result, tasks)
        if error is None:
            self.summary.done += 1
        else:
            record["error"] = _error_entry(error)
            self.summary.failed += 1
            if len(self.summary.failures) < SHOWN_FAILURES:
                self.summary.failures.append(record)
        self.append(record, outdated)


def _place(urls: list[str], index: int, url: str) -> None:
    while len(urls) <= index:
        urls.append("")
    urls[index] = url


class _Bar(Protocol):
    """What the batch uses of tqdm's bar."""

    def set_postfix(self, ordered_dict: None = None, refresh: bool | None = True, **values: Any) -> None: ...
    def update(self, n: float | None = 1) -> bool | None: ...
    def close(self) -> None: ...


class _NoBar:
    """The progress bar when none is shown: tqdm, which also sets up a multiprocessing lock, is not loaded."""

    def set_postfix(self, ordered_dict: None = None, refresh: bool | None = True, **values: Any) -> None:
        pass

    def update(self, n: float | None = 1) -> bool | None:
        return None

    def close(self) -> None:
        pass


#: While skipping what earlier runs did, the bar's counts are set once per this many items.
SKIPPED_SHOWN_EVERY = 1000


def _progress_bar(total: int) -> _Bar:
    from tqdm import tqdm

    bar: _Bar = tqdm(total=total, unit="item", desc="batch", dynamic_ncols=True, file=sys.stderr)
    return bar


async def run_batch(
    source: ItemSource,
    total: int,
    out: Path,
    client: AsyncImagesClient,
    concurrency: int,
    *,
    progress: bool,
    rate_limit_wait: float = 600.0,
    allow_unknown_model: bool = False,
    use_tasks: bool = True,
    retry_filtered: bool = False,
) -> Summary:
    previous = previous_run(out)
    sweep_contact_sheet(out)
    summary = Summary(total=total, manifest_problems=previous.skipped_lines)
    batch = _Batch(out, client, previous, summary, concurrency, rate_limit_wait, allow_unknown_model, use_tasks)
    # Generations are capped at `concurrency` (batch.slots); the other workers download or wait to retry.
    workers_count = 3 * concurrency
    queue: asyncio.Queue[BatchItem | None] = asyncio.Queue(maxsize=workers_count)
    bar = _progress_bar(total) if progress else _NoBar()

    def advance(counts_changed: bool = True) -> None:
        if counts_changed:  # set before the update, so the bar shows the count of this very item
            show_counts()
        bar.update(1)

    def show_counts() -> None:
        # items an earlier run did count as done: on resume the bar's count and done= agree
        bar.set_postfix(done=summary.done + summary.skipped, failed=summary.failed, refresh=False)

    async def produce() -> None:
        await batch.collect_recorded_tasks()  # what earlier runs paid for comes before anything new
        final = previous.done if retry_filtered else previous.done | previous.filtered
        try:
            await produce_items(final)
        except InputChanged as changed:
            batch.stop(changed)
        for _ in range(workers_count):
            await queue.put(None)

    async def produce_items(final: Container[str]) -> None:
        for item in source.items(done=final):
            if batch.stopping.is_set():
                break  # the rest are not started
            if isinstance(item, str):  # the key of an item an earlier run did, or refused as unsafe
                if item in previous.done:
                    summary.skipped += 1
                else:
                    summary.filtered += 1
                # the counts shown now and then, not per item: resuming 100,000 done items stays quick
                advance(counts_changed=summary.skipped % SKIPPED_SHOWN_EVERY == 1)
            else:
                if summary.skipped:
                    show_counts()
                await queue.put(item)
        show_counts()

    async def work() -> None:
        while (item := await queue.get()) is not None:
            if batch.stopping.is_set():
                continue
            try:
                await batch.run_one(item)
            except NotStarted:
                continue
            advance()

    tasks = [asyncio.create_task(work()) for _ in range(workers_count)]
    producer = asyncio.create_task(produce())
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        summary.interrupted = True
        if batch.stopping.is_set():
            for task in [producer, *tasks]:
                task.cancel()
            return
        batch.stopping.set()
        print("\nstopping: finishing in-flight items (Ctrl-C again to abort them)", file=sys.stderr)

    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            loop.add_signal_handler(sig, on_signal)
    try:
        with warnings.catch_warnings():  # the check before the run said each once; not again per item
            warnings.simplefilter("ignore")
            outcomes = await asyncio.gather(producer, *tasks, return_exceptions=True)
    finally:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        bar.close()
        batch.downloads.close()
        batch.manifest.close()
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    # Whatever was neither skipped nor finished was not started (or was cancelled by a second Ctrl-C).
    summary.not_started = total - summary.skipped - summary.filtered - summary.done - summary.failed
    if summary.stopped_by is None or summary.stopped_by.scope != "disk":
        with contextlib.suppress(OSError):
            drop_lines(out, batch.superseded)  # one line per item for the next reader
        if summary.done or summary.failed or not (out / SHEET).exists():  # a run that changed nothing keeps it
            try:
                summary.contact_sheet = write_contact_sheet(out, f"{source.path.name}: images in {out.name}")
            except OSError as error:
                summary.contact_sheet = f"cannot write {out / SHEET}: {error.strerror or error}"
    return summary
