"""The DataFrames Spark users hold, as rows of one shape: path, key, error, data, width, height.

`key` groups identical images (the sha256 of the bytes or of the pixels); a row whose image
cannot be read has no key and an `error` naming it. `data` holds encoded bytes, or raw RGB
pixels with their `width` and `height`; a path row has no data (the executor that captions it
reads the file). Bytes are hashed in the JVM; pixels and paths in the executors' Python workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alttext.spark.worker import UNNAMED, hash_paths, image_struct_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

IMAGE_FIELDS = {"origin", "height", "width", "nChannels", "mode", "data"}  # Spark's image data source
KEYED_SCHEMA = "path string, key string, error string"
IMAGE_ROWS_SCHEMA = KEYED_SCHEMA + ", data binary, width int, height int"


def image_rows(images: DataFrame, column: str | None = None) -> DataFrame:
    """Rows of (path, key, error, data, width, height) for a binaryFile, image or path DataFrame."""
    from pyspark.sql.types import BinaryType, StringType, StructType

    name = column or _guess_column(images)
    if name not in images.columns:
        raise ValueError(f"no column {name!r} among {', '.join(images.columns)}")
    kind = images.schema[name].dataType
    if isinstance(kind, BinaryType):
        return _from_bytes(images, name)
    if isinstance(kind, StructType) and IMAGE_FIELDS <= set(kind.fieldNames()):
        return _from_image_struct(images, name)
    if isinstance(kind, StringType):
        return _from_paths(images, name)
    raise ValueError(f"column {name!r} is {kind.simpleString()}: expected image bytes (binaryFile's content), "
                     "an image struct (the image data source) or paths")


def _guess_column(images: DataFrame) -> str:
    columns = set(images.columns)
    for candidate in ("content", "image", "path"):
        if candidate in columns:
            return candidate
    if len(images.columns) == 1:
        return images.columns[0]
    raise ValueError(f"name the image column (one of {', '.join(images.columns)})")


def _from_bytes(images: DataFrame, name: str) -> DataFrame:
    from pyspark.sql import functions as F

    path = (F.col("path") if "path" in images.columns and name != "path" else F.lit(None)).cast("string")
    content = F.col(name)
    return images.select(
        path.alias("path"),
        F.sha2(content, 256).alias("key"),
        F.when(content.isNull(), F.concat(F.coalesce(path, F.lit(UNNAMED)), F.lit(": no image data"))).alias("error"),
        content.alias("data"), F.lit(None).cast("int").alias("width"), F.lit(None).cast("int").alias("height"),
    )


def _from_image_struct(images: DataFrame, name: str) -> DataFrame:
    from pyspark.sql import functions as F

    fields = [F.col(name).getField(field).alias(field) for field in ("origin", "height", "width", "nChannels", "data")]
    return images.select(*fields).mapInPandas(image_struct_rows, IMAGE_ROWS_SCHEMA)


def _from_paths(images: DataFrame, name: str) -> DataFrame:
    from pyspark.sql import functions as F

    keyed = images.select(F.col(name).alias("path")).mapInPandas(hash_paths, KEYED_SCHEMA)
    return keyed.select("path", "key", "error", F.lit(None).cast("binary").alias("data"),
                        F.lit(None).cast("int").alias("width"), F.lit(None).cast("int").alias("height"))
