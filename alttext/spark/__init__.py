"""Caption a Spark DataFrame of images with alttext's own Captioner, on every executor.

    from alttext.spark import caption_images

    images = spark.read.format("binaryFile").option("pathGlobFilter", "*.png").load("s3a://bucket/img/")
    results = caption_images(images, model="nlpconnect/vit-gpt2-image-captioning")
    results.write.parquet("captions.parquet")      # then: alttext cache import captions.parquet

The driver only plans: images are read, hashed and captioned on the executors, and each
distinct image (by content hash) is captioned once per job, whatever number of rows hold it.
Each Python worker builds one Captioner (model loaded once) and runs alttext's own batched
decoding and cleaning, so the captions equal `alttext caption`'s for the same model and settings.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from alttext.spark.inputs import image_rows
from alttext.spark.worker import Job, caption_groups

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["RESULT_SCHEMA", "caption_images", "distinct_images"]

RESULT_SCHEMA = ("path string, sha256 string, caption string, raw string, text string, error string, "
                 "model string, settings string, hit_limit boolean")


def caption_images(
    images: DataFrame,
    column: str | None = None,
    *,
    model: str | os.PathLike[str] | None = None,
    partitions: int | None = None,
    device: str = "auto",
    ship_model: bool = True,
    **options: Any,
) -> DataFrame:
    """One result row per input row: path, sha256, caption, raw, text, error, model, settings, hit_limit.

    `images`: a binaryFile DataFrame, an `image` data source DataFrame, or any DataFrame
    whose `column` holds encoded image bytes, an image struct, or paths / file: / data: URIs.
    `partitions`: how many tasks caption the distinct images (default: one per core of the
    cluster, so each task's batches are as full as the job allows). `device`: "auto" uses the GPU Spark assigns each task, else the Captioner's choice.
    A local model folder is shipped to the executors with the job unless `ship_model` is False
    (then every executor must see it at the same path). Other keywords go to `Captioner`
    (dtype, quantize, batch_size, num_beams, max_length, final_period, ...); executors use no
    persistent cache unless `cache=PATH` names one they can all write.
    """
    from alttext.caption.captioner import DEFAULT_MODEL

    session = images.sparkSession
    name = os.fspath(model or DEFAULT_MODEL)
    job = Job(model=name, shipped_model=_ship(session, name) if ship_model else None,
              options={"cache": None, **options}, device=device)
    return distinct_images(images, column, partitions).mapInPandas(
        lambda batches: caption_groups(batches, job), RESULT_SCHEMA)


def distinct_images(images: DataFrame, column: str | None = None, partitions: int | None = None) -> DataFrame:
    """One row per distinct image (key, error, paths, data, width, height), hash-partitioned
    into `partitions` tasks; unreadable rows are grouped by their error instead."""
    count = partitions or images.sparkSession.sparkContext.defaultParallelism
    # An explicit count: adaptive execution would otherwise merge small inputs into one task.
    return (image_rows(images, column).repartition(count, "key")
            .groupBy("key", "error").agg(*_first_of_each_group()))


def _first_of_each_group() -> list[Any]:
    from pyspark.sql import functions as F

    return [F.collect_list("path").alias("paths"), F.first("data").alias("data"),
            F.first("width").alias("width"), F.first("height").alias("height")]


def _ship(session: Any, model: str) -> str | None:
    """Send a local model folder to every executor (SparkFiles); its name there, or None."""
    folder = os.path.abspath(os.path.expanduser(model))
    if not os.path.isdir(folder):
        return None  # a hub id: each executor loads it from its own Hugging Face cache
    context = session.sparkContext
    shipped: set[str] = getattr(context, "_alttext_shipped", set())
    if folder not in shipped:
        try:
            context.addFile(folder, recursive=True)
        except Exception:  # noqa: BLE001 - another folder of the same name was shipped: use the path
            return None
        shipped.add(folder)
        context._alttext_shipped = shipped
    return os.path.basename(folder)
