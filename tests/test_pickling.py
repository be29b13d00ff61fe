"""Errors and results cross process boundaries (a ProcessPoolExecutor, multiprocessing, a task queue) whole."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import zhipu_images
from zhipu_images import (
    APIError,
    ContentFilter,
    ContentFilterError,
    GeneratedImage,
    ImagesError,
    ImagesResult,
    ImageTask,
    RequestValidationError,
    TaskTimeoutError,
    validate_request,
)

ERRORS = sorted(
    (getattr(zhipu_images, name) for name in zhipu_images.__all__ if name.endswith("Error")),
    key=lambda cls: cls.__name__,
)
REQUEST = validate_request("cogview-4", "a cat")
RESULT = ImagesResult(
    created=1,
    images=(GeneratedImage(url="https://x/a.png", extra={"note": "n"}),),
    content_filter=(ContentFilter("assistant", 3),),
    request=REQUEST,
    request_ids=("r1",),
    extra={"id": "x"},
)


def build(cls: type[ImagesError], text: str, number: int) -> ImagesError:
    if issubclass(cls, APIError):
        return cls(text, status_code=number, code=str(number), request_id=text[:10] or None, retry_after=1.5)
    if issubclass(cls, RequestValidationError):
        return cls("size", "multiple_of", text, value=number, suggestion="1024x1024")
    if issubclass(cls, TaskTimeoutError):
        return cls(text, task_id=f"t{number}", status="PROCESSING")
    return cls(text)


# Every error of the hierarchy, with any text, its attributes and a partial result set, pickles and
# unpickles to an equal error of the same class with the same message.
@given(
    st.sampled_from(ERRORS),
    st.text(max_size=50),
    st.integers(min_value=100, max_value=599),
    st.booleans(),
)
def test_every_error_pickles_and_unpickles_equal(cls: type[ImagesError], text: str, number: int, partial: bool) -> None:
    error = build(cls, text, number)
    error.task_id = f"task-{number}"
    if partial:
        error.partial_result = RESULT
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert back == error
    assert str(back) == str(error)
    assert (back.task_id, back.partial_result) == (error.task_id, error.partial_result)


def test_results_and_tasks_pickle_equal() -> None:
    task = ImageTask(id="t1", request_id="t1", model="glm-image", status="SUCCESS", images=RESULT.images)
    for value in (RESULT, REQUEST, task, RESULT.images[0]):
        assert pickle.loads(pickle.dumps(value)) == value


def _filtered(_: Any) -> ImagesError:
    error = ContentFilterError("blocked", status_code=400, code="1301")
    error.partial_result = RESULT
    return error


def test_an_error_returned_through_a_process_pool_arrives_whole() -> None:
    # spawn: a fork of the test process, which runs other tests' threads, may deadlock (Python 3.12 warns of it)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        (error,) = list(pool.map(_filtered, [0]))
    assert isinstance(error, ContentFilterError)
    assert error.code == "1301"
    assert error.partial_result == RESULT
