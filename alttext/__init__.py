"""alttext: find images without a text alternative and write alt text for them."""

__version__ = "0.1.0"
