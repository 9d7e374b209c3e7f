"""`alttext caption --engine spark`: the images captioned by a Spark job, the results kept as
Parquet, imported into the caption cache, and printed as `alttext caption` prints them."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from alttext.caption.captioner import CaptionResult

SPARK_WORKER_OPTIONS = ("model", "device", "cache")  # what the job decides itself, not each Captioner


class SparkUnavailable(Exception):
    """Spark cannot start here; str(error) says why and what to install."""


def spark_session(master: str | None) -> Any:
    """The running SparkSession, or a new one on `master` whose workers run this Python."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("--engine spark needs PySpark: pip install 'alttext[spark]'") from None
    builder = SparkSession.builder.appName("alttext caption")
    if master:
        builder = builder.master(master)
    try:
        session = (builder.config("spark.pyspark.python", sys.executable)  # workers import this alttext
                   .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    except Exception as error:  # noqa: BLE001 - py4j and PySpark raise their own kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SparkUnavailable(f"Spark cannot start ({first}); is Java 17 or later installed?") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def caption_with_spark(images: list[str], options: dict[str, Any], *, master: str | None,
                       partitions: int | None, results_path: str | None) -> list[CaptionResult]:
    """One result per image, in order: cached ones from the cache, the rest from a Spark job,
    whose results then go to the cache too (unless it is turned off)."""
    known = _known_here(images, options)
    todo = [image for image, result in zip(images, known) if result is None]
    if not todo:
        return [result for result in known if result is not None]
    spark = iter(_caption_on_spark(todo, options, master=master, partitions=partitions, results_path=results_path))
    return [result if result is not None else next(spark) for result in known]


def _known_here(images: list[str], options: dict[str, Any]) -> list[CaptionResult | None]:
    """What this machine answers without a model: unreadable images, and cached captions."""
    from alttext.caption.captioner import Captioner, model_identity
    from alttext.caption.model import DEFAULT_MODEL

    model = str(options.get("model") or DEFAULT_MODEL)
    if options.get("cache", True) is False or model_identity(model, options.get("revision")) is None:
        return [None] * len(images)  # no cache, or a model only the executors have: Spark does it all
    captioner = Captioner(**{**options, "progress": False})  # loads no model: it is on disk here
    try:
        # The Captioner's own first two steps (hash, then cache), without its model step.
        hashed = captioner._hash_all(images, images)
        cached = captioner._from_cache([digest for digest, _ in hashed if digest is not None])
    finally:
        captioner.close()
    return [CaptionResult(None, error=error) if error is not None else cached.get(digest or "")
            for digest, error in hashed]


def _caption_on_spark(images: list[str], options: dict[str, Any], *, master: str | None,
                      partitions: int | None, results_path: str | None) -> list[CaptionResult]:
    from alttext.spark import caption_images

    model = options.get("model")
    if model and os.path.sep in str(model) and not os.path.isdir(os.path.expanduser(str(model))):
        raise SparkUnavailable(f"model folder {model!r} does not exist")
    session = spark_session(master)
    frame = session.createDataFrame([(image,) for image in images], "path string")
    worker_options = {key: value for key, value in options.items() if key not in SPARK_WORKER_OPTIONS}
    results = caption_images(frame, "path", model=options.get("model"), device=options.get("device") or "auto",
                             partitions=partitions, **worker_options)
    with tempfile.TemporaryDirectory(prefix="alttext-spark-") as scratch:
        where = results_path or os.path.join(scratch, "results.parquet")
        try:
            results.write.mode("overwrite").parquet(where)
        except Exception as error:  # noqa: BLE001 - a failed job: a model that cannot load, a lost executor
            raise SparkUnavailable(f"the Spark job failed: {_reason(error)}") from None
        _import(where, options.get("cache", True))
        return _in_order(images, where)


def _reason(error: Exception) -> str:
    """The Python exception's own last line, without the JVM's stack trace around it."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip() and not line.startswith("\tat ")]
    python_errors = [line for line in lines if "Error:" in line or "Unavailable:" in line]
    return (python_errors or lines or [type(error).__name__])[-1]


def _import(where: str, cache: Any) -> None:
    from alttext.caption.cache import CaptionCache, default_cache_path
    from alttext.caption.results_table import import_results

    if cache is False or cache is None:
        return
    store = cache if isinstance(cache, CaptionCache) else CaptionCache(default_cache_path() if cache is True else cache)
    with store:
        import_results([where], store)


def _in_order(images: list[str], where: str) -> list[CaptionResult]:
    import pyarrow.dataset as ds

    by_path = {row["path"]: row for row in ds.dataset(where, format="parquet").to_table().to_pylist()}
    return [_result(by_path.get(image), image) for image in images]


def _result(row: dict[str, Any] | None, image: str) -> CaptionResult:
    if row is None:
        return CaptionResult(None, error=f"{image}: no result came back from Spark")
    return CaptionResult(row["caption"], row["raw"], row["error"], False, row["sha256"], row["hit_limit"])
